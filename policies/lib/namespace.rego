# Helpers for rules on Namespace objects: which workloads of the scan run in the namespace.
package posture.lib.namespace

import rego.v1

# Namespaces that Kubernetes itself runs (kubeadm, managed control planes).
system_namespaces := {"kube-system", "kube-public", "kube-node-lease"}

# The workloads of the scan in namespace `name`, as "Kind/name", sorted.
workloads(name) := sort(w) if {
	w := data.inventory.workload_namespaces[name]
	is_array(w)
} else := []

# "Deployment 'web'" or "Deployment 'web' and 3 other workloads".
describe_workloads(ws) := sprintf("%s '%s'", [parts[0], parts[1]]) if {
	count(ws) == 1
	parts := split(ws[0], "/")
} else := sprintf("%s '%s' and 1 other workload", [parts[0], parts[1]]) if {
	count(ws) == 2
	parts := split(ws[0], "/")
} else := sprintf("%s '%s' and %d other workloads", [parts[0], parts[1], count(ws) - 1]) if {
	parts := split(ws[0], "/")
}
