# METADATA
# title: Container adds a capability outside the baseline set
# description: >-
#   Linux capabilities split root's power into pieces; container runtimes grant a small
#   default set. Adding others (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, NET_RAW, BPF,
#   ALL, ...) hands the container powers that lead to the node. The Pod Security Standards'
#   baseline profile allows `capabilities.add` to name only AUDIT_WRITE, CHOWN, DAC_OVERRIDE,
#   FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and
#   SYS_CHROOT. Pod Security admission compares the names exactly, as written in this list:
#   `chown`, `CAP_CHOWN` or `net_bind_service` are outside it and rejected, although a runtime
#   would read them as CHOWN and NET_BIND_SERVICE (the message says what the runtime grants).
#   The same at every policy version since 1.0.
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
#     NET_BIND_SERVICE, spelled exactly so (upper case, no CAP_ prefix), or change the program so
#     it does not need the capability.
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
	not pss.baseline_capability(name)
	path := k8s.container_path(c, ["securityContext", "capabilities", "add", i])
	msg := message(c, name)
}

# A name that a runtime would read as a baseline capability is still rejected by admission:
# say how the list spells it.
message(c, name) := sprintf("%s adds capability %v; Pod Security admission compares names exactly and the baseline set spells it %s", [k8s.describe(c), name, pss.capability_name(name)]) if {
	pss.baseline_capability(pss.capability_name(name))
} else := sprintf("%s adds capability %s, outside the baseline set", [k8s.describe(c), spelled(name)])

# The name as written, with the capability a runtime would grant when the spelling differs.
spelled(name) := sprintf("%s (%s)", [name, pss.capability_name(name)]) if {
	pss.capability_name(name) != name
} else := pss.show(name)
