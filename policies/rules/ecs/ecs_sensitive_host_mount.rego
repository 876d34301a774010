# METADATA
# title: ECS container mounts a sensitive host path
# description: >-
#   A host volume (`volumes[].host.sourcePath`) of `/`, `/etc`, `/proc`, `/sys`, `/root`,
#   `/boot`, `/dev`, `/var/lib/docker`, `/var/run` and the like gives the container the
#   container instance's configuration, credentials or kernel interfaces; writable, it is a
#   way out of the container.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0610
#   severity: high
#   remediation: >-
#     Mount a named Docker volume or an EFS volume instead of a host path; if the host path
#     is needed, mount the narrowest directory read-only (`readOnly: true`).
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     mitre: [T1611]
package posture.rules.ecs.ecs_sensitive_host_mount

import data.posture.lib.ecs
import rego.v1

sensitive := {"/", "/etc", "/proc", "/sys", "/root", "/boot", "/dev", "/lib/modules", "/usr", "/var/lib/docker", "/var/lib/ecs", "/var/run", "/run", "/home"}

host_paths[name] := ecs.normal_path(source) if {
	some v in ecs.as_array(input.volumes)
	name := v.name
	source := v.host.sourcePath
	is_string(source)
	not ecs.is_unknown(source)
}

deny contains {"msg": msg, "path": array.concat(c.path, ["mountPoints", j])} if {
	some c in ecs.containers()
	some j, m in ecs.as_array(c.container.mountPoints)
	source := host_paths[m.sourceVolume]
	sensitive_path(source)
	mode := access(m)
	msg := sprintf("%s mounts the host's %s (%s, volume '%s')", [ecs.describe(c), source, mode, m.sourceVolume])
}

sensitive_path(p) if p in sensitive

sensitive_path(p) if {
	some s in {"/etc", "/proc", "/sys", "/root", "/boot"}
	startswith(p, concat("", [s, "/"]))
}

access(mount) := "read-only" if ecs.is_true(object.get(mount, "readOnly", false))

access(mount) := "writable" if not ecs.is_true(object.get(mount, "readOnly", false))
