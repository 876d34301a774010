# Shared helpers for rules: every workload shape normalised once, so that a rule body never
# re-enumerates Pods, templates, CronJob job templates or container lists.
package posture.lib.k8s

import rego.v1

# Kinds whose pod template lives at spec.template.
template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

# Path from the object root to its pod spec.
pod_spec_path := ["spec"] if input.kind == "Pod"

pod_spec_path := ["spec", "template", "spec"] if input.kind in template_kinds

pod_spec_path := ["spec", "jobTemplate", "spec", "template", "spec"] if input.kind == "CronJob"

pod_spec_path := ["template", "spec"] if input.kind == "PodTemplate"

# Path from the object root to the metadata of the pods it creates.
pod_metadata_path := ["metadata"] if input.kind == "Pod"

pod_metadata_path := array.concat(array.slice(pod_spec_path, 0, count(pod_spec_path) - 1), ["metadata"]) if input.kind != "Pod"

is_workload if pod_spec_path

# Each of these is an object even when the manifest has null or a wrong type there, so rules
# can index them without guarding (regorus errors on iterating null).
pod_spec := as_object(object.get(input, pod_spec_path, {}))

pod_metadata := as_object(object.get(input, pod_metadata_path, {}))

pod_annotations := as_object(object.get(pod_metadata, "annotations", {}))

pod_security_context := as_object(object.get(pod_spec, "securityContext", {}))

as_object(x) := x if is_object(x)

as_object(x) := {} if not is_object(x)

as_array(x) := x if is_array(x)

as_array(x) := [] if not is_array(x)

# Path of a pod-spec field, e.g. pod_path(["securityContext", "runAsUser"]).
pod_path(fields) := array.concat(pod_spec_path, fields)

# The object as messages name it: Deployment 'ratings-api'.
name := object.get(input, ["metadata", "name"], "(unnamed)")

workload := sprintf("%s '%s'", [input.kind, name])

container_lists := {
	"containers": "Container",
	"initContainers": "Init container",
	"ephemeralContainers": "Ephemeral container",
}

# Every container of the workload, init and ephemeral included, with its path.
containers contains c if {
	some field, label in container_lists
	some i, container in as_array(object.get(pod_spec, field, []))
	is_object(container)
	c := {
		"container": container,
		"name": object.get(container, "name", sprintf("#%d", [i])),
		"list": field,
		"label": label,
		"path": array.concat(pod_spec_path, [field, i]),
	}
}

# Container 'api' of Deployment 'ratings-api'
describe(c) := sprintf("%s '%s' of %s", [c.label, c.name, workload])

container_security_context(c) := as_object(object.get(c.container, "securityContext", {}))

# Path of a field inside a container, e.g. container_path(c, ["securityContext", "privileged"]).
container_path(c, fields) := array.concat(c.path, fields)

# Security-context fields that a container inherits from the pod when it does not set them
# (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile, windowsOptions,
# appArmorProfile). A value is "set" when present and not null.
effective(c, field) := v if {
	v := container_security_context(c)[field]
	v != null
} else := v if {
	v := pod_security_context[field]
	v != null
}

# Where the effective value of an inherited field comes from: the container's field when it
# sets one, else the pod's, else the container (the place to add it).
effective_path(c, field) := container_path(c, ["securityContext", field]) if {
	container_security_context(c)[field] != null
} else := pod_path(["securityContext", field]) if {
	pod_security_context[field] != null
} else := c.path

# Windows pods are exempt from some restricted controls (spec.os.name: windows).
is_windows if pod_spec.os.name == "windows"

# Namespace key used by the inventory: "" when a manifest leaves it to deploy time.
namespace := object.get(input, ["metadata", "namespace"], "")

# The name of a namespace as messages show it.
namespace_label := sprintf("namespace '%s'", [namespace]) if namespace != ""

namespace_label := "the deploy-time namespace" if namespace == ""

# Labels of the pods a workload creates.
pod_labels := as_object(object.get(pod_metadata, "labels", {}))
