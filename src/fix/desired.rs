//! What a fix wants an object to hold, as a tree: scalars set at paths, and items a sequence
//! must contain. Several fixes on one object merge into one tree, so that two of them adding
//! to a `securityContext` the object lacks add one `securityContext`, not two.

use crate::resource::Segment;
use serde_json::Value;
use std::collections::BTreeMap;

/// One thing a fix wants.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// The scalar at `path` is `value` (mappings on the way are made).
    Set { path: Vec<Segment>, value: Value },
    /// The sequence at `path` holds `item`: an equal item, or for mappings one whose `key`
    /// field is equal (a volume of that name), else it is appended.
    Contains {
        path: Vec<Segment>,
        item: Value,
        key: Option<&'static str>,
    },
}

/// The merged wants of one object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tree(pub BTreeMap<Segment, Node>);

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Map(Tree),
    Scalar(Value),
    /// Items the sequence must hold, in the order wanted, with the field that identifies one.
    Items(Vec<(Value, Option<&'static str>)>),
}

/// Two wants that cannot both hold (one sets a field another reaches into).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("two fixes disagree about {0}")]
pub struct Conflict(pub String);

impl Tree {
    pub fn add(&mut self, want: Want) -> Result<(), Conflict> {
        let (path, leaf) = match want {
            Want::Set { path, value } => (path, Node::Scalar(value)),
            Want::Contains { path, item, key } => (path, Node::Items(vec![(item, key)])),
        };
        let Some((last, parents)) = path.split_last() else {
            return Err(Conflict("the object itself".to_owned()));
        };
        let mut tree = self;
        for segment in parents {
            let node = tree
                .0
                .entry(segment.clone())
                .or_insert_with(|| Node::Map(Tree::default()));
            tree = match node {
                Node::Map(t) => t,
                _ => return Err(Conflict(display(&path))),
            };
        }
        match (tree.0.get_mut(last), leaf) {
            (None, leaf) => {
                tree.0.insert(last.clone(), leaf);
                Ok(())
            }
            (Some(Node::Scalar(a)), Node::Scalar(b)) if *a == b => Ok(()),
            (Some(Node::Items(items)), Node::Items(more)) => {
                for item in more {
                    if !items.contains(&item) {
                        items.push(item);
                    }
                }
                Ok(())
            }
            _ => Err(Conflict(display(&path))),
        }
    }

    /// `object` with every want applied.
    pub fn apply(&self, object: &Value) -> Value {
        let mut out = object.clone();
        apply_map(self, &mut out);
        out
    }
}

fn apply_map(tree: &Tree, value: &mut Value) {
    for (segment, node) in &tree.0 {
        let slot = match (segment, &mut *value) {
            (Segment::Key(k), Value::Object(map)) => {
                map.entry(k.clone()).or_insert_with(|| empty_for(node))
            }
            (Segment::Index(i), Value::Array(items)) => match items.get_mut(*i) {
                Some(slot) => slot,
                None => continue,
            },
            _ => continue,
        };
        match node {
            Node::Map(t) => apply_map(t, slot),
            Node::Scalar(v) => *slot = v.clone(),
            Node::Items(wanted) => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Value::Array(items) = slot {
                    for (item, key) in wanted {
                        if !holds(items, item, *key) {
                            items.push(item.clone());
                        }
                    }
                }
            }
        }
    }
}

fn empty_for(node: &Node) -> Value {
    match node {
        Node::Map(_) => Value::Object(Default::default()),
        Node::Items(_) => Value::Array(Vec::new()),
        Node::Scalar(_) => Value::Null,
    }
}

/// Whether `items` already holds `item` (by `key` field for mappings).
pub fn holds(items: &[Value], item: &Value, key: Option<&str>) -> bool {
    items.iter().any(|existing| match key {
        Some(k) => existing.get(k).is_some() && existing.get(k) == item.get(k),
        None => existing == item,
    })
}

pub fn display(path: &[Segment]) -> String {
    crate::resource::FieldPath(path.to_vec()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Segment {
        Segment::key(k)
    }

    #[test]
    fn wants_on_one_object_merge_and_apply() {
        let mut tree = Tree::default();
        let sc = |k: &str| vec![key("spec"), key("securityContext"), key(k)];
        tree.add(Want::Set {
            path: sc("runAsNonRoot"),
            value: json!(true),
        })
        .unwrap();
        tree.add(Want::Contains {
            path: vec![key("spec"), key("securityContext"), key("drop")],
            item: json!("ALL"),
            key: None,
        })
        .unwrap();
        let object = json!({"spec": {"securityContext": {"drop": ["NET_RAW"]}}});
        assert_eq!(
            tree.apply(&object),
            json!({"spec": {"securityContext": {"drop": ["NET_RAW", "ALL"], "runAsNonRoot": true}}})
        );
        assert!(tree
            .add(Want::Set {
                path: sc("runAsNonRoot"),
                value: json!(false),
            })
            .is_err());
    }
}
