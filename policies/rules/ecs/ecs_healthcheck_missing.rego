# METADATA
# title: ECS container has no health check
# description: >-
#   An essential container (`essential` is true unless set to false) without `healthCheck` is
#   taken for healthy as long as its process runs: a hung or broken service keeps receiving
#   traffic and is never replaced. Containers marked `essential: false` (sidecars, init steps)
#   are not reported.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html
# custom:
#   id: PST-0619
#   severity: low
#   remediation: >-
#     Add `healthCheck: {command: ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"]}`
#     (with a command the image has) to each essential container.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_healthcheck_missing

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["healthCheck"])} if {
	some c in ecs.containers()
	not non_essential(c.container)
	not checked(c.container)
	msg := sprintf("%s has no health check", [ecs.describe(c)])
}

non_essential(container) if container.essential == false

non_essential(container) if {
	is_string(container.essential)
	lower(container.essential) == "false"
}

checked(container) if count(ecs.as_array(container.healthCheck.command)) > 0

checked(container) if ecs.is_unknown(container.healthCheck)

checked(container) if ecs.is_unknown(container.healthCheck.command)
