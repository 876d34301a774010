# METADATA
# title: Workload rejected by its namespace's Pod Security policy
# description: >-
#   A namespace chooses its Pod Security level with the label
#   `pod-security.kubernetes.io/enforce` (privileged, baseline or restricted) and the policy
#   version with `pod-security.kubernetes.io/enforce-version` (`v1.<minor>` or latest, the
#   default). Pod Security admission then refuses every pod of that namespace that fails a
#   check of that level at that version; for a Deployment, StatefulSet, Job and the like the
#   object is accepted but its controller cannot create a single pod, so the workload never
#   runs. This rule judges each workload whose Namespace object is part of the scan (a manifest
#   set that includes it, or a cluster) against that namespace's enforce label, exactly as
#   admission reads the labels (an invalid level means restricted, an invalid or missing
#   version latest), and names the controls its pods fail. Admission exemptions configured on
#   the API server (users, runtime classes, namespaces) are not visible to a scan.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-admission/
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/
# custom:
#   id: PST-0030
#   severity: high
#   remediation: >-
#     Change the workload so that its pods meet the namespace's level (the per-control
#     findings of the Pod Security rules, PST-0001 to PST-0028, say where; scan with
#     `--pss-version` set to the namespace's enforce-version to see them at that version), or,
#     if the workload truly needs the privilege, move it to a namespace whose policy allows it.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.namespace_policy_rejects_workload

import data.posture.lib.admission
import data.posture.lib.k8s
import rego.v1

namespace_path := ["metadata", "namespace"]

deny contains {"msg": msg, "path": namespace_path} if {
	judged := admission.namespace_violations("enforce")
	count(judged.violations) > 0
	msg := sprintf("%s would be rejected in %s, which enforces Pod Security %s; its pods fail %s", [k8s.workload(), k8s.namespace_label(), judged.policy.shown, admission.describe(judged.violations)])
}
