# METADATA
# title: Compose service image has a mutable tag
# description: >-
#   An image named without a tag or with `:latest`, and without a `@sha256:` digest, can change
#   between two runs of `docker compose up`: the service may start code nobody reviewed. A
#   service that only has `build:` is built from the repository and not reported.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0515
#   severity: medium
#   remediation: >-
#     Pin the image to a version tag and, better, a digest (`image: nginx:1.27.2@sha256:...`).
#   input: compose
#   kinds: [Service]
package posture.rules.compose.compose_image_mutable_tag

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["image"]} if {
	image := input.image
	is_string(image)
	not contains(image, "@")
	not contains(image, "${")
	tag := image_tag(image)
	tag in {"", "latest"}
	msg := sprintf("%s uses image '%s' without a version tag or digest", [compose.describe(), image])
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
