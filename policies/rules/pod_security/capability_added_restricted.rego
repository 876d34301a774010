# METADATA
# title: Capability added beyond NET_BIND_SERVICE
# description: >-
#   After dropping ALL, the Pod Security Standards' restricted profile lets a container add
#   back only NET_BIND_SERVICE (binding ports below 1024). This rule reports the other
#   capabilities that the baseline profile would still accept (AUDIT_WRITE, CHOWN,
#   DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)
#   in `capabilities.add` of any container, init and ephemeral ones included; capabilities
#   outside that set are reported by the baseline rule PST-0006, so each added capability
#   yields one finding. Names are compared exactly, as admission does. The check applies from
#   policy version 1.22; pods with `spec.os.name: windows` are exempt from 1.25.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://man7.org/linux/man-pages/man7/capabilities.7.html
# custom:
#   id: PST-0026
#   severity: low
#   remediation: >-
#     Remove the capability from `securityContext.capabilities.add`. Files the process must
#     own or read can be handled with `fsGroup` and file modes; a process that must switch
#     users should be split so that the part needing it runs in a separate, more privileged
#     workload.
#   kinds: [workloads]
#   frameworks:
#     pod-security: restricted
#     nsa: ["Pod security: non-root and unprivileged containers"]
package posture.rules.pod_security.capability_added_restricted

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

deny contains {"msg": msg, "path": path} if {
	pss.since(pss.version(), 22)
	not pss.windows_exempt(pss.version())
	some c in restricted.containers()
	some i, name in c.add
	pss.baseline_capability(name)
	name != "NET_BIND_SERVICE"
	path := k8s.container_path(c, ["securityContext", "capabilities", "add", i])
	msg := sprintf("%s adds capability %v; the restricted profile allows adding only NET_BIND_SERVICE", [k8s.describe(c), name])
}
