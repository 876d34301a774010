# METADATA
# title: Binding to Group system:masters
# description: >-
#   A ClusterRoleBinding or RoleBinding names Group system:masters as a subject. Members of
#   system:masters pass every authorization check whatever the bindings say, and membership
#   comes from credentials (a client certificate with O=system:masters) that cannot be revoked
#   short of rotating the cluster CA. A binding to the group grants nothing it does not already
#   have; its presence shows that the cluster's access design relies on the group. posture can
#   only see bindings, not the certificates issued. The bootstrap binding cluster-admin, which
#   every cluster has and the API server recreates (annotated
#   rbac.authorization.kubernetes.io/autoupdate "true"), is not reported, because it cannot be
#   removed and says nothing about how the group is used.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
# custom:
#   id: PST-0107
#   severity: high
#   remediation: >-
#     Remove system:masters from the binding and bind the users it is meant for by user or by a
#     group of your own. Issue no credentials in system:masters except break-glass ones kept
#     offline.
#   kinds: [bindings]
#   frameworks:
#     cis-1.12: ["5.1.7"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.system_masters_binding

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["subjects", j]} if {
	not rbac.is_bootstrap()
	some j, s in rbac.binding_subjects()
	rbac.is_system_masters(s)
	msg := sprintf(
		"Group system:masters is bound to %s '%s' by %s",
		[rbac.role_ref_kind(input), rbac.role_ref_name(input), rbac.binding_label_of(input)],
	)
}
