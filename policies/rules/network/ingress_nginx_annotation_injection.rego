# METADATA
# title: ingress-nginx annotation value that can inject configuration
# description: >-
#   ingress-nginx writes many annotation values into nginx.conf: URLs (`auth-url`,
#   `auth-signin`, `mirror-target`, `permanent-redirect`), host names (`mirror-host`,
#   `upstream-vhost`), a regular expression (`auth-tls-match-cn`), paths (`rewrite-target`,
#   `app-root`, `x-forwarded-prefix`) and more. Controllers without annotation validation (on by
#   default only from v1.12) copied them unquoted, so a value with a character that ends the
#   nginx directive or block (`;`, a line break, `{`, `}`), a quote, a back-tick or a `$(`
#   adds configuration of the author's choosing, which runs in a controller that can read every
#   Secret of the cluster: CVE-2023-5043 and CVE-2023-5044 (`permanent-redirect`),
#   CVE-2025-24514 (`auth-url`), CVE-2025-1097 (`auth-tls-match-cn`) and CVE-2025-1098
#   (`mirror-target`, `mirror-host`). Every annotation under `nginx.ingress.kubernetes.io/` is
#   checked except the `*-snippet` ones, which hold configuration by design (PST-0222).
# scope: package
# related_resources:
#   - ref: https://github.com/advisories/GHSA-fp9f-44c2-cw27
#   - ref: https://github.com/kubernetes/kubernetes/issues/131006
#   - ref: https://github.com/kubernetes/kubernetes/issues/131007
#   - ref: https://github.com/kubernetes/kubernetes/issues/131008
#   - ref: https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations-risk/
# custom:
#   id: PST-0225
#   severity: high
#   remediation: >-
#     Remove the characters from the annotation value (URL-encode them where a URL needs
#     them), upgrade the controller to a release with annotation validation (v1.11.5, v1.12.1 or
#     later) and keep `--enable-annotation-validation` on.
#   kinds: [Ingress]
#   frameworks:
#     mitre: [T1190]
package posture.rules.network.ingress_nginx_annotation_injection

import rego.v1

api_versions := {"networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"}

prefix := "nginx.ingress.kubernetes.io/"

# What breaks out of an nginx directive or value, with how messages name it.
breakers := {
	";": "';'",
	"\n": "a line break",
	"\r": "a carriage return",
	"{": "'{'",
	"}": "'}'",
	"\"": "a double quote",
	"'": "a single quote",
	"`": "a back-tick",
	"$(": "'$('",
}

deny contains {"msg": msg, "path": ["metadata", "annotations", key]} if {
	input.apiVersion in api_versions
	is_object(input.metadata.annotations)
	some key, value in input.metadata.annotations
	startswith(key, prefix)
	not endswith(key, "-snippet")
	is_string(value)
	found := sort([label | some s, label in breakers; contains(value, s)])
	count(found) > 0
	name := object.get(input, ["metadata", "name"], "(unnamed)")
	msg := sprintf("Ingress '%s' sets annotation '%s' to a value with %s, which can inject nginx configuration", [name, key, concat(", ", found)])
}
