# METADATA
# title: Custom SELinux options
# description: >-
#   On SELinux nodes the runtime labels each container with a confined type (container_t)
#   and a unique category pair. Asking for another type, such as spc_t (unconfined) or a
#   host daemon's type, or setting an SELinux user or role, lifts that confinement. The Pod
#   Security Standards' baseline profile allows `seLinuxOptions.type` to be empty,
#   container_t, container_init_t, container_kvm_t or container_engine_t (the last from
#   policy version 1.31), and `user` and `role` only empty, at pod and container level.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#assign-selinux-labels-to-a-container
# custom:
#   id: PST-0011
#   severity: medium
#   remediation: >-
#     Remove `seLinuxOptions.user` and `seLinuxOptions.role`, and remove `seLinuxOptions.type`
#     or set it to container_t (or container_init_t, container_kvm_t, container_engine_t).
#     Setting only `level` is allowed.
#   kinds: [workloads]
#   frameworks:
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.selinux_options_unsafe

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

# The offending fields of one seLinuxOptions object: [field, value] pairs.
unsafe(options) := {[field, value] |
	some field in ["type", "user", "role"]
	value := options[field]
	not allowed(field, value)
}

allowed(_, value) if value == null

allowed("type", value) if pss.selinux_type(value, pss.version())

allowed(field, "") if field in {"user", "role"}

deny contains {"msg": msg, "path": path} if {
	options := k8s.pod_security_context().seLinuxOptions
	some [field, value] in unsafe(options)
	path := k8s.pod_path(["securityContext", "seLinuxOptions", field])
	msg := sprintf("%s sets SELinux %s %s for its containers", [k8s.workload(), field, pss.show(value)])
}

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	options := c.context.seLinuxOptions
	some [field, value] in unsafe(options)
	path := k8s.container_path(c, ["securityContext", "seLinuxOptions", field])
	msg := sprintf("%s sets SELinux %s %s", [k8s.describe(c), field, pss.show(value)])
}
