# METADATA
# title: Compose service has a credential in plain text in its environment
# description: >-
#   An `environment` entry whose name says it holds a password, secret, token or key, with a
#   literal value, puts the credential in the repository, in `docker inspect` output and in the
#   environment of every process of the container. References such as `${DB_PASSWORD}` are not
#   reported. The message names the variable, never its value.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0516
#   severity: high
#   remediation: >-
#     Move the value out of the file: use Compose `secrets` (mounted as files under
#     `/run/secrets/`, many images read a `*_FILE` variable) or reference a variable from an
#     untracked `.env` file (`PASSWORD: ${DB_PASSWORD}`).
#   input: compose
#   kinds: [Service]
package posture.rules.compose.compose_plaintext_credential

import data.posture.lib.compose
import rego.v1

# Name parts that mark a credential; matched in the upper-cased name.
markers := ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL", "AUTH_KEY"]

# Names that contain a marker but hold a file path or a user name, not the credential.
harmless_suffixes := ["_FILE", "_PATH", "_USER", "_USERNAME", "_ID"]

deny contains {"msg": msg, "path": env.path} if {
	some env in compose.environment()
	name := upper(env.name)
	some marker in markers
	contains(name, marker)
	not harmless(name)
	not compose.is_placeholder(env.value)
	msg := sprintf("%s sets %s to a plain-text value in its environment", [compose.describe(), env.name])
}

harmless(name) if {
	some suffix in harmless_suffixes
	endswith(name, suffix)
}
