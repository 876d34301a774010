# METADATA
# title: Container with a writable root filesystem
# description: >-
#   Unless `securityContext.readOnlyRootFilesystem` is true, a process in the container can
#   change the image's files: an attacker can drop tools, replace binaries or persist changes
#   for the container's lifetime. A read-only root filesystem, with writable emptyDir or other
#   volumes mounted only where the application writes, makes the container immutable. The
#   field has no pod-level form, so each container must set it; init and ephemeral containers
#   count. Windows pods (`spec.os.name: windows`) are exempt, as the field cannot be set there.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/
# custom:
#   id: PST-0203
#   severity: medium
#   remediation: >-
#     Set `securityContext.readOnlyRootFilesystem: true` on the container and mount an
#     `emptyDir` volume at each path the application writes to (for example /tmp or a cache
#     directory).
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Pod security: immutable container file systems"]
package posture.rules.workload.writable_root_filesystem

import data.posture.lib.k8s
import rego.v1

problem(sc) := "sets readOnlyRootFilesystem to false" if {
	sc.readOnlyRootFilesystem == false
} else := "does not set readOnlyRootFilesystem"

deny contains {"msg": msg, "path": path} if {
	not k8s.is_windows()
	some c in k8s.containers()
	object.get(c.context, "readOnlyRootFilesystem", null) != true
	path := k8s.container_nearest(c, ["securityContext", "readOnlyRootFilesystem"])
	msg := sprintf("%s %s", [k8s.describe(c), problem(c.context)])
}
