//! Comparing two scans (`posture diff`): findings fixed, introduced and unchanged, and for two
//! cluster snapshots the objects added, removed and changed (drift). Pure: inputs are already
//! read and scanned.

use crate::baseline::{PriorFinding, PriorScan};
use crate::fingerprint::Fingerprint;
use crate::resource::{ObjectRef, Resource};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// Bump the major number on any change that can break a reader.
pub const DIFF_SCHEMA_VERSION: &str = "1.0";

/// What `posture diff` reports: the two sides, their findings compared, and for snapshots the
/// objects that drifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffReport {
    /// How the earlier side is named (its file).
    pub old: String,
    pub new: String,
    pub findings: FindingsDiff,
    pub drift: Option<Drift>,
}

impl DiffReport {
    /// Compares two scans; `drift` when both sides were snapshots.
    pub fn new(old: &PriorScan, new: &PriorScan, drift: Option<Drift>) -> DiffReport {
        DiffReport {
            old: old.source.clone(),
            new: new.source.clone(),
            findings: findings(old, new),
            drift,
        }
    }

    /// Whether an introduced finding is at or above `threshold`.
    pub fn fails(&self, threshold: crate::Severity) -> bool {
        self.findings
            .introduced
            .iter()
            .any(|f| f.severity.is_some_and(|s| s >= threshold))
    }
}

/// Findings of the newer scan against the older one, matched by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FindingsDiff {
    pub introduced: Vec<PriorFinding>,
    pub fixed: Vec<PriorFinding>,
    pub unchanged: Vec<PriorFinding>,
}

/// Compares findings: a fingerprint in `new` only is introduced, in `old` only is fixed.
pub fn findings(old: &PriorScan, new: &PriorScan) -> FindingsDiff {
    let in_old: HashSet<Fingerprint> = old.findings.iter().map(|f| f.fingerprint).collect();
    let in_new: HashSet<Fingerprint> = new.findings.iter().map(|f| f.fingerprint).collect();
    let pick = |from: &[PriorFinding], keep: &dyn Fn(&Fingerprint) -> bool| {
        let mut seen = HashSet::new();
        let mut out: Vec<PriorFinding> = from
            .iter()
            .filter(|f| keep(&f.fingerprint) && seen.insert(f.fingerprint))
            .cloned()
            .collect();
        // Most severe first, as a reviewer reads them.
        out.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| {
                (&a.rule_id, &a.object, &a.fingerprint).cmp(&(
                    &b.rule_id,
                    &b.object,
                    &b.fingerprint,
                ))
            })
        });
        out
    };
    FindingsDiff {
        introduced: pick(&new.findings, &|fp| !in_old.contains(fp)),
        fixed: pick(&old.findings, &|fp| !in_new.contains(fp)),
        unchanged: pick(&new.findings, &|fp| in_old.contains(fp)),
    }
}

/// Objects of two cluster snapshots that differ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub added: Vec<ObjectRef>,
    pub removed: Vec<ObjectRef>,
    pub changed: Vec<Changed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    pub object: ObjectRef,
    /// The fields that differ (`spec.template.spec.containers[0].image`), in document order.
    pub fields: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Objects are the same object when group, kind, namespace and name agree (the version may
/// move). Fields the API server rewrites on its own (status, resourceVersion, managedFields,
/// generation) are not drift.
pub fn drift(old: &[Resource], new: &[Resource]) -> Drift {
    let index = |rs: &[Resource]| -> BTreeMap<(String, String, Option<String>, String), usize> {
        rs.iter()
            .enumerate()
            .map(|(i, r)| {
                let group = r.id.group().to_owned();
                (
                    (
                        group,
                        r.id.kind.clone(),
                        r.id.namespace.clone(),
                        r.id.name.clone(),
                    ),
                    i,
                )
            })
            .collect()
    };
    let (before, after) = (index(old), index(new));
    let mut drift = Drift::default();
    for (key, &i) in &before {
        match after.get(key) {
            None => drift.removed.push((*old[i].id).clone()),
            Some(&j) => {
                let mut fields = Vec::new();
                changed_fields(
                    &comparable(&old[i].object),
                    &comparable(&new[j].object),
                    &mut String::new(),
                    &mut fields,
                );
                if !fields.is_empty() {
                    drift.changed.push(Changed {
                        object: (*new[j].id).clone(),
                        fields,
                    });
                }
            }
        }
    }
    drift.added = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(_, &j)| ObjectRef::clone(&new[j].id))
        .collect();
    drift
}

fn comparable(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(map) = o.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        for volatile in ["resourceVersion", "managedFields", "generation", "selfLink"] {
            meta.remove(volatile);
        }
    }
    o
}

fn changed_fields(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    let here = |path: &str| {
        if path.is_empty() {
            "(whole object)".to_owned()
        } else {
            path.to_owned()
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: Vec<&String> = x
                .keys()
                .chain(y.keys().filter(|k| !x.contains_key(*k)))
                .collect();
            for k in keys {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => changed_fields(va, vb, path, out),
                    (None, None) => {}
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                changed_fields(va, vb, path, out);
                path.truncate(len);
            }
        }
        _ if a != b => out.push(here(path)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::Origin;
    use serde_json::json;

    fn resource(object: Value) -> Resource {
        let origin = Origin::Cluster {
            cluster: "c".into(),
        };
        Resource::from_object(object, origin, None).unwrap()
    }

    fn deployment(image: &str, rv: &str, replicas: i64) -> Resource {
        resource(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "ratings", "resourceVersion": rv},
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}]}}},
            "status": {"readyReplicas": replicas}
        }))
    }

    #[test]
    fn drift_names_changed_fields_and_ignores_server_bookkeeping() {
        let cm = |name: &str| {
            resource(json!({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": name, "namespace": "ratings"}}))
        };
        let old = vec![deployment("api:1", "10", 1), cm("gone")];
        let new = vec![deployment("api:2", "11", 3), cm("fresh")];
        let d = drift(&old, &new);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.added[0].name, "fresh");
        assert_eq!(d.removed[0].name, "gone");
        assert_eq!(d.changed.len(), 1);
        assert_eq!(
            d.changed[0].fields,
            vec!["spec.template.spec.containers[0].image"]
        );
        let same = drift(
            &[deployment("api:1", "10", 1)],
            &[deployment("api:1", "12", 2)],
        );
        assert!(same.is_empty(), "{same:?}");
    }

    #[test]
    fn findings_are_matched_by_fingerprint() {
        // Distinct fingerprints, one per letter.
        let f = |fp: &str| PriorFinding {
            fingerprint: fp.repeat(32).parse().unwrap(),
            rule_id: "PST-0001".into(),
            severity: None,
            message: String::new(),
            object: String::new(),
            location: String::new(),
        };
        let scan = |fps: &[&str]| PriorScan {
            source: String::new(),
            findings: fps.iter().map(|fp| f(fp)).collect(),
        };
        let d = findings(&scan(&["a", "b"]), &scan(&["b", "c", "c"]));
        assert_eq!(d.introduced, vec![f("c")]);
        assert_eq!(d.fixed, vec![f("a")]);
        assert_eq!(d.unchanged, vec![f("b")]);
    }
}
