# METADATA
# title: ECS container keeps Docker's default capabilities
# description: >-
#   Without `linuxParameters.capabilities.drop: [ALL]` the container keeps Docker's default
#   capabilities, among them `NET_RAW` (spoofed packets), `MKNOD` and `SETUID`/`SETGID`,
#   which most services never use. Windows task definitions are not judged.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0608
#   severity: low
#   remediation: >-
#     Add `linuxParameters: {capabilities: {drop: [ALL]}}` and add back only what the
#     container needs (often `NET_BIND_SERVICE`, or nothing).
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_capabilities_not_dropped

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["linuxParameters", "capabilities", "drop"])} if {
	ecs.linux
	some c in ecs.containers()
	not drops_all(c.container)
	msg := sprintf("%s does not drop all capabilities (linuxParameters.capabilities.drop: [ALL])", [ecs.describe(c)])
}

drops_all(container) if {
	some name in ecs.as_array(object.get(container, ["linuxParameters", "capabilities", "drop"], []))
	is_string(name)
	ecs.capability(name) == "ALL"
}

# A value only the deployment knows is not judged.
drops_all(container) if {
	ecs.is_unknown(object.get(container, ["linuxParameters", "capabilities", "drop"], []))
}
