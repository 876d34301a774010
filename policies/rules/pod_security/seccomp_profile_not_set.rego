# METADATA
# title: Seccomp profile not set
# description: >-
#   Without a seccomp profile a container runs Unconfined unless the kubelet's
#   SeccompDefault option is on, so every system call, including rarely needed ones with a
#   history of kernel exploits, is open to it. The Pod Security Standards' restricted profile
#   requires `seccompProfile.type` RuntimeDefault or Localhost, at pod level or on every
#   container (init and ephemeral ones included); a container that sets none inherits the
#   pod's. This rule reports only a missing (or null) profile: a profile with any other type,
#   Unconfined included, is reported by the baseline rule PST-0013. When neither the pod nor
#   any container sets a profile, one finding is reported for the pod; otherwise one per
#   container left without one. Pods with `spec.os.name: windows` are exempt (the API forbids
#   seccomp there), as in Pod Security admission from policy version 1.25. The check applies
#   from policy version 1.19.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://kubernetes.io/docs/tutorials/security/seccomp/
# custom:
#   id: PST-0024
#   severity: medium
#   remediation: >-
#     Set `securityContext.seccompProfile.type: RuntimeDefault` at pod level, so that every
#     container inherits it, or use `Localhost` with a `localhostProfile` installed on the
#     nodes for a tighter profile.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.6.2"]
#     pod-security: restricted
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.seccomp_profile_not_set

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

pod_sets if restricted.sets(k8s.pod_security_context(), "seccompProfile")

container_sets(c) if restricted.sets(c.context, "seccompProfile")

some_container_sets if {
	some c in restricted.containers()
	container_sets(c)
}

# The check applies from policy version 1.19 (before it, restricted asked nothing of seccomp);
# Windows pods are exempt from 1.25.
applies if {
	pss.since(pss.version(), 19)
	not pss.windows_exempt(pss.version())
}

deny contains {"msg": msg, "path": path} if {
	applies
	count(k8s.containers()) > 0
	not pod_sets
	not some_container_sets
	path := k8s.pod_nearest(["securityContext", "seccompProfile"])
	msg := sprintf("%s sets no seccomp profile, neither at pod level nor on any container", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	applies
	not pod_sets
	some_container_sets
	some c in restricted.containers()
	not container_sets(c)
	path := k8s.container_nearest(c, ["securityContext", "seccompProfile"])
	msg := sprintf("%s sets no seccomp profile, and its pod sets none at pod level to inherit", [k8s.describe(c)])
}
