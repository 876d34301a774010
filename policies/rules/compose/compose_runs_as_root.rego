# METADATA
# title: Compose service runs as root
# description: >-
#   Without `user`, a container runs as the image's user, which is root for most images; `user:
#   root`, `0` or `0:0` says so outright. Root in a container is one kernel bug or
#   misconfiguration away from root on the host.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0513
#   severity: medium
#   remediation: >-
#     Set `user` to a non-root UID and GID (`user: "10001:10001"`), and make the image work as
#     that user.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["4.1"]
package posture.rules.compose.compose_runs_as_root

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["user"]} if {
	not "user" in object.keys(input)
	msg := sprintf("%s sets no user, so it runs as the image's user (root for most images)", [compose.describe()])
}

deny contains {"msg": msg, "path": ["user"]} if {
	user := sprintf("%v", [input.user])
	split(user, ":")[0] in {"root", "0", ""}
	msg := sprintf("%s runs as root (user: %s)", [compose.describe(), user])
}
