# METADATA
# title: AppArmor profile overridden or disabled
# description: >-
#   On nodes with AppArmor, the runtime confines every container with its default profile.
#   Setting the profile type to Unconfined (or the deprecated annotation
#   `container.apparmor.security.beta.kubernetes.io/<container>` to `unconfined` or any
#   value other than `runtime/default` or `localhost/<profile>`) removes that confinement.
#   The Pod Security Standards' baseline profile allows only RuntimeDefault and Localhost
#   profiles, at pod level, container level and in the annotation.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline
#   - ref: https://kubernetes.io/docs/tutorials/security/apparmor/
# custom:
#   id: PST-0010
#   severity: medium
#   remediation: >-
#     Set `securityContext.appArmorProfile.type` to RuntimeDefault, or to Localhost with a
#     `localhostProfile` loaded on the nodes, or remove it to keep the runtime's default. In
#     the annotation use `runtime/default` or `localhost/<profile>`.
#   kinds: [workloads]
#   frameworks:
#     pod-security: baseline
#     nsa: ["Pod security: pod security enforcement"]
package posture.rules.pod_security.apparmor_profile_overridden

import data.posture.lib.k8s
import data.posture.lib.pod_security as pss
import rego.v1

deny contains {"msg": msg, "path": path} if {
	profile := k8s.pod_security_context().appArmorProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
	path := pss.profile_type_path(k8s.pod_path(["securityContext", "appArmorProfile"]), profile)
	msg := sprintf("%s sets AppArmor profile type %s for its containers", [k8s.workload(), pss.show(object.get(profile, "type", ""))])
}

deny contains {"msg": msg, "path": path} if {
	some c in k8s.containers()
	profile := c.context.appArmorProfile
	profile != null
	not profile.type in pss.allowed_profile_types()
	path := pss.profile_type_path(k8s.container_path(c, ["securityContext", "appArmorProfile"]), profile)
	msg := sprintf("%s sets AppArmor profile type %s", [k8s.describe(c), pss.show(object.get(profile, "type", ""))])
}

deny contains {"msg": msg, "path": path} if {
	is_object(k8s.pod_annotations())
	some key, value in k8s.pod_annotations()
	startswith(key, pss.apparmor_annotation_prefix())
	not pss.allowed_apparmor_annotation(value)
	container := substring(key, count(pss.apparmor_annotation_prefix()), -1)
	path := array.concat(k8s.pod_metadata_path(), ["annotations", key])
	msg := sprintf("%s sets AppArmor profile '%v' for container '%s' through an annotation", [k8s.workload(), value, container])
}
