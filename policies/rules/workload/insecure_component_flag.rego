# METADATA
# title: Container started with a flag that disables security
# description: >-
#   Some components have a command-line switch that turns their own security off:
#   metrics-server's `--kubelet-insecure-tls` and the clients' `--insecure-skip-tls-verify`
#   skip certificate checks, so anyone on the path can impersonate the server and read or
#   alter what is exchanged; `--anonymous-auth=true`, `--authorization-mode=AlwaysAllow` and a
#   non-zero `--insecure-port` open an API to unauthenticated or unauthorized callers;
#   kubernetes-dashboard's `--enable-skip-login` lets anyone use the dashboard with its own
#   service account. The flags are a list in `policies/lib/command_line.rego` (flag, how it is
#   insecure, which components take it), read from every container's `command` and `args`
#   in both `--flag=value` and `--flag value` forms, and, as a best effort, from a script
#   passed to `sh -c`. Only a boolean flag given `=false` is read as off, as its flag parser
#   does.
# scope: package
# related_resources:
#   - ref: https://github.com/kubernetes-sigs/metrics-server#configuration
#   - ref: https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/
#   - ref: https://github.com/kubernetes/dashboard/blob/master/docs/common/arguments.md
# custom:
#   id: PST-0041
#   severity: high
#   remediation: >-
#     Remove the flag and configure the component properly: give metrics-server the kubelets'
#     CA (`--kubelet-certificate-authority`) or have the kubelets serve certificates signed by
#     the cluster CA, give clients the server's CA, keep anonymous access and AlwaysAllow off,
#     and require login on the dashboard.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Authentication and authorization"]
#     mitre: [T1557, T1190]
package posture.rules.workload.insecure_component_flag

import data.posture.lib.command_line as cl
import data.posture.lib.k8s
import rego.v1

entries := {e.flag: e | some e in cl.insecure_flags}

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	some f in cl.flags(c.container)
	e := entries[f.flag]
	shown := cl.insecure(e, f)
	path := k8s.container_path(c, [f.field, f.index])
	msg := sprintf("%s is started with %s (%s): it %s", [k8s.describe(c), e.flag, shown, e.why])
}
