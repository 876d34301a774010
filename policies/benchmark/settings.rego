# The one rule behind every CIS check on a component's settings (API server, controller
# manager, scheduler, etcd, kubelet and kube-proxy flags and configuration fields). The checks
# themselves are data in benchmarks/*.yaml; this rule reads each requirement, finds the value
# the component actually runs with, and judges it the way the component's flag parser would.
#
# input:
#   flags          {"--flag": ["value", ...]}  every occurrence, in order; a bare flag is "true"
#   config         {"dotted.path": "value"}    the configuration file's fields, lists comma-joined
#   config_known   whether `config` is the component's whole configuration (the kubelet's
#                  /configz or --config file); false when the component has none
#   config_unread  the component names a configuration file that was not read, so a field it
#                  might set cannot be judged from the flags alone
#   flags_known    whether the command line was seen (false for a kubelet known only from its
#                  /configz or configuration file): a setting that only a flag can make
#                  (--hostname-override) cannot be judged without it
#   checks         [{"id", "combinator": "all"|"any", "items": [{flag, config_path, op, value,
#                  default, cli_default}]}]
#
# output: results[id] = {"outcome": "pass"|"fail"|"unknown", "items": [{setting, observed,
#   source, value, requirement, outcome}]}
package posture.benchmark.settings

import rego.v1

results[check.id] := {"outcome": outcome(check.combinator, outcomes), "items": items} if {
	some check in input.checks
	items := [judged(item) | some item in check.items]
	outcomes := [i.outcome | some i in items]
}

# all: one failure fails; otherwise one unknown leaves it open. any: one pass passes.
outcome(op, outcomes) := "fail" if {
	op == "all"
	"fail" in outcomes
}

outcome(op, outcomes) := "unknown" if {
	op == "all"
	not "fail" in outcomes
	"unknown" in outcomes
}

outcome(op, outcomes) := "pass" if {
	op == "all"
	not "fail" in outcomes
	not "unknown" in outcomes
}

outcome(op, outcomes) := "pass" if {
	op == "any"
	"pass" in outcomes
}

outcome(op, outcomes) := "unknown" if {
	op == "any"
	not "pass" in outcomes
	"unknown" in outcomes
}

outcome(op, outcomes) := "fail" if {
	op == "any"
	not "pass" in outcomes
	not "unknown" in outcomes
}

judged(item) := {
	"setting": setting_name(item, obs.source),
	"observed": describe(item, obs),
	"source": obs.source,
	"value": obs.value,
	"requirement": requirement(item),
	"outcome": verdict(item, obs),
} if {
	obs := observe(item)
}

# --- what the component runs with -------------------------------------------------------------

# A flag overrides the configuration file, as for every component that has both.
observe(item) := {"source": "flag", "value": flag_value(item)} if flag_given(item)

observe(item) := {"source": "config", "value": input.config[item.config_path]} if {
	not flag_given(item)
	config_given(item)
}

observe(item) := {"source": "unread", "value": null} if {
	not flag_given(item)
	not config_given(item)
	unread(item)
}

observe(item) := {"source": "unseen", "value": null} if {
	not flag_given(item)
	not config_given(item)
	not unread(item)
	unseen(item)
}

# A kubelet started without any configuration file uses its command-line defaults.
observe(item) := {"source": "default", "value": item.cli_default} if {
	not flag_given(item)
	not config_given(item)
	not unread(item)
	not unseen(item)
	bare_default(item)
}

observe(item) := {"source": "default", "value": item.default} if {
	not flag_given(item)
	not config_given(item)
	not unread(item)
	not unseen(item)
	not bare_default(item)
	is_string(item.default)
}

observe(item) := {"source": "absent", "value": null} if {
	not flag_given(item)
	not config_given(item)
	not unread(item)
	not unseen(item)
	not bare_default(item)
	not is_string(item.default)
}

flag_given(item) if {
	is_string(item.flag)
	input.flags[item.flag]
}

config_given(item) if {
	is_string(item.config_path)
	is_string(input.config[item.config_path])
}

unread(item) if {
	is_string(item.config_path)
	input.config_unread == true
}

# A setting only a flag can make, on a component whose command line was not seen.
unseen(item) if {
	input.flags_known == false
	not is_string(item.config_path)
}

bare_default(item) if {
	input.config_known == false
	is_string(item.cli_default)
}

# List operators read every occurrence (pflag's string slices append); the others the last one.
list_ops := {"has", "nothave", "valid_elements"}

flag_value(item) := concat(",", input.flags[item.flag]) if item.op in list_ops

flag_value(item) := v if {
	not item.op in list_ops
	occurrences := input.flags[item.flag]
	v := occurrences[count(occurrences) - 1]
}

# The name the finding shows: the configuration field when the component has a configuration,
# the flag otherwise.
setting_name(item, source) := item.flag if source == "flag"

setting_name(item, source) := item.config_path if source == "config"

setting_name(item, source) := item.config_path if {
	not source in {"flag", "config"}
	config_named(item)
}

setting_name(item, source) := item.flag if {
	not source in {"flag", "config"}
	not config_named(item)
	is_string(item.flag)
}

setting_name(item, source) := item.config_path if {
	not source in {"flag", "config"}
	not config_named(item)
	not is_string(item.flag)
}

config_named(item) if {
	is_string(item.config_path)
	input.config_known == true
}

# --- the verdict ------------------------------------------------------------------------------

verdict(_, obs) := "unknown" if obs.source == "unread"

verdict(_, obs) := "unknown" if obs.source == "unseen"

verdict(item, obs) := "pass" if {
	not obs.source in {"unread", "unseen"}
	holds(item, obs)
}

verdict(item, obs) := "fail" if {
	not obs.source in {"unread", "unseen"}
	not holds(item, obs)
}

# An empty value (`--tls-private-key-file=`, `clientCAFile: ""`) leaves a path or name flag at
# its empty default, exactly as if it were absent, so it does not count as set.
holds(item, obs) if {
	item.op == "set"
	given(obs)
}

# "Not set": absent or empty. An `unset` item never stands beside a comparison on the same
# setting (the catalog rejects it): absence there is judged by the comparison's default.
holds(item, obs) if {
	item.op == "unset"
	not given(obs)
}

given(obs) if {
	obs.source in {"flag", "config"}
	obs.value != ""
}

holds(item, obs) if {
	not item.op in {"set", "unset"}
	is_string(obs.value)
	compare(item.op, obs.value, item.value)
}

compare(op, v, want) if {
	op == "eq"
	same(v, want)
}

compare(op, v, want) if {
	op == "noteq"
	not same(v, want)
}

compare(op, v, want) if {
	op == "gt"
	magnitude(v) > magnitude(want)
}

compare(op, v, want) if {
	op == "gte"
	magnitude(v) >= magnitude(want)
}

compare(op, v, want) if {
	op == "lt"
	magnitude(v) < magnitude(want)
}

compare(op, v, want) if {
	op == "lte"
	magnitude(v) <= magnitude(want)
}

compare(op, v, want) if {
	op == "has"
	has(v, want)
}

compare(op, v, want) if {
	op == "nothave"
	not has(v, want)
}

compare(op, v, want) if {
	op == "valid_elements"
	allowed := {e | some e in elements(want)}
	every e in elements(v) {
		e in allowed
	}
}

compare(op, v, want) if {
	op == "bitmask"
	bits.and(octal(v), bits.negate(octal(want))) == 0
}

compare(op, v, want) if {
	op == "regex"
	regex.match(want, v)
}

# "0" and "0s", "4h" and "4h0m0s" are the same duration; "30" and "30.0" the same number.
same(v, want) if v == want

same(v, want) if {
	v != want
	duration(v) == duration(want)
}

same(v, want) if {
	v != want
	is_number_text(v)
	is_number_text(want)
	to_number(v) == to_number(want)
}

# An element of a list equals the wanted one, or is that host with a port
# ("127.0.0.1:10249" has "127.0.0.1").
has(v, want) if {
	some e in elements(v)
	e == want
}

has(v, want) if {
	some e in elements(v)
	startswith(e, concat("", [want, ":"]))
}

elements(v) := [trim_space(e) | some e in split(v, ","); trim_space(e) != ""]

magnitude(v) := to_number(v) if is_number_text(v)

magnitude(v) := duration(v) if not is_number_text(v)

is_number_text(v) if regex.match(`^-?\d+(\.\d+)?$`, v)

# Go duration syntax (time.ParseDuration), where a bare "0" is the one unitless duration.
duration(v) := 0 if v == "0"

duration(v) := time.parse_duration_ns(v) if regex.match(`^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$`, v)

octal(v) := n if {
	regex.match(`^[0-7]{1,4}$`, v)
	digits := array.reverse(split(v, ""))
	weights := [1, 8, 64, 512]
	n := sum([x | some i, d in digits; x := to_number(d) * weights[i]])
}

# --- words ------------------------------------------------------------------------------------

describe(item, obs) := sprintf("%s is %s", [setting_name(item, obs.source), obs.value]) if {
	obs.source in {"flag", "config"}
	obs.value != ""
}

describe(item, obs) := sprintf("%s is given an empty value", [setting_name(item, obs.source)]) if {
	obs.source in {"flag", "config"}
	obs.value == ""
}

describe(item, obs) := sprintf("%s is not set, so the default %s applies", [setting_name(item, obs.source), shown(obs.value)]) if {
	obs.source == "default"
}

describe(item, obs) := sprintf("%s is not set", [setting_name(item, obs.source)]) if {
	obs.source == "absent"
}

describe(item, obs) := sprintf("%s is not on the command line and the configuration file was not read", [item.config_path]) if {
	obs.source == "unread"
}

describe(item, obs) := sprintf("%s can only be given on the command line, which was not collected", [item.flag]) if {
	obs.source == "unseen"
}

shown(v) := `""` if v == ""

shown(v) := v if v != ""

requirement(item) := "it must be set" if item.op == "set"

requirement(item) := "it must not be set" if item.op == "unset"

requirement(item) := sprintf("it must be %s", [item.value]) if item.op == "eq"

requirement(item) := sprintf("it must not be %s", [item.value]) if item.op == "noteq"

requirement(item) := sprintf("it must be more than %s", [item.value]) if item.op == "gt"

requirement(item) := sprintf("it must be at least %s", [item.value]) if item.op == "gte"

requirement(item) := sprintf("it must be less than %s", [item.value]) if item.op == "lt"

requirement(item) := sprintf("it must be at most %s", [item.value]) if item.op == "lte"

requirement(item) := sprintf("it must include %s", [item.value]) if item.op == "has"

requirement(item) := sprintf("it must not include %s", [item.value]) if item.op == "nothave"

requirement(item) := sprintf("it may only list %s", [item.value]) if item.op == "valid_elements"

requirement(item) := sprintf("it must be %s or stricter", [item.value]) if item.op == "bitmask"

requirement(item) := sprintf("it must match %s", [item.value]) if item.op == "regex"
