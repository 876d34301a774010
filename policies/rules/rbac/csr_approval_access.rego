# METADATA
# title: Role can approve certificate signing requests
# description: >-
#   A ClusterRole (or, to no effect, a Role) rule allows update or patch on the
#   certificatesigningrequests/approval subresource (API group certificates.k8s.io). Approving a
#   request for the kube-apiserver-client signer issues a client certificate for whatever user
#   and groups the request names, system:masters included. The API server also requires the
#   approve verb on the signer (resource signers); posture reports the approval subresource,
#   which is what CIS names, whether or not the same role also grants approve. Bootstrap roles
#   (annotated rbac.authorization.kubernetes.io/autoupdate "true") are skipped because the API
#   server recreates them, as are aggregated ClusterRoles, whose rules the controller manager
#   copies from the ClusterRoles they select.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#authorization
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#csrs-and-certificate-issuing
# custom:
#   id: PST-0111
#   severity: medium
#   remediation: >-
#     Remove update and patch on certificatesigningrequests/approval. Leave approval to the
#     controller manager's automatic approvers and to cluster administrators; if a controller
#     must approve, limit its approve verb on signers to the signer names it handles.
#   kinds: [roles]
#   frameworks:
#     cis-1.12: ["5.1.11"]
#     nsa: ["Authentication and authorization: role-based access control"]
package posture.rules.rbac.csr_approval_access

import data.posture.lib.rbac
import rego.v1

approval := "certificatesigningrequests/approval"

deny contains {"msg": msg, "path": ["rules", i, "verbs"]} if {
	some i, rule in rbac.checked_rules()
	count(rule.resources & {"certificatesigningrequests/approval", "*/approval", "*"}) > 0
	verbs := rbac.granted_verbs(rule, ["update", "patch"], "certificates.k8s.io", approval)
	count(verbs) > 0
	msg := sprintf(
		"%s grants %s on certificatesigningrequests/approval%s",
		[rbac.label(input), rbac.join_words(verbs), rbac.details(rule)],
	)
}
