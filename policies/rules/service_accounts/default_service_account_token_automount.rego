# METADATA
# title: Default ServiceAccount mounts its token
# description: >-
#   A namespace's default ServiceAccount does not set `automountServiceAccountToken: false`
#   (absent, null or true). Every pod that names no ServiceAccount runs as default, and unless
#   the pod itself opts out, the kubelet mounts an API token for it; code in any such container
#   can then call the API server with whatever permissions default has been given. Turning the
#   mount off on default makes API access something a workload asks for with a ServiceAccount
#   of its own.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
# custom:
#   id: PST-0105
#   severity: medium
#   remediation: >-
#     Set `automountServiceAccountToken: false` on the default ServiceAccount of every
#     namespace. Give workloads that call the API a ServiceAccount of their own.
#   kinds: [ServiceAccount]
#   frameworks:
#     cis-1.12: ["5.1.5"]
#     nsa: ["Pod security: protecting pod service account tokens"]
package posture.rules.service_accounts.default_service_account_token_automount

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	input.kind == "ServiceAccount"
	k8s.name() == "default"
	setting := object.get(input, "automountServiceAccountToken", null)
	setting != false
	path := where
	msg := sprintf("The default ServiceAccount of %s %s", [k8s.namespace_label(), problem(setting)])
}

# The field when written (even as null), else the object.
where := ["automountServiceAccountToken"] if {
	"automountServiceAccountToken" in object.keys(input)
} else := []

problem(true) := "sets automountServiceAccountToken: true"

problem(setting) := "does not set automountServiceAccountToken: false" if setting != true
