# METADATA
# title: Powerful ServiceAccount
# description: >-
#   A ServiceAccount is bound, by a binding among the scanned objects, to cluster-admin, admin or
#   edit, or to a role that reads Secrets, creates or updates pods or workloads, execs into pods,
#   writes RBAC, binds, escalates or impersonates, proxies to kubelets or creates tokens (the
#   judgement PST-0121 uses). Informational, for reviewers: every pod that runs as the account,
#   and everyone who can read its tokens, holds these rights, so these are the accounts to keep
#   few and watched. One finding per account, naming each binding. Bindings the API server
#   creates for its own controllers (annotated rbac.authorization.kubernetes.io/autoupdate
#   "true") and grants through groups (system:serviceaccounts, PST-0121) are not counted. The
#   roles themselves are reported by PST-0100 to PST-0113 and PST-0122 and PST-0123.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/service-accounts/
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
# custom:
#   id: PST-0126
#   severity: low
#   remediation: >-
#     Check that the account needs each right named; give it a role with only the resources and
#     verbs it uses, through a RoleBinding in its namespace where it works in one namespace.
#   kinds: [ServiceAccount]
#   frameworks:
#     nsa: ["Authentication and authorization: role-based access control"]
#     mitre: [T1078]
package posture.rules.service_accounts.powerful_service_account

import data.posture.lib.k8s
import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": []} if {
	input.kind == "ServiceAccount"
	grants := {g |
		some b in k8s.as_array(object.get(data.inventory, ["service_account_bindings", sprintf("%s/%s", [k8s.namespace(), k8s.name()])], []))
		not b.bootstrap
		p := rbac.role_powers(b.role)
		count(p) > 0
		g := [rbac.binding_label(b.kind, b.name, b.namespace), b.role, p]
	}
	count(grants) > 0
	msg := sprintf("ServiceAccount '%s' of %s is powerful: %s", [
		k8s.name(),
		k8s.namespace_label(),
		concat("; ", sort([rbac.describe_grant(g) | some g in grants])),
	])
}
