# METADATA
# title: Container binds a host port
# description: >-
#   A `hostPort` opens the port on the node's own addresses and forwards it to the
#   container. It ties the pod to nodes where the port is free, exposes it outside the
#   Service and NetworkPolicy model on many network plugins, and lets a pod claim a port a
#   node service expects. The Pod Security Standards' baseline profile allows only 0 or no
#   hostPort.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/concepts/configuration/overview/#services
# custom:
#   id: PST-0008
#   severity: medium
#   remediation: >-
#     Remove `hostPort` from the container's ports and expose the workload through a Service
#     (NodePort or LoadBalancer where it must be reachable from outside the cluster).
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.12"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement", "Network separation and hardening"]
package posture.rules.pod_security.host_port

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	ports := c.container.ports
	is_array(ports)
	some i, port in ports
	host_port := port.hostPort
	not host_port in {0, null}
	path := k8s.container_path(c, ["ports", i, "hostPort"])
	msg := sprintf("%s binds host port %v", [k8s.describe(c), host_port])
}
