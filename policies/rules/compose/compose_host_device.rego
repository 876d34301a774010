# METADATA
# title: Compose service maps a host device
# description: >-
#   `devices` gives the container direct access to host device nodes (disks, `/dev/mem`, GPUs,
#   USB); a writable block device is the host's filesystem.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0510
#   severity: medium
#   remediation: >-
#     Remove the device mapping unless the service must drive that hardware; map it read-only
#     or with the least permissions (`/dev/x:/dev/x:r`).
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.17"]
package posture.rules.compose.compose_host_device

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": ["devices", i]} if {
	some i, device in compose.as_array(input.devices)
	name := device_name(device)
	msg := sprintf("%s maps host device %s", [compose.describe(), name])
}

device_name(d) := split(d, ":")[0] if is_string(d)

device_name(d) := sprintf("%v", [object.get(d, "source", "(unnamed)")]) if is_object(d)
