# METADATA
# title: Role can exec into, attach to or proxy into pods
# description: >-
#   A Role or ClusterRole rule allows a subresource that reaches into running pods: pods/exec
#   and pods/attach (run commands in or attach to a container, with its ServiceAccount token,
#   Secrets and network), pods/ephemeralcontainers (add a debug container of the holder's
#   choosing to a running pod), pods/portforward, and pods/proxy and services/proxy (send
#   requests to a pod's or service's ports through the API server, past NetworkPolicies).
#   exec, attach and portforward are reported for create (the SPDY protocol's POST) and for get:
#   a WebSocket connection (what client libraries and recent kubectl releases use) opens with an
#   HTTP GET, which the API server authorizes as get, so get alone is enough to run commands.
#   pods/ephemeralcontainers is reported for update and patch; the
#   proxy subresources for get, create, update, patch and delete (the HTTP methods proxied).
#   '*' in verbs, resources ('*' or '*/exec') and apiGroups counts. nodes/proxy is PST-0110's.
#   Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as admin
#   and edit) are skipped because the API server recreates them, as are aggregated
#   ClusterRoles, whose rules the controller manager copies from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#privilege-escalation-risks
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
#   - ref: https://kubernetes.io/docs/tasks/debug/debug-application/debug-running-pod/#ephemeral-container
# custom:
#   id: PST-0123
#   severity: high
#   remediation: >-
#     Remove these subresources from roles that do not debug pods. Give exec and debug access to
#     the few operators who need it, through a role bound for the time they need it, and read
#     logs through pods/log instead.
#   kinds: [roles]
#   frameworks:
#     nsa: ["Authentication and authorization: role-based access control"]
#     mitre: [T1609]
package posture.rules.rbac.pod_exec_access

import data.posture.lib.rbac
import rego.v1

proxy_verbs := ["get", "create", "update", "patch", "delete"]

# [resource, verbs that use it], in message order; all in the core API group.
subresources := [
	["pods/exec", ["create", "get"]],
	["pods/attach", ["create", "get"]],
	["pods/ephemeralcontainers", ["update", "patch"]],
	["pods/portforward", ["create", "get"]],
	["pods/proxy", proxy_verbs],
	["services/proxy", proxy_verbs],
]

# Resource names that can match one of them: a first filter before rbac.grants.
candidates := {s[0] | some s in subresources} | {"*", "*/exec", "*/attach", "*/ephemeralcontainers", "*/portforward", "*/proxy"}

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & candidates) > 0
	granted := [sprintf("%s on %s", [rbac.join_words(verbs), s[0]]) |
		some s in subresources
		verbs := rbac.granted_verbs(rule, s[1], "", s[0])
		count(verbs) > 0
	]
	count(granted) > 0
	msg := sprintf("%s grants %s%s", [rbac.label(input), concat("; ", granted), rbac.details(rule)])
}
