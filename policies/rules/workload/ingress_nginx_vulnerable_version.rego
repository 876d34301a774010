# METADATA
# title: ingress-nginx controller with known critical vulnerabilities
# description: >-
#   ingress-nginx controller releases before v1.11.5, and v1.12.0, are open to the
#   IngressNightmare advisories: an unauthenticated request to the admission webhook can run
#   code in the controller (CVE-2025-1974, CVSS 9.8), and Ingress annotations can inject nginx
#   configuration (CVE-2025-1097 `auth-tls-match-cn`, CVE-2025-1098 `mirror-target` and
#   `mirror-host`, CVE-2025-24514 `auth-url`) or read files through the auth secret
#   (CVE-2025-24513). The controller can read every Secret of the cluster in its default
#   installation. The image is recognised by its repository path `ingress-nginx/controller`
#   (also `controller-chroot`) on any registry (registry.k8s.io, k8s.gcr.io and mirrors), and
#   judged by its tag (`v1.11.4`, `1.12.0`); a reference pinned by digest alone cannot be
#   judged and is not reported. The affected versions are data in this rule, with the
#   advisories.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/blog/2025/03/24/ingress-nginx-cve-2025-1974/
#   - ref: https://github.com/kubernetes/kubernetes/issues/131009
# custom:
#   id: PST-0043
#   severity: critical
#   remediation: >-
#     Upgrade the controller to v1.11.5, v1.12.1 or later. Until then, disable the admission
#     webhook (`controller.admissionWebhooks.enabled=false` in the Helm chart) and keep it
#     unreachable from pods other than the API server.
#   kinds: [workloads]
#   frameworks:
#     mitre: [T1190]
package posture.rules.workload.ingress_nginx_vulnerable_version

import data.posture.lib.image
import data.posture.lib.k8s
import rego.v1

# Each advisory with the versions it affects: before `fixed_in` (major, minor, patch), and
# the listed releases of later lines that shipped without the fix.
advisories := [
	{"id": "CVE-2025-1974", "url": "https://github.com/kubernetes/kubernetes/issues/131009", "fixed_in": [1, 11, 5], "also": [[1, 12, 0]]},
	{"id": "CVE-2025-1097", "url": "https://github.com/kubernetes/kubernetes/issues/131007", "fixed_in": [1, 11, 5], "also": [[1, 12, 0]]},
	{"id": "CVE-2025-1098", "url": "https://github.com/kubernetes/kubernetes/issues/131008", "fixed_in": [1, 11, 5], "also": [[1, 12, 0]]},
	{"id": "CVE-2025-24513", "url": "https://github.com/kubernetes/kubernetes/issues/131005", "fixed_in": [1, 11, 5], "also": [[1, 12, 0]]},
	{"id": "CVE-2025-24514", "url": "https://github.com/kubernetes/kubernetes/issues/131006", "fixed_in": [1, 11, 5], "also": [[1, 12, 0]]},
]

repositories := {"ingress-nginx/controller", "ingress-nginx/controller-chroot"}

controller(ref) if ref.path in repositories

controller(ref) if {
	some repo in repositories
	endswith(ref.path, concat("", ["/", repo]))
}

# (major, minor, patch) of a tag such as `v1.11.4`, `1.12.0-beta.0` or `v1.10.1@sha256:...`.
version(t) := [to_number(m[1]), to_number(m[2]), to_number(m[3])] if {
	m := regex.find_all_string_submatch_n(`^v?(\d+)\.(\d+)\.(\d+)`, t, 1)[0]
}

affected(v, a) if before(v, a.fixed_in)

before(v, w) if v[0] < w[0]

before(v, w) if {
	v[0] == w[0]
	v[1] < w[1]
}

before(v, w) if {
	v[0] == w[0]
	v[1] == w[1]
	v[2] < w[2]
}

affected(v, a) if v in a.also

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	ref := image.reference(c.container.image)
	controller(ref)
	v := version(ref.tag)
	ids := [a.id | some a in advisories; affected(v, a)]
	count(ids) > 0
	path := k8s.container_path(c, ["image"])
	msg := sprintf("%s runs ingress-nginx controller %s, affected by %s (fixed in v1.11.5 and v1.12.1)", [k8s.describe(c), ref.tag, concat(", ", ids)])
}
