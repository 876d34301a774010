# METADATA
# title: Role can create PersistentVolumes
# description: >-
#   A ClusterRole (or, to no effect, a Role) rule allows create on persistentvolumes. A
#   PersistentVolume can be a hostPath volume, so whoever creates one and a claim bound to it
#   can mount any directory of a node into a pod, bypassing a Pod Security policy that forbids
#   hostPath in pod specs. A rule limited to resourceNames cannot allow create and is not
#   reported. Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true",
#   such as system:controller:persistent-volume-binder) are skipped because the API server
#   recreates them, as are aggregated ClusterRoles, whose rules the controller manager copies
#   from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#persistent-volume-creation
# custom:
#   id: PST-0109
#   severity: medium
#   remediation: >-
#     Remove create on persistentvolumes; let users request storage with PersistentVolumeClaims
#     and a StorageClass, and leave PersistentVolume creation to the provisioner and cluster
#     administrators.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.9"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.persistent_volume_create_access

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & {"persistentvolumes", "*"}) > 0
	rbac.grants(rule, "create", "", "persistentvolumes")
	msg := sprintf(
		"%s grants create on persistentvolumes%s",
		[rbac.label(input), rbac.details(rule)],
	)
}
