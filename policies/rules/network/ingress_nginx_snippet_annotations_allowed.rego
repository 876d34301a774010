# METADATA
# title: ingress-nginx allows snippet annotations
# description: >-
#   With `allow-snippet-annotations: "true"` in its ConfigMap, the ingress-nginx controller
#   accepts the `*-snippet` annotations of every Ingress it serves and pastes them into
#   nginx.conf, so anyone allowed to create an Ingress in any namespace can run arbitrary nginx
#   directives and Lua in a pod that can read all Secrets of the cluster (CVE-2021-25742; see
#   also the IngressNightmare advisories, CVE-2025-1974). Controllers from v1.9 default the
#   setting to false, and from v1.12 snippets also need `annotations-risk-level: Critical`; the
#   switch is reported either way, since it states the intent. The ConfigMap is recognised by
#   that key, which only ingress-nginx reads: its name depends on the Helm release name or
#   installer (`ingress-nginx-controller` from the official chart and static manifests,
#   `nginx-configuration` on some managed offerings). The controller parses the value as a
#   Go boolean, so "true", "True", "TRUE", "t", "T" and "1" (exactly) enable it.
# scope: package
# related_resources:
#   - ref: https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#allow-snippet-annotations
#   - ref: https://github.com/kubernetes/ingress-nginx/issues/7837
# custom:
#   id: PST-0223
#   severity: high
#   remediation: >-
#     Set `allow-snippet-annotations: "false"` in the controller's ConfigMap (Helm value
#     `controller.allowSnippetAnnotations: false`) and express what the snippets did with
#     dedicated annotations or global ConfigMap settings.
#   kinds: [ConfigMap]
package posture.rules.network.ingress_nginx_snippet_annotations_allowed

import rego.v1

# The controller decodes its ConfigMap with mapstructure's weak typing, which reads booleans
# with strconv.ParseBool: these spellings, exactly (no surrounding spaces), mean true.
true_values := {"1", "t", "T", "TRUE", "true", "True"}

deny contains {"msg": msg, "path": ["data", "allow-snippet-annotations"]} if {
	input.apiVersion == "v1"
	value := input.data["allow-snippet-annotations"]
	value in true_values
	name := object.get(input, ["metadata", "name"], "(unnamed)")
	msg := sprintf("ConfigMap '%s' sets allow-snippet-annotations to \"%s\", so every Ingress may inject raw nginx configuration", [name, value])
}
