# METADATA
# title: Compose service has no memory or CPU limit
# description: >-
#   Without a memory limit one service can exhaust the host's memory and get others killed;
#   without a CPU limit it can starve them. Limits come from `deploy.resources.limits`
#   (`memory`, `cpus`) or the older `mem_limit` and `cpus`.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0519
#   severity: low
#   remediation: >-
#     Set `deploy.resources.limits.memory` and `deploy.resources.limits.cpus` (or `mem_limit`
#     and `cpus`) to what the service needs.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.10", "5.11"]
package posture.rules.compose.compose_resource_limits_missing

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["deploy", "resources", "limits"]} if {
	not has_limit("memory", "mem_limit")
	msg := sprintf("%s has no memory limit", [compose.describe()])
}

deny contains {"msg": msg, "path": ["deploy", "resources", "limits"]} if {
	not has_limit("cpus", "cpus")
	msg := sprintf("%s has no CPU limit", [compose.describe()])
}

has_limit(deploy_key, _) if {
	limits := compose.as_object(object.get(input, ["deploy", "resources", "limits"], {}))
	limits[deploy_key] != null
}

has_limit(_, legacy_key) if {
	input[legacy_key] != null
}
