# METADATA
# title: ECS container has no logging configuration
# description: >-
#   Without `logConfiguration` the container's output goes to the container instance's Docker
#   daemon default (on Fargate, nowhere): an incident leaves no record of what the container
#   did.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0613
#   severity: medium
#   remediation: >-
#     Add `logConfiguration` with a log driver (`awslogs` to CloudWatch Logs, or
#     `awsfirelens`) to every container.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.9]
package posture.rules.ecs.ecs_logging_missing

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["logConfiguration"])} if {
	some c in ecs.containers()
	not logs(c.container)
	msg := sprintf("%s has no logConfiguration, so its output is not collected", [ecs.describe(c)])
}

logs(container) if {
	driver := container.logConfiguration.logDriver
	is_string(driver)
	driver != ""
}
