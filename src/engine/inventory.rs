//! The inventory: the facts about *other* objects that some rules need (is there a NetworkPolicy
//! in this namespace? which subjects are bound to this role?), built once per scan and handed to
//! the engine as `data.inventory`.

use super::network_policy;
use crate::resource::Resource;
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
    let mut network_policies = Map::new();
    let mut service_accounts = Map::new();
    let mut role_bindings = Map::new();
    let mut roles = Map::new();
    let mut service_account_bindings = Map::new();
    let mut namespaces = Map::new();
    let mut limit_ranges = Map::new();
    let mut resource_quotas = Map::new();
    let mut workload_namespaces = Map::new();
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
                    if n.namespaced {
                        push(&mut network_policies, ns(r), n.value);
                    } else {
                        cluster_network_policies.push(n.value);
                    }
                }
            }
            // Keyed by namespace, then name: rules look up the account a pod runs as.
            ("", "ServiceAccount") => {
                let by_name = service_accounts
                    .entry(ns(r))
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = by_name {
                    m.insert(
                        r.id.name.clone(),
                        json!({
                            "automountServiceAccountToken": o
                                .get("automountServiceAccountToken")
                                .cloned()
                                .unwrap_or(Value::Null),
                        }),
                    );
                }
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
                        json!({
                            "kind": r.id.kind,
                            "namespace": ns(r),
                            "name": r.id.name,
                            "subjects": o.get("subjects").cloned().unwrap_or(json!([])),
                        }),
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
                        );
                    }
                }
            }
            ("", "LimitRange") => push(&mut limit_ranges, ns(r), json!(r.id.name)),
            ("", "ResourceQuota") => push(&mut resource_quotas, ns(r), json!(r.id.name)),
            ("", "Pod" | "ReplicationController")
            | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
            | ("batch", "Job" | "CronJob") => {
                // Namespaces that run something, for the namespace rules: "Kind/name" each.
                if let Some(namespace) = &r.id.namespace {
                    push(
                        &mut workload_namespaces,
                        namespace.clone(),
                        json!(format!("{}/{}", r.id.kind, r.id.name)),
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
                    json!({
                        "rules": o.get("rules").cloned().unwrap_or(json!([])),
                        "aggregated": o.get("aggregationRule").is_some_and(|a| !a.is_null()),
                    }),
                );
            }
            ("", "Namespace") => {
                namespaces.insert(
                    r.id.name.clone(),
                    json!({"labels": o.pointer("/metadata/labels").cloned().unwrap_or(json!({}))}),
                );
            }
            _ => {}
        }
    }
    json!({
        "inventory": {
            "network_policies": network_policies,
            "cluster_network_policies": cluster_network_policies,
            "service_accounts": service_accounts,
            "role_bindings": role_bindings,
            "roles": roles,
            "service_account_bindings": service_account_bindings,
            "namespaces": namespaces,
            "limit_ranges": limit_ranges,
            "resource_quotas": resource_quotas,
            "workload_namespaces": workload_namespaces,
        }
    })
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
