# METADATA
# title: Volume type outside the restricted set
# description: >-
#   The Pod Security Standards' restricted profile lets a pod declare only the core volume
#   types (configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim,
#   projected, secret); network and cloud disks (nfs, iscsi, rbd, awsElasticBlockStore,
#   gitRepo, flexVolume, ...) must come through a PersistentVolume that a cluster admin
#   provisions, so that pod authors cannot attach arbitrary storage or run volume plugins with
#   node privileges. `image` is allowed by admission since Kubernetes 1.33, at every policy version,
#   since the change was made to the check's one revision (the published page has not
#   caught up). hostPath volumes are restricted too, but are reported by the baseline rule
#   PST-0007 and not again here.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
#   - ref: https://github.com/kubernetes/kubernetes/pull/130394
# custom:
#   id: PST-0020
#   severity: medium
#   remediation: >-
#     Replace the inline volume with a PersistentVolumeClaim bound to a PersistentVolume (or
#     StorageClass) that the cluster admin defines for that storage, or with one of the
#     allowed types such as emptyDir, configMap, secret or a CSI driver.
#   kinds: [workloads]
#   frameworks:
#     pod-security: restricted
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.volume_type_not_allowed

import data.posture.lib.k8s
import data.posture.lib.restricted
import rego.v1

deny contains {"msg": msg, "path": path} if {
	some i, volume in k8s.as_array(k8s.pod_spec().volumes)
	some type, source in k8s.as_object(volume)
	type != "name"
	source != null
	not type in restricted.allowed_volume_types
	type != "hostPath"
	path := k8s.pod_path(["volumes", i, type])
	name := object.get(volume, "name", sprintf("#%d", [i]))
	msg := sprintf("%s declares volume '%s' of type %s, which the restricted profile does not allow", [k8s.workload(), name, type])
}
