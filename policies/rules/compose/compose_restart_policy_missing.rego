# METADATA
# title: Compose service has no restart policy
# description: >-
#   Without `restart` (or `deploy.restart_policy`) a service that crashes stays down until
#   someone notices. `restart: "no"` is an explicit choice and not reported.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0521
#   severity: low
#   remediation: >-
#     Set `restart: on-failure` (Docker's `on-failure:5` caps retries) or `unless-stopped`, or
#     `deploy.restart_policy`.
#   input: compose
#   kinds: [Service]
package posture.rules.compose.compose_restart_policy_missing

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["restart"]} if {
	not "restart" in object.keys(input)
	not is_object(object.get(input, ["deploy", "restart_policy"], null))
	msg := sprintf("%s has no restart policy", [compose.describe()])
}
