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
