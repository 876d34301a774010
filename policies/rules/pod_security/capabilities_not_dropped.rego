# METADATA
# title: Capabilities not dropped
# description: >-
#   Container runtimes start every container with a default set of Linux capabilities
#   (containerd's includes NET_RAW, SETUID, SETGID, DAC_OVERRIDE, CHOWN, MKNOD, ...), far more
#   than most applications use. The Pod Security Standards' restricted profile requires every
#   container, init and ephemeral ones included, to list ALL in `capabilities.drop` and then
#   add back at most NET_BIND_SERVICE (see PST-0026). Pod Security admission compares the
#   value exactly, so a lower-case `all`, which runtimes may accept, is still reported, with
#   its own message, and so is `CAP_ALL`. The check applies from policy version 1.22; pods
#   with `spec.os.name: windows` are exempt from 1.25.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#set-capabilities-for-a-container
# custom:
#   id: PST-0025
#   severity: medium
#   remediation: >-
#     Add `securityContext.capabilities.drop: ["ALL"]` to every container, and list in
#     `capabilities.add` only NET_BIND_SERVICE if the process binds a port below 1024.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.9"]
#     pod-security: restricted
#     nsa: ["Pod security: non-root and unprivileged containers"]
package posture.rules.pod_security.capabilities_not_dropped

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

applies if {
	pss.since(pss.version(), 22)
	not pss.windows_exempt(pss.version())
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	not "ALL" in c.drop
	some i, name in c.drop
	pss.capability_name(name) == "ALL"
	path := k8s.container_path(c, ["securityContext", "capabilities", "drop", i])
	msg := sprintf("%s drops '%s' rather than ALL, which the restricted profile does not accept", [k8s.describe(c), name])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	not "ALL" in c.dropped
	path := k8s.container_nearest(c, ["securityContext", "capabilities", "drop"])
	msg := sprintf("%s does not drop ALL capabilities", [k8s.describe(c)])
}
