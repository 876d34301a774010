# METADATA
# title: Container adds a capability outside the baseline set
# description: >-
#   Linux capabilities split root's power into pieces; container runtimes grant a small
#   default set. Adding others (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, NET_RAW, BPF,
#   ALL, ...) hands the container powers that lead to the node. The Pod Security Standards'
#   baseline profile allows `capabilities.add` to name only AUDIT_WRITE, CHOWN, DAC_OVERRIDE,
#   FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and
#   SYS_CHROOT. Names are judged by the capability they grant, so `CAP_SYS_ADMIN` and
#   `sys_admin` count as SYS_ADMIN, as runtimes read them.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://man7.org/linux/man-pages/man7/capabilities.7.html
# custom:
#   id: PST-0006
#   severity: high
#   remediation: >-
#     Remove the capability from `securityContext.capabilities.add`. If the program needs a
#     narrower privilege (binding a low port, say), use a baseline capability such as
#     NET_BIND_SERVICE, or change the program so it does not need the capability.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.9"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.capability_beyond_baseline

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	added := c.context.capabilities.add
	is_array(added)
	some i, name in added
	not pss.capability_name(name) in pss.baseline_capabilities()
	path := k8s.container_path(c, ["securityContext", "capabilities", "add", i])
	msg := sprintf("%s adds capability %s, outside the baseline set", [k8s.describe(c), spelled(name)])
}

# The name as written, with the capability it grants when the spelling differs.
spelled(name) := sprintf("%s (%s)", [name, pss.capability_name(name)]) if {
	pss.capability_name(name) != name
} else := pss.show(name)
