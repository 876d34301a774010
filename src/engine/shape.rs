//! Shape checks on workload objects before the rules run: a `spec` written as a list, or
//! `containers` as a mapping, makes every container rule find nothing, so the object would pass
//! silently. Each wrong shape becomes a warning that names the field, what it is and what
//! Kubernetes expects, at the field's line for files.
//!
//! Only fields that are present are checked; what a missing field means is the rules' business.

use crate::problem::{Code, Level, Problem};
use crate::resource::{pod_spec_path, FieldPath, InputType, Origin, Resource, Segment};
use rayon::prelude::*;
use serde_json::Value;

/// The container lists of a pod spec.
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

fn shape_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// One warning per wrongly shaped field of each Kubernetes workload in `resources`.
pub fn problems<R: std::borrow::Borrow<Resource> + Sync>(resources: &[R]) -> Vec<Problem> {
    resources
        .par_iter()
        .map(R::borrow)
        .filter(|r| r.input == InputType::Kubernetes)
        .filter_map(|r| wrong_shape(r).map(|(path, got, want)| problem(r, &path, got, want)))
        .collect()
}

/// The first wrongly shaped field: its path, its shape, the shape expected. Walking stops at
/// the first, since nothing under it can be read.
fn wrong_shape(resource: &Resource) -> Option<(FieldPath, &'static str, &'static str)> {
    let steps = pod_spec_path(&resource.id.kind)?;
    let mut path = Vec::new();
    let mut value = &resource.object;
    for step in steps {
        let next = value.get(*step)?;
        path.push(Segment::key(*step));
        if next.is_null() {
            return None;
        }
        if !next.is_object() {
            return Some((FieldPath(path), shape_of(next), "a mapping"));
        }
        value = next;
    }
    for list in CONTAINER_LISTS {
        let Some(items) = value.get(list).filter(|v| !v.is_null()) else {
            continue;
        };
        let mut at = path.clone();
        at.push(Segment::key(list));
        let Some(items) = items.as_array() else {
            return Some((FieldPath(at), shape_of(items), "a list of containers"));
        };
        if let Some((i, item)) = items.iter().enumerate().find(|(_, c)| !c.is_object()) {
            at.push(Segment::Index(i));
            return Some((FieldPath(at), shape_of(item), "a container (a mapping)"));
        }
    }
    None
}

fn problem(resource: &Resource, path: &FieldPath, got: &str, want: &str) -> Problem {
    let p = Problem::new(
        Level::Warning,
        Code::WrongShape,
        format!(
            "{}: `{path}` is {got}, but Kubernetes expects {want}; its containers were not checked",
            resource.id.display_name()
        ),
    );
    match &*resource.origin {
        Origin::File { path: file, .. } => {
            let position = resource.position_of(path).or_else(|| resource.start());
            p.in_file(file.clone(), position)
        }
        // A rendered object's lines are the tool's output, not the file's.
        Origin::Rendered { file, .. } => p.in_file(file.clone(), None),
        Origin::Cluster { .. } => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn first(mut object: Value) -> Option<String> {
        object["apiVersion"] = json!("v1");
        let origin = Origin::Cluster {
            cluster: "c".to_owned(),
        };
        let resource = Resource::from_object(object, origin, None).expect("kind and apiVersion");
        wrong_shape(&resource).map(|(p, got, want)| format!("{p}: {got}, want {want}"))
    }

    #[test]
    fn wrong_shapes_are_named_with_the_shape_expected() {
        assert_eq!(
            first(json!({"kind": "Deployment", "spec": [{"replicas": 1}]})).as_deref(),
            Some("spec: a list, want a mapping")
        );
        assert_eq!(
            first(json!({"kind": "Deployment", "spec": {"template": {"spec": "x"}}})).as_deref(),
            Some("spec.template.spec: a string, want a mapping")
        );
        assert_eq!(
            first(json!({"kind": "Pod", "spec": {"containers": {"name": "a"}}})).as_deref(),
            Some("spec.containers: a mapping, want a list of containers")
        );
        assert_eq!(
            first(json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec":
                {"containers": [{"name": "a"}], "initContainers": ["b"]}}}}}}))
            .as_deref(),
            Some("spec.jobTemplate.spec.template.spec.initContainers[0]: a string, want a container (a mapping)")
        );
        // Right shapes, missing fields and other kinds are left to the rules.
        assert_eq!(
            first(json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}]}})),
            None
        );
        assert_eq!(first(json!({"kind": "Deployment"})), None);
        assert_eq!(first(json!({"kind": "ConfigMap", "spec": []})), None);
    }
}
