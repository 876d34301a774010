# METADATA
# title: Compose service publishes a port on all interfaces
# description: >-
#   A port published without a host address (`"8080:80"`, `"0.0.0.0:8080:80"`, or the long
#   syntax without `host_ip`) is reachable from every network the host is on, and Docker's
#   rules bypass host firewalls such as ufw. Database ports are reported by PST-0517 instead.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0518
#   severity: medium
#   remediation: >-
#     Bind the port to the address that should serve it (`"127.0.0.1:8080:80"` behind a
#     reverse proxy on the host), or do not publish it where only other services use it.
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.13"]
package posture.rules.compose.compose_port_all_interfaces

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": port.path} if {
	some port in compose.ports()
	port.host_ip in compose.all_interfaces
	not port.target in compose.database_ports
	msg := sprintf("%s publishes port %s on all host interfaces", [compose.describe(), port.target])
}
