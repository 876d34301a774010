# METADATA
# title: ECS container image has a mutable tag
# description: >-
#   An image named without a tag or with `:latest`, and without a `@sha256:` digest, can
#   change between two deployments of the same revision: a task may start code nobody
#   reviewed, and two tasks of one service may run different code.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0614
#   severity: medium
#   remediation: >-
#     Pin the image to a version tag and, better, a digest (`repo/app:1.4.2@sha256:...`);
#     enable tag immutability on the ECR repository.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_image_mutable_tag

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": array.concat(c.path, ["image"])} if {
	some c in ecs.containers()
	image := c.container.image
	is_string(image)
	not contains(image, "@")
	tag := image_tag(image)
	tag in {"", "latest"}
	not unknown_tag(image, tag)
	msg := sprintf("%s uses image '%s' without a version tag or digest", [ecs.describe(c), image])
}

# The tag: the text after the last `:` that follows the last `/` (a registry port is not one).
image_tag(image) := tag if {
	parts := split(image, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
}

image_tag(image) := "" if {
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}

# `repo:${Tag}` or an image that is only a parameter: the tag is known at deployment only.
unknown_tag(image, "") if contains(image, "${")

unknown_tag(image, "") if contains(image, "}")
