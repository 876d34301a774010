# METADATA
# title: ECS container turns off a Linux security module
# description: >-
#   `dockerSecurityOptions` entries `seccomp:unconfined`, `apparmor:unconfined` or
#   `label:disable` remove the seccomp filter, AppArmor profile or SELinux labels Docker
#   applies by default, which block many kernel calls container escapes rely on.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0618
#   severity: high
#   remediation: >-
#     Remove the option from `dockerSecurityOptions`; give the container a custom seccomp or
#     AppArmor profile if the default blocks a call it needs.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_security_option_unconfined

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["dockerSecurityOptions", i])} if {
	some c in ecs.containers()
	some i, option in ecs.as_array(c.container.dockerSecurityOptions)
	is_string(option)
	normal := lower(replace(option, "=", ":"))
	normal in {"seccomp:unconfined", "apparmor:unconfined", "label:disable"}
	msg := sprintf("%s sets %s", [ecs.describe(c), option])
}
