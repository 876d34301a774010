# METADATA
# title: Long-lived ServiceAccount token Secret
# description: >-
#   A Secret of type kubernetes.io/service-account-token asks the token controller for a token
#   of the ServiceAccount its kubernetes.io/service-account.name annotation names. Unlike the
#   tokens pods get (bound to the pod, expiring within hours), this token never expires and
#   stays valid until the Secret is deleted; whoever reads the Secret, or finds a copy in a CI
#   system or a kubeconfig, acts as the account. Cluster Secrets are collected metadata-only,
#   so there the annotation marks a token Secret. When a scanned binding gives the account a
#   powerful role, PST-0125 reports the Secret instead, at higher severity.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/secret/#serviceaccount-token-secrets
#   - ref: https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#legacy-serviceaccount-token-cleaner
# custom:
#   id: PST-0124
#   severity: medium
#   remediation: >-
#     Delete the Secret and get short-lived tokens instead: pods receive them through projected
#     volumes, and external systems can request them with the TokenRequest API (`kubectl create
#     token <account> --duration=...`) or use workload identity federation.
#   kinds: [Secret]
#   frameworks:
#     nsa: ["Pod security: protecting pod service account tokens"]
#     mitre: [T1552.007]
package posture.rules.service_accounts.service_account_token_secret

import data.posture.lib.k8s
import data.posture.lib.rbac
import rego.v1

deny contains {"msg": msg, "path": rbac.token_secret_path(input)} if {
	input.kind == "Secret"
	rbac.is_token_secret(input)
	account := rbac.token_account(input)
	count(rbac.powerful_grants(k8s.namespace(), account)) == 0
	msg := sprintf("Secret '%s' holds a long-lived token of %s, which never expires", [
		k8s.name(),
		account_label(account),
	])
}

account_label("") := "no ServiceAccount (it has no kubernetes.io/service-account.name annotation)"

account_label(account) := sprintf("ServiceAccount '%s' of %s", [account, k8s.namespace_label()]) if account != ""
