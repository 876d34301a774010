# METADATA
# title: Pod shares the host's IPC namespace
# description: >-
#   With `hostIPC: true` the pod's containers join the node's IPC namespace: they can read
#   and write the System V shared memory, semaphores and message queues of every process on
#   the node that uses them, and interfere with those processes. The Pod Security Standards'
#   baseline profile forbids it.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   id: PST-0004
#   severity: high
#   remediation: >-
#     Remove `hostIPC: true` from the pod spec (or set it to false). Containers of one pod
#     already share an IPC namespace with each other.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.4"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.host_ipc

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	k8s.pod_spec().hostIPC == true
	path := k8s.pod_path(["hostIPC"])
	msg := sprintf("%s shares the host's IPC namespace", [k8s.workload()])
}
