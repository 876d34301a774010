# Shared helpers for RBAC rules: does a PolicyRule grant a verb on a resource (with the
# authorizer's wildcard semantics), which rules of the input Role/ClusterRole are the user's to
# change, and who is bound to the input role.
#
# Referring to any rule of a package makes regorus (0.14) evaluate all of the package's complete
# rules for the object, so the complete rules here are few and cheap, what only a finding needs
# is a function, and from posture.lib.k8s (whose complete rules walk pod specs) this file calls
# only functions, which do not evaluate that package's rules.
package posture.lib.rbac

import data.posture.lib.k8s
import rego.v1

bootstrap_annotation := "rbac.authorization.kubernetes.io/autoupdate"

# Roles and bindings that the API server creates and reconciles on every start (cluster-admin,
# admin, edit, view, system:*). They carry this annotation; editing them is futile.
memo_is_bootstrap if object.get(input, ["metadata", "annotations", bootstrap_annotation], "") == "true"

# The controller manager overwrites the rules of an aggregated ClusterRole with the union of the
# rules of the ClusterRoles its selectors match, so rules written in its manifest never take
# effect and the granting roles are checked on their own.
is_aggregated if object.get(input, "aggregationRule", null) != null

name(obj) := object.get(obj, ["metadata", "name"], "(unnamed)")

# Namespace key as the inventory uses it: "" when a manifest leaves it to deploy time.
namespace(obj) := object.get(obj, ["metadata", "namespace"], "")

# The input object as messages name it: ClusterRole 'deployer' (the form of k8s.workload).
label(obj) := sprintf("%s '%s'", [object.get(obj, "kind", "Object"), name(obj)])

# Rules of the input Role/ClusterRole that posture checks, by index, with apiGroups, resources,
# verbs and nonResourceURLs as sets (absent or null read as empty), so that a rule file can
# filter with one set intersection, e.g. `count(rule.resources & {"secrets", "*"}) > 0`, before
# calling `grants`. resourceNames stays a list, in the manifest's order. Built once per object
# and shared by every RBAC rule.
memo_checked_rules[i] := {
	"apiGroups": {x | some x in field(r, "apiGroups")},
	"resources": {x | some x in field(r, "resources")},
	"verbs": {x | some x in field(r, "verbs")},
	"nonResourceURLs": {x | some x in field(r, "nonResourceURLs")},
	"resourceNames": field(r, "resourceNames"),
} if {
	not memo_is_bootstrap
	not is_aggregated
	some i, r in k8s.as_array(object.get(input, "rules", []))
	is_object(r)
}

# A list field of a PolicyRule; absent or null reads as empty.
field(rule, f) := k8s.as_array(object.get(rule, f, []))

# VerbMatches, APIGroupMatches and ResourceMatches from k8s.io/component-helpers/auth/rbac:
# "*" matches everything, "*/sub" matches subresource "sub" of any resource; nothing else is a
# pattern ("pods/*" matches only a resource literally named so).
resource_patterns(resource) := {resource, "*", sprintf("*/%s", [parts[1]])} if {
	parts := split(resource, "/")
	count(parts) == 2
} else := {resource, "*"}

has_resource_names(rule) if count(rule.resourceNames) > 0

# A create or deletecollection request on a collection carries no object name, so a rule limited
# to resourceNames never allows it; a subresource request (serviceaccounts/token) names the
# parent object and is limited by the list.
names_exclude(rule, verb, resource) if {
	count(rule.resourceNames) > 0
	verb in {"create", "deletecollection"}
	not contains(resource, "/")
}

# Does `rule` (an element of checked_rules) allow `verb` on `resource` ("pods", "nodes/proxy")
# of API group `group` ("" = core)?
grants(rule, verb, group, resource) if {
	count(rule.verbs & {verb, "*"}) > 0
	count(rule.apiGroups & {group, "*"}) > 0
	count(rule.resources & resource_patterns(resource)) > 0
	not names_exclude(rule, verb, resource)
}

# The verbs of `wanted` (an array, in display order) that `rule` allows on the resource.
granted_verbs(rule, wanted, group, resource) := [v |
	some v in wanted
	grants(rule, v, group, resource)
]

# "get, list and watch"
join_words(words) := words[0] if count(words) == 1

join_words(words) := sprintf("%s and %s", [concat(", ", array.slice(words, 0, n - 1)), words[n - 1]]) if {
	n := count(words)
	n > 1
}

# The part of a message after "grants X on Y": which fields matched through "*", which
# resourceNames limit the rule, and who is bound to the role.
details(rule) := concat("", [wildcard_note(rule), names_note(rule), bound_note(input)])

wildcard_fields(rule) := [f |
	some f in ["apiGroups", "resources", "verbs"]
	"*" in rule[f]
]

wildcard_note(rule) := prefixed_list(" through '*' in ", wildcard_fields(rule))

prefixed_list(prefix, words) := concat("", [prefix, join_words(words)]) if {
	count(words) > 0
} else := ""

names_note(rule) := sprintf(" (only resourceNames %s)", [concat(", ", rule.resourceNames)]) if {
	has_resource_names(rule)
} else := ""

# "ServiceAccount ci/deployer", "User alice", "Group system:masters". A ServiceAccount subject
# without a namespace means the binding's own.
subject_label(s, binding_ns) := sprintf("ServiceAccount %s/%s", [ns, s.name]) if {
	s.kind == "ServiceAccount"
	ns := object.get(s, "namespace", binding_ns)
	ns != ""
} else := sprintf("%s %s", [object.get(s, "kind", "subject"), object.get(s, "name", "")])

# "ClusterRoleBinding 'admins'", "RoleBinding 'deploy' in namespace 'ci'"
binding_label(kind, bname, ns) := sprintf("RoleBinding '%s' in namespace '%s'", [bname, ns]) if {
	kind == "RoleBinding"
	ns != ""
} else := sprintf("%s '%s'", [kind, bname])

# Bindings that grant the role, from the inventory's index by roleRef: a Role is granted only by
# RoleBindings of its own namespace ("Role/<ns>/<name>"), a ClusterRole by any binding
# ("ClusterRole/<name>"). A keyed lookup, because a walk over every binding for every role costs
# roles x bindings.
role_key(role) := sprintf("ClusterRole/%s", [name(role)]) if role.kind == "ClusterRole"

role_key(role) := sprintf("Role/%s/%s", [namespace(role), name(role)]) if role.kind == "Role"

bound_subjects(role) := sort([sprintf("%s by %s", [subject_label(s, b.namespace), by]) |
	some b in k8s.as_array(object.get(data.inventory, ["role_bindings", role_key(role)], []))
	by := binding_label(b.kind, b.name, b.namespace)
	some s in k8s.as_array(object.get(b, "subjects", []))
	is_object(s)
])

max_listed := 3

# "; bound to ServiceAccount ci/deployer by RoleBinding 'deploy' in namespace 'ci'", or "".
bound_note(role) := bound_listing(bound_subjects(role))

bound_listing(subjects) := "" if {
	count(subjects) == 0
} else := sprintf("; bound to %s", [concat(", ", subjects)]) if {
	count(subjects) <= max_listed
} else := sprintf("; bound to %s and %d more", [
	concat(", ", array.slice(subjects, 0, max_listed)),
	count(subjects) - max_listed,
])

# Subjects of the input binding, with their index.
memo_binding_subjects[j] := s if {
	some j, s in k8s.as_array(object.get(input, "subjects", []))
	is_object(s)
}

role_ref_kind(binding) := object.get(binding, ["roleRef", "kind"], "")

role_ref_name(binding) := object.get(binding, ["roleRef", "name"], "")

# A binding object as messages name it.
binding_label_of(binding) := binding_label(binding.kind, name(binding), namespace(binding))

is_system_masters(s) if {
	s.kind == "Group"
	s.name == "system:masters"
}

# Accessors. A reference from another package to a complete rule costs regorus about
# 5 µs each time (it resolves the package's virtual document), a call to a function that
# returns the same memoised rule about 1 µs; rules are evaluated on every object, so the
# shared values are read through these functions.
checked_rules() := memo_checked_rules
binding_subjects() := memo_binding_subjects
is_bootstrap() := true if memo_is_bootstrap else := false

# What a role lets its holders do beyond their own reach (read Secrets, run pods, change RBAC,
# ...): the judgement that binding and ServiceAccount rules share. Functions only, for the
# reason at the top of this file.

# A PolicyRule as written, in the form `grants` reads (see memo_checked_rules).
normalized(r) := {
	"apiGroups": {x | some x in field(r, "apiGroups")},
	"resources": {x | some x in field(r, "resources")},
	"verbs": {x | some x in field(r, "verbs")},
	"nonResourceURLs": {x | some x in field(r, "nonResourceURLs")},
	"resourceNames": field(r, "resourceNames"),
}

# [API group, resource] of the objects whose create makes pods from a template the writer
# chooses, pods themselves first (as PST-0103 reads them).
pod_makers := [
	["", "pods"],
	["apps", "deployments"],
	["apps", "replicasets"],
	["apps", "statefulsets"],
	["apps", "daemonsets"],
	["", "replicationcontrollers"],
	["batch", "jobs"],
	["batch", "cronjobs"],
]

# Their resource names and "*": a first filter before `grants`.
pod_maker_names := {r[1] | some r in pod_makers} | {"*"}

rbac_group := "rbac.authorization.k8s.io"

# The powers posture names, in message order, with how messages say them.
power_order := ["all", "secrets", "pods", "workloads", "exec", "rbac", "escalate", "nodes", "tokens"]

power_phrases := {
	"all": "every verb on every resource",
	"secrets": "read Secrets",
	"pods": "create pods",
	"workloads": "update pods or workload controllers",
	"exec": "exec into or attach to pods",
	"rbac": "write roles or bindings",
	"escalate": "bind, escalate or impersonate",
	"nodes": "proxy to kubelets (nodes/proxy)",
	"tokens": "create ServiceAccount tokens",
}

has_all(rule) if {
	"*" in rule.verbs
	"*" in rule.resources
	"*" in rule.apiGroups
}

has_secrets(rule) if {
	count(rule.resources & {"secrets", "*"}) > 0
	count(rule.verbs & {"get", "list", "watch", "*"}) > 0
	not has_resource_names(rule)
	some v in ["get", "list", "watch"]
	grants(rule, v, "", "secrets")
}

has_pods(rule) if {
	count(rule.resources & pod_maker_names) > 0
	count(rule.verbs & {"create", "*"}) > 0
	some r in pod_makers
	grants(rule, "create", r[0], r[1])
}

has_workloads(rule) if {
	count(rule.resources & pod_maker_names) > 0
	count(rule.verbs & {"update", "patch", "*"}) > 0
	some r in pod_makers
	some v in ["update", "patch"]
	grants(rule, v, r[0], r[1])
}

has_exec(rule) if {
	count(rule.resources & {"pods/exec", "pods/attach", "*/exec", "*/attach", "*"}) > 0
	count(rule.verbs & {"create", "get", "*"}) > 0
	some sub in ["pods/exec", "pods/attach"]
	some v in ["create", "get"]
	grants(rule, v, "", sub)
}

has_rbac(rule) if {
	count(rule.resources & {"roles", "clusterroles", "rolebindings", "clusterrolebindings", "*"}) > 0
	count(rule.verbs & {"create", "update", "patch", "*"}) > 0
	some res in ["roles", "clusterroles", "rolebindings", "clusterrolebindings"]
	some v in ["create", "update", "patch"]
	grants(rule, v, rbac_group, res)
}

has_escalate(rule) if {
	count(rule.verbs & {"bind", "escalate", "*"}) > 0
	some res in ["roles", "clusterroles"]
	some v in ["bind", "escalate"]
	grants(rule, v, rbac_group, res)
}

has_escalate(rule) if {
	count(rule.verbs & {"impersonate", "*"}) > 0
	some res in ["users", "groups", "serviceaccounts"]
	grants(rule, "impersonate", "", res)
}

has_nodes(rule) if {
	count(rule.resources & {"nodes/proxy", "*/proxy", "*"}) > 0
	some v in ["get", "create"]
	grants(rule, v, "", "nodes/proxy")
}

has_tokens(rule) if {
	count(rule.resources & {"serviceaccounts/token", "*/token", "*"}) > 0
	grants(rule, "create", "", "serviceaccounts/token")
}

# A first filter: a rule that only reads (get, list, watch) grants a power only on these.
write_or_wildcard_verbs := {"*", "create", "update", "patch", "bind", "escalate", "impersonate"}

readable_powers := {"*", "secrets", "pods/exec", "pods/attach", "*/exec", "*/attach", "nodes/proxy", "*/proxy"}

# The powers of one rule (normalized). One function per power, each false rather than
# undefined, because regorus 0.14's bytecode VM does not choose among function clauses by a
# constant argument passed in a variable.
rule_powers(rule) := [] if {
	count(rule.verbs & write_or_wildcard_verbs) == 0
	count(rule.resources & readable_powers) == 0
} else := [pair[0] |
	some pair in [
		["all", is_all(rule)],
		["secrets", is_secrets(rule)],
		["pods", is_pods(rule)],
		["workloads", is_workloads(rule)],
		["exec", is_exec(rule)],
		["rbac", is_rbac(rule)],
		["escalate", is_escalate(rule)],
		["nodes", is_nodes(rule)],
		["tokens", is_tokens(rule)],
	]
	pair[1]
]

is_all(rule) := true if has_all(rule) else := false

is_secrets(rule) := true if has_secrets(rule) else := false

is_pods(rule) := true if has_pods(rule) else := false

is_workloads(rule) := true if has_workloads(rule) else := false

is_exec(rule) := true if has_exec(rule) else := false

is_rbac(rule) := true if has_rbac(rule) else := false

is_escalate(rule) := true if has_escalate(rule) else := false

is_nodes(rule) := true if has_nodes(rule) else := false

is_tokens(rule) := true if has_tokens(rule) else := false

# Built-in ClusterRoles (the API server's bootstrap policy, v1.28) by what they grant, for
# bindings whose role is not among the scanned objects. admin and edit are aggregated, so their
# manifests list no rules; this table is what the controller manager fills them with. Pairs
# rather than an object: regorus 0.14's bytecode VM does not leave a lookup of a missing key of
# a constant object undefined.
builtin_role_powers := [
	["cluster-admin", {"all"}],
	["admin", {"secrets", "pods", "workloads", "exec", "rbac", "escalate"}],
	["edit", {"secrets", "pods", "workloads", "exec", "escalate"}],
	["view", set()],
	["system:aggregate-to-admin", {"rbac"}],
	["system:aggregate-to-edit", {"secrets", "pods", "workloads", "exec", "escalate"}],
	["system:aggregate-to-view", set()],
	["system:node", {"secrets", "pods"}],
	["system:kube-controller-manager", {"secrets", "tokens"}],
	["system:public-info-viewer", set()],
	["system:discovery", set()],
	["system:basic-user", set()],
	["system:service-account-issuer-discovery", set()],
]

# Whether posture knows what the built-in ClusterRole under `key` grants.
is_builtin_role(key) if count(builtin_powers(key)) > 0

# Key of the role a binding grants, as the inventory keys roles ("ClusterRole/<name>",
# "Role/<namespace>/<name>").
granted_role_key(binding) := sprintf("ClusterRole/%s", [role_ref_name(binding)]) if {
	role_ref_kind(binding) == "ClusterRole"
} else := sprintf("Role/%s/%s", [namespace(binding), role_ref_name(binding)])

# The powers of the role under `key`: the table's for a built-in ClusterRole, else those of its
# rules when the role is among the scanned objects, else none known.
role_powers(key) := p if {
	builtin := builtin_powers(key)
	count(builtin) > 0
	p := builtin[0]
}

role_powers(key) := scanned_role_powers(key) if count(builtin_powers(key)) == 0

# No else-chain here: regorus 0.14's bytecode VM leaves a function undefined when a branch fails
# after a `some`, instead of trying its else.
builtin_powers(key) := [pair[1] |
	some pair in builtin_role_powers
	startswith(key, "ClusterRole/")
	pair[0] == substring(key, count("ClusterRole/"), -1)
]

scanned_role_powers(key) := {power |
	some r in k8s.as_array(object.get(data.inventory, ["roles", key, "rules"], []))
	is_object(r)
	some power in rule_powers(normalized(r))
}

# "every verb on every resource", "read Secrets and create pods"
describe_powers(powers) := join_words([power_phrases[k] | some k in power_order; k in powers])

# "ClusterRole 'cluster-admin'" from a role key.
role_label(key) := sprintf("ClusterRole '%s'", [substring(key, count("ClusterRole/"), -1)]) if {
	startswith(key, "ClusterRole/")
} else := sprintf("Role '%s'", [parts[count(parts) - 1]]) if {
	parts := split(key, "/")
}

# The bindings (inventory entries of service_account_bindings) that give ServiceAccount
# `ns`/`name` a powerful role, each as [binding label, role key, powers].
powerful_grants(ns, account) := {[binding_label(b.kind, b.name, b.namespace), b.role, p] |
	some b in k8s.as_array(object.get(data.inventory, ["service_account_bindings", sprintf("%s/%s", [ns, account])], []))
	p := role_powers(b.role)
	count(p) > 0
}

# "ClusterRoleBinding 'x' grants ClusterRole 'cluster-admin' (every verb on every resource)"
describe_grant(g) := sprintf("%s grants %s (%s)", [g[0], role_label(g[1]), describe_powers(g[2])])

# A long-lived ServiceAccount token Secret: type kubernetes.io/service-account-token. Cluster
# Secrets are collected metadata-only and carry no type, so there the annotation the token
# controller reads (kubernetes.io/service-account.name) marks one.
sa_name_annotation := "kubernetes.io/service-account.name"

is_token_secret(secret) if secret.type == "kubernetes.io/service-account-token"

is_token_secret(secret) if {
	not "type" in object.keys(secret)
	is_string(secret.metadata.annotations[sa_name_annotation])
}

# The account a token Secret is for ("" when it names none).
token_account(secret) := object.get(secret, ["metadata", "annotations", sa_name_annotation], "")

# Where a token Secret says what it is: its type, else the annotation.
token_secret_path(secret) := ["type"] if {
	"type" in object.keys(secret)
} else := ["metadata", "annotations", sa_name_annotation]
