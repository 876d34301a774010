# METADATA
# title: ECS container runs privileged
# description: >-
#   A container with `privileged: true` gets every Linux capability and the host's devices,
#   like root on the container instance: a compromise of the container is a compromise of the
#   host and of every other task on it. Fargate rejects it.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0601
#   severity: critical
#   remediation: >-
#     Set `privileged` to false or remove it; grant only the Linux capabilities the container
#     needs with `linuxParameters.capabilities.add`.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.4]
#     mitre: [T1611]
package posture.rules.ecs.ecs_privileged_container

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["privileged"])} if {
	some c in ecs.containers()
	ecs.is_true(c.container.privileged)
	msg := sprintf("%s runs privileged", [ecs.describe(c)])
}
