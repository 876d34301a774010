# METADATA
# title: Workload flagged by its namespace's Pod Security audit or warn policy
# description: >-
#   Besides enforce, a namespace can set the Pod Security modes audit
#   (`pod-security.kubernetes.io/audit`, an annotation in the API server's audit log) and warn
#   (`pod-security.kubernetes.io/warn`, a warning returned to the client), each with its own
#   `-version` label. Pods that fail those policies are still admitted; the modes are how a
#   team prepares to tighten enforce. This rule reports each workload whose Namespace object is
#   part of the scan and whose pods fail the audit or warn policy, naming the controls, unless
#   the same level and version is enforced there (then PST-0030 reports it). An invalid audit
#   or warn level means privileged (admission fails open for them).
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
# custom:
#   id: PST-0031
#   severity: low
#   remediation: >-
#     Change the workload so that its pods meet the level the namespace audits or warns about
#     (see the per-control Pod Security findings at that `--pss-version`); that is what the
#     namespace's owners are preparing to enforce.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.namespace_policy_warns_workload

import data.posture.lib.admission
import data.posture.lib.k8s
import rego.v1

namespace_path := ["metadata", "namespace"]

# The same level and version is enforced: PST-0030 reports it.
enforced(policy) if {
	p := admission.namespace_policy("enforce")
	p.level == policy.level
	p.version == policy.version
}

deny contains {"msg": msg, "path": namespace_path} if {
	some mode in ["audit", "warn"]
	judged := admission.namespace_violations(mode)
	count(judged.violations) > 0
	not enforced(judged.policy)
	msg := sprintf("%s fails the Pod Security %s policy %s of %s (its pods are admitted but flagged): %s", [k8s.workload(), mode, judged.policy.shown, k8s.namespace_label(), admission.describe(judged.violations)])
}
