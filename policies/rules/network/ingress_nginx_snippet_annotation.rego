# METADATA
# title: Ingress with an ingress-nginx snippet annotation
# description: >-
#   ingress-nginx copies the value of its snippet annotations (`configuration-snippet`,
#   `server-snippet`, `auth-snippet`, `stream-snippet`, `modsecurity-snippet`, all under
#   `nginx.ingress.kubernetes.io/`) verbatim into nginx.conf. Whoever can write an Ingress can
#   then run arbitrary nginx directives, and Lua, inside the controller, which reads every
#   Secret of the cluster: CVE-2021-25742 used this to read the controller's service account
#   token and Secrets of every namespace, and the IngressNightmare advisories (CVE-2025-1974
#   and its companions) showed injected configuration turning into code execution in the
#   controller. The project rates these annotations Critical; since controller v1.9 they are
#   refused unless `allow-snippet-annotations` is "true", and since v1.12 unless
#   `annotations-risk-level` is also Critical. Any annotation under the default prefix whose
#   name ends in `-snippet` is reported.
# scope: package
# related_resources:
#   - ref: https://github.com/kubernetes/ingress-nginx/issues/7837
#   - ref: https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations-risk/
#   - ref: https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/
# custom:
#   id: PST-0222
#   severity: high
#   remediation: >-
#     Replace the snippet with the dedicated ingress-nginx annotation or ConfigMap setting for
#     what it does (headers, rewrites, auth, rate limits), or move the configuration to a
#     global ConfigMap snippet that only cluster administrators can edit; then keep
#     `allow-snippet-annotations` off in the controller's ConfigMap.
#   kinds: [Ingress]
package posture.rules.network.ingress_nginx_snippet_annotation

import rego.v1

api_versions := {"networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"}

prefix := "nginx.ingress.kubernetes.io/"

deny contains {"msg": msg, "path": ["metadata", "annotations", key]} if {
	input.apiVersion in api_versions
	is_object(input.metadata.annotations)
	some key, _ in input.metadata.annotations
	startswith(key, prefix)
	endswith(key, "-snippet")
	name := object.get(input, ["metadata", "name"], "(unnamed)")
	msg := sprintf("Ingress '%s' injects raw nginx configuration through the annotation '%s'", [name, key])
}
