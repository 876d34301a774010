# METADATA
# title: ECS task definition shares the host's IPC namespace
# description: >-
#   With `ipcMode: host` the containers share System V IPC objects and POSIX shared memory
#   with the container instance and every other task using it, so they can read or corrupt
#   other processes' shared memory.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0606
#   severity: high
#   remediation: >-
#     Remove `ipcMode: host`; use `task` when the containers of the task share memory with
#     each other, or `none`.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_host_ipc

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": ["ipcMode"]} if {
	is_string(input.ipcMode)
	lower(input.ipcMode) == "host"
	msg := sprintf("%s shares the host's IPC namespace (ipcMode: host)", [ecs.describe_task()])
}
