# METADATA
# title: Container without a liveness or readiness probe
# description: >-
#   Without a readiness probe a pod receives traffic as soon as it starts, before it can
#   serve, and keeps receiving it when it stops serving; without a liveness probe a hung
#   process is never restarted. Both make outages and half-working replicas last longer. This
#   is hygiene rather than a security control. Long-running workloads are checked
#   (Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, bare Pods);
#   Jobs and CronJobs, which run to completion, are not. Only regular containers count: init
#   containers run before the pod is ready and ephemeral ones take no probes.
#   Mirror pods of static pods are not reported: the kubelet runs them from a file on the node.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
# custom:
#   id: PST-0044
#   severity: low
#   remediation: >-
#     Add a `readinessProbe` that checks the container can serve and a `livenessProbe` that
#     checks it is not stuck (an HTTP health endpoint, a TCP socket or a command), with a
#     `startupProbe` for slow starters.
#   kinds: [workloads]
package posture.rules.workload.probe_missing

import data.posture.lib.k8s
import rego.v1

probes := {"livenessProbe": "liveness", "readinessProbe": "readiness"}

deny contains {"msg": msg, "path": path} if {
	k8s.is_workload()
	not mirror
	not input.kind in {"Job", "CronJob", "PodTemplate"}
	some c in k8s.containers()
	c.list == "containers"
	some field, label in probes
	object.get(c.container, field, null) == null
	path := k8s.container_nearest(c, [field])
	msg := sprintf("%s has no %s probe", [k8s.describe(c), label])
}

mirror if k8s.is_mirror_pod
