# METADATA
# title: /proc unmasked in a user-namespace pod
# description: >-
#   The baseline profile lets pods that run in their own user namespace (`hostUsers: false`)
#   set `procMount: Unmasked`, since root in such a pod is not root on the node (PST-0012
#   reports every other pod). The Pod Security Standards' restricted profile still allows only
#   Default or no procMount there, as Pod Security admission does from policy version 1.35:
#   an unmasked /proc still exposes kernel interfaces the masks hide, and it is needed only by
#   nested container runtimes.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/#integration-with-pod-security-admission-checks
# custom:
#   id: PST-0028
#   severity: medium
#   remediation: >-
#     Remove `securityContext.procMount` (or set it to Default). Run builds that need an
#     unmasked /proc in a namespace that enforces baseline rather than restricted.
#   kinds: [workloads]
#   frameworks:
#     pod-security: restricted
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.proc_mount_unmasked_user_namespace

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

deny contains {"msg": msg, "path": path} if {
	pss.user_namespace_relaxed(pss.version())
	some c in restricted.containers()
	proc_mount := c.context.procMount
	not proc_mount in {"Default", null}
	path := k8s.container_path(c, ["securityContext", "procMount"])
	msg := sprintf("%s mounts /proc with procMount %s; the restricted profile allows only Default even in a user namespace", [k8s.describe(c), pss.show(proc_mount)])
}
