# METADATA
# title: Compose service shares the host's network namespace
# description: >-
#   With `network_mode: host` the container uses the host's network stack: it can bind any host
#   address, reach services listening on the host's loopback (the Docker API on a TCP socket,
#   databases, metadata endpoints) and, with `NET_RAW`, see the host's traffic.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0504
#   severity: high
#   remediation: >-
#     Remove `network_mode: host`; publish the ports the service serves with `ports` (bound to
#     a specific address) and use a user-defined network between services.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.9"]
package posture.rules.compose.compose_host_network

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["network_mode"]} if {
	is_string(input.network_mode)
	lower(input.network_mode) == "host"
	msg := sprintf("%s shares the host's network namespace (network_mode: host)", [compose.describe()])
}
