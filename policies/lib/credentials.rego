# Shared helpers for the plain-text credential rules (environment variables, ConfigMaps): does
# a name say it holds a credential, does a value have the shape of a well-known credential, and
# is a value only a placeholder or a reference. Functions only; nothing here returns or
# formats a value, so no rule can print one by accident.
package posture.lib.credentials

import rego.v1

# Word parts of a name, lower-cased: split at every character that is not a letter or digit
# and at camelCase humps. "AWS_SECRET_ACCESS_KEY" -> [aws, secret, access, key],
# "dbPassword" -> [db, password], "APIKey" -> [api, key], "spring.datasource.password" ->
# [spring, datasource, password].
name_parts(name) := [lower(p) |
	humps := regex.replace(name, `([a-z0-9])([A-Z])`, "${1}_${2}")
	acronyms := regex.replace(humps, `([A-Z]+)([A-Z][a-z])`, "${1}_${2}")
	some p in regex.split(`[^A-Za-z0-9]+`, acronyms)
	p != ""
]

# Trailing parts that say how the credential is written, not what the name holds:
# SECRET_KEY_BASE, API_TOKEN_VALUE, PASSWORD_B64.
encoding_tails := {"value", "val", "base", "b64", "base64", "plain", "plaintext", "raw", "text", "str", "string", "data", "encoded", "literal"}

# The parts up to the last one that is not an encoding tail.
core_parts(parts) := array.slice(parts, 0, max(kept) + 1) if {
	kept := [i | some i, p in parts; not p in encoding_tails]
	count(kept) > 0
} else := []

# Last parts that name a credential, alone or at the end of a joined word (DBPASSWORD's
# "dbpassword", AUTHTOKEN's "authtoken").
word_kinds := [
	["passphrase", "a password"],
	["password", "a password"],
	["passwd", "a password"],
	["apikey", "an API key"],
	["accesskey", "an access key"],
	["secretkey", "a secret key"],
	["privatekey", "a private key"],
	["secret", "a secret"],
	["secrets", "a secret"],
	["token", "a token"],
	["tokens", "a token"],
	["credential", "credentials"],
	["credentials", "credentials"],
	["creds", "credentials"],
]

# Short forms that count only as a whole part after another (DB_PWD, REDIS_PASS; PWD alone is
# the shell's working directory).
short_kinds := [["pwd", "a password"], ["pass", "a password"]]

# The part before a final "key" that makes it a secret key (API_KEY, AWS_SECRET_ACCESS_KEY,
# STORAGE_ACCOUNT_KEY); KEY alone, CACHE_KEY and PRIMARY_KEY are not credentials.
key_kinds := [
	["api", "an API key"],
	["access", "an access key"],
	["secret", "a secret key"],
	["private", "a private key"],
	["account", "an account key"],
	["storage", "an account key"],
	["shared", "a shared key"],
	["signing", "a signing key"],
	["encryption", "an encryption key"],
	["master", "a master key"],
	["auth", "an authentication key"],
	["app", "an application key"],
	["hmac", "a signing key"],
	["webhook", "a webhook key"],
	["subscription", "a subscription key"],
	["license", "a license key"],
]

# What a name says its value is ("a password"), judged by its last word part (after encoding
# tails): TOKEN_TTL, PASSWORD_MIN_LENGTH, SECRET_NAME and PASSWORD_FILE end in a part that says
# the value is something else, and are not credential names.
name_kind(name) := found[0] if {
	core := core_parts(name_parts(name))
	n := count(core)
	n > 0
	found := array.concat(
		array.concat(secret_access_key(core, n), key_kind(core, n)),
		array.concat([pair[1] | some pair in word_kinds; endswith(core[n - 1], pair[0])], short_kind(core, n)),
	)
	count(found) > 0
}

# Conditions stay out of comprehensions: regorus 0.14's bytecode VM never ends a comprehension
# whose first statement is a condition that fails.
key_kind(core, n) := [pair[1] | some pair in key_kinds; pair[0] == core[n - 2]] if {
	n >= 2
	core[n - 1] == "key"
} else := []

short_kind(core, n) := [pair[1] | some pair in short_kinds; pair[0] == core[n - 1]] if n >= 2 else := []

# AWS_SECRET_ACCESS_KEY: more than an access key.
secret_access_key(core, n) := ["a secret access key"] if {
	n >= 3
	core[n - 1] == "key"
	core[n - 2] == "access"
	"secret" in core
} else := []

# Whole values that stand for "fill this in" (compared lower-cased and trimmed).
placeholder_words := {
	"changeme", "change-me", "change_me", "changeit", "change-it", "changethis", "replaceme",
	"replace-me", "replace_me", "placeholder", "todo", "tbd", "fixme", "example", "sample",
	"dummy", "fake", "none", "null", "nil", "undefined", "unset", "notset", "not-set", "not_set",
	"empty", "redacted", "(redacted)", "hidden", "masked", "secret", "password", "passwd",
	"token", "apikey", "api_key", "api-key", "n/a", "na", "default", "?",
}

# Placeholders, and references resolved elsewhere: `${VAR}`, `$VAR`, `$(VAR)` (Kubernetes
# expands it from other variables), `{{ ... }}` (Helm, Go and Jinja templates), `#{...}`,
# `%VAR%`, `@VAR@`, `<...>`, values made only of filler characters (xxx, ***, ...), and
# "your-...", "insert ...", "replace_with_...", "...-here".
is_placeholder(t) if lower(t) in placeholder_words

is_placeholder(t) if regex.match(`^[xX*.#_•-]+$`, t)

is_placeholder(t) if regex.match(`^<[^<>]*>$`, t)

is_placeholder(t) if {
	some marker in ["${", "$(", "{{", "}}", "#{", "%{"]
	contains(t, marker)
}

is_placeholder(t) if regex.match(`^\$[A-Za-z_][A-Za-z0-9_]*$`, t)

is_placeholder(t) if regex.match(`^%[A-Za-z_][A-Za-z0-9_]*%$`, t)

is_placeholder(t) if regex.match(`^@[A-Za-z_][A-Za-z0-9_.]*@$`, t)

is_placeholder(t) if regex.match(`(?i)^(your|insert|enter|put|replace|change)[-_ ]`, t)

is_placeholder(t) if regex.match(`(?i)[-_ ]here$`, t)

# Values a credential name can carry that are settings, not credentials: booleans, numbers and
# durations (an option such as SLACK_TOKEN: "false" or API_KEY: "0"), file paths
# (GOOGLE_APPLICATION_CREDENTIALS: /var/run/secrets/gcp/key.json), URLs without user info, and
# the start of a nested value.
is_setting(t) if regex.match(`(?i)^(true|false|yes|no|on|off|enabled?|disabled?)$`, t)

is_setting(t) if regex.match(`^-?[0-9]+(\.[0-9]+)?$`, t)

is_setting(t) if regex.match(`(?i)^[0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|ki|mi|gi)$`, t)

is_setting(t) if regex.match(`^(~|\.{1,2})?(/[A-Za-z0-9._@-]+)+/?$`, t)

is_setting(t) if regex.match(`^[A-Za-z][A-Za-z0-9+.-]*://[^@\s]*$`, t)

# What starts a nested value in a file rather than being one: YAML block scalars (`|`, `>-`) and
# an opening or empty mapping or list.
is_setting(t) if regex.match(`^([|>][-+0-9]*|[\[{]|\{\}|\[\])$`, t)

# A value that is written out, not a placeholder, reference or setting.
is_literal(v) if {
	is_string(v)
	t := trim_space(v)
	t != ""
	not is_placeholder(t)
	not is_setting(t)
}

# Shapes of well-known credentials, found anywhere in a value, in message order.
formats := [
	[`-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`, "a private key"],
	[`(^|[^A-Za-z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}([^A-Za-z0-9]|$)`, "an AWS access key id"],
	[`(^|[^A-Za-z0-9])(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}([^A-Za-z0-9]|$)`, "a GitHub token"],
	[`github_pat_[A-Za-z0-9_]{22,}`, "a GitHub token"],
	[`glpat-[A-Za-z0-9_-]{20,}`, "a GitLab token"],
	[`xox[abposr]-[A-Za-z0-9-]{10,}`, "a Slack token"],
	[`https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+`, "a Slack webhook URL"],
	[`AIza[0-9A-Za-z_-]{35}`, "a Google API key"],
	[`(sk|rk)_live_[0-9A-Za-z]{20,}`, "a Stripe secret key"],
	[`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`, "a SendGrid API key"],
	[`npm_[A-Za-z0-9]{36}`, "an npm token"],
	[`(^|[^A-Za-z0-9_.-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`, "a JSON Web Token"],
	[`(?i)authorization:\s*basic\s+[A-Za-z0-9+/]{8,}=*`, "HTTP basic credentials"],
	[`(?i)(^|[^A-Za-z0-9])bearer\s+[A-Za-z0-9._~+/-]{20,}=*`, "a bearer token"],
	[`(?i)[?&;]sig=[A-Za-z0-9%+/=]{30,}`, "a shared access signature"],
]

# Credentials inside a connection string, whose secret part is checked for placeholders:
# scheme://user:password@host, Password=/Pwd= in ADO.NET and JDBC-style strings, and Azure's
# AccountKey= and SharedAccessKey=. The capture group is the secret part.
secret_parts := [
	[`[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#"']+:([^\s@/"']+)@`, "a connection string with a password"],
	[`(?i)(?:^|[;\s])(?:password|pwd)\s*=\s*([^;'"\s][^;'"\r\n]*)`, "a connection string with a password"],
	[`(?i)AccountKey=([^;'"\s]+)`, "an Azure storage account key"],
	[`(?i)SharedAccessKey=([^;'"\s]+)`, "an Azure shared access key"],
]

# The kinds of credential a value looks like, by its shape, in message order.
format_kinds(v) := array.concat(
	[k | some f in formats; regex.match(f[0], v); k := f[1]],
	[k |
		some f in secret_parts
		some m in regex.find_all_string_submatch_n(f[0], v, -1)
		not is_placeholder(trim_space(m[1]))
		k := f[1]
	],
) if is_string(v) else := []

# The kinds of credential a named value looks like: its shape first, then what its name says
# when the value is a literal.
kinds(name, v) := array.concat(format_kinds(v), named_kind(name, v))

named_kind(name, v) := [name_kind(name)] if {
	is_literal(v)
	name_kind(name)
} else := []

# "key: value" and "key=value" lines of a file held in a value (properties, YAML, .env, JSON)
# whose key names a credential and whose value is a literal, as [key, kind]. The pattern only
# takes keys that contain a marker, so large files cost one scan.
assignment := `(?m)^[ \t]*(?:export[ \t]+)?["']?([A-Za-z0-9_.-]*(?i:pass|pwd|secret|token|key|credential|creds)[A-Za-z0-9_.-]*)["']?[ \t]*[:=][ \t]*(.*?)[ \t]*,?[ \t]*$`

file_assignments(v) := [[m[1], k] |
	some m in regex.find_all_string_submatch_n(assignment, v, -1)
	value := trim(trim_space(m[2]), "\"'")
	is_literal(value)
	k := name_kind(m[1])
]

# "a password" / "a password and a token": the distinct kinds, in first-seen order.
describe(ks) := concat(" and ", distinct(ks))

distinct(ks) := [k | some i, k in ks; not k in array.slice(ks, 0, i)]
