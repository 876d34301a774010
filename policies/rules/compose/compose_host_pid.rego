# METADATA
# title: Compose service shares the host's PID namespace
# description: >-
#   With `pid: host` the container sees every process of the host and, as root or with
#   `SYS_PTRACE`, can signal or trace them and read their environment and memory.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0505
#   severity: high
#   remediation: >-
#     Remove `pid: host`.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.15"]
package posture.rules.compose.compose_host_pid

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["pid"]} if {
	is_string(input.pid)
	lower(input.pid) == "host"
	msg := sprintf("%s shares the host's PID namespace (pid: host)", [compose.describe()])
}
