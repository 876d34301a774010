# METADATA
# title: Compose service shares the host's IPC namespace
# description: >-
#   With `ipc: host` the container shares the host's System V IPC and POSIX shared memory, so
#   it can read and corrupt the shared memory of host processes.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0506
#   severity: high
#   remediation: >-
#     Remove `ipc: host`; use `ipc: shareable` on one service and `ipc: service:<name>` on
#     another where two services must share memory.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.16"]
package posture.rules.compose.compose_host_ipc

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["ipc"]} if {
	is_string(input.ipc)
	lower(input.ipc) == "host"
	msg := sprintf("%s shares the host's IPC namespace (ipc: host)", [compose.describe()])
}
