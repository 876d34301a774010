# METADATA
# title: Compose service mounts the Docker socket
# description: >-
#   A container that can reach the Docker daemon's socket controls the daemon: it can start a
#   privileged container with the host's root filesystem mounted, which is root on the host.
#   Mounting it read-only does not help; the API is still writable through it.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0508
#   severity: critical
#   remediation: >-
#     Remove the `docker.sock` volume. Where a service must talk to Docker (a CI runner, a
#     reverse proxy reading labels), use a socket proxy that allows only the API calls it
#     needs, or rootless Docker.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.31"]
package posture.rules.compose.compose_docker_socket_mount

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": v.path} if {
	some v in compose.volumes()
	v.bind
	endswith(compose.normal_path(v.source), "docker.sock")
	msg := sprintf("%s mounts the Docker socket %s", [compose.describe(), v.source])
}
