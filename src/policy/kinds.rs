//! Which objects a rule applies to: kind names and named groups of kinds.

use crate::resource::ObjectRef;

/// Kinds that carry a pod spec, with the API groups that serve them (`""` is the core group).
const WORKLOADS: &[(&str, &[&str])] = &[
    ("Pod", &[""]),
    ("Deployment", &["apps", "extensions"]),
    ("StatefulSet", &["apps"]),
    ("DaemonSet", &["apps", "extensions"]),
    ("ReplicaSet", &["apps", "extensions"]),
    ("ReplicationController", &[""]),
    ("Job", &["batch"]),
    ("CronJob", &["batch"]),
    ("PodTemplate", &[""]),
];
const RBAC: &[&str] = &["rbac.authorization.k8s.io"];
const ROLES: &[(&str, &[&str])] = &[("Role", RBAC), ("ClusterRole", RBAC)];
const BINDINGS: &[(&str, &[&str])] = &[("RoleBinding", RBAC), ("ClusterRoleBinding", RBAC)];

/// The groups a rule's `kinds` may name.
pub const GROUPS: &[&str] = &["workloads", "roles", "bindings"];

/// A matcher built from a rule's `kinds` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindSelector {
    /// (kind, allowed API groups; empty = any group)
    entries: Vec<(String, Vec<String>)>,
    /// Every kind: conftest policies see every object and choose by `input.kind` themselves.
    all: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown kind group '{0}': kinds are PascalCase kind names or one of {groups}", groups = GROUPS.join(", "))]
pub struct UnknownGroup(pub String);

impl KindSelector {
    pub fn parse(kinds: &[String]) -> Result<Self, UnknownGroup> {
        let mut entries = Vec::new();
        for k in kinds {
            let group: Option<&[(&str, &[&str])]> = match k.as_str() {
                "workloads" => Some(WORKLOADS),
                "roles" => Some(ROLES),
                "bindings" => Some(BINDINGS),
                _ => None,
            };
            match group {
                Some(g) => entries.extend(g.iter().map(|(kind, groups)| {
                    (
                        kind.to_string(),
                        groups.iter().map(|s| s.to_string()).collect(),
                    )
                })),
                None if k.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    entries.push((k.clone(), vec![]))
                }
                None => return Err(UnknownGroup(k.clone())),
            }
        }
        Ok(KindSelector {
            entries,
            all: false,
        })
    }

    /// Selects nothing: the selector of a benchmark check, which reads no objects through the
    /// engine.
    pub fn none() -> Self {
        KindSelector {
            entries: Vec::new(),
            all: false,
        }
    }

    /// Selects every object.
    pub fn any() -> Self {
        KindSelector {
            entries: Vec::new(),
            all: true,
        }
    }

    pub fn matches(&self, id: &ObjectRef) -> bool {
        self.matches_type(api_group(&id.api_version), &id.kind)
    }

    /// Whether objects of `kind` served by API group `group` are selected.
    pub fn matches_type(&self, group: &str, kind: &str) -> bool {
        self.all
            || self.entries.iter().any(|(k, groups)| {
                k == kind && (groups.is_empty() || groups.iter().any(|g| g == group))
            })
    }

    /// The kind names, for listings.
    pub fn kinds(&self) -> Vec<&str> {
        if self.all {
            return vec!["*"];
        }
        let mut v: Vec<&str> = self.entries.iter().map(|(k, _)| k.as_str()).collect();
        v.dedup();
        v
    }
}

/// Whether `id` is of a kind that carries a pod spec (the `workloads` group).
pub fn is_workload(id: &ObjectRef) -> bool {
    let group = api_group(&id.api_version);
    WORKLOADS
        .iter()
        .any(|(kind, groups)| *kind == id.kind && groups.contains(&group))
}

pub use crate::resource::api_group;
