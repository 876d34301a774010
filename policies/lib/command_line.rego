# A container's command line read as flags, and the list of flags that switch off a
# component's own security. The list is data: add an entry to cover another component.
#
# Words are `command` followed by `args`. A word with white space in it (the script of
# `sh -c "..."`, or a whole command line passed as one argument) is split on white space,
# with quotes and a trailing `;`, `&&`-style separators dropped: a best effort that finds a
# flag written plainly in a script, not one assembled from variables or escaped quotes.
# Flags are read the way spf13/pflag (used by nearly every Kubernetes component) reads them:
# `--flag=value`, `--flag value`, `-flag` for `--flag`; a boolean flag never takes the next
# word as its value (`--flag false` is the flag set to true, then a positional argument).
package posture.lib.command_line

import data.posture.lib.k8s
import rego.v1

# kind:
#   true      a boolean flag that is insecure when on (bare, or `=true`/`=1`/...)
#   false     a boolean flag that is insecure when turned off (`=false`)
#   not       insecure unless its value is one of `safe`
#   contains  insecure when its comma-separated value contains `value`
insecure_flags := [
	{"flag": "--kubelet-insecure-tls", "kind": "true", "who": "metrics-server, prometheus-adapter", "why": "does not verify the kubelets' serving certificates"},
	{"flag": "--insecure-skip-tls-verify", "kind": "true", "who": "kubectl, Argo CD, Helm and most Kubernetes clients", "why": "does not verify the server's TLS certificate"},
	{"flag": "--insecure-skip-verify", "kind": "true", "who": "Go HTTP clients and exporters", "why": "does not verify TLS certificates"},
	{"flag": "--ssl-insecure-skip-verify", "kind": "true", "who": "oauth2-proxy", "why": "does not verify the identity provider's TLS certificate"},
	{"flag": "--skip-tls-verify", "kind": "true", "who": "kaniko and registry clients", "why": "does not verify the registry's TLS certificate"},
	{"flag": "--skip-tls-verify-pull", "kind": "true", "who": "kaniko", "why": "does not verify the registry's TLS certificate when pulling"},
	{"flag": "--tls-skip-verify", "kind": "true", "who": "Vault agent and CLI", "why": "does not verify the server's TLS certificate"},
	{"flag": "--tls-verify", "kind": "false", "who": "podman, buildah, skopeo", "why": "does not verify the registry's TLS certificate"},
	{"flag": "--src-tls-verify", "kind": "false", "who": "skopeo", "why": "does not verify the source registry's TLS certificate"},
	{"flag": "--dest-tls-verify", "kind": "false", "who": "skopeo", "why": "does not verify the destination registry's TLS certificate"},
	{"flag": "--anonymous-auth", "kind": "true", "who": "kube-apiserver, kubelet", "why": "serves unauthenticated requests as system:anonymous"},
	{"flag": "--insecure-port", "kind": "not", "safe": ["0"], "who": "kube-apiserver before 1.20, kube-controller-manager, kube-scheduler", "why": "serves its API over plain HTTP with no authentication or authorization"},
	{"flag": "--authorization-mode", "kind": "contains", "value": "AlwaysAllow", "who": "kube-apiserver, kubelet", "why": "authorizes every request"},
	{"flag": "--enable-skip-login", "kind": "true", "who": "kubernetes-dashboard", "why": "lets anyone skip the login page and use the dashboard's own service account"},
	{"flag": "--enable-insecure-login", "kind": "true", "who": "kubernetes-dashboard", "why": "accepts logins over plain HTTP"},
	{"flag": "--disable-settings-authorizer", "kind": "true", "who": "kubernetes-dashboard", "why": "lets any user change the dashboard's global settings"},
]

# How strconv.ParseBool, which pflag uses, spells the booleans.
true_values := {"1", "t", "T", "TRUE", "true", "True"}

false_values := {"0", "f", "F", "FALSE", "false", "False"}

# The words of a container's command line, as [source field, index in it, word].
words(container) := [[field, i, w] |
	some field in ["command", "args"]
	some i, entry in k8s.as_array(object.get(container, field, []))
	is_string(entry)
	some w in split_entry(entry)
]

split_entry(entry) := [entry] if not regex.match(`\s`, entry)

split_entry(entry) := ws if {
	regex.match(`\s`, entry)
	ws := [w |
		some raw in regex.split(`\s+`, entry)
		w := trim(raw, "\"';&|()`")
		w != ""
	]
}

# Every flag of the command line: {"flag", "value", "attached", "field", "index"}, where value is
# null for a bare flag and attached says whether it came with `=`.
flags(container) := [f |
	ws := words(container)
	some n, [field, i, word] in ws
	startswith(word, "-")
	word != "-"
	word != "--"
	f := flag_of(ws, n, field, i, word)
]

flag_of(_, _, field, i, word) := {"flag": concat("", ["--", name]), "value": value, "attached": true, "field": field, "index": i} if {
	body := trim_left(word, "-")
	eq := indexof(body, "=")
	eq > 0
	name := substring(body, 0, eq)
	value := substring(body, eq + 1, -1)
}

flag_of(ws, n, field, i, word) := {"flag": concat("", ["--", body]), "value": next_value(ws, n), "attached": false, "field": field, "index": i} if {
	body := trim_left(word, "-")
	indexof(body, "=") < 0
	body != ""
}

next_value(ws, n) := ws[n + 1][2] if {
	n + 1 < count(ws)
	not startswith(ws[n + 1][2], "-")
} else := null

# Whether flag f, described by entry e, switches security off; the value as messages show it.
insecure(e, f) := "on" if {
	e.kind == "true"
	bool_on(f)
}

insecure(e, f) := "false" if {
	e.kind == "false"
	f.attached
	f.value in false_values
}

insecure(e, f) := f.value if {
	e.kind == "not"
	is_string(f.value)
	not f.value in e.safe
}

insecure(e, f) := f.value if {
	e.kind == "contains"
	is_string(f.value)
	some part in split(f.value, ",")
	trim_space(part) == e.value
}

# A boolean flag is on when bare, followed by a word (which pflag leaves as a positional
# argument), or given a true value with `=`.
bool_on(f) if not f.attached

bool_on(f) if {
	f.attached
	f.value in true_values
}
