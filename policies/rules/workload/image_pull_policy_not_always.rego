# METADATA
# title: Image with a mutable tag not pulled on every start
# description: >-
#   Any tag can be pushed again, so a reference that is not pinned by digest names whatever
#   the registry holds at pull time. With `imagePullPolicy` other than `Always`, a node that
#   already has an image under that tag keeps running it: replicas drift apart, a fixed image
#   does not reach nodes that cached the old one, and a pod can start a private image some
#   other pod pulled onto the node without presenting pull credentials itself. The policy is
#   read as the API server defaults it when unset: `Always` for `latest` or no tag,
#   `IfNotPresent` otherwise. Images pinned by digest pass whatever the policy.
#   Mirror pods of static pods are not reported: the kubelet runs them from a file on the node.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/containers/images/#updating-images
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#alwayspullimages
# custom:
#   id: PST-0045
#   severity: low
#   remediation: >-
#     Pin the image by digest (`app:1.4.2@sha256:...`), or set `imagePullPolicy: Always`.
#   kinds: [workloads]
package posture.rules.workload.image_pull_policy_not_always

import data.posture.lib.image
import data.posture.lib.k8s
import rego.v1

# The API server's default when unset (pkg/apis/core/v1/defaults.go).
effective_policy(c, ref) := p if {
	p := c.container.imagePullPolicy
	is_string(p)
} else := "Always" if {
	lower(ref.tag) in {"", "latest"}
} else := "IfNotPresent"

deny contains {"msg": msg, "path": path} if {
	k8s.is_workload()
	not mirror
	some c in k8s.containers()
	raw := c.container.image
	is_string(raw)
	trim_space(raw) != ""
	ref := image.reference(raw)
	not image.pinned(ref)
	p := effective_policy(c, ref)
	p != "Always"
	path := k8s.container_nearest(c, ["imagePullPolicy"])
	msg := sprintf("%s runs image '%s' by a mutable tag with imagePullPolicy %s%s", [k8s.describe(c), trim_space(raw), p, defaulted(c)])
}

defaulted(c) := "" if is_string(c.container.imagePullPolicy) else := " (the default for this tag)"

mirror if k8s.is_mirror_pod
