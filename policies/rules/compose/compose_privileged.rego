# METADATA
# title: Compose service runs privileged
# description: >-
#   With `privileged: true` the container gets every capability, every host device and no
#   seccomp, AppArmor or SELinux confinement: root in the container is root on the host.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0501
#   severity: critical
#   remediation: >-
#     Remove `privileged: true`; grant the one capability (`cap_add`) or device (`devices`) the
#     service needs instead.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.4"]
package posture.rules.compose.compose_privileged

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["privileged"]} if {
	input.privileged == true
	msg := sprintf("%s runs privileged", [compose.describe()])
}
