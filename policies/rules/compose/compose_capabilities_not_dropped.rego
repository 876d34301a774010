# METADATA
# title: Compose service keeps Docker's default capabilities
# description: >-
#   Without `cap_drop: [ALL]` the container keeps Docker's default capabilities, among them
#   `NET_RAW` (spoofed packets), `MKNOD` and `SETUID`/`SETGID`, which most services never use.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0503
#   severity: low
#   remediation: >-
#     Add `cap_drop: [ALL]` and add back with `cap_add` only the capabilities the service needs
#     (often `NET_BIND_SERVICE`, or none).
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.3"]
package posture.rules.compose.compose_capabilities_not_dropped

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["cap_drop"]} if {
	not drops_all
	msg := sprintf("%s does not drop all capabilities (cap_drop: [ALL])", [compose.describe()])
}

drops_all if {
	some name in compose.as_array(input.cap_drop)
	is_string(name)
	compose.capability(name) == "ALL"
}
