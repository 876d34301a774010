# METADATA
# title: Namespace without a ResourceQuota
# description: >-
#   A ResourceQuota caps the total CPU, memory, storage and object counts a namespace may use.
#   Without one, whoever can create pods in the namespace (a compromised CI token, a runaway
#   controller, a cryptominer) can consume the cluster's capacity and starve every other tenant.
#   Only namespaces that run workloads among the scanned objects are reported, on their
#   Namespace object, and only when no ResourceQuota of the namespace is among the scanned
#   objects either: a manifest scan without Namespace objects reports nothing here. kube-system,
#   kube-public and kube-node-lease are not reported, since quotas and limits there can keep the
#   cluster's own pods from starting.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/policy/resource-quotas/
# custom:
#   id: PST-0252
#   severity: low
#   remediation: >-
#     Add a ResourceQuota to the namespace that bounds `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory` and the number of pods, sized for what the namespace needs.
#   kinds: [Namespace]
#   frameworks:
#     nsa: ["Network separation: resource policies"]
#     mitre: [T1496]
package posture.rules.namespace.namespace_without_resource_quota

import data.posture.lib.namespace
import rego.v1

name := object.get(input, ["metadata", "name"], "")

workloads := namespace.workloads(name)

present if count(data.inventory.resource_quotas[name]) > 0

deny contains {"msg": msg, "path": ["metadata", "name"]} if {
	input.apiVersion == "v1"
	count(workloads) > 0
	not name in namespace.system_namespaces
	not present
	msg := sprintf("Namespace '%s' runs %s but has no ResourceQuota", [name, namespace.describe_workloads(workloads)])
}
