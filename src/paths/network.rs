//! Which network policies cut an edge to a workload: Kubernetes NetworkPolicies, Cilium's
//! CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy, and Calico's NetworkPolicy and
//! GlobalNetworkPolicy. Which pods a policy selects and which directions it isolates are read
//! as the inventory reads them (`engine::network_policy`, which PST-0224 judges by); this
//! module adds who a policy admits.
//!
//! The model is deliberately simple (docs/attack-paths.md): a workload is cut from a source
//! when at least one policy selects its pods and isolates them for ingress, and no ingress
//! rule of the policies that select them could admit the source (the allow rules of every
//! flavour are taken together, as if they were one policy):
//!
//! - a rule that names no peer admits every source: a Kubernetes rule without `from`, a Cilium
//!   rule with only `toPorts` (or ICMP), a Calico `Allow` (or `Pass`) rule without `source`;
//!   an empty Cilium rule (`ingress: [{}]`, the usual default deny) admits nothing;
//! - traffic from outside the cluster arrives through an ingress controller or a load balancer,
//!   so a peer that names other namespaces or addresses admits it: a `namespaceSelector` or an
//!   `ipBlock`; Cilium's `fromCIDR`, `fromCIDRSet`, `fromGroups` and the entities `world`,
//!   `all` and `ingress`; a Calico source with `nets`, `notNets`, `namespaceSelector`,
//!   `notSelector`, `serviceAccounts` or `services`;
//! - a pod is admitted by such a peer too, and by a pod selector that selects it: a Kubernetes
//!   `podSelector` and a Calico namespaced policy's `selector` within the policy's namespace,
//!   a Cilium `fromEndpoints` within the policy's namespace unless it names a namespace
//!   (`io.kubernetes.pod.namespace`) or the policy is cluster-wide, Cilium's `cluster` entity
//!   and a GlobalNetworkPolicy's `selector` in any namespace.
//!
//! Ports are not considered, nor egress policies of the source, nor deny rules (Cilium's
//! `ingressDeny`, Calico's `Deny`, tiers and order): an edge they would cut is kept.

use super::labels::{Labels, Overlaid};
use crate::engine::network_policy::{
    calico_directions, calico_field, calico_namespaces, calico_selector, cilium_directions,
    dnf_matches, label_selector, spec_list, Dnf,
};
use crate::resource::Resource;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Cilium's label for a pod's namespace, which its selectors may name.
const CILIUM_NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// Calico's label for a pod's namespace.
const CALICO_NAMESPACE: &str = "projectcalico.org/namespace";
/// Calico's label for a namespace's name, in namespace selectors.
const CALICO_NAME: &str = "projectcalico.org/name";

/// Where traffic to a workload comes from.
pub enum Source<'a> {
    /// Outside the cluster, through an Ingress, a load balancer or a node port.
    External,
    /// A pod of the cluster, with its namespace and labels.
    Pod {
        namespace: Option<&'a str>,
        labels: &'a Labels,
    },
}

enum Peer {
    /// Other namespaces or addresses: outside traffic and every pod.
    Other,
    /// Pods of the policy's namespace that the selector selects.
    Pods(Dnf),
    /// Pods of any namespace that the selector selects (namespace labels included).
    AnyPods(Dnf),
}

/// The pods a policy applies to.
enum Scope {
    Namespace(String),
    /// Cluster-wide, in the namespaces a Calico `namespaceSelector` selects (`None`: all).
    Cluster(Option<Dnf>),
}

struct Policy<'a> {
    resource: &'a Resource,
    scope: Scope,
    selects: Dnf,
    /// `None` when a rule admits every source; else the peers of every rule.
    peers: Option<Vec<Peer>>,
}

pub struct Policies<'a> {
    policies: Vec<Policy<'a>>,
    /// Of `policies`, by place in input order: those of each namespace, and the cluster-wide
    /// ones. An edge looks only at the policies that can select its pods, not at every one.
    in_namespace: HashMap<String, Vec<usize>>,
    cluster_wide: Vec<usize>,
    /// Namespaces' labels, for cluster-wide Calico policies that select namespaces.
    namespaces: HashMap<&'a str, &'a Map<String, Value>>,
}

impl<'a> Policies<'a> {
    pub fn new(resources: &'a [Resource]) -> Policies<'a> {
        let mut policies = Vec::new();
        let mut namespaces = HashMap::new();
        for r in resources {
            match (r.id.group(), r.id.kind.as_str()) {
                // A policy is read once, a moment at a time: a large scan keeps them packed
                // (`Resource::pack`). Namespaces are never packed, and their labels borrowed.
                ("networking.k8s.io", "NetworkPolicy") => {
                    policies.extend(kubernetes(r, &r.read_object()));
                }
                ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy") => {
                    policies.extend(cilium(r, &r.read_object()));
                }
                (
                    "projectcalico.org" | "crd.projectcalico.org",
                    "NetworkPolicy" | "GlobalNetworkPolicy",
                ) => policies.extend(calico(r, &r.read_object())),
                ("", "Namespace") => {
                    if let Some(labels) = r.object["metadata"]["labels"].as_object() {
                        namespaces.insert(r.id.name.as_str(), labels);
                    }
                }
                _ => {}
            }
        }
        let mut in_namespace: HashMap<String, Vec<usize>> = HashMap::new();
        let mut cluster_wide = Vec::new();
        for (i, p) in policies.iter().enumerate() {
            match &p.scope {
                Scope::Namespace(ns) => in_namespace.entry(ns.clone()).or_default().push(i),
                Scope::Cluster(_) => cluster_wide.push(i),
            }
        }
        Policies {
            policies,
            in_namespace,
            cluster_wide,
            namespaces,
        }
    }

    /// The policies that select pods with `labels` in `namespace` and isolate them.
    fn selecting(&self, namespace: Option<&str>, labels: &Labels) -> Vec<&Policy<'a>> {
        let own = namespace
            .and_then(|ns| self.in_namespace.get(ns))
            .map_or(&[][..], Vec::as_slice);
        let mut candidates: Vec<usize> = own.iter().chain(&self.cluster_wide).copied().collect();
        // In input order, as the explanation names the first.
        if !own.is_empty() && !self.cluster_wide.is_empty() {
            candidates.sort_unstable();
        }
        candidates
            .into_iter()
            .map(|i| &self.policies[i])
            .filter(|p| match &p.scope {
                Scope::Namespace(ns) => namespace == Some(ns.as_str()),
                Scope::Cluster(None) => namespace.is_some(),
                Scope::Cluster(Some(selector)) => namespace.is_some_and(|ns| {
                    let none = Map::new();
                    let labels = Overlaid {
                        base: self.namespaces.get(ns).copied().unwrap_or(&none),
                        over: &[(CALICO_NAME, ns)],
                    };
                    dnf_matches(selector, &labels)
                }),
            })
            .filter(|p| selects_pod(&p.selects, labels, namespace))
            .collect()
    }

    /// The policy that cuts `source` from pods with `labels` in `namespace`, if one does
    /// (the first isolating policy in input order, for the explanation); `None` when the edge
    /// stands.
    pub fn cut(
        &self,
        namespace: Option<&str>,
        labels: &Labels,
        source: &Source<'_>,
    ) -> Option<&'a Resource> {
        let isolating = self.selecting(namespace, labels);
        let first = isolating.first()?;
        let admitted = isolating.iter().any(|p| match &p.peers {
            None => true,
            Some(peers) => peers.iter().any(|peer| match (peer, source) {
                (Peer::Other, _) => true,
                (_, Source::External) => false,
                (
                    Peer::Pods(d),
                    Source::Pod {
                        namespace: ns,
                        labels,
                    },
                ) => {
                    matches!(&p.scope, Scope::Namespace(own) if *ns == Some(own.as_str()))
                        && selects_pod(d, labels, *ns)
                }
                (
                    Peer::AnyPods(d),
                    Source::Pod {
                        namespace: ns,
                        labels,
                    },
                ) => selects_pod(d, labels, *ns),
            }),
        });
        (!admitted).then_some(first.resource)
    }

    /// Whether any policy selects pods with `labels` in `namespace` and isolates them.
    pub fn any_selects(&self, namespace: Option<&str>, labels: &Labels) -> bool {
        !self.selecting(namespace, labels).is_empty()
    }
}

/// Whether `dnf` selects a pod with `labels` in `namespace`, with the labels Cilium and
/// Calico selectors may name for its namespace laid over the pod's own.
fn selects_pod(dnf: &Dnf, labels: &Labels, namespace: Option<&str>) -> bool {
    let over = namespace.map(|ns| [(CILIUM_NAMESPACE, ns), (CALICO_NAMESPACE, ns)]);
    dnf_matches(
        dnf,
        &Overlaid {
            base: labels,
            over: over.as_ref().map_or(&[][..], |o| &o[..]),
        },
    )
}

fn own_namespace(r: &Resource) -> Scope {
    Scope::Namespace(r.id.namespace.clone().unwrap_or_default())
}

/// A NetworkPolicy that isolates its pods for ingress, reduced; `None` for one that does not.
fn kubernetes<'a>(r: &'a Resource, object: &Value) -> Option<Policy<'a>> {
    let spec = &object["spec"];
    let types: Vec<&str> = spec["policyTypes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    // Without policyTypes every policy isolates for ingress (the API's default).
    let isolates = types.is_empty() || types.contains(&"Ingress");
    if !isolates {
        return None;
    }
    let selects = label_selector(spec.get("podSelector").unwrap_or(&Value::Null), false);
    let mut peers = Vec::new();
    for rule in spec["ingress"].as_array().into_iter().flatten() {
        let from = rule["from"].as_array().filter(|f| !f.is_empty());
        let Some(from) = from else {
            return Some(Policy {
                resource: r,
                scope: own_namespace(r),
                selects,
                peers: None,
            });
        };
        for peer in from {
            if peer.get("namespaceSelector").is_some() || peer.get("ipBlock").is_some() {
                peers.push(Peer::Other);
            } else if let Some(s) = peer.get("podSelector") {
                peers.push(Peer::Pods(label_selector(s, false)));
            }
        }
    }
    Some(Policy {
        resource: r,
        scope: own_namespace(r),
        selects,
        peers: Some(peers),
    })
}

/// One policy per rule set of a Cilium policy that isolates for ingress: each set's rules
/// apply to the endpoints its own `endpointSelector` selects.
fn cilium<'a>(r: &'a Resource, object: &Value) -> Vec<Policy<'a>> {
    let clusterwide = r.id.kind == "CiliumClusterwideNetworkPolicy";
    let mut out = Vec::new();
    for spec in spec_list(object) {
        let Some(selector) = spec.get("endpointSelector") else {
            // A nodeSelector policy applies to hosts, not pods.
            continue;
        };
        if !cilium_directions(spec).contains(&"Ingress") {
            continue;
        }
        let mut list = Vec::new();
        let mut admits_all = false;
        for rule in spec["ingress"].as_array().into_iter().flatten() {
            let named = cilium_peers(rule, clusterwide, &mut list);
            if !named && (rule.get("toPorts").is_some() || rule.get("icmps").is_some()) {
                // An L4-only rule: from every peer.
                admits_all = true;
                break;
            }
        }
        let peers = (!admits_all).then_some(list);
        let scope = if clusterwide {
            Scope::Cluster(None)
        } else {
            own_namespace(r)
        };
        out.push(Policy {
            resource: r,
            scope,
            selects: label_selector(selector, true),
            peers,
        });
    }
    out
}

/// Adds the peers of one Cilium ingress rule; whether the rule names any peer field.
fn cilium_peers(rule: &Value, clusterwide: bool, out: &mut Vec<Peer>) -> bool {
    let mut named = false;
    for key in ["fromCIDR", "fromCIDRSet", "fromGroups"] {
        if rule.get(key).is_some() {
            named = true;
            out.push(Peer::Other);
        }
    }
    if let Some(entities) = rule.get("fromEntities").and_then(Value::as_array) {
        named = true;
        for e in entities.iter().filter_map(Value::as_str) {
            match e {
                "world" | "all" | "ingress" => out.push(Peer::Other),
                "cluster" => out.push(Peer::AnyPods(vec![vec![]])),
                // host, remote-node, kube-apiserver, health, init, unmanaged: no pod here.
                _ => {}
            }
        }
    }
    if let Some(endpoints) = rule.get("fromEndpoints").and_then(Value::as_array) {
        named = true;
        for selector in endpoints {
            let dnf = label_selector(selector, true);
            if clusterwide || names_namespace(selector) {
                out.push(Peer::AnyPods(dnf));
            } else {
                out.push(Peer::Pods(dnf));
            }
        }
    }
    named || rule.get("fromRequires").is_some() || rule.get("fromNodes").is_some()
}

/// Whether a Cilium selector names the pod's namespace (then it reaches across namespaces).
fn names_namespace(selector: &Value) -> bool {
    let is_ns = |k: &str| k.rsplit_once(':').map_or(k, |(_, k)| k) == CILIUM_NAMESPACE;
    selector["matchLabels"]
        .as_object()
        .is_some_and(|m| m.keys().any(|k| is_ns(k)))
        || selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["key"].as_str().is_some_and(is_ns))
}

/// A Calico policy that isolates for ingress, reduced.
fn calico<'a>(r: &'a Resource, object: &Value) -> Option<Policy<'a>> {
    let spec = &object["spec"];
    if !calico_directions(spec).contains(&"Ingress") {
        return None;
    }
    let global = r.id.kind == "GlobalNetworkPolicy";
    let mut peers = Vec::new();
    let mut admits_all = false;
    for rule in spec["ingress"].as_array().into_iter().flatten() {
        // Deny and Log rules admit nothing; Pass hands the decision on, which may admit.
        if !matches!(rule["action"].as_str(), Some("Allow" | "Pass")) {
            continue;
        }
        let source = rule.get("source").and_then(Value::as_object);
        let Some(source) = source.filter(|s| !s.is_empty()) else {
            admits_all = true;
            break;
        };
        let wide = [
            "nets",
            "notNets",
            "namespaceSelector",
            "notSelector",
            "serviceAccounts",
            "services",
        ];
        if wide.iter().any(|k| source.contains_key(*k)) {
            peers.push(Peer::Other);
        } else if let Some(selector) = source.get("selector").and_then(Value::as_str) {
            let dnf = calico_selector(selector).unwrap_or_default();
            peers.push(if global {
                Peer::AnyPods(dnf)
            } else {
                Peer::Pods(dnf)
            });
        } else {
            // Only ports or protocols: every source.
            admits_all = true;
            break;
        }
    }
    let scope = if global {
        Scope::Cluster(calico_namespaces(&r.id.kind, spec))
    } else {
        own_namespace(r)
    };
    Some(Policy {
        resource: r,
        scope,
        selects: calico_field(spec, "selector"),
        peers: (!admits_all).then_some(peers),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Origin;
    use serde_json::json;

    fn resource(object: Value) -> Resource {
        let origin = Origin::Cluster {
            cluster: "c".to_owned(),
        };
        Resource::from_object(object, origin, None).unwrap()
    }

    /// The policy an edge names is the first in input order that isolates the pods, the
    /// namespace's or a cluster-wide one; a namespace's policy selects no other's pods.
    #[test]
    fn the_first_isolating_policy_in_input_order_cuts_the_edge() {
        let namespaced = || {
            resource(
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "deny", "namespace": "a"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
            )
        };
        let cluster_wide = || {
            resource(json!({"apiVersion": "cilium.io/v2",
                "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "wide"},
                "spec": {"endpointSelector": {},
                         "ingress": [{"fromEndpoints": [{"matchLabels": {"role": "x"}}]}]}}))
        };
        let labels = Labels::default();
        for (resources, first) in [
            (vec![namespaced(), cluster_wide()], "deny"),
            (vec![cluster_wide(), namespaced()], "wide"),
        ] {
            let policies = Policies::new(&resources);
            let cut = |namespace| {
                policies
                    .cut(Some(namespace), &labels, &Source::External)
                    .map(|r| r.id.name.as_str())
            };
            assert_eq!(cut("a"), Some(first));
            assert_eq!(cut("b"), Some("wide"));
        }
        let only_namespaced = [namespaced()];
        let policies = Policies::new(&only_namespaced);
        assert!(policies.any_selects(Some("a"), &labels));
        assert!(!policies.any_selects(Some("b"), &labels));
    }
}
