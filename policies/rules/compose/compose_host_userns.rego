# METADATA
# title: Compose service shares the host's user namespace
# description: >-
#   With `userns_mode: host` the container opts out of the daemon's user-namespace remapping:
#   root in the container is root on the host again.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0507
#   severity: medium
#   remediation: >-
#     Remove `userns_mode: host` so the daemon's `userns-remap` setting applies.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.30"]
package posture.rules.compose.compose_host_userns

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["userns_mode"]} if {
	is_string(input.userns_mode)
	lower(input.userns_mode) == "host"
	msg := sprintf("%s shares the host's user namespace (userns_mode: host)", [compose.describe()])
}
