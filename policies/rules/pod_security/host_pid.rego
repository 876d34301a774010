# METADATA
# title: Pod shares the host's PID namespace
# description: >-
#   With `hostPID: true` the pod's containers see every process on the node. They can read
#   other processes' environment and command lines through /proc (where secrets often sit),
#   signal them, and with ptrace-like rights attach to them, which is a short way out of the
#   container. The Pod Security Standards' baseline profile forbids it.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
# custom:
#   id: PST-0002
#   severity: high
#   remediation: >-
#     Remove `hostPID: true` from the pod spec (or set it to false). To share processes
#     between the containers of one pod, use `shareProcessNamespace: true` instead.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.3"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.host_pid

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	k8s.pod_spec().hostPID == true
	path := k8s.pod_path(["hostPID"])
	msg := sprintf("%s shares the host's PID namespace", [k8s.workload()])
}
