# METADATA
# title: Container runs with the root group
# description: >-
#   Group 0 (root) owns much of what a container image and a node hold: files that are
#   group-writable by root in the image, and, after an escape or through a hostPath mount,
#   root-group files of the host. `runAsGroup: 0` makes it the primary group of the
#   container's processes, `fsGroup: 0` gives every process of the pod group 0 and makes
#   mounted volumes owned by it, and `supplementalGroups` containing 0 adds it to every
#   process. `runAsGroup` is read where it takes effect: a container's own value overrides the
#   pod's, so a pod-level 0 is reported on each container that inherits it (init and
#   ephemeral containers included). Pods in their own user namespace (`hostUsers: false`),
#   where group 0 maps to an unprivileged group of the node, and Windows pods, which have no
#   such groups, are not reported.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
#   - ref: https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/
# custom:
#   id: PST-0040
#   severity: medium
#   remediation: >-
#     Set `runAsGroup` and `fsGroup` to a non-zero GID the image supports (for example the
#     GID of the image's non-root user) and remove 0 from `supplementalGroups`.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Pod security: non-root and unprivileged containers"]
#     mitre: [T1611]
package posture.rules.workload.root_group

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

applies if {
	not pss.in_user_namespace(k8s.pod_spec())
	not k8s.is_windows()
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in k8s.containers()
	k8s.effective(c, "runAsGroup") == 0
	path := k8s.effective_path(c, "runAsGroup")
	msg := sprintf("%s runs with the root group (runAsGroup 0%s)", [k8s.describe(c), from_pod(c)])
}

from_pod(c) := "" if {
	c.context.runAsGroup != null
} else := ", set at pod level"

deny contains {"msg": msg, "path": path} if {
	applies
	k8s.pod_security_context().fsGroup == 0
	path := k8s.pod_path(["securityContext", "fsGroup"])
	msg := sprintf("%s sets fsGroup to 0: its processes get the root group and its volumes are owned by it", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some i, g in k8s.as_array(k8s.pod_security_context().supplementalGroups)
	g == 0
	path := k8s.pod_path(["securityContext", "supplementalGroups", i])
	msg := sprintf("%s adds the root group (0) to supplementalGroups of every container", [k8s.workload()])
}
