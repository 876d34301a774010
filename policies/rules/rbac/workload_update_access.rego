# METADATA
# title: Role can update pods or workload controllers
# description: >-
#   A Role or ClusterRole rule allows update or patch on pods or on a controller that creates
#   pods from its template: deployments, replicasets, statefulsets, daemonsets (apps),
#   replicationcontrollers (core), jobs and cronjobs (batch). Changing a template (or a pod's
#   image) is creating pods by another name: the holder chooses the image, command,
#   ServiceAccount, Secrets and volumes of pods the controller then starts, within what
#   admission allows. A rule limited to resourceNames is still reported, with the names, since
#   the named workloads can be rewritten. Where the same rule also allows create on the resource,
#   PST-0103 reports it and this rule does not; subresources such as deployments/scale are not
#   reported. Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such
#   as admin and edit) are skipped because the API server recreates them, as are aggregated
#   ClusterRoles, whose rules the controller manager copies from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
# custom:
#   id: PST-0122
#   severity: medium
#   remediation: >-
#     Remove update and patch on pods and workload controllers from roles that do not deploy;
#     deploy through a pipeline that holds these rights, and give people read access. Enforce the
#     restricted Pod Security Standard in namespaces where workloads can be changed.
#   kinds: [roles]
#   frameworks:
#     nsa: ["Authentication and authorization: role-based access control"]
#     mitre: [T1610]
package posture.rules.rbac.workload_update_access

import data.posture.lib.rbac
import rego.v1

# Resource names that can match one of them: a first filter before rbac.grants.
candidates := {r[1] | some r in rbac.pod_makers} | {"*"}

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & candidates) > 0
	count(rule.verbs & {"update", "patch", "*"}) > 0
	resources := [r[1] |
		some r in rbac.pod_makers
		not rbac.grants(rule, "create", r[0], r[1])
		count(rbac.granted_verbs(rule, ["update", "patch"], r[0], r[1])) > 0
	]
	count(resources) > 0
	verbs := {v | some r in rbac.pod_makers; r[1] in resources; some v in rbac.granted_verbs(rule, ["update", "patch"], r[0], r[1])}
	msg := sprintf("%s grants %s on %s%s", [
		rbac.label(input),
		rbac.join_words([v | some v in ["update", "patch"]; v in verbs]),
		rbac.join_words(resources),
		rbac.details(rule),
	])
}
