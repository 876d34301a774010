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
//! registries:                             # optional: where images may come from (PST-0042)
//!   allowed: [myregistry.azurecr.io, "*.dkr.ecr.*.amazonaws.com", ghcr.io/acme]
//! ```

use super::{Exception, Pattern, Scope, Selector, Source};
use crate::collect::yaml;
use crate::engine::settings::{RegistryAllowList, RegistryPattern, RuleSettings};
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

/// What one config file holds.
#[derive(Debug, Default)]
pub struct Loaded {
    pub exceptions: Vec<Exception>,
    /// Settings for the rules (`registries`).
    pub settings: RuleSettings,
    pub problems: Vec<Problem>,
}

/// Reads the exceptions of `path`. A bad entry is an error problem at its line and is left
/// out; the others still apply.
pub fn load(path: &Path) -> (Vec<Exception>, Vec<Problem>) {
    let loaded = load_file(path);
    (loaded.exceptions, loaded.problems)
}

/// Reads everything `path` configures: exceptions and rule settings. A bad entry is an error
/// problem at its line and is left out; the others still apply.
pub fn load_file(path: &Path) -> Loaded {
    let error = |position: Option<Position>, message: String| {
        Problem::new(Level::Error, Code::ConfigError, message).in_file(path, position)
    };
    let only_problem = |problem: Problem| Loaded {
        problems: vec![problem],
        ..Loaded::default()
    };
    let read =
        crate::collect::input::read_text(path, crate::collect::input::DEFAULT_MAX_INPUT_BYTES);
    let text = match read {
        Ok(t) => t,
        Err(e) => return only_problem(error(None, e.to_string())),
    };
    let decoded = match yaml::parse_document(&text) {
        Ok(Some(d)) => d,
        Ok(None) => return Loaded::default(),
        Err(e) => return only_problem(error(Some(e.position), e.message)),
    };
    let Some(top) = decoded.value.as_object() else {
        return only_problem(error(
            Some(decoded.spans.position()),
            "the config must be a mapping with an `exceptions` list".to_owned(),
        ));
    };
    let mut loaded = Loaded::default();
    for key in top
        .keys()
        .filter(|k| !["exceptions", "registries"].contains(&k.as_str()))
    {
        loaded.problems.push(error(
            at(&decoded.spans, &[Segment::key(key.as_str())]),
            format!("unknown key `{key}`: the config holds `exceptions` and `registries` only"),
        ));
    }
    if let Some(registries) = top.get("registries") {
        let (list, problems) = registries_of(registries, &decoded.spans);
        loaded.settings.registries = list;
        loaded
            .problems
            .extend(problems.into_iter().map(|(p, m)| error(p, m)));
    }
    let entries = match top.get("exceptions") {
        None | Some(Value::Null) => return loaded,
        Some(Value::Array(a)) => a,
        Some(_) => {
            loaded.problems.push(error(
                at(&decoded.spans, &[Segment::Key("exceptions".into())]),
                "`exceptions` must be a list".to_owned(),
            ));
            return loaded;
        }
    };
    for (index, entry) in entries.iter().enumerate() {
        let position = at(
            &decoded.spans,
            &[Segment::Key("exceptions".into()), Segment::Index(index)],
        );
        match parse_entry(entry, path, index, position) {
            Ok(e) => loaded.exceptions.push(e),
            Err(message) => loaded.problems.push(error(
                position,
                format!("exception {} is not used: {message}", index + 1),
            )),
        }
    }
    loaded
}

/// `registries: {allowed: [...]}`. A bad pattern is a problem and is left out, so the list
/// that applies is never wider than written; a list with no usable pattern is not applied.
fn registries_of(
    value: &Value,
    spans: &SpanTree,
) -> (Option<RegistryAllowList>, Vec<(Option<Position>, String)>) {
    let key = |k: &str| Segment::key(k);
    let mut problems = Vec::new();
    let Some(map) = value.as_object() else {
        problems.push((
            at(spans, &[key("registries")]),
            "`registries` must be a mapping with an `allowed` list".to_owned(),
        ));
        return (None, problems);
    };
    for other in map.keys().filter(|k| *k != "allowed") {
        problems.push((
            at(spans, &[key("registries"), key(other)]),
            format!("unknown key `registries.{other}`: it holds `allowed` only"),
        ));
    }
    let items = match map.get("allowed") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => return (None, problems),
        Some(_) => {
            problems.push((
                at(spans, &[key("registries"), key("allowed")]),
                "`registries.allowed` must be a list of registry hosts".to_owned(),
            ));
            return (None, problems);
        }
    };
    let mut patterns = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let position = at(
            spans,
            &[key("registries"), key("allowed"), Segment::Index(i)],
        );
        match item.as_str().map(RegistryPattern::parse) {
            Some(Ok(p)) => patterns.push(p),
            Some(Err(message)) => problems.push((position, message)),
            None => problems.push((position, "an allowed registry must be a string".to_owned())),
        }
    }
    if patterns.is_empty() {
        problems.push((
            at(spans, &[key("registries"), key("allowed")]),
            "`registries.allowed` names no usable registry, so no image would be allowed: \
             the list is not applied"
                .to_owned(),
        ));
        return (None, problems);
    }
    (Some(RegistryAllowList { patterns }), problems)
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
