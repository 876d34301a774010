# METADATA
# title: Privilege escalation not disabled
# description: >-
#   Unless a container sets `allowPrivilegeEscalation: false`, the runtime does not set
#   no_new_privs on its processes, so a setuid or file-capability binary in the image (su,
#   sudo, ping on older images) can raise a process above the user and capabilities the
#   container was started with. The Pod Security Standards' restricted profile requires the
#   field to be false on every container, init and ephemeral ones included; leaving it unset
#   fails as well as setting it to true. Pods with `spec.os.name: windows` are exempt, as in
#   Pod Security admission from policy version 1.25.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
# custom:
#   id: PST-0021
#   severity: high
#   remediation: >-
#     Set `securityContext.allowPrivilegeEscalation: false` on every container, init and
#     ephemeral containers included. The field exists only at container level.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.6"]
#     pod-security: restricted
#     nsa: ["Pod security: non-root and unprivileged containers"]
package posture.rules.pod_security.privilege_escalation_allowed

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

# The check applies from policy version 1.8; Windows pods are exempt from 1.25.
applies if {
	pss.since(pss.version(), 8)
	not pss.windows_exempt(pss.version())
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	c.context.allowPrivilegeEscalation == true
	path := k8s.container_path(c, ["securityContext", "allowPrivilegeEscalation"])
	msg := sprintf("%s allows privilege escalation explicitly", [k8s.describe(c)])
}

deny contains {"msg": msg, "path": path} if {
	applies
	some c in restricted.containers()
	not object.get(c.context, "allowPrivilegeEscalation", null) in {true, false}
	path := k8s.container_nearest(c, ["securityContext", "allowPrivilegeEscalation"])
	msg := sprintf("%s does not set allowPrivilegeEscalation to false, so its processes may gain privileges", [k8s.describe(c)])
}
