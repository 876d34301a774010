# METADATA
# title: ECS container adds a capability beyond Docker's default set
# description: >-
#   `linuxParameters.capabilities.add` grants Linux capabilities beyond the set Docker gives
#   every container. `SYS_ADMIN`, `NET_ADMIN`, `SYS_PTRACE`, `SYS_MODULE` and `ALL` in
#   particular allow container escapes or control of the host's network. Capabilities of the
#   default set (`NET_BIND_SERVICE`, `CHOWN`, ...) are not reported.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0607
#   severity: high
#   remediation: >-
#     Remove the capability from `linuxParameters.capabilities.add`; where the container
#     needs one, add only that one and drop the rest with `drop: [ALL]`.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     mitre: [T1611]
package posture.rules.ecs.ecs_capability_added

import data.posture.lib.ecs
import rego.v1

# Docker's default capability set (moby's oci/caps/defaults.go): adding one back after
# `drop: [ALL]` grants nothing a default container lacks.
default_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

deny contains {"msg": msg, "path": array.concat(c.path, ["linuxParameters", "capabilities", "add", i])} if {
	some c in ecs.containers()
	some i, name in ecs.as_array(object.get(c.container, ["linuxParameters", "capabilities", "add"], []))
	is_string(name)
	not ecs.is_unknown(name)
	cap := ecs.capability(name)
	not cap in default_capabilities
	msg := sprintf("%s adds capability %s", [ecs.describe(c), cap])
}
