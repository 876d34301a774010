//! A decoded document as one tree of values that each carry their position and the file they
//! were read from, for sources that reshape what they read before it becomes a [`Resource`]:
//! Compose merges override files and `extends` into a service, ECS renames CloudFormation's
//! and Terraform's fields into the task-definition API's. Reshaping the tree keeps every
//! value's place; [`Node::finish`] then gives the object, its spans and, when values come
//! from more than one file, the map from each field to the file and line that wrote it.
//!
//! [`Resource`]: crate::resource::Resource

use crate::resource::{FieldPath, Position, Segment, SourceMap, SourcePath, SpanTree, Written};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A value with its position (for a mapping entry, its key's) and the index of its file in
/// the caller's list of files.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: Position,
    pub file: usize,
    pub value: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Scalar(Value),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    /// The tree of `value`, with the positions of `spans` (as the YAML loader made them for
    /// it) and `file` for every node.
    pub fn from_value(value: Value, spans: &SpanTree, file: usize) -> Node {
        Node::build(value, spans, 0, file)
    }

    fn build(value: Value, spans: &SpanTree, at: usize, file: usize) -> Node {
        let position = spans.position_at(at);
        let children = spans.children_at(at);
        let shape = match value {
            Value::Object(map) => {
                // The last of duplicate keys is the one the value holds.
                let mut index: HashMap<&str, usize> = HashMap::new();
                for (i, key) in &children {
                    index.insert(key, *i);
                }
                let entries = map
                    .into_iter()
                    .map(|(k, v)| {
                        let child = match index.get(k.as_str()) {
                            Some(&i) => Node::build(v, spans, i, file),
                            None => Node::leaf_tree(v, position, file),
                        };
                        (k, child)
                    })
                    .collect();
                Shape::Map(entries)
            }
            Value::Array(items) => Shape::Seq(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| match children.get(i) {
                        Some(&(c, _)) => Node::build(v, spans, c, file),
                        None => Node::leaf_tree(v, position, file),
                    })
                    .collect(),
            ),
            other => Shape::Scalar(other),
        };
        Node {
            at: position,
            file,
            value: shape,
        }
    }

    /// `value` with every node at `at`: for values made up by the source (a field it
    /// derived), which are shown where their origin is written.
    pub fn leaf_tree(value: Value, at: Position, file: usize) -> Node {
        let shape = match value {
            Value::Object(map) => Shape::Map(
                map.into_iter()
                    .map(|(k, v)| (k, Node::leaf_tree(v, at, file)))
                    .collect(),
            ),
            Value::Array(items) => Shape::Seq(
                items
                    .into_iter()
                    .map(|v| Node::leaf_tree(v, at, file))
                    .collect(),
            ),
            other => Shape::Scalar(other),
        };
        Node {
            at,
            file,
            value: shape,
        }
    }

    pub fn scalar(value: Value, at: Position, file: usize) -> Node {
        Node {
            at,
            file,
            value: Shape::Scalar(value),
        }
    }

    /// The entry `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Shape::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes and returns the entry `key` of a mapping.
    pub fn take(&mut self, key: &str) -> Option<Node> {
        match &mut self.value {
            Shape::Map(entries) => {
                let i = entries.iter().position(|(k, _)| k == key)?;
                Some(entries.remove(i).1)
            }
            _ => None,
        }
    }

    /// Sets the entry `key` of a mapping, replacing one that exists in place.
    pub fn set(&mut self, key: &str, value: Node) {
        if let Shape::Map(entries) = &mut self.value {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Shape::Scalar(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The plain value, without positions.
    pub fn to_value(&self) -> Value {
        match &self.value {
            Shape::Scalar(v) => v.clone(),
            Shape::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
            Shape::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
        }
    }

    /// Whether any node comes from a file other than `file`.
    fn any_other_file(&self, file: usize) -> bool {
        self.file != file
            || match &self.value {
                Shape::Scalar(_) => false,
                Shape::Map(entries) => entries.iter().any(|(_, v)| v.any_other_file(file)),
                Shape::Seq(items) => items.iter().any(|v| v.any_other_file(file)),
            }
    }

    /// The object and its spans; with a source map when a value comes from a file other
    /// than `files[0]`, the file the resource's origin names.
    pub fn finish(self, files: &[SourcePath]) -> (Value, SpanTree, Option<Arc<dyn SourceMap>>) {
        let mut spans = SpanTree::building();
        let value = self.write(None, &mut spans);
        let spans = spans.finish().expect("a node was added");
        let map: Option<Arc<dyn SourceMap>> = self.any_other_file(0).then(|| {
            let map: Arc<dyn SourceMap> = Arc::new(WrittenIn {
                tree: self,
                files: files.to_vec(),
            });
            map
        });
        (value, spans, map)
    }

    fn write(&self, key: Option<&str>, spans: &mut SpanTree) -> Value {
        match &self.value {
            Shape::Scalar(v) => {
                spans.push_leaf(self.at, key);
                v.clone()
            }
            Shape::Map(entries) => {
                let open = spans.open_map(self.at, key);
                let mut map = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    let value = v.write(Some(k), spans);
                    map.insert(k.clone(), value);
                }
                spans.close(open);
                Value::Object(map)
            }
            Shape::Seq(items) => {
                let open = spans.open_seq(self.at, key);
                let values = items.iter().map(|v| v.write(None, spans)).collect();
                spans.close(open);
                Value::Array(values)
            }
        }
    }

    /// The node at `path`, or its deepest existing parent.
    fn locate(&self, path: &FieldPath) -> &Node {
        let mut node = self;
        for segment in &path.0 {
            let next = match (&node.value, segment) {
                (Shape::Map(entries), Segment::Key(k)) => entries
                    .iter()
                    .rev()
                    .find(|(key, _)| key == k)
                    .map(|(_, v)| v),
                (Shape::Seq(items), Segment::Index(i)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node
    }
}

/// Where each field of an object made from several files is written.
#[derive(Debug)]
struct WrittenIn {
    tree: Node,
    files: Vec<SourcePath>,
}

impl SourceMap for WrittenIn {
    fn written(&self, _object: &Value, path: &FieldPath) -> Option<Written> {
        let node = self.tree.locate(path);
        Some(Written {
            file: self.files.get(node.file)?.clone(),
            position: node.at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::yaml::parse_document;

    #[test]
    fn a_tree_keeps_positions_through_reshaping_and_names_other_files() {
        let d = parse_document("a:\n  b: 1\nc: [x, w]\n").unwrap().unwrap();
        let mut tree = Node::from_value(d.value, &d.spans, 0);
        let b = tree.get("a").unwrap().get("b").unwrap().clone();
        assert_eq!((b.at.line, b.at.column), (2, 3));
        tree.set(
            "z",
            Node::scalar(Value::Bool(true), Position { line: 9, column: 1 }, 1),
        );
        let (value, spans, map) = tree.finish(&["one.yaml".into(), "two.yaml".into()]);
        assert_eq!(value["c"][1], "w");
        let path = |k: &str| FieldPath(vec![Segment::Key(k.into())]);
        assert_eq!(spans.locate(&path("c")).line, 3);
        let w = map.unwrap().written(&value, &path("z")).unwrap();
        assert_eq!((w.file.as_str(), w.position.line), ("two.yaml", 9));
    }
}
