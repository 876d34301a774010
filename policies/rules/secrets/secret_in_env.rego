# METADATA
# title: Secret exposed as environment variable
# description: >-
#   A Secret passed through an environment variable is easy to leak: the process
#   environment is inherited by every child process, shows up in crash reports, debug
#   endpoints and `/proc/<pid>/environ`, and is often logged by frameworks at start-up. It
#   also cannot be rotated without restarting the container. CIS 5.4.1 prefers Secrets
#   mounted as files. This rule reports `env[].valueFrom.secretKeyRef` and
#   `envFrom[].secretRef` on every container, init and ephemeral ones included; it names the
#   Secret and the variable, never a value.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-files-from-a-pod
#   - ref: https://kubernetes.io/docs/concepts/security/secrets-good-practices/
# custom:
#   id: PST-0300
#   severity: low
#   remediation: >-
#     Mount the Secret as a `secret` (or projected) volume and have the application read the
#     file; where the application only reads environment variables, point it at a file path
#     variable (many images support `*_FILE` variants) instead of the value itself.
#   kinds: [workloads]
#   frameworks:
#     cis-1.12: ["5.4.1"]
#     nsa: ["Network separation: secrets"]
package posture.rules.secrets.secret_in_env

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	some i, env in k8s.as_array(c.container.env)
	ref := env.valueFrom.secretKeyRef
	is_object(ref)
	path := k8s.container_path(c, ["env", i, "valueFrom", "secretKeyRef"])
	msg := sprintf("%s reads key '%s' of Secret '%s' into environment variable '%s'", [
		k8s.describe(c),
		object.get(ref, "key", ""),
		object.get(ref, "name", ""),
		object.get(env, "name", ""),
	])
}

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	some i, source in k8s.as_array(c.container.envFrom)
	ref := source.secretRef
	is_object(ref)
	path := k8s.container_path(c, ["envFrom", i, "secretRef"])
	msg := sprintf("%s imports every key of Secret '%s' as environment variables%s", [
		k8s.describe(c),
		object.get(ref, "name", ""),
		prefix_note(source),
	])
}

prefix_note(source) := sprintf(" (prefixed '%s')", [source.prefix]) if {
	is_string(source.prefix)
	source.prefix != ""
} else := ""
