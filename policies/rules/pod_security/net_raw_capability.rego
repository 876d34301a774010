# METADATA
# title: Container keeps NET_RAW
# description: >-
#   NET_RAW lets a process open raw and packet sockets: it can forge any packet and sniff
#   traffic on the pod's interfaces, which makes ARP and DNS spoofing against neighbouring
#   pods possible. containerd and Docker grant it by default (CRI-O's default set leaves it
#   out), so a container keeps it unless it drops NET_RAW or ALL; adding NET_RAW or ALL grants
#   it in any case. Names are judged by the capability they grant (`net_raw`, `CAP_NET_RAW`).
#   Privileged containers hold every capability and are reported by PST-0003 instead. Pods
#   with `spec.os.name: windows` are exempt, since Linux capabilities do not apply to them.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://man7.org/linux/man-pages/man7/capabilities.7.html
# custom:
#   id: PST-0027
#   severity: medium
#   remediation: >-
#     Add `securityContext.capabilities.drop: ["ALL"]` (or at least NET_RAW) and remove
#     NET_RAW or ALL from `capabilities.add`. Tools that need ICMP, such as ping, work
#     without it when the pod sets the safe sysctl `net.ipv4.ping_group_range`.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.8"]
#     pod-security: restricted
#     nsa: ["Pod security: non-root and unprivileged containers"]
package posture.rules.pod_security.net_raw_capability

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

# Privileged containers and Windows pods are left to other rules: a privileged container has
# every capability anyway.
# A part of the restricted capabilities check (drop ALL), so it applies from policy version
# 1.22, and Windows pods are exempt from 1.25.
applies if {
	pss.since(pss.version(), 22)
	not pss.windows_exempt(pss.version())
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	not c.context.privileged == true
	some i, name in c.add
	pss.capability_name(name) == "NET_RAW"
	path := k8s.container_path(c, ["securityContext", "capabilities", "add", i])
	msg := sprintf("%s adds capability %v", [k8s.describe(c), name])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	not c.context.privileged == true
	some i, name in c.add
	pss.capability_name(name) == "ALL"
	path := k8s.container_path(c, ["securityContext", "capabilities", "add", i])
	msg := sprintf("%s adds %v capabilities, NET_RAW among them", [k8s.describe(c), name])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	not c.context.privileged == true
	not "NET_RAW" in c.added
	not "ALL" in c.added
	not "NET_RAW" in c.dropped
	not "ALL" in c.dropped
	path := k8s.container_nearest(c, ["securityContext", "capabilities", "drop"])
	msg := sprintf("%s keeps NET_RAW from the runtime's default capabilities: it drops neither NET_RAW nor ALL", [k8s.describe(c)])
}
