# METADATA
# title: Windows HostProcess container
# description: >-
#   A Windows HostProcess container runs directly on the node, outside any container
#   isolation, with the host's network and file system and (as SYSTEM or an administrator
#   account) full control of the Windows node. The Pod Security Standards' baseline profile
#   forbids setting `windowsOptions.hostProcess` to true, at pod or container level.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/create-hostprocess-pod/
# custom:
#   id: PST-0001
#   severity: critical
#   remediation: >-
#     Remove `securityContext.windowsOptions.hostProcess: true` from the pod and its
#     containers (or set it to false). Run node-management agents that truly need host access
#     in a dedicated namespace that is exempt from the baseline profile.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.10"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.host_process_container

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	k8s.pod_security_context().windowsOptions.hostProcess == true
	path := k8s.pod_path(["securityContext", "windowsOptions", "hostProcess"])
	msg := sprintf("%s runs its containers as Windows HostProcess containers", [k8s.workload()])
}

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	c.context.windowsOptions.hostProcess == true
	path := k8s.container_path(c, ["securityContext", "windowsOptions", "hostProcess"])
	msg := sprintf("%s runs as a Windows HostProcess container", [k8s.describe(c)])
}
