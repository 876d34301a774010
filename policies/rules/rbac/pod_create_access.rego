# METADATA
# title: Role can create pods or pod controllers
# description: >-
#   A Role or ClusterRole rule allows create on pods, or on a controller that creates pods from
#   a template the holder writes: deployments, replicasets, statefulsets, daemonsets (apps),
#   replicationcontrollers (core), jobs and cronjobs (batch). Creating a workload is creating
#   pods by one more step, so posture treats both alike: the holder can run a pod as any
#   ServiceAccount of the namespace and mount any of its Secrets, ConfigMaps and volumes, within
#   what admission allows. Subresources such as pods/exec are not pods and are not reported
#   here. A rule limited to resourceNames cannot allow create and is not reported. Bootstrap
#   roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as admin and edit)
#   are skipped because the API server recreates them, as are aggregated ClusterRoles, whose
#   rules the controller manager copies from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
# custom:
#   id: PST-0103
#   severity: medium
#   remediation: >-
#     Keep create on pods and workload controllers to the deployment pipeline and controllers
#     that need it; give people read access and deploy through that pipeline. Enforce the
#     restricted Pod Security Standard in namespaces where workloads can be created.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.4"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.pod_create_access

import data.posture.lib.rbac
import rego.v1

# [API group, resource], in message order. extensions/v1beta1 workloads are not listed: the
# API server stopped serving them in 1.16.
pod_creators := [
	["", "pods"],
	["apps", "deployments"],
	["apps", "replicasets"],
	["apps", "statefulsets"],
	["apps", "daemonsets"],
	["", "replicationcontrollers"],
	["batch", "jobs"],
	["batch", "cronjobs"],
]

# Resource names that can match one of them: a first filter before rbac.grants.
candidates := {r[1] | some r in pod_creators} | {"*"}

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & candidates) > 0
	resources := [r[1] | some r in pod_creators; rbac.grants(rule, "create", r[0], r[1])]
	count(resources) > 0
	msg := sprintf(
		"%s grants create on %s%s",
		[rbac.label(input), rbac.join_words(resources), rbac.details(rule)],
	)
}
