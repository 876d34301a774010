# METADATA
# title: ECS task definition uses its execution role as its task role
# description: >-
#   The execution role is what the ECS agent uses to pull the image, fetch the task's secrets and
#   write its logs; the task role is what the application's code gets. When both are the same
#   role, the application can read every secret of the task definition and pull any image the
#   agent may, not just what it needs.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
# custom:
#   id: PST-0620
#   severity: medium
#   remediation: >-
#     Give the task its own role (`taskRoleArn`) with only the permissions the application uses,
#     and keep the execution role (`executionRoleArn`) for the agent.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_task_role_is_execution_role

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": ["taskRoleArn"]} if {
	role := input.taskRoleArn
	is_string(role)
	role != ""
	role == input.executionRoleArn
	msg := sprintf("%s uses the same role as its task role and its execution role", [ecs.describe_task()])
}
