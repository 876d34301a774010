# METADATA
# title: ECS container runs as root
# description: >-
#   A Linux container without `user`, or with `user` set to `root` or uid 0, runs its process
#   as root unless the image names another user. Root in the container owns every file in it
#   and is one kernel or runtime flaw away from root on the host. Windows task definitions
#   are not judged.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0602
#   severity: medium
#   remediation: >-
#     Set `user` to a non-root user and group id (`"1000:1000"`), and make the image's files
#     readable by that user.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.20]
package posture.rules.ecs.ecs_runs_as_root

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": c.path} if {
	ecs.linux
	some c in ecs.containers()
	not "user" in object.keys(c.container)
	msg := sprintf("%s sets no user, so it runs as the image's user (root unless the image says otherwise)", [ecs.describe(c)])
}

deny contains {"msg": msg, "path": array.concat(c.path, ["user"])} if {
	ecs.linux
	some c in ecs.containers()
	user := c.container.user
	is_string(user)
	lower(trim_space(split(user, ":")[0])) in {"root", "0", ""}
	msg := sprintf("%s runs as root (user '%s')", [ecs.describe(c), user])
}
