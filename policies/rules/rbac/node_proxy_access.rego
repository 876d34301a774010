# METADATA
# title: Role grants access to nodes/proxy
# description: >-
#   A Role or ClusterRole rule allows on the nodes/proxy subresource (by name or through '*' or
#   '*/proxy') one of the verbs proxy requests are authorized as: get, create, update, patch or
#   delete, for the HTTP methods GET, POST, PUT, PATCH and DELETE. Requests through it reach the kubelet API of a node directly: the
#   holder can read the logs of every pod on the node and run commands in its containers (the
#   kubelet's exec endpoint), and the API server's audit log records only a proxy request.
#   Bootstrap roles (annotated rbac.authorization.kubernetes.io/autoupdate "true", such as
#   system:kubelet-api-admin) are skipped because the API server recreates them, as are
#   aggregated ClusterRoles, whose rules the controller manager copies from the ClusterRoles
#   they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes
# custom:
#   id: PST-0110
#   severity: high
#   remediation: >-
#     Remove nodes/proxy from the rule (and any '*' that covers it). Monitoring agents that
#     scrape kubelet metrics can use the nodes/metrics and nodes/stats subresources instead.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.10"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.node_proxy_access

import data.posture.lib.rbac
import rego.v1

# The verbs the API server maps proxy requests to (GET, POST, PUT, PATCH, DELETE).
http_verbs := ["get", "create", "update", "patch", "delete"]

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & {"nodes/proxy", "*/proxy", "*"}) > 0
	verbs := rbac.granted_verbs(rule, http_verbs, "", "nodes/proxy")
	count(verbs) > 0
	msg := sprintf(
		"%s grants %s on nodes/proxy%s",
		[rbac.label(input), rbac.join_words(verbs), rbac.details(rule)],
	)
}
