# METADATA
# title: Wildcard in a Role rule
# description: >-
#   A Role or ClusterRole rule lists '*' in apiGroups, resources, verbs or nonResourceURLs. A
#   wildcard grants more than its author reviewed: it covers every resource and verb the API
#   server serves today and every CRD, subresource and verb added later. Bootstrap roles
#   (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as cluster-admin and
#   system:*) are skipped because the API server recreates them, as are aggregated ClusterRoles,
#   whose rules the controller manager copies from the ClusterRoles they select. Partial patterns such
#   as '*/scale' are not reported.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
# custom:
#   id: PST-0102
#   severity: medium
#   remediation: >-
#     Replace each '*' with the API groups, resources and verbs the subject needs; `kubectl auth
#     can-i --list --as=<subject>` and the audit log show what it uses.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.3"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.rbac_wildcard

import data.posture.lib.rbac
import rego.v1

wildcard_fields := ["apiGroups", "resources", "verbs", "nonResourceURLs"]

deny contains {"msg": msg, "path": ["rules", i, fields[0]]} if {
	some i, rule in rbac.checked_rules()
	fields := [f | some f in wildcard_fields; "*" in rule[f]]
	count(fields) > 0
	msg := sprintf(
		"%s uses '*' in %s%s",
		[rbac.label(input), rbac.join_words(fields), rbac.bound_note(input)],
	)
}
