# METADATA
# title: Role can create ServiceAccount tokens
# description: >-
#   A Role or ClusterRole rule allows create on the serviceaccounts/token subresource, by name
#   or through '*' or '*/token'. Whoever holds it can mint a token for a ServiceAccount and act
#   with all of that account's permissions, for as long as the token lives. A rule limited to
#   resourceNames is still reported (it names the accounts that can be impersonated this way).
#   Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as
#   system:kube-controller-manager) are skipped because the API server recreates them, as are
#   aggregated ClusterRoles, whose rules the controller manager copies from the ClusterRoles
#   they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens
# custom:
#   id: PST-0113
#   severity: medium
#   remediation: >-
#     Remove create on serviceaccounts/token. Pods get tokens for their own ServiceAccount
#     through projected volumes without it; where a controller must mint tokens, limit the rule
#     with `resourceNames` to the accounts it serves.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.13"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.service_account_token_create

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & {"serviceaccounts/token", "*/token", "*"}) > 0
	rbac.grants(rule, "create", "", "serviceaccounts/token")
	msg := sprintf(
		"%s grants create on serviceaccounts/token%s",
		[rbac.label(input), rbac.details(rule)],
	)
}
