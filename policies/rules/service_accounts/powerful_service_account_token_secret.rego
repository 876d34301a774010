# METADATA
# title: Long-lived token Secret of a powerful ServiceAccount
# description: >-
#   A Secret of type kubernetes.io/service-account-token (on a cluster, where Secrets are
#   collected metadata-only: a Secret annotated kubernetes.io/service-account.name) holds a
#   token that never expires for a ServiceAccount that a scanned binding gives a powerful role:
#   cluster-admin, admin or edit, or a role that reads Secrets, creates or updates pods or
#   workloads, execs into pods, writes RBAC, binds, escalates or impersonates, proxies to
#   kubelets or creates tokens (the judgement PST-0121 uses). Whoever reads the Secret, or a copy
#   of the token kept in a CI system, has those rights until the Secret is deleted. The message
#   names each binding that makes the account powerful. Token Secrets of other accounts are
#   PST-0124's.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets
#   - ref: https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege
# custom:
#   id: PST-0125
#   severity: critical
#   remediation: >-
#     Delete the Secret, and rotate anything that may hold a copy of its token. Give the system
#     that used it short-lived tokens (the TokenRequest API, workload identity federation) and a
#     role with only the permissions it uses instead of the one named.
#   kinds: [Secret]
#   frameworks:
#     nsa: ["Pod security: protecting pod service account tokens"]
#     mitre: [T1552.007, T1078]
package posture.rules.service_accounts.powerful_service_account_token_secret

import data.posture.lib.k8s
import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": rbac.token_secret_path(input)} if {
	input.kind == "Secret"
	rbac.is_token_secret(input)
	account := rbac.token_account(input)
	grants := rbac.powerful_grants(k8s.namespace(), account)
	count(grants) > 0
	msg := sprintf("Secret '%s' holds a long-lived token of ServiceAccount '%s' of %s, which never expires: %s", [
		k8s.name(),
		account,
		k8s.namespace_label(),
		concat("; ", sort([rbac.describe_grant(g) | some g in grants])),
	])
}
