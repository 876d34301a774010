# METADATA
# title: Compose service adds a capability beyond Docker's default set
# description: >-
#   `cap_add` grants Linux capabilities beyond the set Docker gives every container.
#   `SYS_ADMIN`, `NET_ADMIN`, `SYS_PTRACE`, `SYS_MODULE` and `ALL` in particular allow
#   container escapes or control of the host's network. `NET_BIND_SERVICE` is in the default
#   set and not reported.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0502
#   severity: high
#   remediation: >-
#     Remove the capability from `cap_add`; where the service needs one, add only that one and
#     drop the rest with `cap_drop: [ALL]`.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.3"]
package posture.rules.compose.compose_capability_added

import data.posture.lib.compose
import rego.v1

# Docker's default capability set (moby's oci/caps/defaults.go): adding one back after
# `cap_drop: [ALL]` grants nothing a default container lacks.
default_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

deny contains {"msg": msg, "path": ["cap_add", i]} if {
	some i, name in compose.as_array(input.cap_add)
	is_string(name)
	cap := compose.capability(name)
	not cap in default_capabilities
	msg := sprintf("%s adds capability %s", [compose.describe(), cap])
}
