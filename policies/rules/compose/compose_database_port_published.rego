# METADATA
# title: Compose service publishes a database port on all interfaces
# description: >-
#   A database port (MongoDB 27017, PostgreSQL 5432, MySQL 3306, Redis 6379, Elasticsearch
#   9200, ...) published without a host address is reachable from every network the host is on;
#   Docker's published ports bypass host firewalls such as ufw. Exposed databases are among the
#   most common sources of breaches.
# scope: package
# related_resources:
#   - ref: https://docs.docker.com/reference/compose-file/services/
# custom:
#   id: PST-0517
#   severity: high
#   remediation: >-
#     Do not publish the database port: other services reach it over the Compose network by
#     service name. Where the host itself needs it, bind it to loopback
#     (`"127.0.0.1:27017:27017"`).
#   input: compose
#   kinds: [Service]
#   frameworks:
#     cis-docker: ["5.13"]
package posture.rules.compose.compose_database_port_published

import data.posture.lib.compose
import rego.v1

deny contains {"msg": msg, "path": port.path} if {
	some port in compose.ports()
	port.host_ip in compose.all_interfaces
	port.target in compose.database_ports
	msg := sprintf("%s publishes database port %s on all host interfaces", [compose.describe(), port.target])
}
