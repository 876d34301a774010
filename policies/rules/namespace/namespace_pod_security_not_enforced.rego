# METADATA
# title: Namespace without an enforced Pod Security level
# description: >-
#   Pod Security admission enforces a namespace's `pod-security.kubernetes.io/enforce` label
#   (`privileged`, `baseline` or `restricted`); without it the cluster-wide default applies,
#   which is `privileged` unless the API server is configured otherwise, so a privileged pod,
#   a host mount or a host namespace is admitted there. An enforce level of `privileged` says
#   the same explicitly, and is reported outside kube-system, kube-public and
#   kube-node-lease. Only namespaces that run workloads among the scanned objects are
#   reported, on their Namespace object: a manifest scan without Namespace objects reports
#   nothing here, since the labels are not known. This is the evidence CIS 5.2.1 (a policy
#   control mechanism enforces pod security) asks a reviewer to check by hand.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-admission/
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/enforce-standards-namespace-labels/
# custom:
#   id: PST-0250
#   severity: medium
#   remediation: >-
#     Label the namespace with `pod-security.kubernetes.io/enforce: restricted` (or `baseline`
#     where a workload needs it), after checking its pods with
#     `kubectl label --dry-run=server`; add the `warn` and `audit` labels at the same level.
#   kinds: [Namespace]
#   frameworks:
#     nsa: ["Pod security: pod security enforcement"]
#     mitre: [T1610]
package posture.rules.namespace.namespace_pod_security_not_enforced

import data.posture.lib.namespace
import rego.v1

label := "pod-security.kubernetes.io/enforce"

name := object.get(input, ["metadata", "name"], "")

labels := l if {
	l := input.metadata.labels
	is_object(l)
} else := {}

workloads := namespace.workloads(name)

deny contains {"msg": msg, "path": ["metadata", "labels", label]} if {
	input.apiVersion == "v1"
	count(workloads) > 0
	not is_string(labels[label])
	msg := sprintf("Namespace '%s' runs %s but has no %s label: the cluster default, usually privileged, applies", [name, namespace.describe_workloads(workloads), label])
}

deny contains {"msg": msg, "path": ["metadata", "labels", label]} if {
	input.apiVersion == "v1"
	count(workloads) > 0
	labels[label] == "privileged"
	not name in namespace.system_namespaces
	msg := sprintf("Namespace '%s' runs %s and enforces the privileged Pod Security level, which admits any pod", [name, namespace.describe_workloads(workloads)])
}
