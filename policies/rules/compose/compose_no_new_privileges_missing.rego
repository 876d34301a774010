# METADATA
# title: Compose service allows privilege escalation
# description: >-
#   Without `no-new-privileges:true` in `security_opt`, a process in the container can gain
#   privileges through setuid and setgid binaries or file capabilities.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0512
#   severity: medium
#   remediation: >-
#     Add `no-new-privileges:true` to the service's `security_opt`.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.25"]
package posture.rules.compose.compose_no_new_privileges_missing

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["security_opt"]} if {
	not no_new_privileges
	msg := sprintf("%s does not set no-new-privileges:true in security_opt", [compose.describe()])
}

no_new_privileges if {
	some opt in compose.security_opts()
	opt.key == "no-new-privileges"
	opt.value in {"", "true"}
}
