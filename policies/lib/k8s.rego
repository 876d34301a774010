# Shared helpers for rules: every workload shape normalised once, so that a rule body never
# re-enumerates Pods, templates, CronJob job templates or container lists.
package posture.lib.k8s

import rego.v1

# Kinds whose pod template lives at spec.template.
memo_template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

# Path from the object root to its pod spec.
memo_pod_spec_path := ["spec"] if input.kind == "Pod"

memo_pod_spec_path := ["spec", "template", "spec"] if input.kind in memo_template_kinds

memo_pod_spec_path := ["spec", "jobTemplate", "spec", "template", "spec"] if input.kind == "CronJob"

memo_pod_spec_path := ["template", "spec"] if input.kind == "PodTemplate"

# Path from the object root to the metadata of the pods it creates.
memo_pod_metadata_path := ["metadata"] if input.kind == "Pod"

memo_pod_metadata_path := array.concat(array.slice(memo_pod_spec_path, 0, count(memo_pod_spec_path) - 1), ["metadata"]) if input.kind != "Pod"

memo_is_workload if memo_pod_spec_path

# Each of these is an object even when the manifest has null or a wrong type there, so rules
# can index them without guarding (regorus errors on iterating null).
memo_pod_spec := as_object(object.get(input, memo_pod_spec_path, {}))

memo_pod_metadata := as_object(object.get(input, memo_pod_metadata_path, {}))

memo_pod_annotations := as_object(object.get(memo_pod_metadata, "annotations", {}))

memo_pod_security_context := as_object(object.get(memo_pod_spec, "securityContext", {}))

as_object(x) := x if is_object(x)

as_object(x) := {} if not is_object(x)

as_array(x) := x if is_array(x)

as_array(x) := [] if not is_array(x)

# Path of a pod-spec field, e.g. pod_path(["securityContext", "runAsUser"]).
pod_path(fields) := array.concat(memo_pod_spec_path, fields)

# The object as messages name it: Deployment 'ratings-api'.
memo_name := object.get(input, ["metadata", "name"], "(unnamed)")

memo_workload := sprintf("%s '%s'", [input.kind, memo_name])

container_lists := {
	"containers": "Container",
	"initContainers": "Init container",
	"ephemeralContainers": "Ephemeral container",
}

# Every container of the workload, init and ephemeral included, with its path and its
# securityContext as an object ({} when absent, null or not a mapping), which most rules read.
# An array, not a set: regorus steps through a set by searching it for the element after the
# last one, and these elements are whole containers, so each step compared them field by field.
memo_containers := [c |
	some field, label in container_lists
	some i, container in as_array(object.get(memo_pod_spec, field, []))
	is_object(container)
	c := {
		"container": container,
		"context": as_object(object.get(container, "securityContext", {})),
		"name": object.get(container, "name", sprintf("#%d", [i])),
		"list": field,
		"label": label,
		"path": array.concat(memo_pod_spec_path, [field, i]),
	}
]

# Container 'api' of Deployment 'ratings-api'
describe(c) := sprintf("%s '%s' of %s", [c.label, c.name, memo_workload])

# The container's securityContext as an object; rules read c.context, the same value.
container_security_context(c) := c.context

# Path of a field inside a container, e.g. container_path(c, ["securityContext", "privileged"]).
container_path(c, fields) := array.concat(c.path, fields)

# Security-context fields that a container inherits from the pod when it does not set them
# (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile, windowsOptions,
# appArmorProfile). A value is "set" when present and not null.
effective(c, field) := v if {
	v := c.context[field]
	v != null
} else := v if {
	v := memo_pod_security_context[field]
	v != null
}

# Where the effective value of an inherited field comes from: the container's field when it
# sets one, else the pod's, else the container (the place to add it).
effective_path(c, field) := container_path(c, ["securityContext", field]) if {
	c.context[field] != null
} else := pod_path(["securityContext", field]) if {
	memo_pod_security_context[field] != null
} else := c.path

# Windows pods are exempt from some restricted controls (spec.os.name: windows).
memo_is_windows if memo_pod_spec.os.name == "windows"

# Namespace key used by the inventory: "" when a manifest leaves it to deploy time.
memo_namespace := object.get(input, ["metadata", "namespace"], "")

# The name of a namespace as messages show it.
memo_namespace_label := sprintf("namespace '%s'", [memo_namespace]) if memo_namespace != ""

memo_namespace_label := "the deploy-time namespace" if memo_namespace == ""

# Labels of the pods a workload creates.
memo_pod_labels := as_object(object.get(memo_pod_metadata, "labels", {}))

# The path of `fields` below a container or the pod spec: where the fix goes when it is to
# add a field. The full path, whether or not it exists yet: the host points the position at its
# longest existing prefix, and the path (so the finding's fingerprint) stays the same when a
# sibling such as `securityContext` is added for another reason.
container_nearest(c, fields) := array.concat(c.path, fields)

pod_nearest(fields) := array.concat(memo_pod_spec_path, fields)

# Accessors. A reference from another package to a complete rule costs regorus about
# 5 µs each time (it resolves the package's virtual document), a call to a function that
# returns the same memoised rule about 1 µs; rules are evaluated on every object, so the
# shared values are read through these functions.
workload() := memo_workload
containers() := memo_containers
pod_spec() := memo_pod_spec
pod_security_context() := memo_pod_security_context
is_windows() := true if memo_is_windows else := false
pod_metadata_path() := memo_pod_metadata_path
namespace_label() := memo_namespace_label
pod_spec_path() := memo_pod_spec_path
pod_metadata() := memo_pod_metadata
pod_annotations() := memo_pod_annotations
namespace() := memo_namespace
name() := memo_name
is_workload() := true if memo_is_workload else := false

# A mirror pod: the API server's copy of a kubelet's static pod. The kubelet marks it with the
# kubernetes.io/config.mirror annotation and owns it by its Node; it has no ServiceAccount and
# no token volume, whatever its spec seems to imply.
# https://kubernetes.io/docs/tasks/configure-pod-container/static-pod/
is_mirror_pod if {
	input.kind == "Pod"
	object.get(input, ["metadata", "annotations", "kubernetes.io/config.mirror"], null) != null
}

is_mirror_pod if {
	input.kind == "Pod"
	some owner in as_array(object.get(input, ["metadata", "ownerReferences"], []))
	object.get(owner, "kind", "") == "Node"
}
pod_labels() := memo_pod_labels
template_kinds() := memo_template_kinds
