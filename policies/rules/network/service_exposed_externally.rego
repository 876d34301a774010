# METADATA
# title: Service exposed outside the cluster
# description: >-
#   A NodePort Service opens its ports on every node's addresses, and a LoadBalancer Service
#   also asks the cloud for a load balancer that is reachable from the internet unless it is
#   restricted. Either one bypasses whatever entry point (an ingress controller, an API gateway,
#   a WAF) is meant to front the cluster. A LoadBalancer passes when it is marked internal with
#   the provider's annotation (AKS, EKS, GKE, OCI, OpenStack, IBM Cloud, Alibaba Cloud), since
#   it is then reachable only from the private network, or when `loadBalancerSourceRanges` (or
#   the `service.beta.kubernetes.io/load-balancer-source-ranges` annotation) limits it to
#   ranges narrower than 0.0.0.0/0 and ::/0. `externalIPs` expose a Service of any type on
#   addresses routed to the nodes and are reported too. Services outside the core API group
#   (Knative's, for instance) are not checked.
# scope: package
# related_resources:
#   - ref: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types
#   - ref: https://kubernetes.io/docs/tasks/access-application-cluster/configure-cloud-provider-firewall/
# custom:
#   id: PST-0220
#   severity: medium
#   remediation: >-
#     Use a ClusterIP Service behind an Ingress or Gateway that terminates TLS and authenticates
#     callers. Where a load balancer is needed, make it internal with the cloud provider's
#     annotation or set `spec.loadBalancerSourceRanges` to the client networks; avoid NodePort
#     and `externalIPs` outside development clusters.
#   kinds: [Service]
package posture.rules.network.service_exposed_externally

import rego.v1

name := object.get(input, ["metadata", "name"], "(unnamed)")

annotations := object.get(input, ["metadata", "annotations"], {})

service_type := object.get(input, ["spec", "type"], "ClusterIP")

# Annotations that make a cloud provider create a load balancer with private addresses only,
# with the documented value that selects it. Values are compared exactly: a spelling a
# provider might also accept costs a false finding, not a missed public load balancer.
internal_annotations := {
	"service.beta.kubernetes.io/azure-load-balancer-internal": "true",
	"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
	"networking.gke.io/load-balancer-type": "Internal",
	"cloud.google.com/load-balancer-type": "Internal",
	"service.beta.kubernetes.io/oci-load-balancer-internal": "true",
	"service.beta.kubernetes.io/openstack-internal-load-balancer": "true",
	"service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type": "private",
	"service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type": "intranet",
}

internal if {
	some key, value in internal_annotations
	annotations[key] == value
}

# The in-tree AWS provider reads any value but "false" (and the empty string) as internal.
internal if {
	v := annotations["service.beta.kubernetes.io/aws-load-balancer-internal"]
	is_string(v)
	not v in {"", "false"}
}

open_ranges := {"0.0.0.0/0", "::/0"}

# Source ranges from the field, else from the legacy annotation (comma-separated).
source_ranges := [trim_space(r) | some r in input.spec.loadBalancerSourceRanges; is_string(r)] if {
	field_ranges_set
} else := [trim_space(r) | some r in split(annotations[legacy_ranges], ","); trim_space(r) != ""] if {
	is_string(annotations[legacy_ranges])
} else := []

legacy_ranges := "service.beta.kubernetes.io/load-balancer-source-ranges"

field_ranges_set if {
	is_array(input.spec.loadBalancerSourceRanges)
	count(input.spec.loadBalancerSourceRanges) > 0
}

ranges_path := ["spec", "loadBalancerSourceRanges"] if {
	field_ranges_set
} else := ["metadata", "annotations", legacy_ranges]

type_path := ["spec", "type"]

deny contains {"msg": msg, "path": type_path} if {
	input.apiVersion == "v1"
	service_type == "NodePort"
	msg := sprintf("Service '%s' is of type NodePort: its ports are open on every node's addresses", [name])
}

deny contains {"msg": msg, "path": type_path} if {
	input.apiVersion == "v1"
	service_type == "LoadBalancer"
	not internal
	count(source_ranges) == 0
	msg := sprintf("Service '%s' is of type LoadBalancer with no loadBalancerSourceRanges: any address can reach it", [name])
}

deny contains {"msg": msg, "path": ranges_path} if {
	input.apiVersion == "v1"
	service_type == "LoadBalancer"
	not internal
	open := [r | some r in source_ranges; r in open_ranges]
	count(open) > 0
	msg := sprintf("Service '%s' is of type LoadBalancer and its source ranges include %s: any address can reach it", [name, concat(" and ", open)])
}

deny contains {"msg": msg, "path": ["spec", "externalIPs"]} if {
	input.apiVersion == "v1"
	service_type != "ExternalName"
	is_array(input.spec.externalIPs)
	ips := [sprintf("%v", [ip]) | some ip in input.spec.externalIPs]
	count(ips) > 0
	msg := sprintf("Service '%s' sets externalIPs (%s): it is reachable on those addresses from outside the cluster", [name, concat(", ", ips)])
}
