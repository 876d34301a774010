# METADATA
# title: Container without CPU or memory limit
# description: >-
#   A container with no memory limit can use all the memory of its node until the kernel's
#   out-of-memory killer picks victims, possibly other tenants' pods; with no CPU limit it can
#   starve them of CPU. A compromised or faulty container then becomes a denial of service for
#   the whole node. A limit set at pod level (`spec.resources`, Kubernetes 1.32+) bounds every
#   container of the pod and counts here. Init containers count (sidecars among them run for
#   the pod's lifetime); ephemeral containers do not, since the API gives them no resources.
#   A namespace LimitRange can supply defaults at admission, which a manifest scan cannot see.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
#   - ref: https://kubernetes.io/docs/concepts/policy/limit-range/
# custom:
#   id: PST-0201
#   severity: medium
#   remediation: >-
#     Set `resources.limits.memory` and `resources.limits.cpu` on every container, sized from
#     observed usage, or give the namespace a LimitRange with default limits.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Network separation: resource policies"]
package posture.rules.workload.resource_limits_missing

import data.posture.lib.k8s
import rego.v1

# A pod-level limit (spec.resources, 1.32+) covers every container. A limit is set when
# present and not null.
deny contains {"msg": msg, "path": path} if {
	pod_spec := k8s.pod_spec()
	some c in k8s.containers()
	c.list != "ephemeralContainers"
	missing := [name |
		some r, name in {"cpu": "CPU", "memory": "memory"}
		object.get(c.container, ["resources", "limits", r], null) == null
		object.get(pod_spec, ["resources", "limits", r], null) == null
	]
	count(missing) > 0
	path := k8s.container_nearest(c, ["resources", "limits"])
	msg := sprintf("%s has no %s limit", [k8s.describe(c), concat(" or ", missing)])
}
