# METADATA
# title: ECS task definition mounts EFS without encryption in transit
# description: >-
#   An EFS volume whose `efsVolumeConfiguration` does not set `transitEncryption: ENABLED` is
#   mounted over plain NFS: the files the task reads and writes cross the network unencrypted.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0616
#   severity: medium
#   remediation: >-
#     Set `transitEncryption: ENABLED` in the volume's `efsVolumeConfiguration` (and, with an
#     access point, `authorizationConfig.iam: ENABLED`).
#   input: ecs
#   kinds: [TaskDefinition]
#   frameworks:
#     aws-fsbp: [ECS.18]
package posture.rules.ecs.ecs_efs_transit_encryption_disabled

import data.posture.lib.ecs
import rego.v1

deny contains {"msg": msg, "path": ["volumes", i, "efsVolumeConfiguration", "transitEncryption"]} if {
	some i, v in ecs.as_array(input.volumes)
	efs := v.efsVolumeConfiguration
	is_object(efs)
	setting := object.get(efs, "transitEncryption", "DISABLED")
	not ecs.is_unknown(setting)
	upper(sprintf("%v", [setting])) != "ENABLED"
	msg := sprintf("%s mounts EFS volume '%v' without encryption in transit", [ecs.describe_task(), object.get(v, "name", i)])
}
