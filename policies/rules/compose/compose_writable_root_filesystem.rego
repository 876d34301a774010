# METADATA
# title: Compose service has a writable root filesystem
# description: >-
#   Without `read_only: true` the container can write anywhere in its filesystem, so an
#   attacker can drop tools or change the application's code and configuration.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0514
#   severity: low
#   remediation: >-
#     Set `read_only: true` and give the service `tmpfs` or volumes for the paths it must write
#     (`/tmp`, caches).
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.12"]
package posture.rules.compose.compose_writable_root_filesystem

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["read_only"]} if {
	object.get(input, "read_only", false) != true
	msg := sprintf("%s has a writable root filesystem (read_only is not true)", [compose.describe()])
}
