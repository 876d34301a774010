# METADATA
# title: ECS container is given a host device
# description: >-
#   `linuxParameters.devices` exposes a device of the container instance inside the
#   container; a block device or `/dev/mem` gives the container the host's disk or memory.
#   Fargate rejects it.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0609
#   severity: medium
#   remediation: >-
#     Remove the device from `linuxParameters.devices` unless the container needs it; give it
#     read-only permissions where it does.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_host_device

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["linuxParameters", "devices", i])} if {
	some c in ecs.containers()
	some i, device in ecs.as_array(object.get(c.container, ["linuxParameters", "devices"], []))
	host := object.get(ecs.as_object(device), "hostPath", "(unnamed)")
	msg := sprintf("%s is given the host device %v", [ecs.describe(c), host])
}
