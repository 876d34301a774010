# METADATA
# title: Credential in plain text in a ConfigMap
# description: >-
#   A ConfigMap's `data` holds a credential. ConfigMaps are meant for configuration: they are
#   readable by roles that may not read Secrets (view among them), are never encrypted at rest
#   and are printed by `kubectl describe`. A key is reported when its value has the shape of a
#   well-known credential (the formats PST-0310 lists: private key blocks, cloud and SaaS
#   tokens, JSON Web Tokens, connection strings with a password, Azure account keys), or when
#   the key's name says it holds one and its value is written out, judged by word parts and
#   placeholders as PST-0310 describes. A value of several lines is read as a file
#   (properties, YAML, .env, JSON): each `key: value` or `key=value` line whose key names a
#   credential and whose value is written out is reported, under the data key that holds the
#   file. binaryData is not read. The message names the key and what the value looks like,
#   never the value.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/configmap/
#   - ref: https://kubernetes.io/docs/concepts/security/secrets-good-practices/
# custom:
#   id: PST-0311
#   severity: high
#   remediation: >-
#     Rotate the credential, move it into a Secret (or an external secret store synced into
#     one), and mount that Secret next to the ConfigMap; keep only non-secret settings in the
#     ConfigMap.
#   kinds: [ConfigMap]
#   frameworks:
#     nsa: ["Network separation: secrets"]
#     mitre: [T1552.001]
package posture.rules.secrets.plaintext_credential_in_configmap

import data.posture.lib.credentials
import data.posture.lib.k8s
import rego.v1

data_entries := object.get(input, "data", {})

# A value of one line: its shape, and what its key says.
deny contains {"msg": msg, "path": ["data", key]} if {
	input.kind == "ConfigMap"
	is_object(data_entries)
	some key, value in data_entries
	is_string(value)
	not contains(value, "\n")
	found := credentials.kinds(key, value)
	count(found) > 0
	msg := sprintf("ConfigMap '%s' key '%s' holds what looks like %s, in plain text", [
		k8s.name(),
		key,
		credentials.describe(found),
	])
}

# A file: its credential shapes and its credential assignments.
deny contains {"msg": msg, "path": ["data", key]} if {
	input.kind == "ConfigMap"
	is_object(data_entries)
	some key, value in data_entries
	is_string(value)
	contains(value, "\n")
	assignments := credentials.file_assignments(value)
	found := array.concat(credentials.format_kinds(value), [a[1] | some a in assignments])
	count(found) > 0
	msg := sprintf("ConfigMap '%s' key '%s' holds what looks like %s, in plain text%s", [
		k8s.name(),
		key,
		credentials.describe(found),
		settings(assignments),
	])
}

settings(assignments) := sprintf(" (set by %s)", [concat(", ", credentials.distinct([a[0] | some a in assignments]))]) if {
	count(assignments) > 0
} else := ""
