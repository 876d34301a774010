# METADATA
# title: Probe or lifecycle hook sends requests to another host
# description: >-
#   The `host` field of an httpGet or tcpSocket probe or lifecycle hook makes the kubelet
#   connect to that address instead of the pod. The kubelet runs on the node's network, so a
#   pod author can aim it at node-local services, cloud metadata endpoints or other hosts
#   that trust the node (a server-side request forgery through the kubelet). From policy
#   version 1.34 the Pod Security Standards' baseline profile requires the field to be empty
#   or unset; `--pss-version` v1.33 or older does not check it.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://github.com/kubernetes/enhancements/issues/4940
# custom:
#   id: PST-0009
#   severity: medium
#   remediation: >-
#     Remove `host` from the probe or hook so the kubelet connects to the pod's own IP. For an
#     HTTP server that checks the Host header, set it with `httpHeaders` instead.
#   kinds: [workloads]
#   frameworks:
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.probe_host_set

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

# Most containers have few probes and hooks: object.filter keeps the ones that are there in one
# step, so absent ones cost nothing, rather than each being looked up and ruled out in turn.
# The check applies from policy version 1.34.
applies if pss.since(pss.version(), 34)

deny contains {"msg": msg, "path": path} if {
	applies
	fields := pss.probe_fields()
	handlers := pss.network_handlers()
	some c in k8s.containers()
	some field, probe in object.filter(c.container, fields)
	some handler, action in k8s.as_object(probe)
	handler in handlers
	host := action.host
	not host in {"", null}
	path := k8s.container_path(c, [field, handler, "host"])
	msg := sprintf("%s points its %s at host '%v'", [k8s.describe(c), fields[field], host])
}

deny contains {"msg": msg, "path": path} if {
	applies
	hooks := pss.lifecycle_hooks()
	handlers := pss.network_handlers()
	some c in k8s.containers()
	lifecycle := c.container.lifecycle
	is_object(lifecycle)
	some hook, hook_handlers in object.filter(lifecycle, hooks)
	some handler, action in k8s.as_object(hook_handlers)
	handler in handlers
	host := action.host
	not host in {"", null}
	path := k8s.container_path(c, ["lifecycle", hook, handler, "host"])
	msg := sprintf("%s points its %s at host '%v'", [k8s.describe(c), hooks[hook], host])
}
