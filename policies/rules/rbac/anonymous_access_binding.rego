# METADATA
# title: Role granted to anonymous requests
# description: >-
#   A ClusterRoleBinding or RoleBinding names User system:anonymous or Group
#   system:unauthenticated, so requests that carry no credentials at all get the role: anyone
#   who can reach the API server's port. Only the API server's own discovery and health roles
#   are fine there: ClusterRoles system:public-info-viewer (version and health endpoints),
#   system:discovery and system:basic-user (API discovery and self-reviews), and a role among
#   the scanned objects whose rules allow only get on non-resource health, version, discovery
#   and OpenID endpoints or create on selfsubject*reviews. Any other role is reported, also one
#   posture cannot see (its rules are then unknown). cluster-admin is left to PST-0100, which
#   reports every subject bound to it, anonymous ones included.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#anonymous-requests
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles
# custom:
#   id: PST-0120
#   severity: high
#   remediation: >-
#     Delete the subject system:anonymous or system:unauthenticated from the binding and bind the
#     role to the authenticated users or ServiceAccounts that need it. Where anonymous access is
#     not needed at all, run the API server with `--anonymous-auth=false` or limit it with an
#     AuthenticationConfiguration to the health endpoints.
#   kinds: [bindings]
#   frameworks:
#     nsa: ["Authentication and authorization: role-based access control"]
#     mitre: [T1078]
package posture.rules.rbac.anonymous_access_binding

import data.posture.lib.k8s
import data.posture.lib.rbac
import rego.v1

# Built-in ClusterRoles that grant discovery, health and self-review only.
discovery_roles := {"system:public-info-viewer", "system:discovery", "system:basic-user"}

deny contains {"msg": msg, "path": ["subjects", j]} if {
	some j, s in rbac.binding_subjects()
	who := anonymous(s)
	not harmless_role
	rbac.role_ref_name(input) != "cluster-admin"
	key := rbac.granted_role_key(input)
	msg := sprintf("%s is bound to %s by %s%s", [
		who,
		rbac.role_label(key),
		rbac.binding_label_of(input),
		what(key),
	])
}

anonymous(s) := "User system:anonymous (requests without credentials)" if {
	s.kind == "User"
	s.name == "system:anonymous"
}

anonymous(s) := "Group system:unauthenticated (every request without credentials)" if {
	s.kind == "Group"
	s.name == "system:unauthenticated"
}

harmless_role if {
	rbac.role_ref_kind(input) == "ClusterRole"
	rbac.role_ref_name(input) in discovery_roles
}

harmless_role if {
	role := object.get(data.inventory, ["roles", rbac.granted_role_key(input)], null)
	is_object(role)
	rules := k8s.as_array(role.rules)
	every r in rules {
		is_object(r)
		harmless_rule(rbac.normalized(r))
	}
}

# get on the version, health, discovery and OpenID discovery endpoints.
harmless_url(u) if u in {
	"/healthz", "/livez", "/readyz", "/version", "/version/",
	"/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*",
	"/.well-known/openid-configuration", "/.well-known/openid-configuration/",
	"/openid/v1/jwks", "/openid/v1/jwks/",
}

harmless_url(u) if {
	some p in ["/healthz/", "/livez/", "/readyz/"]
	startswith(u, p)
}

harmless_rule(rule) if {
	count(rule.resources) == 0
	count(rule.nonResourceURLs) > 0
	every v in rule.verbs { v in {"get", "head"} }
	every u in rule.nonResourceURLs { harmless_url(u) }
}

harmless_rule(rule) if {
	count(rule.nonResourceURLs) == 0
	every g in rule.apiGroups { g in {"authorization.k8s.io", "authentication.k8s.io"} }
	every r in rule.resources { r in {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"} }
	every v in rule.verbs { v == "create" }
}

# What the role lets them do, when posture can tell.
what(key) := sprintf(", which lets them %s", [rbac.describe_powers(p)]) if {
	p := rbac.role_powers(key)
	count(p) > 0
} else := "" if {
	is_object(object.get(data.inventory, ["roles", key], null))
} else := "" if {
	rbac.is_builtin_role(key)
} else := " (a role posture cannot see; anything beyond discovery and health endpoints should not be granted to anonymous requests)"
