# METADATA
# title: Role granted to a default ServiceAccount
# description: >-
#   A RoleBinding or ClusterRoleBinding grants a role to a namespace's default ServiceAccount,
#   or to a group that contains it (system:serviceaccounts, or system:serviceaccounts:<ns>).
#   Every pod that names no ServiceAccount runs as default, so the permissions go to all of
#   them rather than to the workload that needed them, and nobody reviewing the binding can tell
#   which pods use it. Bootstrap bindings (annotated rbac.authorization.kubernetes.io/autoupdate
#   "true", such as system:service-account-issuer-discovery) are not reported.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/service-accounts/#default-service-accounts
# custom:
#   id: PST-0104
#   severity: medium
#   remediation: >-
#     Create a ServiceAccount for the workload that needs the permissions, set
#     `serviceAccountName` in its pod template, and point the binding's subject at it instead of
#     default.
#   kinds: [bindings]
#   frameworks:
#     cis-1.12: ["5.1.5"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.service_accounts.default_service_account_bound

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["subjects", j]} if {
	not rbac.is_bootstrap()
	some j, s in rbac.binding_subjects()
	who := holder(s)
	msg := sprintf(
		"%s is bound to %s '%s' by %s",
		[who, rbac.role_ref_kind(input), rbac.role_ref_name(input), rbac.binding_label_of(input)],
	)
}

holder(s) := rbac.subject_label(s, rbac.namespace(input)) if {
	s.kind == "ServiceAccount"
	s.name == "default"
}

holder(s) := "Group system:serviceaccounts (every ServiceAccount, the default ones included)" if {
	s.kind == "Group"
	s.name == "system:serviceaccounts"
}

holder(s) := sprintf("Group %s (every ServiceAccount of namespace '%s', default included)", [
	s.name,
	ns,
]) if {
	s.kind == "Group"
	startswith(s.name, "system:serviceaccounts:")
	ns := substring(s.name, count("system:serviceaccounts:"), -1)
}
