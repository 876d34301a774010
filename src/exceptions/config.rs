//! `.posture.yaml`: the project's exceptions, versioned next to the manifests they cover.
//!
//! ```yaml
//! exceptions:
//!   - name: mongodb-root                  # optional
//!     rules: [PST-0007, PST-0008]         # ids, globs (`PST-00*`) or `regex:...`
//!     resources:                          # optional; any selector may match
//!       - kind: StatefulSet
//!         namespace: ratings
//!         name: ratings-mongodb*
//!         labels: {app.kubernetes.io/name: mongodb}
//!         cluster: aks-*                  # cluster name or context (cluster scans)
//!         file: charts/mongodb/**         # manifest file or chart template
//!     reason: The Bitnami image needs root until 7.0; tracked in SEC-42.
//!     expires: 2027-03-31                 # optional; the last day it applies
//! ```

use super::{Exception, Pattern, Scope, Selector, Source};
use crate::collect::yaml;
use crate::problem::{Code, Level, Problem};
use crate::resource::{Position, Segment, SpanTree};
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

pub use crate::collect::config_file::{discover, is_config_file, FILE_NAMES};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    #[serde(default)]
    name: Option<String>,
    rules: OneOrMany,
    #[serde(default)]
    resources: Vec<RawSelector>,
    reason: String,
    #[serde(default)]
    expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelector {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    cluster: Option<String>,
    file: Option<String>,
}

/// Reads the exceptions of `path`. A bad entry is an error problem at its line and is left
/// out; the others still apply.
pub fn load(path: &Path) -> (Vec<Exception>, Vec<Problem>) {
    let error = |position: Option<Position>, message: String| {
        Problem::new(Level::Error, Code::ConfigError, message).in_file(path, position)
    };
    let read =
        crate::collect::input::read_text(path, crate::collect::input::DEFAULT_MAX_INPUT_BYTES);
    let text = match read {
        Ok(t) => t,
        Err(e) => return (Vec::new(), vec![error(None, e.to_string())]),
    };
    let decoded = match yaml::parse_document(&text) {
        Ok(Some(d)) => d,
        Ok(None) => return (Vec::new(), Vec::new()),
        Err(e) => return (Vec::new(), vec![error(Some(e.position), e.message)]),
    };
    let Some(top) = decoded.value.as_object() else {
        return (
            Vec::new(),
            vec![error(
                Some(decoded.spans.position()),
                "the config must be a mapping with an `exceptions` list".to_owned(),
            )],
        );
    };
    let mut problems = Vec::new();
    for key in top.keys().filter(|k| *k != "exceptions") {
        problems.push(error(
            at(&decoded.spans, &[Segment::Key(key.clone())]),
            format!("unknown key `{key}`: the config holds `exceptions` only"),
        ));
    }
    let entries = match top.get("exceptions") {
        None | Some(Value::Null) => return (Vec::new(), problems),
        Some(Value::Array(a)) => a,
        Some(_) => {
            problems.push(error(
                at(&decoded.spans, &[Segment::Key("exceptions".into())]),
                "`exceptions` must be a list".to_owned(),
            ));
            return (Vec::new(), problems);
        }
    };
    let mut exceptions = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let position = at(
            &decoded.spans,
            &[Segment::Key("exceptions".into()), Segment::Index(index)],
        );
        match parse_entry(entry, path, index, position) {
            Ok(e) => exceptions.push(e),
            Err(message) => problems.push(error(
                position,
                format!("exception {} is not used: {message}", index + 1),
            )),
        }
    }
    (exceptions, problems)
}

fn at(spans: &SpanTree, path: &[Segment]) -> Option<Position> {
    spans.subtree(path).map(|s| s.position())
}

fn parse_entry(
    entry: &Value,
    file: &Path,
    index: usize,
    position: Option<Position>,
) -> Result<Exception, String> {
    let raw: RawException = serde_json::from_value(entry.clone()).map_err(|e| e.to_string())?;
    let rules = match raw.rules {
        OneOrMany::One(r) => vec![r],
        OneOrMany::Many(r) => r,
    };
    if rules.is_empty() {
        return Err("`rules` is empty: name the rule ids it excepts".to_owned());
    }
    let rules = rules
        .iter()
        .map(|r| Pattern::parse(r))
        .collect::<Result<Vec<_>, _>>()?;
    if raw.reason.trim().is_empty() {
        return Err("`reason` is empty: say why the risk is accepted".to_owned());
    }
    let expires = raw
        .expires
        .map(|d| {
            d.trim()
                .parse::<Date>()
                .map_err(|_| format!("`expires` is '{d}', not a date: write it as YYYY-MM-DD"))
        })
        .transpose()?;
    let selectors = raw
        .resources
        .into_iter()
        .map(selector)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Exception {
        name: raw.name,
        rules,
        scope: Scope::Selectors(selectors),
        reason: raw.reason.trim().to_owned(),
        expires,
        source: Source::Config {
            file: file.into(),
            index,
            position,
        },
    })
}

fn selector(raw: RawSelector) -> Result<Selector, String> {
    let pattern = |p: Option<String>| p.as_deref().map(Pattern::parse).transpose();
    Ok(Selector {
        kind: pattern(raw.kind)?,
        namespace: pattern(raw.namespace)?,
        name: pattern(raw.name)?,
        labels: raw
            .labels
            .into_iter()
            .map(|(k, v)| Pattern::parse(&v).map(|p| (k, p)))
            .collect::<Result<_, _>>()?,
        cluster: pattern(raw.cluster)?,
        file: pattern(raw.file)?,
    })
}
