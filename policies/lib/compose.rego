# Shared helpers for Compose rules (input: compose). The input is one service mapping as the
# Compose Specification writes it, plus `x-posture`: {service, project, volumes, secrets,
# configs, networks}. Fields that the specification allows in a short (string or list) and a
# long (mapping) form are normalised here once, so a rule body never parses them itself.
package posture.lib.compose

import rego.v1

as_object(x) := x if is_object(x)

as_object(x) := {} if not is_object(x)

as_array(x) := x if is_array(x)

as_array(x) := [] if not is_array(x)

memo_context := as_object(object.get(input, "x-posture", {}))

# The service as messages name it: Service 'ratings-api'.
memo_describe := sprintf("Service '%s'", [object.get(memo_context, "service", "(unnamed)")])

describe() := memo_describe

# Every environment variable, from the mapping form (`KEY: value`) and the list form
# (`- KEY=value`), as {name, value, path}; `value` is null when the list form names a variable
# without `=` (its value comes from the shell), and the path points at the entry.
memo_environment contains {"name": name, "value": value, "path": ["environment", name]} if {
	some name, value in as_object(input.environment)
}

memo_environment contains {"name": name, "value": value, "path": ["environment", i]} if {
	some i, entry in as_array(input.environment)
	is_string(entry)
	contains(entry, "=")
	name := split(entry, "=")[0]
	value := substring(entry, count(name) + 1, -1)
}

environment() := memo_environment

# Every published port as {host_ip, published, target, path}, from the short syntax
# (`"8080"`, `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `"[::1]:8080:80"`, or a bare number)
# and the long syntax (`{target, published, host_ip}`). Absent parts are "".
memo_ports contains port if {
	some i, entry in as_array(input.ports)
	port := object.union(parse_port(entry), {"path": ["ports", i]})
}

ports() := memo_ports

parse_port(entry) := {"host_ip": "", "published": "", "target": sprintf("%v", [entry])} if is_number(entry)

parse_port(entry) := {
	"host_ip": sprintf("%v", [object.get(entry, "host_ip", "")]),
	"published": sprintf("%v", [object.get(entry, "published", "")]),
	"target": sprintf("%v", [object.get(entry, "target", "")]),
} if is_object(entry)

parse_port(entry) := port_parts(host_ip, rest) if {
	is_string(entry)
	startswith(entry, "[")
	host_ip := substring(entry, 1, indexof(entry, "]") - 1)
	rest := trim_prefix(substring(entry, indexof(entry, "]") + 1, -1), ":")
}

parse_port(entry) := port_parts(host_ip, rest) if {
	is_string(entry)
	not startswith(entry, "[")
	parts := split(strip_protocol(entry), ":")
	count(parts) == 3
	host_ip := parts[0]
	rest := concat(":", [parts[1], parts[2]])
}

parse_port(entry) := port_parts("", entry) if {
	is_string(entry)
	not startswith(entry, "[")
	count(split(strip_protocol(entry), ":")) < 3
}

strip_protocol(s) := split(s, "/")[0]

port_parts(host_ip, rest) := {"host_ip": host_ip, "published": parts[0], "target": parts[1]} if {
	parts := split(strip_protocol(rest), ":")
	count(parts) == 2
}

port_parts(host_ip, rest) := {"host_ip": host_ip, "published": "", "target": parts[0]} if {
	parts := split(strip_protocol(rest), ":")
	count(parts) == 1
}

# Host addresses that mean every interface of the host.
all_interfaces := {"", "0.0.0.0", "::", "[::]"}

# Every volume of the service as {source, target, bind, read_only, path}: the short syntax
# (`SOURCE:TARGET[:MODE]`, where a SOURCE that starts with `/`, `.` or `~` is a host path) and
# the long syntax (`{type: bind, source, target, read_only}`).
memo_volumes contains volume if {
	some i, entry in as_array(input.volumes)
	is_string(entry)
	parts := split(entry, ":")
	count(parts) >= 2
	source := parts[0]
	volume := {
		"source": source,
		"target": parts[1],
		"bind": is_host_path(source),
		"read_only": "ro" in split(volume_mode(parts), ","),
		"path": ["volumes", i],
	}
}

memo_volumes contains volume if {
	some i, entry in as_array(input.volumes)
	is_object(entry)
	volume := {
		"source": sprintf("%v", [object.get(entry, "source", "")]),
		"target": sprintf("%v", [object.get(entry, "target", "")]),
		"bind": object.get(entry, "type", "volume") == "bind",
		"read_only": object.get(entry, "read_only", false) == true,
		"path": ["volumes", i],
	}
}

volumes() := memo_volumes

volume_mode(parts) := parts[2] if count(parts) > 2

volume_mode(parts) := "" if count(parts) <= 2

is_host_path(source) if startswith(source, "/")

is_host_path(source) if startswith(source, ".")

is_host_path(source) if startswith(source, "~")

# A host path without trailing slashes (`/etc/` is `/etc`), `/` staying `/`.
normal_path(p) := "/" if trim_right(p, "/") == ""

normal_path(p) := trim_right(p, "/") if trim_right(p, "/") != ""

# `security_opt` entries, each with its path. Docker accepts `key:value` and `key=value`.
memo_security_opts contains {"key": key, "value": value, "path": ["security_opt", i]} if {
	some i, entry in as_array(input.security_opt)
	is_string(entry)
	normal := replace(entry, "=", ":")
	key := lower(split(normal, ":")[0])
	value := lower(substring(normal, count(key) + 1, -1))
}

security_opts() := memo_security_opts

# A capability name as Docker compares it: upper case, without the `CAP_` prefix.
capability(name) := trim_prefix(upper(name), "CAP_")

# A value that only stands in for one: an interpolation, or an empty or placeholder text.
is_placeholder(value) if not is_string(value)

is_placeholder(value) if {
	is_string(value)
	contains(value, "${")
}

is_placeholder(value) if {
	is_string(value)
	startswith(value, "$")
	not startswith(value, "$$")
}

is_placeholder(value) if {
	is_string(value)
	lower(trim_space(value)) in {"", "changeme", "change-me", "change_me", "xxx", "***", "<password>", "<secret>", "<token>"}
}

# Well-known database and data-store ports (MongoDB, PostgreSQL, MySQL, Redis, Elasticsearch,
# CouchDB, InfluxDB, Cassandra, SQL Server, Oracle, memcached, etcd, RabbitMQ, CockroachDB,
# ArangoDB, RethinkDB), as container ports.
database_ports := {"27017", "27018", "5432", "3306", "33060", "6379", "9200", "9300", "5984", "8086", "9042", "7000", "7001", "1433", "1521", "11211", "2379", "5672", "26257", "8529", "28015"}
