# METADATA
# title: ECS task definition for Fargate uses a setting Fargate rejects
# description: >-
#   Fargate runs each task in its own micro-VM and refuses the settings that reach into a
#   shared host: privileged containers, a network mode other than `awsvpc`, `ipcMode`,
#   `pidMode: host`, host devices, host paths as volumes, and added capabilities other than
#   `SYS_PTRACE`. A task definition with `requiresCompatibilities: [FARGATE]` that uses one
#   fails to register, or the setting hides a risk the task was meant to run with elsewhere.
# scope: package
# related_resources:
#   - ref: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html
# custom:
#   id: PST-0617
#   severity: low
#   remediation: >-
#     Remove the setting, or run the task on EC2 if it really needs it; on Fargate use
#     `networkMode: awsvpc` and task-scoped volumes.
#   input: ecs
#   kinds: [TaskDefinition]
package posture.rules.ecs.ecs_fargate_unsupported_setting

import data.posture.lib.ecs
import rego.v1

problem contains {"what": "privileged: true", "path": array.concat(c.path, ["privileged"])} if {
	some c in ecs.containers()
	ecs.is_true(c.container.privileged)
}

problem contains {"what": sprintf("networkMode: %s", [mode]), "path": ["networkMode"]} if {
	mode := input.networkMode
	is_string(mode)
	not ecs.is_unknown(mode)
	lower(mode) != "awsvpc"
}

problem contains {"what": sprintf("ipcMode: %s", [input.ipcMode]), "path": ["ipcMode"]} if {
	is_string(input.ipcMode)
	not ecs.is_unknown(input.ipcMode)
}

problem contains {"what": "pidMode: host", "path": ["pidMode"]} if {
	is_string(input.pidMode)
	lower(input.pidMode) == "host"
}

problem contains {"what": "linuxParameters.devices", "path": array.concat(c.path, ["linuxParameters", "devices"])} if {
	some c in ecs.containers()
	count(ecs.as_array(object.get(c.container, ["linuxParameters", "devices"], []))) > 0
}

problem contains {"what": sprintf("host path %s as volume '%v'", [v.host.sourcePath, v.name]), "path": ["volumes", i, "host", "sourcePath"]} if {
	some i, v in ecs.as_array(input.volumes)
	is_string(v.host.sourcePath)
	v.host.sourcePath != ""
}

problem contains {"what": sprintf("capability %s", [ecs.capability(name)]), "path": array.concat(c.path, ["linuxParameters", "capabilities", "add", j])} if {
	some c in ecs.containers()
	some j, name in ecs.as_array(object.get(c.container, ["linuxParameters", "capabilities", "add"], []))
	is_string(name)
	not ecs.is_unknown(name)
	ecs.capability(name) != "SYS_PTRACE"
}

deny contains {"msg": msg, "path": p.path} if {
	ecs.fargate
	some p in problem
	msg := sprintf("%s requires Fargate, which does not support %s", [ecs.describe_task(), p.what])
}
