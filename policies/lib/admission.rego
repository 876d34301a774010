# The Pod Security Standards as Pod Security admission evaluates them: which checks a level
# runs at a policy version, and whether a workload's pods fail each one. The per-control rules
# (policies/rules/pod_security/) say where and why; this says only which checks fail, so that a
# workload can be judged against its namespace's `pod-security.kubernetes.io/*` labels and
# against restricted:latest. Source: k8s.io/pod-security-admission/policy (check_*.go and
# registry.go): a check runs at a version from its first revision's MinimumVersion on; the
# restricted level runs every baseline check except those a running restricted check
# overrides.
package posture.lib.admission

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import data.posture.lib.restricted
import rego.v1

# Every check: its level, the policy version its first revision arrived at, the baseline checks
# it replaces under restricted, and the control it implements as the Pod Security Standards
# page names it.
memo_checks := {
	"windowsHostProcess": {"level": "baseline", "since": 0, "control": "HostProcess"},
	"hostNamespaces": {"level": "baseline", "since": 0, "control": "Host Namespaces"},
	"privileged": {"level": "baseline", "since": 0, "control": "Privileged Containers"},
	"capabilities_baseline": {"level": "baseline", "since": 0, "control": "Capabilities"},
	"hostPathVolumes": {"level": "baseline", "since": 0, "control": "HostPath Volumes"},
	"hostPorts": {"level": "baseline", "since": 0, "control": "Host Ports"},
	"appArmorProfile": {"level": "baseline", "since": 0, "control": "AppArmor"},
	"seLinuxOptions": {"level": "baseline", "since": 0, "control": "SELinux"},
	"procMount": {"level": "baseline", "since": 0, "control": "/proc Mount Type"},
	"seccompProfile_baseline": {"level": "baseline", "since": 0, "control": "Seccomp"},
	"sysctls": {"level": "baseline", "since": 0, "control": "Sysctls"},
	"hostProbesAndHostLifecycle": {"level": "baseline", "since": 34, "control": "Host Probes / Lifecycle Hooks"},
	"restrictedVolumes": {"level": "restricted", "since": 0, "control": "Volume Types", "overrides": ["hostPathVolumes"]},
	"allowPrivilegeEscalation": {"level": "restricted", "since": 8, "control": "Privilege Escalation"},
	"runAsNonRoot": {"level": "restricted", "since": 0, "control": "Running as Non-root"},
	"runAsUser": {"level": "restricted", "since": 23, "control": "Running as Non-root user"},
	"seccompProfile_restricted": {"level": "restricted", "since": 19, "control": "Seccomp", "overrides": ["seccompProfile_baseline"]},
	"capabilities_restricted": {"level": "restricted", "since": 22, "control": "Capabilities", "overrides": ["capabilities_baseline"]},
	"procMount_restricted": {"level": "restricted", "since": 35, "control": "/proc Mount Type", "overrides": ["procMount"]},
}

# The checks a level runs at policy version v (privileged runs none).
checks(level, v) := {id |
	some id, check in memo_checks
	check.level == "baseline"
	check.since <= v
} if level == "baseline"

checks(level, v) := {id |
	some id, check in memo_checks
	check.since <= v
	not id in skipped
} if {
	level == "restricted"
	# Once, not per check: a function's result is not memoised.
	skipped := overridden(v)
}

overridden(v) := {id |
	some check in memo_checks
	check.level == "restricted"
	check.since <= v
	some id in object.get(check, "overrides", [])
}

# The checks the workload's pods fail at level:v, as {"id", "control"} objects.
violations(level, v) := {{"id": id, "control": memo_checks[id].control} |
	some id in checks(level, v)
	fails(id, v)
}

# The controls of violations(level, v) as a message lists them: "Capabilities, Host Ports".
describe(violations) := concat(", ", sort({x.control | some x in violations}))

# --- baseline -------------------------------------------------------------------------------

fails("windowsHostProcess", _) if k8s.pod_security_context().windowsOptions.hostProcess == true

fails("windowsHostProcess", _) if {
	some c in k8s.containers()
	c.context.windowsOptions.hostProcess == true
}

fails("hostNamespaces", _) if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	k8s.pod_spec()[field] == true
}

fails("privileged", _) if {
	some c in k8s.containers()
	c.context.privileged == true
}

fails("capabilities_baseline", _) if {
	some c in restricted.containers()
	some name in c.add
	not pss.baseline_capability(name)
}

fails("hostPathVolumes", _) if {
	some volume in k8s.as_array(k8s.pod_spec().volumes)
	volume.hostPath != null
}

fails("hostPorts", _) if {
	some c in k8s.containers()
	some port in k8s.as_array(object.get(c.container, "ports", []))
	not object.get(k8s.as_object(port), "hostPort", null) in {0, null}
}

fails("appArmorProfile", _) if {
	profile := k8s.pod_security_context().appArmorProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
}

fails("appArmorProfile", _) if {
	some c in k8s.containers()
	profile := c.context.appArmorProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
}

fails("appArmorProfile", _) if {
	some key, value in k8s.pod_annotations()
	startswith(key, pss.apparmor_annotation_prefix())
	not pss.allowed_apparmor_annotation(value)
}

fails("seLinuxOptions", v) if bad_selinux(k8s.pod_security_context().seLinuxOptions, v)

fails("seLinuxOptions", v) if {
	some c in k8s.containers()
	bad_selinux(c.context.seLinuxOptions, v)
}

bad_selinux(options, v) if {
	type := object.get(k8s.as_object(options), "type", null)
	type != null
	not pss.selinux_type(type, v)
}

bad_selinux(options, _) if {
	some field in ["user", "role"]
	not object.get(k8s.as_object(options), field, null) in {"", null}
}

fails("procMount", v) if {
	not pss.user_namespace_relaxed(v)
	unmasked_proc
}

unmasked_proc if {
	some c in k8s.containers()
	not object.get(c.context, "procMount", null) in {"Default", null}
}

# Up to 1.18 the alpha annotations; from 1.19 the fields.
fails("seccompProfile_baseline", v) if {
	v < 19
	some a in pss.seccomp_annotations()
	not pss.allowed_seccomp_annotation(a.value)
}

fails("seccompProfile_baseline", v) if {
	v >= 19
	bad_seccomp_field
}

bad_seccomp_field if {
	profile := k8s.pod_security_context().seccompProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
}

bad_seccomp_field if {
	some c in k8s.containers()
	profile := c.context.seccompProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
}

fails("sysctls", v) if {
	some sysctl in k8s.as_array(k8s.pod_security_context().sysctls)
	not pss.safe_sysctl(object.get(sysctl, "name", ""), v)
}

fails("hostProbesAndHostLifecycle", _) if {
	some c in k8s.containers()
	some field, probe in object.filter(c.container, pss.probe_fields())
	probe_host(probe)
}

fails("hostProbesAndHostLifecycle", _) if {
	some c in k8s.containers()
	some hook, handlers in object.filter(k8s.as_object(c.container.lifecycle), pss.lifecycle_hooks())
	probe_host(handlers)
}

probe_host(handlers) if {
	some handler, action in k8s.as_object(handlers)
	handler in pss.network_handlers()
	not object.get(k8s.as_object(action), "host", null) in {"", null}
}

# --- restricted -----------------------------------------------------------------------------

# Admission allows a volume when any allowed source is set, whatever else is; a volume that
# names no source is defaulted to emptyDir by the API server before admission sees it.
fails("restrictedVolumes", _) if {
	some volume in k8s.as_array(k8s.pod_spec().volumes)
	sources := volume_sources(k8s.as_object(volume))
	count(sources) > 0
	not any_allowed(sources)
}

volume_sources(volume) := {key | some key in object.keys(volume); key != "name"; volume[key] != null}

any_allowed(sources) if {
	allowed := restricted.volume_types()
	some key in sources
	key in allowed
}

fails("allowPrivilegeEscalation", v) if {
	not pss.windows_exempt(v)
	some c in k8s.containers()
	not c.context.allowPrivilegeEscalation == false
}

fails("runAsNonRoot", v) if {
	not pss.user_namespace_relaxed(v)
	run_as_non_root_fails
}

run_as_non_root_fails if k8s.pod_security_context().runAsNonRoot == false

run_as_non_root_fails if {
	some c in k8s.containers()
	c.context.runAsNonRoot == false
}

run_as_non_root_fails if {
	not k8s.pod_security_context().runAsNonRoot == true
	some c in k8s.containers()
	object.get(c.context, "runAsNonRoot", null) == null
}

fails("runAsUser", v) if {
	not pss.user_namespace_relaxed(v)
	root_user
}

root_user if k8s.pod_security_context().runAsUser == 0

root_user if {
	some c in k8s.containers()
	c.context.runAsUser == 0
}

fails("seccompProfile_restricted", v) if {
	not pss.windows_exempt(v)
	bad_seccomp_field
}

fails("seccompProfile_restricted", v) if {
	not pss.windows_exempt(v)
	not pod_seccomp_valid
	some c in k8s.containers()
	object.get(c.context, "seccompProfile", null) == null
}

pod_seccomp_valid if k8s.pod_security_context().seccompProfile.type in pss.allowed_profile_types()

fails("capabilities_restricted", v) if {
	not pss.windows_exempt(v)
	some c in restricted.containers()
	not "ALL" in c.drop
}

fails("capabilities_restricted", v) if {
	not pss.windows_exempt(v)
	some c in restricted.containers()
	some name in c.add
	name != "NET_BIND_SERVICE"
}

fails("procMount_restricted", _) if unmasked_proc

# Accessors (see lib/k8s.rego on why rules read shared values through functions).
known_checks() := memo_checks

# --- namespace labels -----------------------------------------------------------------------

# The labels of the workload's namespace, when the scan holds its Namespace object (a manifest
# set that includes it, or a cluster); undefined otherwise, so nothing is judged.
memo_namespace_labels := labels if {
	k8s.namespace() != ""
	labels := k8s.as_object(data.inventory.namespaces[k8s.namespace()].labels)
}

# The policy a namespace sets for a mode (enforce, audit or warn) through its
# pod-security.kubernetes.io/<mode> and <mode>-version labels, as api.PolicyToEvaluate reads
# them: an invalid enforce level means restricted, an invalid audit or warn level privileged
# (they fail open); a missing or invalid version means latest; a version newer than the newest
# check revision means the newest. Defined only for baseline and restricted: a namespace
# without the level label falls back to the cluster's defaults, which a scan cannot see.
namespace_policy(mode) := {"mode": mode, "level": level, "version": v, "shown": sprintf("%s:%s", [level, shown])} if {
	raw_level := memo_namespace_labels[concat("", ["pod-security.kubernetes.io/", mode])]
	level := parse_level(mode, raw_level)
	level != "privileged"
	raw_version := object.get(memo_namespace_labels, concat("", ["pod-security.kubernetes.io/", mode, "-version"]), "latest")
	v := parse_version(raw_version)
	shown := show_version(raw_version, v)
}

parse_level(_, raw) := raw if raw in {"privileged", "baseline", "restricted"}

parse_level(mode, raw) := "restricted" if {
	not raw in {"privileged", "baseline", "restricted"}
	mode == "enforce"
}

parse_level(mode, raw) := "privileged" if {
	not raw in {"privileged", "baseline", "restricted"}
	mode != "enforce"
}

# The policy version a label value names, as the minor number (latest: the newest).
parse_version(raw) := min([to_number(minor), pss.newest()]) if {
	is_string(raw)
	regex.match(`^v1\.([0-9]|[1-9][0-9]*)$`, raw)
	minor := substring(raw, 3, -1)
} else := pss.newest()

show_version(raw, _) := raw if {
	is_string(raw)
	regex.match(`^v1\.([0-9]|[1-9][0-9]*)$`, raw)
} else := "latest"

# The workload's violations of its namespace's policy for a mode; undefined when the mode sets
# no baseline or restricted policy.
namespace_violations(mode) := {"policy": policy, "violations": found} if {
	policy := namespace_policy(mode)
	found := violations(policy.level, policy.version)
}
