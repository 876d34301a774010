# METADATA
# title: Secret values committed in a manifest
# description: >-
#   A Secret in a manifest file has values in `data` or `stringData`: whoever can read the
#   repository, its forks, clones and history, reads the credentials (base64 in `data` is an
#   encoding, not encryption). Empty values are not reported, nor are Secrets of type
#   kubernetes.io/service-account-token (the token controller fills them; PST-0124 and PST-0125
#   report them). The rule runs on manifest files only (METADATA `origins: [file]`): a live
#   cluster's Secrets are meant to hold values, and the output of helm template or kustomize
#   holds values generated or supplied at render time more often than committed ones. posture
#   never reads the values into a report: they are dropped when the manifest is read, and the
#   message names the keys only.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/secrets-good-practices/
#   - ref: https://kubernetes.io/docs/concepts/configuration/secret/
# custom:
#   id: PST-0312
#   severity: high
#   remediation: >-
#     Remove the values from the repository (and its history) and rotate them. Commit an
#     encrypted form instead (Sealed Secrets, SOPS) or a reference to an external store
#     (External Secrets Operator, the Secrets Store CSI driver), or create the Secret at deploy
#     time from the pipeline's secret store.
#   kinds: [Secret]
#   origins: [file]
#   frameworks:
#     nsa: ["Network separation: secrets"]
#     mitre: [T1552.001]
package posture.rules.secrets.secret_values_in_manifest

import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": [field]} if {
	input.kind == "Secret"
	object.get(input, "type", "Opaque") != "kubernetes.io/service-account-token"
	some field in ["data", "stringData"]
	entries := object.get(input, field, {})
	is_object(entries)
	keys := sort([k | some k, v in entries; filled(v)])
	count(keys) > 0
	msg := sprintf("Secret '%s' has values for %s in the manifest (%s)", [k8s.name(), listed(keys), field])
}

filled(v) if {
	v != null
	v != ""
}

listed(keys) := sprintf("key '%s'", [keys[0]]) if {
	count(keys) == 1
} else := sprintf("keys '%s'", [concat("', '", array.slice(keys, 0, 5))]) if {
	count(keys) <= 5
} else := sprintf("keys '%s' and %d more", [concat("', '", array.slice(keys, 0, 5)), count(keys) - 5])
