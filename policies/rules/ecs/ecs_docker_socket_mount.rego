# METADATA
# title: ECS container mounts the Docker socket
# description: >-
#   A host volume of `/var/run/docker.sock` (or the directory that holds it) mounted in a
#   container lets the container start a privileged container of its choice on the container
#   instance: full control of the host and of every task on it.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0611
#   severity: critical
#   remediation: >-
#     Remove the mount. A container that must talk to Docker should use a socket proxy that
#     allows only the calls it needs.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     mitre: [T1611]
package posture.rules.ecs.ecs_docker_socket_mount

import data.posture.lib.ecs
import rego.v1

socket_volumes[name] := source if {
	some v in ecs.as_array(input.volumes)
	name := v.name
	source := ecs.normal_path(v.host.sourcePath)
	is_string(source)
	endswith(source, "docker.sock")
}

deny contains {"msg": msg, "path": array.concat(c.path, ["mountPoints", j])} if {
	some c in ecs.containers()
	some j, m in ecs.as_array(c.container.mountPoints)
	source := socket_volumes[m.sourceVolume]
	msg := sprintf("%s mounts the Docker socket %s (volume '%s')", [ecs.describe(c), source, m.sourceVolume])
}
