//! What an identity can do, read from RBAC objects: the powers that lead to a crown jewel
//! (cluster-admin, every Secret, the nodes) or that widen a foothold (Secrets of a namespace,
//! running code in other pods).
//!
//! Approximations, on purpose: aggregated ClusterRoles count with the rules they list (a live
//! cluster's controller has filled them in; a manifest's may be empty), `resourceNames` narrow a
//! rule to nothing that counts here, and admission (Pod Security, policy engines) is not
//! considered when a power to create pods is read as a power over the nodes.

use super::Jewel;
use crate::resource::Resource;
use serde_json::Value;
use std::collections::HashMap;

/// Who a binding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    ServiceAccount { namespace: &'a str, name: &'a str },
}

/// One power an identity holds, and the binding that grants it.
#[derive(Debug, Clone)]
pub struct Power<'a> {
    pub jewel: Jewel,
    pub binding: &'a Resource,
    /// The role's rule (or the role name for cluster-admin), in words.
    pub grant: String,
    /// `None` for cluster-wide powers, else the namespace they hold in.
    pub namespace: Option<String>,
}

pub struct Rbac<'a> {
    bindings: Vec<&'a Resource>,
    /// Roles by (kind, namespace, name); a ClusterRole's namespace is `None`.
    roles: HashMap<(&'a str, Option<&'a str>, &'a str), &'a Resource>,
    /// Indices into `bindings` per ServiceAccount subject ("<namespace>/<name>") and per group,
    /// so that what one account may do is found without reading every binding.
    by_account: HashMap<String, Vec<usize>>,
    by_group: HashMap<&'a str, Vec<usize>>,
}

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

impl<'a> Rbac<'a> {
    pub fn new(resources: &'a [Resource]) -> Rbac<'a> {
        let of = |kinds: &[&str]| {
            resources
                .iter()
                .filter(|r| r.id.group() == RBAC_GROUP && kinds.contains(&r.id.kind.as_str()))
                .collect::<Vec<_>>()
        };
        let bindings = of(&["RoleBinding", "ClusterRoleBinding"]);
        let mut roles = HashMap::new();
        for r in of(&["Role", "ClusterRole"]) {
            let namespace = match r.id.kind.as_str() {
                "Role" => r.id.namespace.as_deref(),
                _ => None,
            };
            // The first of a name wins, as a search in input order found it.
            roles
                .entry((r.id.kind.as_str(), namespace, r.id.name.as_str()))
                .or_insert(r);
        }
        let mut by_account: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_group: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, b) in bindings.iter().enumerate() {
            for s in subjects(b) {
                match (s["kind"].as_str(), s["name"].as_str()) {
                    (Some("ServiceAccount"), Some(name)) => {
                        let ns = s["namespace"]
                            .as_str()
                            .or(b.id.namespace.as_deref())
                            .unwrap_or_default();
                        by_account
                            .entry(format!("{ns}/{name}"))
                            .or_default()
                            .push(i);
                    }
                    (Some("Group"), Some(name)) => by_group.entry(name).or_default().push(i),
                    _ => {}
                }
            }
        }
        Rbac {
            bindings,
            roles,
            by_account,
            by_group,
        }
    }

    /// Bindings whose subjects include a group or user of `names` (kind `Group` or `User`).
    pub fn bindings_of_groups(&self, names: &[&str]) -> Vec<(&'a Resource, String)> {
        let mut out = Vec::new();
        for b in &self.bindings {
            for s in subjects(b) {
                let kind = s["kind"].as_str().unwrap_or_default();
                let name = s["name"].as_str().unwrap_or_default();
                if matches!(kind, "Group" | "User") && names.contains(&name) {
                    out.push((*b, name.to_owned()));
                }
            }
        }
        out
    }

    /// The powers `subject` holds through every binding that names it, directly or through
    /// the groups every ServiceAccount belongs to.
    pub fn powers(&self, subject: Subject<'_>) -> Vec<Power<'a>> {
        let Subject::ServiceAccount { namespace, name } = subject;
        let group_ns = format!("system:serviceaccounts:{namespace}");
        let mut named: Vec<usize> = [
            self.by_account.get(&format!("{namespace}/{name}")),
            self.by_group.get("system:serviceaccounts"),
            self.by_group.get(group_ns.as_str()),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .copied()
        .collect();
        // In binding order, each once.
        named.sort_unstable();
        named.dedup();
        named
            .into_iter()
            .flat_map(|i| self.binding_powers(self.bindings[i]))
            .collect()
    }

    /// Every RoleBinding and ClusterRoleBinding, in input order.
    pub fn bindings(&self) -> &[&'a Resource] {
        &self.bindings
    }

    /// Who may read the Secrets of `namespace` without being cluster-admin already: the
    /// subjects of every binding that grants reading them there or cluster-wide, named as
    /// messages name them (`ServiceAccount 'ci/deployer'`, `User 'alice'`), sorted.
    pub fn secret_readers(&self, namespace: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for b in &self.bindings {
            let reads = self.binding_powers(b).iter().any(|p| match p.jewel {
                Jewel::AllSecrets => true,
                Jewel::NamespaceSecrets => p.namespace.as_deref() == Some(namespace),
                _ => false,
            });
            if !reads {
                continue;
            }
            for s in subjects(b) {
                let kind = s["kind"].as_str().unwrap_or_default();
                let name = s["name"].as_str().unwrap_or_default();
                out.push(match kind {
                    "ServiceAccount" => {
                        let ns = s["namespace"]
                            .as_str()
                            .or(b.id.namespace.as_deref())
                            .unwrap_or_default();
                        format!("ServiceAccount '{ns}/{name}'")
                    }
                    _ => format!("{kind} '{name}'"),
                });
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The powers a binding grants whoever it names.
    pub fn binding_powers(&self, binding: &'a Resource) -> Vec<Power<'a>> {
        let role_ref = &binding.object["roleRef"];
        let role_kind = role_ref["kind"].as_str().unwrap_or_default();
        let role_name = role_ref["name"].as_str().unwrap_or_default();
        let scope = match binding.id.kind.as_str() {
            "RoleBinding" => Some(binding.id.namespace.clone().unwrap_or_default()),
            _ => None,
        };
        let power = |jewel: Jewel, grant: String| Power {
            jewel,
            binding,
            grant,
            namespace: scope.clone(),
        };
        if role_kind == "ClusterRole" && role_name == "cluster-admin" {
            let jewel = match scope {
                None => Jewel::ClusterAdmin,
                Some(_) => Jewel::NamespaceSecrets,
            };
            return vec![power(jewel, "ClusterRole 'cluster-admin'".to_owned())];
        }
        let namespace = match role_kind {
            "ClusterRole" => None,
            _ => binding.id.namespace.as_deref(),
        };
        let Some(role) = self.roles.get(&(role_kind, namespace, role_name)).copied() else {
            return Vec::new();
        };
        let mut out: Vec<Power<'a>> = Vec::new();
        for rule in role.object["rules"].as_array().into_iter().flatten() {
            if rule
                .get("resourceNames")
                .and_then(Value::as_array)
                .is_some_and(|n| !n.is_empty())
            {
                continue;
            }
            let grant = format!(
                "{} '{}': {}",
                role.id.kind,
                role.id.name,
                describe_rule(rule)
            );
            let can =
                |group: &str, resource: &str, verbs: &[&str]| allows(rule, group, resource, verbs);
            let cluster = scope.is_none();
            let mut add = |jewel: Jewel| {
                if !out.iter().any(|p| p.jewel == jewel) {
                    out.push(power(jewel, grant.clone()));
                }
            };
            if can("*", "*", &["*"]) {
                add(if cluster {
                    Jewel::ClusterAdmin
                } else {
                    Jewel::NamespaceSecrets
                });
            }
            if can("", "secrets", &["get", "list", "watch"]) {
                add(if cluster {
                    Jewel::AllSecrets
                } else {
                    Jewel::NamespaceSecrets
                });
            }
            if can(RBAC_GROUP, "clusterroles", &["escalate", "bind"])
                || can(RBAC_GROUP, "roles", &["escalate", "bind"])
                || can("", "users", &["impersonate"])
                || can("", "groups", &["impersonate"])
                || can("", "serviceaccounts", &["impersonate"])
            {
                add(if cluster {
                    Jewel::ClusterAdmin
                } else {
                    Jewel::WorkloadControl
                });
            }
            if can("", "nodes/proxy", &["get", "create"]) {
                add(Jewel::Nodes);
            }
            let creates_pods = can("", "pods", &["create"])
                || ["deployments", "daemonsets", "statefulsets", "replicasets"]
                    .iter()
                    .any(|r| can("apps", r, &["create"]))
                || ["jobs", "cronjobs"]
                    .iter()
                    .any(|r| can("batch", r, &["create"]));
            if creates_pods {
                // A pod it creates may be privileged on any node (admission aside).
                add(if cluster {
                    Jewel::Nodes
                } else {
                    Jewel::WorkloadControl
                });
            }
            if can("", "pods/exec", &["create", "get"]) {
                add(Jewel::WorkloadControl);
            }
        }
        out
    }
}

fn subjects(binding: &Resource) -> impl Iterator<Item = &Value> {
    binding.object["subjects"].as_array().into_iter().flatten()
}

fn strings(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Whether a PolicyRule grants one of `verbs` on `resource` of `group` ("*" as a wanted group
/// or resource asks for the wildcard itself).
fn allows(rule: &Value, group: &str, resource: &str, verbs: &[&str]) -> bool {
    let groups_ok = strings(&rule["apiGroups"]).any(|g| g == "*" || g == group);
    let resources_ok = strings(&rule["resources"]).any(|r| r == "*" || r == resource);
    let verbs_ok = strings(&rule["verbs"]).any(|v| v == "*" || verbs.contains(&v));
    groups_ok && resources_ok && verbs_ok
}

fn describe_rule(rule: &Value) -> String {
    let list = |key: &str| strings(&rule[key]).collect::<Vec<_>>().join(",");
    let groups: Vec<&str> = strings(&rule["apiGroups"])
        .map(|g| if g.is_empty() { "core" } else { g })
        .collect();
    format!(
        "{} on {} ({})",
        list("verbs"),
        list("resources"),
        groups.join(",")
    )
}
