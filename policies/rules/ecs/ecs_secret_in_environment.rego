# METADATA
# title: ECS container has a credential in plain text in its environment
# description: >-
#   An `environment` entry whose name says it holds a password, secret, token or key
#   (`DB_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, `ECS_ENGINE_AUTH_DATA`), or whose value looks
#   like an access key or private key, puts the credential in the task definition, where
#   anyone allowed to describe it (and every revision kept) can read it. Values from
#   `secrets` are not reported. The message names the variable, never its value.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0612
#   severity: high
#   remediation: >-
#     Store the value in Secrets Manager or SSM Parameter Store and pass it with `secrets:
#     [{name, valueFrom}]`; the task's execution role needs read access to it.
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.8]
#     mitre: [T1552]
package posture.rules.ecs.ecs_secret_in_environment

import data.posture.lib.ecs
import rego.v1

# Name parts that mark a credential; matched in the upper-cased name.
markers := ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL", "AUTH_KEY", "ENGINE_AUTH_DATA"]

# Names that contain a marker but hold a file path, an ARN or a user name, not the credential.
harmless_suffixes := ["_FILE", "_PATH", "_USER", "_USERNAME", "_ID", "_ARN", "_NAME", "_URL", "_HEADER", "_LENGTH", "_TTL", "_EXPIRY", "_TIMEOUT"]

deny contains {"msg": msg, "path": e.path} if {
	some c in ecs.containers()
	some e in ecs.environment(c)
	credential_name(e.name)
	not ecs.is_placeholder(e.value)
	not reference(e.value)
	msg := sprintf("%s sets %s to a plain-text value in its environment", [ecs.describe(c), e.name])
}

deny contains {"msg": msg, "path": e.path} if {
	some c in ecs.containers()
	some e in ecs.environment(c)
	not credential_name(e.name)
	credential_value(e.value)
	msg := sprintf("%s sets %s to what looks like a credential in its environment", [ecs.describe(c), e.name])
}

# The keys AWS Config's ecs-no-environment-secrets rule checks by default, whatever the
# suffix rules below say.
credential_name(name) if upper(name) in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ECS_ENGINE_AUTH_DATA"}

credential_name(name) if {
	upper_name := upper(name)
	some marker in markers
	contains(upper_name, marker)
	not harmless(upper_name)
}

harmless(name) if {
	some suffix in harmless_suffixes
	endswith(name, suffix)
}

# An ARN names where the secret is kept, not the secret.
reference(value) if startswith(value, "arn:")

# Value formats that are credentials whatever the name: AWS access key ids, private keys.
credential_value(value) if {
	is_string(value)
	regex.match(`^(AKIA|ASIA)[A-Z0-9]{16}$`, value)
}

credential_value(value) if {
	is_string(value)
	contains(value, "-----BEGIN")
	contains(value, "PRIVATE KEY")
}
