# METADATA
# title: Role can read Secrets
# description: >-
#   A Role or ClusterRole rule allows get, list or watch on Secrets (core API group), directly
#   or through '*' in its verbs, resources or apiGroups. Whoever holds it reads every Secret in
#   its scope: service account tokens, TLS keys, registry and database credentials; list and
#   watch return the contents too, not just the names. A rule limited to resourceNames is not
#   reported: reading named Secrets is the narrow form of access this recommendation asks for.
#   A resource named `secrets` in another API group (a CRD) is not a Secret and is not reported.
#   Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as admin,
#   edit and system:*) are skipped because the API server recreates them, as are aggregated
#   ClusterRoles, whose rules the controller manager copies from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#listing-secrets
# custom:
#   id: PST-0101
#   severity: high
#   remediation: >-
#     Remove get, list and watch on secrets from the rule, or restrict it to the Secrets the
#     workload needs with `resourceNames` (get only). Prefer mounting a Secret into the pod over
#     reading it through the API.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.2"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.secrets_read_access

import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & {"secrets", "*"}) > 0
	not rbac.has_resource_names(rule)
	verbs := rbac.granted_verbs(rule, ["get", "list", "watch"], "", "secrets")
	count(verbs) > 0
	msg := sprintf(
		"%s grants %s on secrets%s",
		[rbac.label(input), rbac.join_words(verbs), rbac.details(rule)],
	)
}
