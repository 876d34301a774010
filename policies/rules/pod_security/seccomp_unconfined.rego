# METADATA
# title: Seccomp profile set to Unconfined
# description: >-
#   Seccomp filters the system calls a container may make; the runtime's default profile
#   blocks the rarely needed calls behind many kernel exploits. A `seccompProfile` of type
#   Unconfined turns the filter off. The Pod Security Standards' baseline profile allows a
#   seccomp profile to be unset, RuntimeDefault or Localhost, at pod and container level. Up
#   to policy version 1.18 Pod Security admission read the alpha annotations instead
#   (`seccomp.security.alpha.kubernetes.io/pod` and
#   `container.seccomp.security.alpha.kubernetes.io/<container>`), allowing `runtime/default`,
#   `docker/default` and `localhost/<profile>`; with `--pss-version` v1.18 or older this rule
#   reads those annotations, and from v1.19 the fields.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/tutorials/security/seccomp/
# custom:
#   id: PST-0013
#   severity: medium
#   remediation: >-
#     Set `securityContext.seccompProfile.type` to RuntimeDefault (or Localhost with a
#     `localhostProfile` that allows the extra calls the program needs) instead of Unconfined.
#   kinds: [workloads]
#   frameworks:
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.seccomp_unconfined

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

fields if pss.since(pss.version(), 19)

deny contains {"msg": msg, "path": path} if {
	fields
	profile := k8s.pod_security_context().seccompProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
	path := pss.profile_type_path(k8s.pod_path(["securityContext", "seccompProfile"]), profile)
	msg := sprintf("%s sets seccomp profile type %s for its containers", [k8s.workload(), pss.show(object.get(profile, "type", ""))])
}

deny contains {"msg": msg, "path": path} if {
	fields
	some c in k8s.containers()
	profile := c.context.seccompProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
	path := pss.profile_type_path(k8s.container_path(c, ["securityContext", "seccompProfile"]), profile)
	msg := sprintf("%s sets seccomp profile type %s", [k8s.describe(c), pss.show(object.get(profile, "type", ""))])
}

deny contains {"msg": msg, "path": path} if {
	not fields
	some a in pss.seccomp_annotations()
	not pss.allowed_seccomp_annotation(a.value)
	path := array.concat(k8s.pod_metadata_path(), ["annotations", a.key])
	msg := annotation_message(a)
}

annotation_message(a) := sprintf("%s sets seccomp profile '%v' for its containers through an annotation", [k8s.workload(), a.value]) if {
	a.container == null
} else := sprintf("%s sets seccomp profile '%v' for container '%s' through an annotation", [k8s.workload(), a.value, a.container])
