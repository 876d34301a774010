# METADATA
# title: ECS task definition sets no memory limit
# description: >-
#   Without a task-level `memory` and without a container's `memory` or `memoryReservation`,
#   a container may use the container instance's memory until the kernel kills processes, its
#   own or other tasks'. ECS rejects an EC2 task definition in which a container has neither
#   and the task sets none, and Fargate requires the task-level value.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0615
#   severity: low
#   remediation: >-
#     Set the task's `memory` (required on Fargate), or each container's `memory` (hard
#     limit) or `memoryReservation`.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_memory_limit_missing

import data.posture.lib.ecs
import rego.v1

task_memory if has_size(input.memory)

deny contains {"msg": msg, "path": ["memory"]} if {
	ecs.fargate
	not task_memory
	msg := sprintf("%s runs on Fargate without a task-level memory size", [ecs.describe_task()])
}

deny contains {"msg": msg, "path": c.path} if {
	ecs.task_known
	not ecs.fargate
	not task_memory
	some c in ecs.containers()
	not container_memory(c.container)
	msg := sprintf("%s sets no memory limit (memory or memoryReservation), and the task sets none", [ecs.describe(c)])
}

container_memory(container) if has_size(container.memory)

container_memory(container) if has_size(container.memoryReservation)

# A size in MiB, as a number or as text (CloudFormation and the API accept both); a value only
# the deployment knows counts as set.
has_size(m) if {
	is_number(m)
	m > 0
}

has_size(m) if {
	is_string(m)
	not m in {"", "0"}
}
