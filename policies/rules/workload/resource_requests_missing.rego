# METADATA
# title: Container without CPU or memory request
# description: >-
#   The scheduler places pods by their requests. A container that requests no CPU or memory is
#   treated as needing none, so nodes get overcommitted, and under memory pressure its pod is
#   among the first to be evicted (BestEffort or Burstable quality of service). A request is
#   present when the container sets it, when it sets a limit for the same resource (the request
#   then defaults to the limit), or when the pod sets it at pod level (`spec.resources`,
#   Kubernetes 1.32+). Init containers count; ephemeral containers do not, since the API gives
#   them no resources. A namespace LimitRange can supply default requests at admission, which a
#   manifest scan cannot see.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
#   - ref: https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
# custom:
#   id: PST-0202
#   severity: low
#   remediation: >-
#     Set `resources.requests.cpu` and `resources.requests.memory` on every container to what it
#     needs under normal load, or give the namespace a LimitRange with default requests.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Network separation: resource policies"]
package posture.rules.workload.resource_requests_missing

import data.posture.lib.k8s
import rego.v1

# Kubernetes defaults a missing request to the limit of the same resource, for containers and
# for pod-level resources alike. A request or limit is set when present and not null.
deny contains {"msg": msg, "path": path} if {
	pod_spec := k8s.pod_spec()
	some c in k8s.containers()
	c.list != "ephemeralContainers"
	missing := [name |
		some r, name in {"cpu": "CPU", "memory": "memory"}
		object.get(c.container, ["resources", "requests", r], null) == null
		object.get(c.container, ["resources", "limits", r], null) == null
		object.get(pod_spec, ["resources", "requests", r], null) == null
		object.get(pod_spec, ["resources", "limits", r], null) == null
	]
	count(missing) > 0
	path := k8s.container_nearest(c, ["resources", "requests"])
	msg := sprintf("%s has no %s request", [k8s.describe(c), concat(" or ", missing)])
}
