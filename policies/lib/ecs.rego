# Shared helpers for ECS rules (input: ecs). The input is one task definition in the shape of
# the RegisterTaskDefinition API (camelCase: containerDefinitions, volumes, networkMode, ...),
# whether it was read from JSON, CloudFormation or a Terraform plan, plus `x-posture`: {name,
# format}. Values only the deployment resolves (CloudFormation functions, unknown plan values)
# are text with `${...}`: rules treat them as unknown and judge nothing from them.
package posture.lib.ecs

import rego.v1

as_object(x) := x if is_object(x)

as_object(x) := {} if not is_object(x)

as_array(x) := x if is_array(x)

as_array(x) := [] if not is_array(x)

memo_name := object.get(as_object(object.get(input, "x-posture", {})), "name", "(unnamed)")

# The task definition as messages name it: task definition 'ratings'.
describe_task() := sprintf("Task definition '%s'", [memo_name])

# Every container as {container, name, path}: the path of its entry in containerDefinitions.
memo_containers contains {"container": c, "name": container_name(c, i), "path": ["containerDefinitions", i]} if {
	some i, c in as_array(input.containerDefinitions)
	is_object(c)
}

containers() := memo_containers

container_name(c, _) := c.name if is_string(c.name)

container_name(c, i) := sprintf("#%d", [i]) if not is_string(c.name)

# Container 'api' of task definition 'ratings'.
describe(c) := sprintf("Container '%s' of task definition '%s'", [c.name, memo_name])

# CloudFormation and JSON may write booleans as text.
is_true(x) if x == true

is_true(x) if {
	is_string(x)
	lower(x) == "true"
}

# A value only the deployment resolves.
is_unknown(x) if {
	is_string(x)
	contains(x, "${")
}

# Whether the task-level settings are known: not when a file holds only container definitions
# (the file Terraform's `container_definitions = file(...)` reads).
task_known if object.get(as_object(object.get(input, "x-posture", {})), "format", "") != "container-definitions"

# Whether the task runs on Fargate: it says so in requiresCompatibilities.
fargate if {
	some c in as_array(input.requiresCompatibilities)
	is_string(c)
	upper(c) == "FARGATE"
}

# Whether the containers are Linux ones (runtimePlatform absent or LINUX).
linux if not windows

windows if {
	family := object.get(as_object(input.runtimePlatform), "operatingSystemFamily", "")
	is_string(family)
	startswith(upper(family), "WINDOWS")
}

# Every environment variable of container `c` (an entry of containers()) as {name, value, path};
# the path points at the value, where a fix goes.
environment(c) := {{"name": e.name, "value": object.get(e, "value", null), "path": array.concat(c.path, ["environment", i, "value"])} |
	some i, e in as_array(c.container.environment)
	is_object(e)
	is_string(e.name)
}

# A capability name as Docker compares it: upper case, without the `CAP_` prefix.
capability(name) := trim_prefix(upper(name), "CAP_")

# A host path without trailing slashes (`/etc/` is `/etc`), `/` staying `/`.
normal_path(p) := "/" if trim_right(p, "/") == ""

normal_path(p) := trim_right(p, "/") if trim_right(p, "/") != ""

# Whether a value is only a stand-in for one: unknown, empty or a placeholder.
is_placeholder(value) if not is_string(value)

is_placeholder(value) if is_unknown(value)

is_placeholder(value) if {
	is_string(value)
	startswith(value, "$")
}

is_placeholder(value) if {
	is_string(value)
	lower(trim_space(value)) in {"", "changeme", "change-me", "change_me", "xxx", "***", "<password>", "<secret>", "<token>", "none", "null", "false", "true"}
}
