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
