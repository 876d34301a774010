# METADATA
# title: Workload not covered by any NetworkPolicy
# description: >-
#   Pods that no NetworkPolicy selects accept traffic from, and send traffic to, any pod in the
#   cluster and any address the network routes; an attacker who lands in one pod can reach them
#   all. The rule reports a workload when its namespace has no NetworkPolicy at all (CIS 5.3.2),
#   and, as a distinct finding, when the namespace has policies but none of their pod selectors
#   (matchLabels, and matchExpressions with In, NotIn, Exists and DoesNotExist; an empty
#   selector selects every pod) matches the labels of the workload's pod template. Only the
#   NetworkPolicies among the scanned objects are known; a manifest without a namespace is
#   compared with the policies that have none either. Pods on the host network are skipped,
#   since NetworkPolicies do not apply to them. Cilium and Calico policies count with their own
#   selector semantics: CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2)
#   by `endpointSelector` when they have ingress or egress rules (source prefixes such as
#   `k8s:` dropped, `io.kubernetes.pod.namespace` and namespace labels understood); Calico
#   NetworkPolicy and GlobalNetworkPolicy (projectcalico.org/v3, crd.projectcalico.org/v1) by
#   their `selector` expression (`==`, `!=`, `in`, `not in`, `has()`, `all()`, `contains`,
#   `starts with`, `ends with`, `!`, `&&`, `||`; an expression that does not parse selects
#   nothing) and `namespaceSelector`. Cluster-wide policies apply in every namespace their
#   namespace selector picks. Calico's `serviceAccountSelector` is not evaluated.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/services-networking/network-policies/
#   - ref: https://docs.cilium.io/en/stable/security/policy/
#   - ref: https://docs.tigera.io/calico/latest/reference/resources/networkpolicy
# custom:
#   id: PST-0224
#   severity: medium
#   remediation: >-
#     Give every namespace a default-deny NetworkPolicy (an empty `podSelector` with both
#     `Ingress` and `Egress` in `policyTypes`), then add policies that select the workload's
#     pods and allow only the traffic it needs.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.3.2"]
#     nsa: ["Network separation: network policies"]
package posture.rules.network.namespace_without_network_policy

import data.posture.lib.k8s
import data.posture.lib.network
import rego.v1

policies := network.policies_for(k8s.namespace())

applies if {
	k8s.is_workload()
	not k8s.pod_spec().hostNetwork == true
}

namespace_path := ["metadata", "namespace"] if {
	is_string(input.metadata.namespace)
} else := ["metadata"]

labels_path := array.concat(k8s.pod_metadata_path(), ["labels"]) if {
	is_object(k8s.pod_metadata())
	"labels" in object.keys(k8s.pod_metadata())
} else := k8s.pod_metadata_path() if {
	is_object(object.get(input, k8s.pod_metadata_path(), null))
} else := k8s.pod_spec_path()

deny contains {"msg": msg, "path": namespace_path} if {
	applies
	count(policies) == 0
	msg := sprintf("%s runs in %s, which has no NetworkPolicy", [k8s.workload(), k8s.namespace_label()])
}

deny contains {"msg": msg, "path": labels_path} if {
	applies
	count(policies) > 0
	labels := k8s.pod_labels()
	not selected(labels)
	names := concat(", ", sort({network.policy_label(p) | some p in policies}))
	msg := sprintf("%s runs in %s, where no NetworkPolicy selects its pods (policies there: %s)", [k8s.workload(), k8s.namespace_label(), names])
}

selected(labels) if {
	view := network.pod_view(labels, k8s.namespace())
	some policy in policies
	network.dnf_selects(policy.selects, view)
}
