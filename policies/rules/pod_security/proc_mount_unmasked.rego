# METADATA
# title: Container mounts /proc unmasked
# description: >-
#   The runtime masks and makes read-only the sensitive parts of /proc (kcore, sysrq-trigger,
#   /proc/sys, ...) in every container. `procMount: Unmasked` turns that off, exposing kernel
#   interfaces that can crash or take over the node. The Pod Security Standards' baseline
#   profile allows only Default or no procMount, except in pods that run in their own user
#   namespace (`hostUsers: false`), where the host's /proc is not reachable as root.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/concepts/workloads/pods/user-namespaces/
# custom:
#   id: PST-0012
#   severity: medium
#   remediation: >-
#     Remove `securityContext.procMount` (or set it to Default). Nested container builds that
#     need an unmasked /proc should run with `hostUsers: false`.
#   kinds: [workloads]
#   frameworks:
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.proc_mount_unmasked

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

deny contains {"msg": msg, "path": path} if {
	not pss.user_namespace_relaxed(pss.version())
	some c in k8s.containers()
	proc_mount := c.context.procMount
	not proc_mount in {"Default", null}
	path := k8s.container_path(c, ["securityContext", "procMount"])
	msg := sprintf("%s mounts /proc with procMount %s outside a user namespace", [k8s.describe(c), pss.show(proc_mount)])
}
