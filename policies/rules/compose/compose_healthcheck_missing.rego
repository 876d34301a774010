# METADATA
# title: Compose service has no health check
# description: >-
#   Without a `healthcheck` (or with `disable: true`) Docker cannot tell a hung service from a
#   working one: it is not restarted, and services that wait on it with `depends_on: condition:
#   service_healthy` cannot. An image's own HEALTHCHECK still applies when the service sets
#   none, which this rule cannot see.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0520
#   severity: low
#   remediation: >-
#     Add a `healthcheck` with a `test` that exercises the service (an HTTP endpoint,
#     `pg_isready`, `mongosh --eval 'db.runCommand({ping:1})'`).
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.26"]
package posture.rules.compose.compose_healthcheck_missing

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["healthcheck"]} if {
	not is_object(input.healthcheck)
	msg := sprintf("%s has no healthcheck", [compose.describe()])
}

deny contains {"msg": msg, "path": ["healthcheck", "disable"]} if {
	input.healthcheck.disable == true
	msg := sprintf("%s disables its healthcheck", [compose.describe()])
}
