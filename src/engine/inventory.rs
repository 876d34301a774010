//! The inventory: the facts about *other* objects that some rules need (is there a NetworkPolicy
//! in this namespace? which subjects are bound to this role?), built once per scan and handed to
//! the engine as `data.inventory`.

use super::{network_policy, to_rego};
use crate::resource::Resource;
use regorus::Value as Rego;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Namespace key of an object: its namespace, or `""` when a manifest leaves it to deploy time.
fn ns(r: &Resource) -> String {
    r.id.namespace.clone().unwrap_or_default()
}

/// Entries by a key (a namespace, a role), in input order.
type Buckets = BTreeMap<String, Vec<Rego>>;

fn push(map: &mut Buckets, key: String, value: Rego) {
    map.entry(key).or_default().push(value);
}

/// A regorus object of `entries`.
fn object(entries: impl IntoIterator<Item = (String, Rego)>) -> Rego {
    Rego::from(
        entries
            .into_iter()
            .map(|(k, v)| (Rego::from(k), v))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn buckets(map: Buckets) -> Rego {
    object(map.into_iter().map(|(k, v)| (k, Rego::from(v))))
}

/// The inventory as the engine reads it (`{"inventory": {...}}`), built straight as regorus
/// values: each entry is converted as it is made, so that the inventory is never held twice.
/// Built whole as `serde_json` values and then converted, it took 97 MB for 100,000 generated
/// objects while it was converted (heaptrack), against 33 MB for the regorus values.
pub fn build<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> Rego {
    let mut network_policies = Buckets::new();
    let mut service_accounts: BTreeMap<String, BTreeMap<String, Rego>> = BTreeMap::new();
    let mut role_bindings = Buckets::new();
    let mut roles = BTreeMap::new();
    let mut service_account_bindings = Buckets::new();
    let mut namespaces = BTreeMap::new();
    let mut limit_ranges = Buckets::new();
    let mut resource_quotas = Buckets::new();
    let mut workload_namespaces = Buckets::new();
    let mut cluster_network_policies = Vec::new();
    for r in resources {
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
                if let Some(n) = network_policy::normalize(group, r.id.kind.as_str(), &r.id.name, o)
                {
                    let value = to_rego(&n.value);
                    if n.namespaced {
                        push(&mut network_policies, ns(r), value);
                    } else {
                        cluster_network_policies.push(value);
                    }
                }
            }
            // Keyed by namespace, then name: rules look up the account a pod runs as.
            ("", "ServiceAccount") => {
                service_accounts.entry(ns(r)).or_default().insert(
                    r.id.name.clone(),
                    to_rego(&json!({
                        "automountServiceAccountToken": o
                            .get("automountServiceAccountToken")
                            .cloned()
                            .unwrap_or(Value::Null),
                    })),
                );
            }
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
                    push(
                        &mut role_bindings,
                        key.clone(),
                        to_rego(&json!({
                            "kind": r.id.kind,
                            "namespace": ns(r),
                            "name": r.id.name,
                            "subjects": o.get("subjects").cloned().unwrap_or(json!([])),
                        })),
                    );
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
                        push(
                            &mut service_account_bindings,
                            format!("{sa_ns}/{name}"),
                            to_rego(&json!({
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
                            })),
                        );
                    }
                }
            }
            ("", "LimitRange") => push(&mut limit_ranges, ns(r), Rego::from(r.id.name.as_str())),
            ("", "ResourceQuota") => {
                push(&mut resource_quotas, ns(r), Rego::from(r.id.name.as_str()));
            }
            ("", "Pod" | "ReplicationController")
            | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
            | ("batch", "Job" | "CronJob") => {
                // Namespaces that run something, for the namespace rules: "Kind/name" each.
                if let Some(namespace) = &r.id.namespace {
                    push(
                        &mut workload_namespaces,
                        namespace.clone(),
                        Rego::from(format!("{}/{}", r.id.kind, r.id.name)),
                    );
                }
            }
            // Keyed like `role_bindings` ("ClusterRole/<name>", "Role/<namespace>/<name>"), so a
            // rule on a binding or ServiceAccount can judge what the bound role grants.
            ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => {
                let key = match r.id.kind.as_str() {
                    "ClusterRole" => format!("ClusterRole/{}", r.id.name),
                    _ => format!("Role/{}/{}", ns(r), r.id.name),
                };
                roles.insert(
                    key,
                    to_rego(&json!({
                        "rules": o.get("rules").cloned().unwrap_or(json!([])),
                        "aggregated": o.get("aggregationRule").is_some_and(|a| !a.is_null()),
                    })),
                );
            }
            ("", "Namespace") => {
                namespaces.insert(
                    r.id.name.clone(),
                    to_rego(&json!({
                        "labels": o.pointer("/metadata/labels").cloned().unwrap_or(json!({}))
                    })),
                );
            }
            _ => {}
        }
    }
    let inventory = object([
        ("network_policies".to_owned(), buckets(network_policies)),
        (
            "cluster_network_policies".to_owned(),
            Rego::from(cluster_network_policies),
        ),
        (
            "service_accounts".to_owned(),
            object(
                service_accounts
                    .into_iter()
                    .map(|(namespace, accounts)| (namespace, object(accounts))),
            ),
        ),
        ("role_bindings".to_owned(), buckets(role_bindings)),
        ("roles".to_owned(), object(roles)),
        (
            "service_account_bindings".to_owned(),
            buckets(service_account_bindings),
        ),
        ("namespaces".to_owned(), object(namespaces)),
        ("limit_ranges".to_owned(), buckets(limit_ranges)),
        ("resource_quotas".to_owned(), buckets(resource_quotas)),
        (
            "workload_namespaces".to_owned(),
            buckets(workload_namespaces),
        ),
    ]);
    object([("inventory".to_owned(), inventory)])
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
            let changed: Vec<String> = built["inventory"]
                .as_object()
                .expect("an object")
                .iter()
                .filter(|(k, v)| empty["inventory"][*k] != **v)
                .map(|(k, _)| k.as_string().expect("a name").to_string())
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
