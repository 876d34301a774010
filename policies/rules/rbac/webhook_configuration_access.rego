# METADATA
# title: Role can change admission webhook configurations
# description: >-
#   A ClusterRole (or, to no effect, a Role) rule allows create, update, patch, delete or
#   deletecollection on validatingwebhookconfigurations or mutatingwebhookconfigurations (API
#   group admissionregistration.k8s.io). A mutating webhook sees and can rewrite every object
#   it matches, Secrets included, and deleting a validating webhook switches off the policy it
#   enforces. Read access is not reported. Bootstrap roles (annotated
#   rbac.authorization.kubernetes.io/autoupdate "true") are skipped because the API server
#   recreates them, as are aggregated ClusterRoles, whose rules the controller manager copies
#   from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#control-admission-webhooks
# custom:
#   id: PST-0112
#   severity: medium
#   remediation: >-
#     Remove write verbs on webhook configurations from the rule. An operator that manages its
#     own webhook should be limited with `resourceNames` to that configuration (update and
#     patch; create cannot be limited by name, so create it at install time).
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.12"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.webhook_configuration_access

import data.posture.lib.rbac
import rego.v1

webhook_resources := ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"]

write_verbs := ["create", "update", "patch", "delete", "deletecollection"]

group := "admissionregistration.k8s.io"

# Resource names that can match one of them: a first filter before rbac.grants.
candidates := {r | some r in webhook_resources} | {"*"}

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & candidates) > 0
	resources := [r |
		some r in webhook_resources
		count(rbac.granted_verbs(rule, write_verbs, group, r)) > 0
	]
	count(resources) > 0
	verbs := rbac.granted_verbs(rule, write_verbs, group, resources[0])
	msg := sprintf(
		"%s grants %s on %s%s",
		[rbac.label(input), rbac.join_words(verbs), rbac.join_words(resources), rbac.details(rule)],
	)
}
