# Allowed values of the Pod Security Standards, kept in one place so that the baseline and
# restricted rules agree. Source: https://kubernetes.io/docs/concepts/security/pod-security-standards/
# and the checks of k8s.io/pod-security-admission/policy, at their newest policy version.
package posture.lib.pod_security

import rego.v1

# Baseline "Capabilities": what a container may add (check_capabilities_baseline.go).
memo_baseline_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

# The capability a name grants. Pod Security admission compares the names exactly, but
# runtimes are laxer (Docker/moby takes any case and an optional CAP_ prefix; CRI-O strips
# the prefix), so a name is judged by what it grants: "cap_sys_admin" is SYS_ADMIN.
capability_name(name) := trim_prefix(upper(name), "CAP_") if is_string(name)

# Baseline "Sysctls": the safe set (check_sysctls.go; the 1.32 policy version added
# tcp_rmem and tcp_wmem).
memo_safe_sysctls := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ping_group_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

# Baseline "SELinux": the types a pod or container may ask for ("" is the runtime's
# choice; container_engine_t joined in the 1.31 policy version). user and role must stay empty.
memo_selinux_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

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

# Baseline "Probes / Lifecycle Hooks" (1.34): the handlers whose host field must stay empty.
memo_probe_fields := {"livenessProbe": "liveness probe", "readinessProbe": "readiness probe", "startupProbe": "startup probe"}

memo_lifecycle_hooks := {"postStart": "postStart hook", "preStop": "preStop hook"}

memo_network_handlers := {"httpGet", "tcpSocket"}

# A pod in its own user namespace (hostUsers: false) may unmask /proc under baseline
# (check_procMount_baseline.go, 1.35 policy version).
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
safe_sysctls() := memo_safe_sysctls
selinux_types() := memo_selinux_types
allowed_profile_types() := memo_allowed_profile_types
apparmor_annotation_prefix() := memo_apparmor_annotation_prefix
probe_fields() := memo_probe_fields
lifecycle_hooks() := memo_lifecycle_hooks
network_handlers() := memo_network_handlers
