# METADATA
# title: Compose service mounts a sensitive host directory
# description: >-
#   Binding the host's `/`, `/etc`, `/proc`, `/sys`, `/root`, `/boot`, `/dev`, `/lib/modules`,
#   `/usr` or `/var/lib/docker` into a container gives it the host's credentials, configuration
#   or kernel interfaces; written to, they are a way out of the container.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0509
#   severity: high
#   remediation: >-
#     Mount only the application's own directory, read-only where it can be (`:ro`, or
#     `read_only: true` in the long syntax), or use a named volume.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.5"]
package posture.rules.compose.compose_sensitive_host_mount

import data.posture.lib.compose
import rego.v1

sensitive := {"/", "/etc", "/proc", "/sys", "/root", "/boot", "/dev", "/lib/modules", "/usr", "/var/lib/docker", "/var/run", "/run"}

deny contains {"msg": msg, "path": v.path} if {
	some v in compose.volumes()
	v.bind
	source := compose.normal_path(v.source)
	source in sensitive
	mode := {true: "read-only", false: "writable"}[v.read_only]
	msg := sprintf("%s mounts the host's %s (%s)", [compose.describe(), source, mode])
}
