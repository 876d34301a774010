# METADATA
# title: Image without a fixed tag or digest
# description: >-
#   An image referenced with the tag `latest`, or with no tag at all (which the runtime reads as
#   `latest`), names whatever was pushed last. Two nodes can run different code under the same
#   manifest, a rollback does not restore the previous build, and a compromised or careless
#   push reaches the cluster at the next pull. An image pinned by digest (`@sha256:...`) passes
#   whatever its tag; the tag is compared without regard to case, and a registry port
#   (`registry:5000/app`) is not mistaken for a tag. Init and ephemeral containers count.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/containers/images/#image-names
#   - ref: https://github.com/distribution/reference/blob/main/reference.go
# custom:
#   id: PST-0200
#   severity: medium
#   remediation: >-
#     Reference a versioned tag that your release process never overwrites (`nginx:1.27.3`),
#     and preferably pin the digest as well (`nginx:1.27.3@sha256:<digest>`), so every node
#     runs the same bytes and changes go through a manifest change.
#   kinds: [workloads]
package posture.rules.workload.image_mutable_tag

import data.posture.lib.k8s
import rego.v1

# A digest is "@" algorithm ":" encoded at the end of the reference (`@sha256:...`); string
# operations instead of a regex, since this runs for every container.
has_digest(image) if {
	parts := split(image, "@")
	count(parts) == 2
	i := indexof(parts[1], ":")
	i > 0
	i < count(parts[1]) - 1
}

# The tag sits after a ':' in the last path component only: in `registry:5000/app` the ':'
# belongs to the registry host.
last_component(image) := c if {
	name := split(image, "@")[0]
	parts := split(name, "/")
	c := parts[count(parts) - 1]
}

tag(image) := t if {
	c := last_component(image)
	i := indexof(c, ":")
	i >= 0
	t := substring(c, i + 1, -1)
}

# The tag is worked out once: this runs for every container.
problem(image) := p if {
	t := tag(image)
	p := tag_problem(t)
}

problem(image) := "with neither a tag nor a digest, so it pulls 'latest'" if not tag(image)

tag_problem(t) := "with an empty tag and no digest" if t == ""

tag_problem(t) := sprintf("by the mutable tag '%s' with no digest", [t]) if lower(t) == "latest"

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	raw := c.container.image
	is_string(raw)
	image := trim_space(raw)
	image != ""
	not has_digest(image)
	p := problem(image)
	path := k8s.container_path(c, ["image"])
	msg := sprintf("%s runs image '%s' %s", [k8s.describe(c), image, p])
}
