# METADATA
# title: Ingress host served without TLS
# description: >-
#   An Ingress with no `spec.tls` is served over plain HTTP, so credentials, session cookies
#   and data cross the network readable and alterable. An Ingress that has a TLS section but
#   leaves one of its rules' hosts out of every entry serves that host without a certificate of
#   its own. Host names are compared without regard to case; a wildcard TLS host such as
#   `*.example.com` covers exactly one label in its place (`shop.example.com`, not
#   `example.com` nor `a.shop.example.com`), as certificate wildcards do; a TLS entry that
#   lists no hosts takes the controller's default host and so covers every host. Rules without
#   a host need only some TLS entry. Ingresses of networking.k8s.io/v1, networking.k8s.io/v1beta1
#   and extensions/v1beta1 are checked.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/services-networking/ingress/#tls
# custom:
#   id: PST-0221
#   severity: medium
#   remediation: >-
#     Add a `spec.tls` entry whose `hosts` list every host of the Ingress's rules and whose
#     `secretName` names a certificate for them (cert-manager can issue and renew it through
#     an Ingress annotation).
#   kinds: [Ingress]
package posture.rules.network.ingress_without_tls

import rego.v1

api_versions := {"networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"}

name := object.get(input, ["metadata", "name"], "(unnamed)")

tls := t if {
	t := input.spec.tls
	is_array(t)
} else := []

rule_hosts contains [i, host] if {
	is_array(input.spec.rules)
	some i, rule in input.spec.rules
	host := rule.host
	is_string(host)
	host != ""
}

entry_hosts(entry) := h if {
	h := entry.hosts
	is_array(h)
} else := []

# A tls entry with no hosts applies to the controller's default (catch-all) host.
covers(entry, _) if count(entry_hosts(entry)) == 0

covers(entry, host) if {
	some h in entry_hosts(entry)
	is_string(h)
	host_matches(lower(h), lower(host))
}

host_matches(pattern, host) if pattern == host

host_matches(pattern, host) if {
	startswith(pattern, "*.")
	suffix := substring(pattern, 1, -1)
	endswith(host, suffix)
	first := substring(host, 0, count(host) - count(suffix))
	first != ""
	not contains(first, ".")
}

deny contains {"msg": msg, "path": path} if {
	input.apiVersion in api_versions
	count(tls) == 0
	hosts := sort({h | some [_, h] in rule_hosts})
	msg := no_tls_message(hosts)
	path := spec_path
}

no_tls_message(hosts) := sprintf("Ingress '%s' configures no TLS: it serves every host over plain HTTP", [name]) if {
	count(hosts) == 0
} else := sprintf("Ingress '%s' configures no TLS: %s served over plain HTTP", [name, host_list(hosts)])

host_list(hosts) := sprintf("host '%s' is", [hosts[0]]) if {
	count(hosts) == 1
} else := sprintf("hosts %s are", [concat(", ", [sprintf("'%s'", [h]) | some h in hosts])])

spec_path := ["spec", "tls"] if {
	is_object(input.spec)
	"tls" in object.keys(input.spec)
} else := ["spec"] if {
	is_object(input.spec)
} else := []

deny contains {"msg": msg, "path": ["spec", "rules", i, "host"]} if {
	input.apiVersion in api_versions
	count(tls) > 0
	some [i, host] in rule_hosts
	not any_covers(host)
	msg := sprintf("Ingress '%s' serves host '%s', which no TLS entry covers", [name, host])
}

any_covers(host) if {
	some entry in tls
	covers(entry, host)
}
