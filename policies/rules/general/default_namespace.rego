# METADATA
# title: Object in the default namespace
# description: >-
#   The default namespace is where everything lands that nobody placed deliberately: it
#   usually has no Pod Security labels, quotas or NetworkPolicies, and RBAC granted there
#   reaches every such object. CIS 5.6.4 asks that it not be used. This rule reports
#   workloads, Services, Ingresses, ConfigMaps, Secrets, ServiceAccounts, Roles,
#   RoleBindings, PersistentVolumeClaims, HorizontalPodAutoscalers and PodDisruptionBudgets
#   whose `metadata.namespace` is `default`. A manifest that names no namespace is not
#   reported: it goes wherever the deploy step puts it (`kubectl -n`, Kustomize, Helm, Argo
#   CD). Objects the API server creates there itself (Service 'kubernetes', ConfigMap
#   'kube-root-ca.crt', ServiceAccount 'default') are not reported either.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
# custom:
#   id: PST-0302
#   severity: low
#   remediation: >-
#     Create a namespace for the application (with Pod Security labels, quotas and
#     NetworkPolicies) and set `metadata.namespace` to it, or remove the field and choose the
#     namespace at deploy time.
#   kinds:
#     - workloads
#     - Service
#     - Ingress
#     - ConfigMap
#     - Secret
#     - ServiceAccount
#     - Role
#     - RoleBinding
#     - PersistentVolumeClaim
#     - HorizontalPodAutoscaler
#     - PodDisruptionBudget
#   frameworks:
#     cis-1.12: ["5.6.4"]
#     nsa: ["Network separation: namespaces"]
package posture.rules.general.default_namespace

import data.posture.lib.k8s
import rego.v1

# Created and kept by the control plane in every cluster.
built_in := {
	["Service", "kubernetes"],
	["ConfigMap", "kube-root-ca.crt"],
	["ServiceAccount", "default"],
}

deny contains {"msg": msg, "path": path} if {
	input.metadata.namespace == "default"
	not [input.kind, k8s.name()] in built_in
	path := ["metadata", "namespace"]
	msg := sprintf("%s is placed in the default namespace", [k8s.workload()])
}
