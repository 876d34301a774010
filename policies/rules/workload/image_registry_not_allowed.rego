# METADATA
# title: Image from a registry that is not allowed
# description: >-
#   Images pulled from a registry the organisation does not control or vet (a public hub, a
#   typo-squatted name, a personal namespace) can carry malware, and change under the same
#   tag. When `.posture.yaml` lists the allowed registries (`registries: {allowed: [...]}`),
#   every container image, init and ephemeral containers included, must come from one of them.
#   An image without a registry host is on Docker Hub (`docker.io`, in `library/` when it has
#   a single name), as the container runtime reads it. A pattern matches the host label by
#   label with `*` inside a label (`*.dkr.ecr.*.amazonaws.com`), any port unless it names
#   one, and, when it has a path (`ghcr.io/acme`), only images below that path. With no list
#   configured the rule reports nothing.
# scope: package
# related_resources:
#   - ref: https://github.com/distribution/reference/blob/main/normalize.go
#   - ref: https://kubernetes.io/docs/concepts/containers/images/#image-names
# custom:
#   id: PST-0042
#   severity: medium
#   remediation: >-
#     Mirror the image into an allowed registry (and scan it there), or, if the registry is
#     trusted, add it to `registries.allowed` in `.posture.yaml`.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Pod security: image scanning"]
#     mitre: [T1204.003]
package posture.rules.workload.image_registry_not_allowed

import data.posture.lib.image
import data.posture.lib.k8s
import rego.v1

# Set by the host from `.posture.yaml`: [{"pattern": text, "regex": anchored regex matched
# against "<domain>/<path>"}]. Undefined when no list is configured.
allowed := data.settings.registries.allowed

deny contains {"msg": msg, "path": path} if {
	is_array(allowed)
	some c in k8s.containers()
	raw := c.container.image
	is_string(raw)
	trim_space(raw) != ""
	ref := image.reference(raw)
	full := concat("/", [ref.domain, ref.path])
	not allowed_image(full)
	path := k8s.container_path(c, ["image"])
	msg := sprintf("%s runs image '%s' from registry '%s', which is not in the allowed registries", [k8s.describe(c), trim_space(raw), ref.domain])
}

allowed_image(full) if {
	some p in allowed
	regex.match(p.regex, full)
}
