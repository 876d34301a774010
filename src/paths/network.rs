//! Which NetworkPolicies cut an edge to a workload.
//!
//! The model is deliberately simple (docs/attack-paths.md): a workload is cut from a source
//! when at least one `networking.k8s.io/v1` NetworkPolicy of its namespace selects its pods and
//! isolates them for ingress, and no ingress rule of those policies could admit the source:
//!
//! - a rule without `from` (or with an empty one) admits every source;
//! - traffic from outside the cluster arrives through an ingress controller or a load balancer,
//!   so a peer with a `namespaceSelector` (the controller's namespace) or an `ipBlock` admits it;
//! - a pod of the same namespace is admitted by a peer whose `podSelector` selects it, and by
//!   any `namespaceSelector` or `ipBlock` peer (not evaluated further).
//!
//! Ports are not considered, nor egress policies of the source, nor Cilium or Calico policies
//! (their rule languages are not modelled here): an edge they would cut is kept.

use crate::engine::network_policy::{dnf_matches, label_selector, Dnf};
use crate::resource::Resource;
use serde_json::{Map, Value};

/// Where traffic to a workload comes from.
pub enum Source<'a> {
    /// Outside the cluster, through an Ingress, a load balancer or a node port.
    External,
    /// A pod of the cluster, with its namespace and labels.
    Pod {
        namespace: Option<&'a str>,
        labels: &'a Map<String, Value>,
    },
}

struct Peer {
    pods: Option<Dnf>,
    other: bool,
}

struct Policy<'a> {
    resource: &'a Resource,
    selects: Dnf,
    /// `None` when a rule admits every source; else the peers of every rule.
    peers: Option<Vec<Peer>>,
}

pub struct Policies<'a> {
    policies: Vec<Policy<'a>>,
}

impl<'a> Policies<'a> {
    pub fn new(resources: &'a [Resource]) -> Policies<'a> {
        let policies = resources
            .iter()
            .filter(|r| r.id.group() == "networking.k8s.io" && r.id.kind == "NetworkPolicy")
            .filter_map(policy)
            .collect();
        Policies { policies }
    }

    /// The policy that cuts `source` from pods with `labels` in `namespace`, if one does
    /// (the first isolating policy by name, for the explanation); `Ok(None)`-like `None` when
    /// the edge stands.
    pub fn cut(
        &self,
        namespace: Option<&str>,
        labels: &Map<String, Value>,
        source: &Source<'_>,
    ) -> Option<&'a Resource> {
        let isolating: Vec<&Policy<'a>> = self
            .policies
            .iter()
            .filter(|p| p.resource.id.namespace.as_deref() == namespace)
            .filter(|p| dnf_matches(&p.selects, labels))
            .collect();
        let first = isolating.first()?;
        let admitted = isolating.iter().any(|p| match &p.peers {
            None => true,
            Some(peers) => peers.iter().any(|peer| match source {
                Source::External => peer.other,
                Source::Pod {
                    namespace: from_ns,
                    labels: from,
                } => {
                    peer.other
                        || (*from_ns == namespace
                            && peer.pods.as_ref().is_some_and(|d| dnf_matches(d, from)))
                }
            }),
        });
        (!admitted).then_some(first.resource)
    }

    /// Whether any NetworkPolicy selects pods with `labels` in `namespace`.
    pub fn any_selects(&self, namespace: Option<&str>, labels: &Map<String, Value>) -> bool {
        self.policies.iter().any(|p| {
            p.resource.id.namespace.as_deref() == namespace && dnf_matches(&p.selects, labels)
        })
    }
}

/// A policy that isolates its pods for ingress, reduced; `None` for one that does not.
fn policy(r: &Resource) -> Option<Policy<'_>> {
    let spec = &r.object["spec"];
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
                selects,
                peers: None,
            });
        };
        for peer in from {
            let other = peer.get("namespaceSelector").is_some() || peer.get("ipBlock").is_some();
            let pods = peer
                .get("podSelector")
                .filter(|_| !other)
                .map(|s| label_selector(s, false));
            peers.push(Peer { pods, other });
        }
    }
    Some(Policy {
        resource: r,
        selects,
        peers: Some(peers),
    })
}
