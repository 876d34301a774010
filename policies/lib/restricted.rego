# Helpers for the restricted-profile rules and the CIS 5.x rules that sit next to them: where
# to point when a field is missing, and the exemptions Pod Security admission grants.
# Source: the restricted checks of k8s.io/pod-security-admission/policy at their newest
# policy versions, which the published page lags behind (it omits `image` volumes).
package posture.lib.restricted

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

# Restricted "Volume Types": the inline volume sources a pod may use
# (check_restrictedVolumes.go; `image` since Kubernetes 1.33, kubernetes/kubernetes#130394,
# added to the check's one revision, so it is allowed at every policy version).
allowed_volume_types := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
	"persistentVolumeClaim", "projected", "secret",
}

# Every container of k8s.containers, plus what the rules here read from it, worked out once
# per object and shared by all of them (function calls cost more than field lookups):
#   context   its securityContext as an object, {} when absent or null (from k8s.containers)
#   add, drop its capability lists, [] when absent, null or not a list
#   added, dropped  the capabilities those lists grant or remove, by pss.capability_name
memo_containers := [object.union(c, {
	"add": add,
	"drop": drop,
	"added": {pss.capability_name(name) | some name in add},
	"dropped": {pss.capability_name(name) | some name in drop},
}) |
	some c in k8s.containers()
	add := k8s.as_array(object.get(c.context, ["capabilities", "add"], []))
	drop := k8s.as_array(object.get(c.context, ["capabilities", "drop"], []))
]

# Whether a securityContext sets `field` to something other than null.
sets(context, field) if context[field] != null

# Accessors. A reference from another package to a complete rule costs regorus about
# 5 µs each time (it resolves the package's virtual document), a call to a function that
# returns the same memoised rule about 1 µs; rules are evaluated on every object, so the
# shared values are read through these functions.
containers() := memo_containers
volume_types() := allowed_volume_types
