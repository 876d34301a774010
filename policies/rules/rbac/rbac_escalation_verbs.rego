# METADATA
# title: Role grants bind, escalate or impersonate
# description: >-
#   A Role or ClusterRole rule allows one of the verbs with which RBAC lets a subject exceed its
#   own permissions: bind (create bindings to roles it does not hold), escalate (write roles
#   with permissions it does not hold) or impersonate (act as another user, group or
#   ServiceAccount). A verb, named or through '*', is reported only when the rule covers the
#   resources it acts on, because elsewhere the API server grants nothing with it: roles and
#   clusterroles (rbac.authorization.k8s.io) for bind and escalate; users, groups and
#   serviceaccounts (core group) and uids and userextras/* (authentication.k8s.io) for
#   impersonate. A rule limited to resourceNames is still reported, with the names.
#   Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as
#   cluster-admin and system:controller:clusterrole-aggregation-controller) are skipped because
#   the API server recreates them, as are aggregated ClusterRoles, whose rules the controller
#   manager copies from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation
# custom:
#   id: PST-0108
#   severity: high
#   remediation: >-
#     Remove bind, escalate and impersonate (and any '*' verb on roles, clusterroles, users,
#     groups or serviceaccounts). Where a controller must bind roles, limit bind with
#     `resourceNames` to the roles it hands out.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.8"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.rbac_escalation_verbs

import data.posture.lib.rbac
import rego.v1

rbac_group := "rbac.authorization.k8s.io"

# The resources on which each verb lets a subject gain permissions, as [API group, resource].
# The impersonation filter asks for exactly these (and userextras/<key>, below); `impersonate`
# on any other resource or group authorizes no request.
targets := {
	"bind": [[rbac_group, "roles"], [rbac_group, "clusterroles"]],
	"escalate": [[rbac_group, "roles"], [rbac_group, "clusterroles"]],
	"impersonate": [
		["", "users"],
		["", "groups"],
		["", "serviceaccounts"],
		["authentication.k8s.io", "uids"],
	],
}

allows(rule, verb) if {
	some t in targets[verb]
	rbac.grants(rule, verb, t[0], t[1])
}

# Impersonating an extra field checks `userextras/<key>` for each key the request sets.
allows(rule, "impersonate") if {
	count(rule.verbs & {"impersonate", "*"}) > 0
	count(rule.apiGroups & {"authentication.k8s.io", "*"}) > 0
	some r in rule.resources
	startswith(r, "userextras/")
}

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.verbs & {"bind", "escalate", "impersonate", "*"}) > 0
	verbs := [v | some v in ["bind", "escalate", "impersonate"]; allows(rule, v)]
	count(verbs) > 0
	msg := sprintf(
		"%s grants %s%s%s",
		[rbac.label(input), rbac.join_words(verbs), on(input.rules[i]), rbac.details(rule)],
	)
}

# The resources as the manifest lists them.
on(raw) := sprintf(" on %s", [concat(", ", resources)]) if {
	resources := rbac.field(raw, "resources")
	count(resources) > 0
} else := ""
