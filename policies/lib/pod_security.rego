# Allowed values of the Pod Security Standards per policy version, kept in one place so that
# the baseline and restricted rules and the namespace-label judgement (lib/admission.rego)
# agree. Source: https://kubernetes.io/docs/concepts/security/pod-security-standards/ and the
# checks of k8s.io/pod-security-admission/policy (check_*.go), each of which lists the
# `MinimumVersion` of every revision; the page lags the code.
package posture.lib.pod_security

import data.posture.lib.k8s
import rego.v1

# The newest policy version posture knows (v1.37: the sysctls check's newest revision). Keep
# in step with NEWEST_MINOR in src/engine/pod_security.rs.
memo_newest := 37

# The policy version the rules judge by (`--pss-version`), as its minor number: the host hands
# it over as data.pod_security.version; latest when absent.
memo_version := v if {
	v := data.pod_security.version
	is_number(v)
} else := memo_newest

# Whether the policy version v includes a check revision that arrived at 1.<minor>.
since(v, minor) if v >= minor

# Windows pods (spec.os.name: windows) are exempt from the restricted capabilities, seccomp
# and allowPrivilegeEscalation checks from policy version 1.25.
windows_exempt(v) if {
	v >= 25
	k8s.is_windows()
}

# A pod in its own user namespace (hostUsers: false): from policy version 1.35 runAsNonRoot and
# runAsUser are not checked and baseline lets /proc be unmasked (KEP-127). Before 1.35 this
# relaxation sat behind a perma-alpha feature gate, off by default, so it did not apply.
user_namespace_relaxed(v) if {
	v >= 35
	in_user_namespace(k8s.pod_spec())
}

# Baseline "Capabilities": what a container may add (check_capabilities_baseline.go).
memo_baseline_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

# Whether a capability name may be added under baseline. Pod Security admission compares the
# names exactly (check_capabilities_baseline.go, one revision since 1.0): "chown", "CAP_CHOWN"
# and "net_bind_service" are not in the list, whatever a runtime would make of them.
baseline_capability(name) if name in memo_baseline_capabilities

# The capability a name grants at run time: runtimes are laxer than admission (Docker/moby
# takes any case and an optional CAP_ prefix; CRI-O strips the prefix). Used only to explain a
# finding, never to decide one.
capability_name(name) := trim_prefix(upper(name), "CAP_") if is_string(name)

# Baseline "Sysctls": the safe set per policy version (check_sysctls.go: the 1.0 set, then
# additions at 1.27, 1.29, 1.32 and 1.37).
memo_sysctls_since := {
	"kernel.shm_rmid_forced": 0,
	"net.ipv4.ip_local_port_range": 0,
	"net.ipv4.ip_unprivileged_port_start": 0,
	"net.ipv4.ping_group_range": 0,
	"net.ipv4.tcp_syncookies": 0,
	"net.ipv4.ip_local_reserved_ports": 27,
	"net.ipv4.tcp_keepalive_time": 29,
	"net.ipv4.tcp_fin_timeout": 29,
	"net.ipv4.tcp_keepalive_intvl": 29,
	"net.ipv4.tcp_keepalive_probes": 29,
	"net.ipv4.tcp_rmem": 32,
	"net.ipv4.tcp_wmem": 32,
	"net.ipv4.tcp_slow_start_after_idle": 37,
	"net.ipv4.tcp_notsent_lowat": 37,
}

safe_sysctl(name, v) if memo_sysctls_since[name] <= v

# Baseline "SELinux": the types a pod or container may ask for, per policy version ("" is the
# runtime's choice; container_engine_t joined at 1.31, check_seLinuxOptions.go). user and
# role must stay empty at every version.
memo_selinux_types_since := {"": 0, "container_t": 0, "container_init_t": 0, "container_kvm_t": 0, "container_engine_t": 31}

selinux_type(type, v) if memo_selinux_types_since[type] <= v

# Baseline "Seccomp" up to policy version 1.18 read the alpha annotations, not the field
# (check_seccompProfile_baseline.go); these values were allowed there.
memo_seccomp_pod_annotation := "seccomp.security.alpha.kubernetes.io/pod"

memo_seccomp_container_annotation_prefix := "container.seccomp.security.alpha.kubernetes.io/"

allowed_seccomp_annotation(value) if value in {"runtime/default", "docker/default"}

allowed_seccomp_annotation(value) if startswith(value, "localhost/")

# The seccomp annotations that apply to a workload: the pod's, and those naming one of its
# containers (admission reads no other), each as {key, value, container}; container is null
# for the pod's.
memo_seccomp_annotations := [a |
	some key, value in k8s.pod_annotations()
	a := seccomp_annotation(key, value)
]

seccomp_annotation(key, value) := {"key": key, "value": value, "container": null} if {
	key == memo_seccomp_pod_annotation
}

seccomp_annotation(key, value) := {"key": key, "value": value, "container": name} if {
	startswith(key, memo_seccomp_container_annotation_prefix)
	name := substring(key, count(memo_seccomp_container_annotation_prefix), -1)
	some c in k8s.containers()
	c.name == name
}

# Baseline "Seccomp" and "AppArmor": the profile types a securityContext may set.
memo_allowed_profile_types := {"RuntimeDefault", "Localhost"}

# Where a finding about a profile points: its type, or the profile itself when it has none.
profile_type_path(base, profile) := array.concat(base, ["type"]) if {
	profile.type != null
} else := base

# Baseline "AppArmor" through the deprecated per-container annotation.
memo_apparmor_annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

allowed_apparmor_annotation(value) if value in {"", "runtime/default"}

allowed_apparmor_annotation(value) if startswith(value, "localhost/")

# Baseline "Probes / Lifecycle Hooks" (check_hostProbesAndhostLifecycle.go, from policy
# version 1.34): the handlers whose host field must stay empty.
memo_probe_fields := {"livenessProbe": "liveness probe", "readinessProbe": "readiness probe", "startupProbe": "startup probe"}

memo_lifecycle_hooks := {"postStart": "postStart hook", "preStop": "preStop hook"}

memo_network_handlers := {"httpGet", "tcpSocket"}

# A pod in its own user namespace (hostUsers: false); see user_namespace_relaxed.
in_user_namespace(pod_spec) if pod_spec.hostUsers == false

# Shows a value of an enumerated field in a message, naming what is empty.
show(v) := v if {
	is_string(v)
	v != ""
} else := "(empty)" if {
	v == ""
} else := sprintf("%v", [v])

# Accessors. A reference from another package to a complete rule costs regorus about
# 5 µs each time (it resolves the package's virtual document), a call to a function that
# returns the same memoised rule about 1 µs; rules are evaluated on every object, so the
# shared values are read through these functions.
baseline_capabilities() := memo_baseline_capabilities
version() := memo_version
newest() := memo_newest
seccomp_annotations() := memo_seccomp_annotations
allowed_profile_types() := memo_allowed_profile_types
apparmor_annotation_prefix() := memo_apparmor_annotation_prefix
probe_fields() := memo_probe_fields
lifecycle_hooks() := memo_lifecycle_hooks
network_handlers() := memo_network_handlers
