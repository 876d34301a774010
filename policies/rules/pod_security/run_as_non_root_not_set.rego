# METADATA
# title: runAsNonRoot not required
# description: >-
#   With `runAsNonRoot: true` the kubelet refuses to start a container whose user would be
#   UID 0, so an image that forgot its USER line fails fast instead of running as root. The
#   Pod Security Standards' restricted profile requires it: either the pod sets it to true
#   and no container overrides it with false, or every container (init and ephemeral ones
#   included) sets it to true. An explicit false fails wherever it is written, at pod level
#   even when every container sets true, and on a container even when the pod sets true. A
#   null counts as unset. When neither the pod nor any container sets it, one finding is
#   reported for the pod; otherwise one per container left without it. Pods in their own user
#   namespace (`hostUsers: false`) are exempt, as in Pod Security admission from policy
#   version 1.35, since root there maps to an unprivileged user on the node.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/
# custom:
#   id: PST-0022
#   severity: medium
#   remediation: >-
#     Set `securityContext.runAsNonRoot: true` at pod level (or on every container), remove
#     any `runAsNonRoot: false`, and make sure the image runs as a non-zero UID (a numeric
#     USER in the Dockerfile, or `runAsUser`).
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.7"]
#     pod-security: restricted
#     nsa: ["Pod security: non-root and unprivileged containers"]
package posture.rules.pod_security.run_as_non_root_not_set

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

applies if not pss.user_namespace_relaxed(pss.version())

pod_sets if restricted.sets(k8s.pod_security_context(), "runAsNonRoot")

container_sets(c) if restricted.sets(c.context, "runAsNonRoot")

some_container_sets if {
	some c in restricted.containers()
	container_sets(c)
}

deny contains {"msg": msg, "path": path} if {
	applies
	k8s.pod_security_context().runAsNonRoot == false
	path := k8s.pod_path(["securityContext", "runAsNonRoot"])
	msg := sprintf("%s sets runAsNonRoot to false at pod level", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	c.context.runAsNonRoot == false
	path := k8s.container_path(c, ["securityContext", "runAsNonRoot"])
	msg := sprintf("%s sets runAsNonRoot to false", [k8s.describe(c)])
}

deny contains {"msg": msg, "path": path} if {
	applies
	count(k8s.containers()) > 0
	not pod_sets
	not some_container_sets
	path := k8s.pod_nearest(["securityContext", "runAsNonRoot"])
	msg := sprintf("%s sets runAsNonRoot neither at pod level nor on any container", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	applies
	not pod_sets
	some_container_sets
	some c in restricted.containers()
	not container_sets(c)
	path := k8s.container_nearest(c, ["securityContext", "runAsNonRoot"])
	msg := sprintf("%s does not set runAsNonRoot, and its pod does not set it at pod level", [k8s.describe(c)])
}
