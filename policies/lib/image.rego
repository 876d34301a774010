# Container image references read the way the container runtime reads them, after the
# distribution reference grammar (github.com/distribution/reference, normalize.go):
#   [domain[:port]/]path[:tag][@digest]
# The first path component is a registry host when it contains a '.' or a ':', is
# `localhost`, or has an upper-case letter; otherwise the image is on Docker Hub
# (`docker.io`), and a single-component name is in its `library/` namespace.
package posture.lib.image

import rego.v1

# {"domain", "path", "tag", "digest"} of an image reference; tag and digest are "" when the
# reference has none. The domain is lower-cased (host names are case-insensitive);
# `index.docker.io` is the legacy name of `docker.io`.
reference(image) := {"domain": domain, "path": path, "tag": t, "digest": d} if {
	is_string(image)
	ref := trim_space(image)
	at := split(ref, "@")
	d := digest_of(at)
	name_tag := at[0]
	[name, t] := split_tag(name_tag)
	[raw_domain, remainder] := split_domain(name)
	domain := canonical_domain(lower(raw_domain))
	path := hub_path(domain, remainder)
}

digest_of(at) := at[1] if count(at) == 2

digest_of(at) := "" if count(at) != 2

# The tag follows a ':' in the last path component only (`registry:5000/app` has no tag).
split_tag(name_tag) := [name, t] if {
	slash := last_index(name_tag, "/")
	last := substring(name_tag, slash + 1, -1)
	i := indexof(last, ":")
	i >= 0
	name := substring(name_tag, 0, (slash + 1) + i)
	t := substring(last, i + 1, -1)
} else := [name_tag, ""]

last_index(s, sep) := i if {
	indices := indexof_n(s, sep)
	count(indices) > 0
	i := indices[count(indices) - 1]
} else := -1

split_domain(name) := [first, rest] if {
	i := indexof(name, "/")
	i > 0
	first := substring(name, 0, i)
	is_host(first)
	rest := substring(name, i + 1, -1)
} else := ["docker.io", name]

is_host(first) if contains(first, ".")

is_host(first) if contains(first, ":")

is_host(first) if first == "localhost"

is_host(first) if lower(first) != first

canonical_domain(d) := "docker.io" if d == "index.docker.io"

canonical_domain(d) := d if d != "index.docker.io"

hub_path(domain, remainder) := concat("/", ["library", remainder]) if {
	domain == "docker.io"
	not contains(remainder, "/")
}

hub_path(domain, remainder) := remainder if {
	domain == "docker.io"
	contains(remainder, "/")
}

hub_path(domain, remainder) := remainder if domain != "docker.io"

# The registry host without its port: `registry.example.com:5000` -> `registry.example.com`.
host(ref) := split(ref.domain, ":")[0]

# Whether the reference pins a digest (`@sha256:...`): then the bytes cannot change under it.
pinned(ref) if {
	i := indexof(ref.digest, ":")
	i > 0
	i < count(ref.digest) - 1
}
