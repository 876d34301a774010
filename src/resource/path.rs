//! Field paths: how a rule points at the offending field of an object.

use crate::shared_text::SharedText;
use serde::{Serialize, Serializer};
use std::fmt;

/// One step of a [`FieldPath`]. Keys are shared: the keys of a rule's paths are the same few
/// words in every finding it makes (decoded from the rule's value, they point at the rule's
/// own copy).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    Key(SharedText),
    Index(usize),
}

impl Segment {
    pub fn key(key: impl Into<SharedText>) -> Segment {
        Segment::Key(key.into())
    }
}

/// A path into an object, e.g. `spec.template.spec.containers[0].securityContext`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// Decodes the array form rules emit (`["spec", "containers", 0]`); `None` when an element
    /// is neither a string nor a non-negative integer.
    pub fn from_json(value: &serde_json::Value) -> Option<FieldPath> {
        let items = value.as_array()?;
        items
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Some(Segment::key(s.as_str())),
                serde_json::Value::Number(n) => n
                    .as_u64()
                    .or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                            .map(|f| f as u64)
                    })
                    .map(|i| Segment::Index(i as usize)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(FieldPath)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    /// Dotted form; keys that are not plain identifiers are bracketed and quoted, so an
    /// annotation key like `nginx.ingress.kubernetes.io/server-snippet` stays unambiguous.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if is_plain(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

pub(crate) fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Serialize for FieldPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
impl FieldPath {
    /// `spec.containers.0.image` as a path, numbers as indices: a shorthand for tests.
    pub(crate) fn dotted(text: &str) -> FieldPath {
        FieldPath::of(&text.split('.').collect::<Vec<_>>())
    }

    /// The path of `parts`, numbers as indices: the shorthand for keys that hold dots.
    pub(crate) fn of(parts: &[&str]) -> FieldPath {
        FieldPath(
            parts
                .iter()
                .map(|s| match s.parse::<usize>() {
                    Ok(i) => Segment::Index(i),
                    Err(_) => Segment::key(*s),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_keys_with_dots() {
        let p = FieldPath::from_json(&serde_json::json!([
            "metadata",
            "annotations",
            "nginx.ingress.kubernetes.io/server-snippet"
        ]))
        .unwrap();
        assert_eq!(
            p.to_string(),
            r#"metadata.annotations["nginx.ingress.kubernetes.io/server-snippet"]"#
        );
        let p =
            FieldPath::from_json(&serde_json::json!(["spec", "containers", 1, "image"])).unwrap();
        assert_eq!(p.to_string(), "spec.containers[1].image");
    }
}
