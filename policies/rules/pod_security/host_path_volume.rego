# METADATA
# title: Pod mounts a hostPath volume
# description: >-
#   A hostPath volume exposes a file or directory of the node to the pod. Through the
#   container runtime's socket, the kubelet's credentials, /etc or /proc it gives a short way
#   to take over the node, and even a read-only mount can leak other pods' secrets and logs.
#   The Pod Security Standards' baseline profile forbids hostPath volumes.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/concepts/storage/volumes/#hostpath
# custom:
#   id: PST-0007
#   severity: high
#   remediation: >-
#     Replace the hostPath volume with an emptyDir, a ConfigMap or Secret, or a
#     PersistentVolumeClaim (a `local` PersistentVolume where node-local storage is the point).
#     Node agents that must read the host belong in a namespace exempt from the baseline profile.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.2.11"]
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.host_path_volume

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	volumes := k8s.pod_spec().volumes
	is_array(volumes)
	some i, volume in volumes
	volume.hostPath != null
	path := k8s.pod_path(["volumes", i, "hostPath"])
	host_path := object.get(volume, ["hostPath", "path"], "")
	msg := sprintf("%s mounts host path '%s' as volume '%s'", [k8s.workload(), host_path, object.get(volume, "name", sprintf("#%d", [i]))])
}
