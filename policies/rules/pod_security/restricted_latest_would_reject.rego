# METADATA
# title: Workload would break if its namespace enforced restricted:latest
# description: >-
#   A dry run of the step most namespaces are asked to take: enforcing the Pod Security
#   Standards' restricted level at the newest policy version
#   (`pod-security.kubernetes.io/enforce: restricted`, `enforce-version: latest`). For each
#   workload whose Namespace object is part of the scan (a manifest set that includes it, or a
#   cluster) and whose namespace does not already enforce, audit or warn restricted:latest
#   (PST-0030 and PST-0031 report those), the rule reports
#   the restricted controls its pods fail, so a team can see before relabelling which
#   workloads the change would stop. Workloads that would pass are not reported: the absence
#   of this finding for every workload of a namespace means the namespace can move.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/migrate-from-psp/
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
# custom:
#   id: PST-0032
#   severity: low
#   remediation: >-
#     Before labelling the namespace `pod-security.kubernetes.io/enforce: restricted`, fix the
#     controls named (the per-control restricted findings say where), or keep this workload in
#     a namespace at a lower level. Setting `pod-security.kubernetes.io/warn: restricted` first
#     shows the same failures to whoever deploys.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.restricted_latest_would_reject

import data.posture.lib.admission
import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

namespace_path := ["metadata", "namespace"]

known_namespace if admission.memo_namespace_labels

# Already enforced, audited or warned about: PST-0030 or PST-0031 reports it.
already_restricted_latest if {
	some mode in ["enforce", "audit", "warn"]
	p := admission.namespace_policy(mode)
	p.level == "restricted"
	p.version == pss.newest()
}

current := sprintf("which enforces %s", [admission.namespace_policy("enforce").shown]) if {
	admission.namespace_policy("enforce")
} else := "which enforces no Pod Security level"

deny contains {"msg": msg, "path": namespace_path} if {
	known_namespace
	not already_restricted_latest
	found := admission.violations("restricted", pss.newest())
	count(found) > 0
	msg := sprintf("%s would be rejected if %s (%s) moved to restricted:latest; its pods fail %s", [k8s.workload(), k8s.namespace_label(), current, admission.describe(found)])
}
