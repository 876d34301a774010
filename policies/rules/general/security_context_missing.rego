# METADATA
# title: No security context on pod or container
# description: >-
#   CIS 5.6.3 asks for a securityContext on pods and containers: without one, nothing about
#   the user, capabilities, privilege escalation, seccomp or the root filesystem has been
#   decided, and every runtime default applies. This rule reports a container (init and
#   ephemeral ones included) whose own `securityContext` is absent, null or empty (`{}`) while
#   the pod's `spec.securityContext` is absent, null or empty too; a securityContext with at
#   least one field, at either level, counts as present, whatever the field. Whether the
#   fields are strong enough is for the Pod Security Standards rules (PST-0001 to PST-0028).
#   When neither the pod nor any container has one, one finding is reported for the pod;
#   otherwise one per container without one.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
# custom:
#   id: PST-0301
#   severity: low
#   remediation: >-
#     Add a `securityContext` to the pod (runAsNonRoot, runAsUser, fsGroup, seccompProfile)
#     and to each container (allowPrivilegeEscalation: false, capabilities.drop: ["ALL"],
#     readOnlyRootFilesystem: true).
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.6.3"]
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.general.security_context_missing

import data.posture.lib.k8s
import data.posture.lib.restricted
import rego.v1

pod_has if count(k8s.pod_security_context()) > 0

container_has(c) if count(c.context) > 0

some_container_has if {
	some c in restricted.containers()
	container_has(c)
}

deny contains {"msg": msg, "path": path} if {
	count(k8s.containers()) > 0
	not pod_has
	not some_container_has
	path := k8s.pod_nearest(["securityContext"])
	msg := sprintf("%s sets no securityContext, neither at pod level nor on any container", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	not pod_has
	some_container_has
	some c in restricted.containers()
	not container_has(c)
	path := k8s.container_nearest(c, ["securityContext"])
	msg := sprintf("%s has no securityContext, and its pod sets none at pod level", [k8s.describe(c)])
}
