//! The inventory: the facts about *other* objects that some rules need (is there a NetworkPolicy
//! in this namespace? which subjects are bound to this role?), built once per scan and handed to
//! the engine as `data.inventory`.

use super::network_policy;
use crate::resource::Resource;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

/// Namespace key of an object: its namespace, or `""` when a manifest leaves it to deploy time.
fn ns(r: &Resource) -> String {
    r.id.namespace.clone().unwrap_or_default()
}

fn push(map: &mut Map<String, Value>, key: String, value: Value) {
    match map.entry(key).or_insert_with(|| Value::Array(vec![])) {
        Value::Array(a) => a.push(value),
        _ => unreachable!("inventory buckets are always arrays"),
    }
}

pub fn build<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> Value {
    let resources: Vec<&Resource> = resources.into_iter().collect();
    let mut tables = Tables::default();
    let mut service_accounts = Map::new();
    let mut cluster_network_policies = Vec::new();
    // Each object's facts are made on every core and filed in input order on one: made on one,
    // they kept the other core waiting for some 0.2 s of a 100,000-object scan. A slice of
    // objects at a time, so that the facts made and not yet filed stay few.
    let facts = resources.chunks(FACTS_AT_ONCE).flat_map(|some| {
        some.par_iter()
            .flat_map_iter(|r| facts(r))
            .collect::<Vec<_>>()
    });
    for fact in facts {
        match fact {
            Fact::Listed(table, key, value) => push(tables.get(table), key, value),
            Fact::Named(table, key, value) => {
                tables.get(table).insert(key, value);
            }
            Fact::Account {
                namespace,
                name,
                value,
            } => {
                let by_name = service_accounts
                    .entry(namespace)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = by_name {
                    m.insert(name, value);
                }
            }
            Fact::ClusterNetworkPolicy(value) => cluster_network_policies.push(value),
        }
    }
    json!({
        "inventory": {
            "network_policies": tables.network_policies,
            "cluster_network_policies": cluster_network_policies,
            "service_accounts": service_accounts,
            "role_bindings": tables.role_bindings,
            "roles": tables.roles,
            "service_account_bindings": tables.service_account_bindings,
            "namespaces": tables.namespaces,
            "limit_ranges": tables.limit_ranges,
            "resource_quotas": tables.resource_quotas,
            "workload_namespaces": tables.workload_namespaces,
        }
    })
}

/// Objects whose facts are made before they are filed.
const FACTS_AT_ONCE: usize = 4096;

/// A table of the inventory keyed by a name (the ServiceAccounts, keyed by namespace and then
/// name, are filed apart).
#[derive(Debug, Clone, Copy)]
enum Table {
    NetworkPolicies,
    RoleBindings,
    ServiceAccountBindings,
    LimitRanges,
    ResourceQuotas,
    WorkloadNamespaces,
    Roles,
    Namespaces,
}

/// The inventory's tables keyed by a name.
#[derive(Default)]
struct Tables {
    network_policies: Map<String, Value>,
    role_bindings: Map<String, Value>,
    service_account_bindings: Map<String, Value>,
    limit_ranges: Map<String, Value>,
    resource_quotas: Map<String, Value>,
    workload_namespaces: Map<String, Value>,
    roles: Map<String, Value>,
    namespaces: Map<String, Value>,
}

impl Tables {
    fn get(&mut self, table: Table) -> &mut Map<String, Value> {
        match table {
            Table::NetworkPolicies => &mut self.network_policies,
            Table::RoleBindings => &mut self.role_bindings,
            Table::ServiceAccountBindings => &mut self.service_account_bindings,
            Table::LimitRanges => &mut self.limit_ranges,
            Table::ResourceQuotas => &mut self.resource_quotas,
            Table::WorkloadNamespaces => &mut self.workload_namespaces,
            Table::Roles => &mut self.roles,
            Table::Namespaces => &mut self.namespaces,
        }
    }
}

/// What an object adds to the inventory.
enum Fact {
    /// Appended to the list under a key of a table.
    Listed(Table, String, Value),
    /// Set under a key of a table; a later object of the same key replaces it.
    Named(Table, String, Value),
    /// A ServiceAccount, under its namespace and name.
    Account {
        namespace: String,
        name: String,
        value: Value,
    },
    ClusterNetworkPolicy(Value),
}

/// What `r` adds to the inventory, in order.
fn facts(r: &Resource) -> Vec<Fact> {
    let mut facts = Vec::new();
    let o = &r.object;
    let group = r.id.group();
    match (group, r.id.kind.as_str()) {
        // Every flavour of NetworkPolicy in one form (see `network_policy`): namespaced
        // ones by namespace, cluster-wide ones (Cilium's, Calico's global) in one list.
        ("networking.k8s.io", "NetworkPolicy")
        | ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy")
        | (
            "projectcalico.org" | "crd.projectcalico.org",
            "NetworkPolicy" | "GlobalNetworkPolicy",
        ) => {
            if let Some(n) = network_policy::normalize(group, r.id.kind.as_str(), &r.id.name, o) {
                facts.push(if n.namespaced {
                    Fact::Listed(Table::NetworkPolicies, ns(r), n.value)
                } else {
                    Fact::ClusterNetworkPolicy(n.value)
                });
            }
        }
        // Keyed by namespace, then name: rules look up the account a pod runs as.
        ("", "ServiceAccount") => facts.push(Fact::Account {
            namespace: ns(r),
            name: r.id.name.clone(),
            value: json!({
                "automountServiceAccountToken": o
                    .get("automountServiceAccountToken")
                    .cloned()
                    .unwrap_or(Value::Null),
            }),
        }),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            // Keyed by the role a binding grants, so a rule on a role finds its bindings with
            // one lookup: "ClusterRole/<name>", or "Role/<namespace>/<name>" (a RoleBinding
            // can only grant a Role of its own namespace).
            let ref_kind = o
                .pointer("/roleRef/kind")
                .and_then(Value::as_str)
                .unwrap_or("");
            let ref_name = o
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let key = match (r.id.kind.as_str(), ref_kind) {
                (_, "ClusterRole") => Some(format!("ClusterRole/{ref_name}")),
                ("RoleBinding", "Role") => Some(format!("Role/{}/{ref_name}", ns(r))),
                _ => None,
            };
            if let Some(key) = key {
                facts.push(Fact::Listed(
                    Table::RoleBindings,
                    key.clone(),
                    json!({
                        "kind": r.id.kind,
                        "namespace": ns(r),
                        "name": r.id.name,
                        "subjects": o.get("subjects").cloned().unwrap_or(json!([])),
                    }),
                ));
                // Keyed by "<namespace>/<name>" of each ServiceAccount subject (a subject
                // without a namespace is the binding's own), so a rule on a ServiceAccount
                // or its token Secret finds what the account is granted with one lookup.
                let subjects = o.get("subjects").and_then(Value::as_array);
                for s in subjects.into_iter().flatten() {
                    if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
                        continue;
                    }
                    let Some(name) = s.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    let sa_ns = s
                        .get("namespace")
                        .and_then(Value::as_str)
                        .map_or_else(|| ns(r), str::to_owned);
                    facts.push(Fact::Listed(
                        Table::ServiceAccountBindings,
                        format!("{sa_ns}/{name}"),
                        json!({
                            "kind": r.id.kind,
                            "namespace": ns(r),
                            "name": r.id.name,
                            "role": key,
                            // The API server's own bindings (annotated
                            // rbac.authorization.kubernetes.io/autoupdate "true").
                            "bootstrap": o
                                .pointer("/metadata/annotations")
                                .and_then(|a| a.get("rbac.authorization.kubernetes.io/autoupdate"))
                                .and_then(Value::as_str)
                                == Some("true"),
                        }),
                    ));
                }
            }
        }
        ("", "LimitRange") => {
            facts.push(Fact::Listed(Table::LimitRanges, ns(r), json!(r.id.name)));
        }
        ("", "ResourceQuota") => {
            facts.push(Fact::Listed(Table::ResourceQuotas, ns(r), json!(r.id.name)));
        }
        ("", "Pod" | "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob") => {
            // Namespaces that run something, for the namespace rules: "Kind/name" each.
            if let Some(namespace) = &r.id.namespace {
                facts.push(Fact::Listed(
                    Table::WorkloadNamespaces,
                    namespace.clone(),
                    json!(format!("{}/{}", r.id.kind, r.id.name)),
                ));
            }
        }
        // Keyed like `role_bindings` ("ClusterRole/<name>", "Role/<namespace>/<name>"), so a
        // rule on a binding or ServiceAccount can judge what the bound role grants.
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
            let key = match r.id.kind.as_str() {
                "ClusterRole" => format!("ClusterRole/{}", r.id.name),
                _ => format!("Role/{}/{}", ns(r), r.id.name),
            };
            facts.push(Fact::Named(
                Table::Roles,
                key,
                json!({
                    "rules": o.get("rules").cloned().unwrap_or(json!([])),
                    "aggregated": o.get("aggregationRule").is_some_and(|a| !a.is_null()),
                }),
            ));
        }
        ("", "Namespace") => {
            facts.push(Fact::Named(
                Table::Namespaces,
                r.id.name.clone(),
                json!({"labels": o.pointer("/metadata/labels").cloned().unwrap_or(json!({}))}),
            ));
        }
        _ => {}
    }
    facts
}

/// What [`build`] reads of an object of a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The object's own facts: NetworkPolicies of every flavour, ServiceAccounts, Roles and
    /// their bindings, Namespaces, LimitRanges, ResourceQuotas. Everything evaluated with the
    /// inventory needs them all.
    Facts,
    /// A workload's namespace and name, for the rules on Namespaces (`workload_namespaces`)
    /// only.
    Identity,
    Nothing,
}

/// What [`build`] reads of objects of `group`/`kind`: a cluster scan evaluates the other
/// objects once the types read for [`Reads::Facts`] are listed, and Namespaces last.
pub fn reads(group: &str, kind: &str) -> Reads {
    match (group, kind) {
        ("networking.k8s.io", "NetworkPolicy")
        | ("cilium.io", "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy")
        | (
            "projectcalico.org" | "crd.projectcalico.org",
            "NetworkPolicy" | "GlobalNetworkPolicy",
        )
        | ("", "ServiceAccount" | "LimitRange" | "ResourceQuota" | "Namespace")
        | (
            "rbac.authorization.k8s.io",
            "RoleBinding" | "ClusterRoleBinding" | "Role" | "ClusterRole",
        ) => Reads::Facts,
        ("", "Pod" | "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job" | "CronJob") => Reads::Identity,
        _ => Reads::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Origin;

    fn resource(api_version: &str, kind: &str) -> Resource {
        let object = json!({
            "apiVersion": api_version, "kind": kind,
            "metadata": {"name": "x", "namespace": "web", "labels": {"a": "b"}},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "selector": "all()",
                "endpointSelector": {}, "ingress": [{}], "types": ["Ingress"]},
            "roleRef": {"kind": "ClusterRole", "name": "r"},
            "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "web"}],
            "rules": [],
        });
        Resource::from_object(
            object,
            Origin::Cluster {
                cluster: "c".into(),
            },
            None,
        )
        .expect("a valid object")
    }

    /// `reads` must say what `build` does: a cluster scan relies on it to know when the
    /// inventory is complete.
    #[test]
    fn reads_says_what_build_reads() {
        let empty = build([]);
        let types = [
            ("networking.k8s.io/v1", "NetworkPolicy"),
            ("cilium.io/v2", "CiliumNetworkPolicy"),
            ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"),
            ("projectcalico.org/v3", "NetworkPolicy"),
            ("projectcalico.org/v3", "GlobalNetworkPolicy"),
            ("crd.projectcalico.org/v1", "NetworkPolicy"),
            ("crd.projectcalico.org/v1", "GlobalNetworkPolicy"),
            ("v1", "ServiceAccount"),
            ("v1", "LimitRange"),
            ("v1", "ResourceQuota"),
            ("v1", "Namespace"),
            ("rbac.authorization.k8s.io/v1", "RoleBinding"),
            ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
            ("rbac.authorization.k8s.io/v1", "Role"),
            ("rbac.authorization.k8s.io/v1", "ClusterRole"),
            ("v1", "Pod"),
            ("v1", "ReplicationController"),
            ("apps/v1", "Deployment"),
            ("apps/v1", "StatefulSet"),
            ("apps/v1", "DaemonSet"),
            ("apps/v1", "ReplicaSet"),
            ("batch/v1", "Job"),
            ("batch/v1", "CronJob"),
            ("v1", "Service"),
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("v1", "Node"),
            ("networking.k8s.io/v1", "Ingress"),
            ("kyverno.io/v1", "ClusterPolicy"),
        ];
        for (api_version, kind) in types {
            let r = resource(api_version, kind);
            let built = build([&r]);
            let changed: Vec<&String> = built["inventory"]
                .as_object()
                .expect("an object")
                .iter()
                .filter(|(k, v)| empty["inventory"][k.as_str()] != **v)
                .map(|(k, _)| k)
                .collect();
            let expected: Vec<&str> = match reads(r.id.group(), kind) {
                Reads::Facts => changed.iter().map(|k| k.as_str()).collect(),
                Reads::Identity => vec!["workload_namespaces"],
                Reads::Nothing => Vec::new(),
            };
            assert_eq!(
                changed.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                expected,
                "{api_version} {kind}"
            );
            if reads(r.id.group(), kind) == Reads::Facts {
                assert!(
                    !changed.is_empty() && !changed.iter().any(|k| *k == "workload_namespaces"),
                    "{api_version} {kind}: {changed:?}"
                );
            }
        }
    }
}
