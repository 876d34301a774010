# METADATA
# title: Pod shares the host's network namespace
# description: >-
#   With `hostNetwork: true` the pod uses the node's network stack: it can listen on any node
#   address, reach services bound to the node's loopback (the kubelet's and other agents'
#   local endpoints), sniff the node's traffic with the right capability, and it escapes the
#   NetworkPolicies that select pods. The Pod Security Standards' baseline profile forbids it.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   id: PST-0005
#   severity: high
#   remediation: >-
#     Remove `hostNetwork: true` from the pod spec (or set it to false) and expose the
#     workload through a Service (NodePort or LoadBalancer where it must be reachable from
#     outside the cluster).
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.5"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement", "Network separation and hardening"]
package posture.rules.pod_security.host_network

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	k8s.pod_spec().hostNetwork == true
	path := k8s.pod_path(["hostNetwork"])
	msg := sprintf("%s shares the host's network namespace", [k8s.workload()])
}
