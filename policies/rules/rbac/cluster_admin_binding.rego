# METADATA
# title: Subject bound to cluster-admin
# description: >-
#   A ClusterRoleBinding or RoleBinding grants the cluster-admin ClusterRole to a user, group or
#   ServiceAccount. Through a ClusterRoleBinding that is unrestricted control of the cluster;
#   through a RoleBinding, of everything in the namespace, the namespace's RBAC included. Each
#   subject is reported on its own. Group system:masters is left to the system:masters rule
#   (PST-0107), so the binding every cluster is created with (cluster-admin to system:masters)
#   is not reported here.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
# custom:
#   id: PST-0100
#   severity: high
#   remediation: >-
#     Bind the subject to a role with only the permissions it uses (the built-in admin, edit or
#     view ClusterRoles through a RoleBinding, or a role of your own), then delete the binding
#     to cluster-admin. Keep cluster-admin for break-glass access.
#   kinds: [bindings]
#   frameworks:
#     cis-1.12: ["5.1.1"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.cluster_admin_binding

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["subjects", j]} if {
	rbac.role_ref_kind(input) == "ClusterRole"
	rbac.role_ref_name(input) == "cluster-admin"
	some j, s in rbac.binding_subjects()
	not rbac.is_system_masters(s)
	msg := sprintf(
		"%s is bound to cluster-admin by %s",
		[rbac.subject_label(s, rbac.namespace(input)), rbac.binding_label_of(input)],
	)
}
