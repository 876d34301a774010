# METADATA
# title: Container runs as root user
# description: >-
#   `runAsUser: 0` runs the container's processes as root, which owns every file in the
#   container, and any container escape or writable host mount then acts as root on the node.
#   The Pod Security Standards' restricted profile forbids the value at pod level (even when
#   every container overrides it) and on every container, init and ephemeral ones included;
#   leaving it unset is allowed (runAsNonRoot, PST-0022, covers images that default to
#   root). The check applies from policy version 1.23. Pods in their own user namespace (`hostUsers: false`) are exempt, as in Pod
#   Security admission from policy version 1.35, since UID 0 there maps to an unprivileged
#   user on the node.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/
# custom:
#   id: PST-0023
#   severity: high
#   remediation: >-
#     Set `runAsUser` to a non-zero UID that the image supports (or remove it and rely on a
#     numeric non-root USER in the image), together with `runAsNonRoot: true`. If the
#     workload truly needs root inside the container, run it with `hostUsers: false`.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.7"]
#     pod-security: restricted
#     nsa: ["Pod security: non-root and unprivileged containers"]
package posture.rules.pod_security.run_as_root_user

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

# The check applies from policy version 1.23; pods in a user namespace are exempt from 1.35.
applies if {
	pss.since(pss.version(), 23)
	not pss.user_namespace_relaxed(pss.version())
}

deny contains {"msg": msg, "path": path} if {
	applies
	k8s.pod_security_context().runAsUser == 0
	path := k8s.pod_path(["securityContext", "runAsUser"])
	msg := sprintf("%s sets runAsUser to 0 (root) at pod level", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	c.context.runAsUser == 0
	path := k8s.container_path(c, ["securityContext", "runAsUser"])
	msg := sprintf("%s runs as root (runAsUser 0)", [k8s.describe(c)])
}
