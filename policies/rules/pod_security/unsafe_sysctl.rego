# METADATA
# title: Pod sets a sysctl outside the safe set
# description: >-
#   Pod-level sysctls change kernel parameters for the pod's namespaces. Only a few are both
#   namespaced and isolated from other pods; the rest can weaken security mechanisms or
#   affect every workload on the node. The Pod Security Standards' baseline profile allows
#   only the safe set: kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
#   net.ipv4.ip_local_reserved_ports, net.ipv4.ip_unprivileged_port_start,
#   net.ipv4.ping_group_range, net.ipv4.tcp_syncookies, net.ipv4.tcp_keepalive_time,
#   net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes,
#   net.ipv4.tcp_rmem, net.ipv4.tcp_wmem, net.ipv4.tcp_slow_start_after_idle and
#   net.ipv4.tcp_notsent_lowat. The set grew with the policy version: the first five since
#   1.0, ip_local_reserved_ports from 1.27, the keepalive and fin_timeout ones from 1.29,
#   tcp_rmem and tcp_wmem from 1.32, tcp_slow_start_after_idle and tcp_notsent_lowat from
#   1.37; `--pss-version` chooses which set applies.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/
# custom:
#   id: PST-0014
#   severity: medium
#   remediation: >-
#     Remove the sysctl from `securityContext.sysctls`. If the workload really needs it, set
#     it on dedicated nodes (allowed through the kubelet's `--allowed-unsafe-sysctls`) and run
#     the workload in a namespace exempt from the baseline profile.
#   kinds: [workloads]
#   frameworks:
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.unsafe_sysctl

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

deny contains {"msg": msg, "path": path} if {
	sysctls := k8s.pod_security_context().sysctls
	is_array(sysctls)
	some i, sysctl in sysctls
	name := object.get(sysctl, "name", "")
	not pss.safe_sysctl(name, pss.version())
	path := k8s.pod_path(["securityContext", "sysctls", i, "name"])
	msg := sprintf("%s sets sysctl %s, outside the safe set", [k8s.workload(), pss.show(name)])
}
