# METADATA
# title: ECS container has a writable root filesystem
# description: >-
#   Unless `readonlyRootFilesystem` is true, a process in the container can change its
#   binaries and configuration, so an attacker can plant tools or persist in the running task.
#   Windows containers do not support the setting and are not judged.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0603
#   severity: medium
#   remediation: >-
#     Set `readonlyRootFilesystem: true` and give the paths the application writes to a
#     volume (on Fargate, a task-scoped bind mount).
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.5]
package posture.rules.ecs.ecs_writable_root_filesystem

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["readonlyRootFilesystem"])} if {
	ecs.linux
	some c in ecs.containers()
	value := object.get(c.container, "readonlyRootFilesystem", false)
	not ecs.is_true(value)
	not ecs.is_unknown(value)
	msg := sprintf("%s does not have a read-only root filesystem", [ecs.describe(c)])
}
