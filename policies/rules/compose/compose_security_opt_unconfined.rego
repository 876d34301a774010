# METADATA
# title: Compose service disables seccomp, AppArmor or SELinux
# description: >-
#   `security_opt` with `seccomp:unconfined`, `apparmor:unconfined` or `label:disable` (or
#   their `=` forms) turns off one of the confinements that stop a compromised process from
#   using dangerous system calls and files.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0511
#   severity: high
#   remediation: >-
#     Remove the `unconfined`/`disable` entry; where the default profile blocks something the
#     service needs, write a custom seccomp or AppArmor profile that allows only that.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.1", "5.2", "5.21"]
package posture.rules.compose.compose_security_opt_unconfined

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": opt.path} if {
	some opt in compose.security_opts()
	opt.key in {"seccomp", "apparmor"}
	opt.value == "unconfined"
	msg := sprintf("%s runs with %s unconfined", [compose.describe(), opt.key])
}

deny contains {"msg": msg, "path": opt.path} if {
	some opt in compose.security_opts()
	opt.key == "label"
	opt.value == "disable"
	msg := sprintf("%s disables SELinux labelling (label:disable)", [compose.describe()])
}
