# METADATA
# title: Powerful role granted to every authenticated user or ServiceAccount
# description: >-
#   A ClusterRoleBinding or RoleBinding grants a powerful role to Group system:authenticated
#   (every user and ServiceAccount with valid credentials), system:serviceaccounts (every
#   ServiceAccount of the cluster) or system:serviceaccounts:<namespace> (every ServiceAccount
#   of a namespace, so every pod there). A role is powerful when it lets its holders read
#   Secrets, create pods or workloads, update workloads, exec into or attach to pods, write
#   roles or bindings, bind, escalate or impersonate, proxy to kubelets (nodes/proxy) or create
#   ServiceAccount tokens, or uses '*' for verbs, resources and API groups at once. posture
#   judges the role by its rules when it is among the scanned objects, and built-in
#   ClusterRoles (admin, edit, system:node, ...) from a table of what they grant; a role it
#   cannot see is not reported. Unauthenticated subjects are PST-0120's; cluster-admin is left to
#   PST-0100, which reports every subject bound to it; PST-0104 also reports the
#   system:serviceaccounts groups, for any role, because they include the default accounts.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#default-roles-and-role-bindings
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
# custom:
#   id: PST-0121
#   severity: high
#   remediation: >-
#     Bind the role to the users, groups or ServiceAccounts that need it instead of a group that
#     every identity belongs to, and keep broad groups to read-only roles such as view.
#   kinds: [bindings]
#   frameworks:
#     nsa: ["Authentication and authorization: role-based access control"]
#     mitre: [T1078]
package posture.rules.rbac.broad_group_powerful_binding

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["subjects", j]} if {
	rbac.role_ref_name(input) != "cluster-admin"
	some j, s in rbac.binding_subjects()
	s.kind == "Group"
	who := everyone(s.name)
	key := rbac.granted_role_key(input)
	powers := rbac.role_powers(key)
	count(powers) > 0
	msg := sprintf("%s is bound to %s by %s, which lets them %s", [
		who,
		rbac.role_label(key),
		rbac.binding_label_of(input),
		rbac.describe_powers(powers),
	])
}

everyone("system:authenticated") := "Group system:authenticated (every authenticated user and ServiceAccount)"

everyone("system:serviceaccounts") := "Group system:serviceaccounts (every ServiceAccount of the cluster)"

everyone(name) := sprintf("Group %s (every ServiceAccount of namespace '%s')", [name, ns]) if {
	startswith(name, "system:serviceaccounts:")
	ns := substring(name, count("system:serviceaccounts:"), -1)
}
