# Helpers for network rules: Kubernetes label-selector semantics, so that a rule can tell
# whether a NetworkPolicy (or any selector) picks a workload's pods.
package posture.lib.network

import data.posture.lib.k8s
import rego.v1

# A metav1.LabelSelector selects `labels` when every matchLabels pair and every
# matchExpressions requirement holds; an empty (or null) selector selects everything.
# A null podSelector or matchLabels counts as empty, as the API server treats it.
# https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements
selects(selector, labels) if {
	sel := k8s.as_object(selector)
	every key, value in k8s.as_object(object.get(sel, "matchLabels", {})) {
		labels[key] == value
	}
	every requirement in k8s.as_array(object.get(sel, "matchExpressions", [])) {
		requirement_holds(requirement, labels)
	}
}

has_label(labels, key) if _ = labels[key]

# Operators are case-sensitive; an unknown operator is rejected by the API server, so it
# matches nothing here.
requirement_holds(r, labels) if {
	r.operator == "In"
	labels[r.key] in k8s.as_array(object.get(r, "values", []))
}

requirement_holds(r, labels) if {
	r.operator == "NotIn"
	not labels[r.key] in k8s.as_array(object.get(r, "values", []))
}

requirement_holds(r, labels) if {
	r.operator == "Exists"
	has_label(labels, r.key)
}

requirement_holds(r, labels) if {
	r.operator == "DoesNotExist"
	not has_label(labels, r.key)
}

# Policies of every flavour, as the inventory normalises them (src/engine/network_policy.rs):
# `selects` is a disjunction of conjunctions of requirements {key, operator, values}; [[]] selects
# every pod, [] none.
dnf_selects(dnf, labels) if {
	is_array(dnf)
	some conjunction in dnf
	every r in conjunction {
		dnf_requirement_holds(r, labels)
	}
}

dnf_requirement_holds(r, labels) if {
	r.operator in {"In", "NotIn", "Exists", "DoesNotExist"}
	requirement_holds(r, labels)
}

dnf_requirement_holds(r, labels) if {
	r.operator == "Contains"
	contains(labels[r.key], r.values[0])
}

dnf_requirement_holds(r, labels) if {
	r.operator == "NotContains"
	not contains(labels[r.key], r.values[0])
}

dnf_requirement_holds(r, labels) if {
	r.operator == "StartsWith"
	startswith(labels[r.key], r.values[0])
}

dnf_requirement_holds(r, labels) if {
	r.operator == "NotStartsWith"
	not startswith(labels[r.key], r.values[0])
}

dnf_requirement_holds(r, labels) if {
	r.operator == "EndsWith"
	endswith(labels[r.key], r.values[0])
}

dnf_requirement_holds(r, labels) if {
	r.operator == "NotEndsWith"
	not endswith(labels[r.key], r.values[0])
}

# The labels of namespace `ns` as the scan knows them, with the ones Kubernetes
# (kubernetes.io/metadata.name) and Calico (projectcalico.org/name) give every namespace.
namespace_labels(ns) := object.union(k8s.as_object(object.get(data.inventory, ["namespaces", ns, "labels"], {})), {
	"kubernetes.io/metadata.name": ns,
	"projectcalico.org/name": ns,
})

# What a policy selector sees of a pod of namespace `ns`: its labels, plus the labels Cilium
# (io.kubernetes.pod.namespace, io.cilium.k8s.namespace.labels.*) and Calico
# (projectcalico.org/namespace, pcns.*) derive from its namespace.
pod_view(labels, ns) := object.union(derived, labels) if {
	ns_labels := namespace_labels(ns)
	derived := object.union_n([
		{"io.kubernetes.pod.namespace": ns, "projectcalico.org/namespace": ns, "projectcalico.org/orchestrator": "k8s"},
		{concat("", ["io.cilium.k8s.namespace.labels.", k]): v | some k, v in ns_labels},
		{concat("", ["pcns.", k]): v | some k, v in ns_labels},
	])
}

# The policies that can apply to pods of namespace `ns`: its own, and the cluster-wide ones
# (CiliumClusterwideNetworkPolicy, Calico GlobalNetworkPolicy) whose namespaceSelector, if
# any, selects it.
policies_for(ns) := array.concat(own, cluster) if {
	own := k8s.as_array(object.get(data.inventory, ["network_policies", ns], []))
	ns_labels := namespace_labels(ns)
	cluster := [p |
		some p in k8s.as_array(object.get(data.inventory, "cluster_network_policies", []))
		cluster_policy_applies(p, ns_labels)
	]
}

cluster_policy_applies(p, _) if p.namespaces == null

cluster_policy_applies(p, ns_labels) if {
	is_array(p.namespaces)
	dnf_selects(p.namespaces, ns_labels)
}

# How a message names a policy: 'name', with its kind unless it is a Kubernetes NetworkPolicy.
policy_label(p) := sprintf("'%s'", [p.name]) if p.kind == "NetworkPolicy"

policy_label(p) := sprintf("'%s' (%s)", [p.name, p.kind]) if p.kind != "NetworkPolicy"
