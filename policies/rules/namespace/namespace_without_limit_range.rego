# METADATA
# title: Namespace without a LimitRange
# description: >-
#   A LimitRange gives containers that set no requests or limits default ones and caps what a
#   single container or pod may ask for. Without one, a container that omits its limits can take
#   a whole node's memory and CPU, and one pod can claim more than the namespace should ever
#   use. Only namespaces that run workloads among the scanned objects are reported, on their
#   Namespace object, and only when no LimitRange of the namespace is among the scanned objects
#   either: a manifest scan without Namespace objects reports nothing here. kube-system, kube-
#   public and kube-node-lease are not reported, since quotas and limits there can keep the
#   cluster's own pods from starting.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/policy/limit-range/
# custom:
#   id: PST-0251
#   severity: low
#   remediation: >-
#     Add a LimitRange of type Container with `default` and `defaultRequest` values (and `max` where a ceiling is wanted) to the namespace.
#   kinds: [Namespace]
#   frameworks:
#     nsa: ["Network separation: resource policies"]
#     mitre: [T1496]
package posture.rules.namespace.namespace_without_limit_range

import data.posture.lib.namespace
import rego.v1

name := object.get(input, ["metadata", "name"], "")

workloads := namespace.workloads(name)

present if count(data.inventory.limit_ranges[name]) > 0

deny contains {"msg": msg, "path": ["metadata", "name"]} if {
	input.apiVersion == "v1"
	count(workloads) > 0
	not name in namespace.system_namespaces
	not present
	msg := sprintf("Namespace '%s' runs %s but has no LimitRange", [name, namespace.describe_workloads(workloads)])
}
