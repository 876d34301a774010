# METADATA
# title: ECS task definition uses the host's network
# description: >-
#   With `networkMode: host` the containers share the container instance's network stack:
#   they can bind any of its ports, reach services listening on its loopback interface (the
#   instance metadata service among them) and see its traffic. Fargate rejects it.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0604
#   severity: high
#   remediation: >-
#     Use `networkMode: awsvpc` (each task gets its own network interface and security
#     groups), or `bridge` on EC2.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.17]
package posture.rules.ecs.ecs_host_network

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": ["networkMode"]} if {
	is_string(input.networkMode)
	lower(input.networkMode) == "host"
	msg := sprintf("%s uses the host's network (networkMode: host)", [ecs.describe_task()])
}
