# METADATA
# title: Privileged container
# description: >-
#   A privileged container runs with every capability and with access to all host devices;
#   it can load kernel modules, mount the host filesystem and escape to the node. The
#   Pod Security Standards' baseline profile forbids it.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   id: PST-0003
#   severity: critical
#   remediation: >-
#     Remove `securityContext.privileged: true` (or set it to false). Grant the specific
#     capability the process needs through `securityContext.capabilities.add` instead.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.2"]
#     pod-security: baseline
#     nsa: ["Pod security: non-root and unprivileged containers", "Pod security: pod security enforcement"]
package posture.rules.pod_security.privileged_container

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	c.context.privileged == true
	path := k8s.container_path(c, ["securityContext", "privileged"])
	msg := sprintf("%s runs privileged", [k8s.describe(c)])
}
