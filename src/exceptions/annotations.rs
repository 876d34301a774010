//! Exceptions written on the object itself, for teams that keep the reason next to the code:
//!
//! ```yaml
//! metadata:
//!   annotations:
//!     posture.io/ignore: "PST-0001,PST-0002"
//!     posture.io/ignore-reason: "the exporter needs the host network; reviewed in SEC-123"
//!     posture.io/ignore-until: "2027-03-31"   # optional
//! ```
//!
//! The same annotations work on live cluster objects, so a cluster scan honours them too.

use super::{Exception, Pattern, Scope, Source};
use crate::problem::{Code, Level, Problem};
use crate::resource::{FieldPath, Resource, Segment};
use jiff::civil::Date;
use serde_json::Value;
use std::collections::BTreeMap;

pub const IGNORE: &str = "posture.io/ignore";
pub const REASON: &str = "posture.io/ignore-reason";
pub const UNTIL: &str = "posture.io/ignore-until";

fn annotation_path(key: &str) -> FieldPath {
    FieldPath(vec![
        Segment::Key("metadata".into()),
        Segment::Key("annotations".into()),
        Segment::Key(key.into()),
    ])
}

/// The object's labels (string values only, as the API allows).
pub(super) fn labels(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// The exception `r`'s annotations declare, if any, and what is wrong with them. An annotation
/// without a reason does not apply: an accepted risk needs its why written down.
pub(super) fn read(r: &Resource) -> (Option<Exception>, Vec<Problem>) {
    let notes = &r.object["metadata"]["annotations"];
    let Some(ignore) = notes.get(IGNORE) else {
        return (None, Vec::new());
    };
    let position = r.position_of(&annotation_path(IGNORE));
    let source = Source::Annotation {
        via: "posture.io/ignore annotation",
        object: (*r.id).clone(),
        origin: (*r.origin).clone(),
        position,
    };
    let problem =
        |message: String| vec![source.problem(Level::Warning, Code::InvalidException, message)];
    let what = r.id.display_name();
    let ids: Vec<&str> = ignore
        .as_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return (
            None,
            problem(format!(
                "{IGNORE} on {what} names no rule: give rule ids separated by commas, such as \
                 \"PST-0001,PST-0002\""
            )),
        );
    }
    let mut rules = Vec::new();
    for id in ids {
        match Pattern::parse(id) {
            Ok(p) => rules.push(p),
            Err(e) => return (None, problem(format!("{IGNORE} on {what}: {e}"))),
        }
    }
    let reason = notes
        .get(REASON)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("");
    if reason.is_empty() {
        return (
            None,
            problem(format!(
                "{IGNORE} on {what} is not applied because it has no {REASON}: say why the \
                 risk is accepted"
            )),
        );
    }
    let expires = match notes.get(UNTIL).and_then(Value::as_str) {
        None => None,
        Some(text) => match text.trim().parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                return (
                    None,
                    problem(format!(
                        "{UNTIL} on {what} is '{text}', not a date: write it as YYYY-MM-DD"
                    )),
                )
            }
        },
    };
    (
        Some(Exception {
            name: None,
            rules,
            scope: Scope::Object,
            reason: reason.to_owned(),
            expires,
            source,
        }),
        Vec::new(),
    )
}
