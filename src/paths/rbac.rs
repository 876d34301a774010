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

/// A subject of a binding, as written (`kind`, `name`, and `namespace` for a ServiceAccount).
pub struct Named {
    pub kind: Box<str>,
    pub name: Box<str>,
    namespace: Option<Box<str>>,
}

/// What the paths read of a RoleBinding or ClusterRoleBinding, drawn from its object once: a
/// large scan keeps these objects packed (`Resource::pack`) to its end.
pub struct Binding<'a> {
    pub resource: &'a Resource,
    /// The subjects with a string `kind` and `name`, in order.
    pub subjects: Vec<Named>,
    role_kind: Box<str>,
    role_name: Box<str>,
}

impl<'a> Binding<'a> {
    fn of(resource: &'a Resource) -> Binding<'a> {
        let object = resource.read_object();
        let text = |v: &Value| v.as_str().map(Box::from);
        let subjects = object["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| {
                Some(Named {
                    kind: text(&s["kind"])?,
                    name: text(&s["name"])?,
                    namespace: text(&s["namespace"]),
                })
            })
            .collect();
        Binding {
            resource,
            subjects,
            role_kind: text(&object["roleRef"]["kind"]).unwrap_or_default(),
            role_name: text(&object["roleRef"]["name"]).unwrap_or_default(),
        }
    }

    /// A ServiceAccount subject's namespace: its own, or else the binding's.
    fn namespace_of<'s>(&'s self, subject: &'s Named) -> &'s str {
        subject
            .namespace
            .as_deref()
            .or(self.resource.id.namespace.as_deref())
            .unwrap_or_default()
    }
}

/// A rule of a Role or ClusterRole, as the paths judge it.
struct RoleRule {
    api_groups: Vec<Box<str>>,
    resources: Vec<Box<str>>,
    verbs: Vec<Box<str>>,
    /// `resourceNames` narrows the rule to named objects.
    narrowed: bool,
}

impl RoleRule {
    fn of(rule: &Value) -> RoleRule {
        let strings = |key: &str| {
            rule[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(Box::from)
                .collect()
        };
        RoleRule {
            api_groups: strings("apiGroups"),
            resources: strings("resources"),
            verbs: strings("verbs"),
            narrowed: rule
                .get("resourceNames")
                .and_then(Value::as_array)
                .is_some_and(|n| !n.is_empty()),
        }
    }

    /// Whether it grants one of `verbs` on `resource` of `group` ("*" as a wanted group or
    /// resource asks for the wildcard itself).
    fn allows(&self, group: &str, resource: &str, verbs: &[&str]) -> bool {
        let groups_ok = self.api_groups.iter().any(|g| &**g == "*" || &**g == group);
        let resources_ok = self
            .resources
            .iter()
            .any(|r| &**r == "*" || &**r == resource);
        let verbs_ok = self
            .verbs
            .iter()
            .any(|v| &**v == "*" || verbs.contains(&&**v));
        groups_ok && resources_ok && verbs_ok
    }

    fn describe(&self) -> String {
        let join = |list: &[Box<str>]| list.iter().map(|s| &**s).collect::<Vec<_>>().join(",");
        let groups: Vec<&str> = self
            .api_groups
            .iter()
            .map(|g| if g.is_empty() { "core" } else { g })
            .collect();
        format!(
            "{} on {} ({})",
            join(&self.verbs),
            join(&self.resources),
            groups.join(",")
        )
    }
}

/// What the paths read of a Role or ClusterRole: its rules, drawn from its object once.
struct Role<'a> {
    resource: &'a Resource,
    rules: Vec<RoleRule>,
}

pub struct Rbac<'a> {
    bindings: Vec<Binding<'a>>,
    /// Roles by (kind, namespace, name); a ClusterRole's namespace is `None`.
    roles: HashMap<(&'a str, Option<&'a str>, &'a str), Role<'a>>,
    /// Indices into `bindings` per ServiceAccount subject ("<namespace>/<name>") and per group,
    /// so that what one account may do is found without reading every binding.
    by_account: HashMap<String, Vec<usize>>,
    by_group: HashMap<String, Vec<usize>>,
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
        let bindings: Vec<Binding<'a>> = of(&["RoleBinding", "ClusterRoleBinding"])
            .into_iter()
            .map(Binding::of)
            .collect();
        let mut roles = HashMap::new();
        for r in of(&["Role", "ClusterRole"]) {
            let namespace = match r.id.kind.as_str() {
                "Role" => r.id.namespace.as_deref(),
                _ => None,
            };
            // The first of a name wins, as a search in input order found it.
            roles
                .entry((r.id.kind.as_str(), namespace, r.id.name.as_str()))
                .or_insert_with(|| Role {
                    resource: r,
                    rules: r.read_object()["rules"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(RoleRule::of)
                        .collect(),
                });
        }
        let mut by_account: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_group: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in bindings.iter().enumerate() {
            for s in &b.subjects {
                match &*s.kind {
                    "ServiceAccount" => {
                        let ns = b.namespace_of(s);
                        by_account
                            .entry(format!("{ns}/{}", s.name))
                            .or_default()
                            .push(i);
                    }
                    "Group" => by_group.entry(s.name.to_string()).or_default().push(i),
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
    pub fn bindings_of_groups(&self, names: &[&str]) -> Vec<(&Binding<'a>, String)> {
        let mut out = Vec::new();
        for b in &self.bindings {
            for s in &b.subjects {
                if matches!(&*s.kind, "Group" | "User") && names.contains(&&*s.name) {
                    out.push((b, s.name.to_string()));
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
            .flat_map(|i| self.binding_powers(&self.bindings[i]))
            .collect()
    }

    /// Every RoleBinding and ClusterRoleBinding, in input order.
    pub fn bindings(&self) -> &[Binding<'a>] {
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
            for s in &b.subjects {
                out.push(match &*s.kind {
                    "ServiceAccount" => {
                        format!("ServiceAccount '{}/{}'", b.namespace_of(s), s.name)
                    }
                    kind => format!("{kind} '{}'", s.name),
                });
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The powers a binding grants whoever it names.
    pub fn binding_powers(&self, binding: &Binding<'a>) -> Vec<Power<'a>> {
        let role_kind = &*binding.role_kind;
        let role_name = &*binding.role_name;
        let scope = match binding.resource.id.kind.as_str() {
            "RoleBinding" => Some(binding.resource.id.namespace.clone().unwrap_or_default()),
            _ => None,
        };
        let power = |jewel: Jewel, grant: String| Power {
            jewel,
            binding: binding.resource,
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
            _ => binding.resource.id.namespace.as_deref(),
        };
        let Some(role) = self.roles.get(&(role_kind, namespace, role_name)) else {
            return Vec::new();
        };
        let mut out: Vec<Power<'a>> = Vec::new();
        for rule in role.rules.iter().filter(|r| !r.narrowed) {
            let grant = format!(
                "{} '{}': {}",
                role.resource.id.kind,
                role.resource.id.name,
                rule.describe()
            );
            let can =
                |group: &str, resource: &str, verbs: &[&str]| rule.allows(group, resource, verbs);
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
