# METADATA
# title: Credential in plain text in a container's environment
# description: >-
#   A container's `env` entry sets a credential as a literal `value`: the manifest, the
#   workload object (readable by everyone who may get pods or deployments, and kept in etcd
#   unencrypted), `kubectl describe` and the process environment all hold it. An entry is
#   reported when its value has the shape of a well-known credential (private key block, AWS
#   access key id, GitHub, GitLab, Slack, Stripe, SendGrid, npm and Google API tokens, a JSON Web
#   Token, a bearer or basic authorization header, an Azure AccountKey, SharedAccessKey or SAS
#   signature, or a connection string with a password such as mongodb://user:pass@host or
#   Password=...), or when its name says it holds one and the value is written out. Names are
#   judged by their word parts (split at '_', '-', '.' and camelCase): the last part, after
#   encoding words such as value, base or b64, must be password, passwd, passphrase, secret,
#   token, credentials, creds, apikey, accesskey, secretkey or privatekey (alone or ending a
#   joined word such as DBPASSWORD), pwd or pass after another part, or key after api, access,
#   secret, private, account, storage, shared, signing, encryption, master, auth, app, hmac,
#   webhook, subscription or license; so TOKEN_TTL, PASSWORD_MIN_LENGTH, SECRET_NAME and
#   AWS_ACCESS_KEY_ID are not credential names. Not reported for a name alone: `valueFrom`
#   (secretKeyRef is PST-0300's), empty values, booleans, numbers, durations, file paths, URLs
#   without user info, and placeholders: changeme, change-me, changeit, replaceme, placeholder,
#   todo, tbd, fixme, example, sample, dummy, fake, none, null, undefined, unset, empty,
#   redacted, hidden, masked, default, n/a, the words secret, password, token and apikey
#   themselves, values of only x, *, ., #, _ or -, `<...>`, and values containing `${`, `$(`,
#   `{{`, `}}`, `#{` or `%{`, or of the form `$VAR`, `%VAR%`, `@VAR@`, your-..., insert ...,
#   replace_..., change ... or ...-here. The message says where the credential is and what it
#   looks like, never the value.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/configuration/secret/#using-secrets-as-environment-variables
#   - ref: https://kubernetes.io/docs/concepts/security/secrets-good-practices/
# custom:
#   id: PST-0310
#   severity: high
#   remediation: >-
#     Rotate the credential, since the manifest's history keeps it. Put it in a Secret (or an
#     external secret store synced into one) and mount it as a file, or reference it with
#     `valueFrom.secretKeyRef`.
#   kinds: [workloads]
#   frameworks:
#     nsa: ["Network separation: secrets"]
#     mitre: [T1552.001]
package posture.rules.secrets.plaintext_credential_in_env

import data.posture.lib.credentials
import data.posture.lib.k8s
import rego.v1

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	some i, env in k8s.as_array(c.container.env)
	is_object(env)
	value := object.get(env, "value", null)
	is_string(value)
	name := object.get(env, "name", "")
	found := credentials.kinds(name, value)
	count(found) > 0
	path := k8s.container_path(c, ["env", i, "value"])
	msg := sprintf("%s sets environment variable '%s' to what looks like %s, in plain text", [
		k8s.describe(c),
		name,
		credentials.describe(found),
	])
}
