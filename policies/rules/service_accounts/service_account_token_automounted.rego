# METADATA
# title: Pods get an API token mounted
# description: >-
#   A workload's pods get a ServiceAccount token mounted: the pod spec does not set
#   `automountServiceAccountToken: false`, and the ServiceAccount the pods run as (serviceAccountName,
#   else the deprecated serviceAccount, else default) does not set it false either. The pod's
#   setting wins over the ServiceAccount's, so an explicit true on the pod is reported whatever
#   the ServiceAccount says. The ServiceAccount is looked up among the scanned objects of the
#   workload's namespace; when it is not there, posture assumes the Kubernetes default, which
#   mounts the token. A mounted token lets anyone who gets code running in the container call
#   the API server with the account's permissions. Mirror pods (the API server's copies of
#   static pods, annotated kubernetes.io/config.mirror or owned by a Node) are skipped: static
#   pods cannot use a ServiceAccount, so no token is mounted into them.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
# custom:
#   id: PST-0106
#   severity: medium
#   remediation: >-
#     Set `automountServiceAccountToken: false` in the pod spec of workloads that do not call the
#     Kubernetes API, or on their ServiceAccount. Workloads that do call it keep the mount, with a
#     ServiceAccount of their own that holds only the permissions they use.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.1.6"]
#     nsa: ["Pod security: protecting pod service account tokens"]
package posture.rules.service_accounts.service_account_token_automounted

import data.posture.lib.k8s
import rego.v1

pod_setting := object.get(k8s.pod_spec(), "automountServiceAccountToken", null)

# serviceAccountName wins over the deprecated serviceAccount; empty means default.
account := name if {
	name := object.get(k8s.pod_spec(), "serviceAccountName", "")
	is_string(name)
	name != ""
} else := name if {
	name := object.get(k8s.pod_spec(), "serviceAccount", "")
	is_string(name)
	name != ""
} else := "default"

# The scanned ServiceAccount the pods run as, if any.
accounts := [sa |
	sa := object.get(data.inventory.service_accounts, [k8s.namespace(), account], null)
	is_object(sa)
]

deny contains {"msg": msg, "path": path} if {
	k8s.is_workload()
	not k8s.is_mirror_pod
	[path, why] := mounted
	msg := sprintf("%s mounts the API token of ServiceAccount '%s': %s", [k8s.workload(), account, why])
}

# Where to fix it (the pod's field when written, even as null, else the pod spec) and why the
# token is mounted. The pod's setting wins over the ServiceAccount's.
mounted := [k8s.pod_path(["automountServiceAccountToken"]), "the pod spec sets automountServiceAccountToken: true"] if {
	pod_setting == true
}

mounted := [unset_path, "neither the pod spec nor the ServiceAccount sets automountServiceAccountToken: false"] if {
	pod_setting == null
	count(accounts) > 0
	accounts[0].automountServiceAccountToken != false
}

mounted := [unset_path, why] if {
	pod_setting == null
	count(accounts) == 0
	why := sprintf(
		"the pod spec does not set automountServiceAccountToken: false, and ServiceAccount '%s' is not among the scanned objects of %s; its default mounts the token",
		[account, k8s.namespace_label()],
	)
}

unset_path := k8s.pod_path(["automountServiceAccountToken"]) if {
	"automountServiceAccountToken" in object.keys(k8s.pod_spec())
} else := k8s.pod_spec_path()
