# METADATA
# title: ECS task definition shares the host's process namespace
# description: >-
#   With `pidMode: host` the containers see every process of the container instance,
#   including other tasks' and the ECS agent's, and can signal or trace them.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0605
#   severity: high
#   remediation: >-
#     Remove `pidMode: host`; use `pidMode: task` when the containers of the task need to see
#     each other's processes.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.3]
#     mitre: [T1611]
package posture.rules.ecs.ecs_host_pid

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": ["pidMode"]} if {
	is_string(input.pidMode)
	lower(input.pidMode) == "host"
	msg := sprintf("%s shares the host's process namespace (pidMode: host)", [ecs.describe_task()])
}
