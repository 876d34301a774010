//! Exceptions written on the object itself, in the form each input type allows:
//!
//! - Kubernetes: the `posture.io/ignore` annotations ([`super::annotations`]);
//! - Compose: an `x-posture-ignore` extension on the service, a list of rules with reasons
//!   (`- {rule: PST-0510, reason: "...", until: 2027-03-31}`) or a mapping of rule to reason
//!   (`PST-0510: "..."`);
//! - ECS: task definition tags, the same three keys as the annotations with `:` for the
//!   separator AWS tags allow: `posture:ignore` = `PST-0601,PST-0602`, `posture:ignore-reason`,
//!   and optionally `posture:ignore-until`.
//!
//! An exception without a reason does not apply, and says so: an accepted risk needs its why.

use super::{Exception, Pattern, Scope, Source};
use crate::problem::{Code, Level, Problem};
use crate::resource::{FieldPath, InputType, Resource, Segment};
use jiff::civil::Date;
use serde_json::Value;

/// The service key of Compose's inline exceptions.
pub const COMPOSE_KEY: &str = "x-posture-ignore";
/// The tag keys of ECS's inline exceptions.
pub const ECS_IGNORE: &str = "posture:ignore";
pub const ECS_REASON: &str = "posture:ignore-reason";
pub const ECS_UNTIL: &str = "posture:ignore-until";

/// The exceptions `r` declares on itself, and what is wrong with those that do not apply.
pub(super) fn read(r: &Resource) -> (Vec<Exception>, Vec<Problem>) {
    match r.input {
        InputType::Kubernetes => {
            let (found, problems) = super::annotations::read(r);
            (found.into_iter().collect(), problems)
        }
        InputType::Compose => compose(r),
        InputType::Ecs => ecs(r),
    }
}

/// One exception's parts as written, before they are checked.
struct Written<'a> {
    rules: Vec<&'a str>,
    reason: Option<&'a str>,
    until: Option<&'a Value>,
}

fn source(r: &Resource, via: &'static str, at: &[Segment]) -> Source {
    Source::Annotation {
        via,
        object: (*r.id).clone(),
        origin: (*r.origin).clone(),
        position: r.position_of(&FieldPath(at.to_vec())),
    }
}

/// Checks one written exception; `what` names it in messages.
fn check(
    written: Written<'_>,
    source: Source,
    what: &str,
    reason_key: &str,
) -> Result<Exception, Problem> {
    let problem = |message: String| source.problem(Level::Warning, Code::InvalidException, message);
    if written.rules.is_empty() {
        return Err(problem(format!(
            "{what} names no rule: give rule ids such as PST-0601"
        )));
    }
    let mut rules = Vec::new();
    for id in written.rules {
        rules.push(Pattern::parse(id).map_err(|e| problem(format!("{what}: {e}")))?);
    }
    let reason = written.reason.map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return Err(problem(format!(
            "{what} is not applied because it has no {reason_key}: say why the risk is accepted"
        )));
    }
    let expires = match written.until {
        None | Some(Value::Null) => None,
        Some(v) => {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match text.trim().parse::<Date>() {
                Ok(d) => Some(d),
                Err(_) => {
                    return Err(problem(format!(
                        "{what} has the end date '{text}', not a date: write it as YYYY-MM-DD"
                    )))
                }
            }
        }
    };
    Ok(Exception {
        name: None,
        rules,
        scope: Scope::Object,
        reason: reason.to_owned(),
        expires,
        source,
    })
}

fn ids(text: &str) -> Vec<&str> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn compose(r: &Resource) -> (Vec<Exception>, Vec<Problem>) {
    let Some(value) = r.object.get(COMPOSE_KEY) else {
        return (Vec::new(), Vec::new());
    };
    let what = format!("{COMPOSE_KEY} of {}", r.id.display_name());
    let key = Segment::key(COMPOSE_KEY);
    let mut entries: Vec<(Written<'_>, Vec<Segment>)> = Vec::new();
    match value {
        // `- {rule: PST-0510, reason: ..., until: ...}`; `rule` may list several ids.
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let rules = match item.get("rule").or_else(|| item.get("rules")) {
                    Some(Value::String(s)) => ids(s),
                    Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let written = Written {
                    rules,
                    reason: item.get("reason").and_then(Value::as_str),
                    until: item.get("until"),
                };
                entries.push((written, vec![key.clone(), Segment::Index(i)]));
            }
        }
        // `PST-0510: reason`
        Value::Object(map) => {
            for (rule, reason) in map {
                let written = Written {
                    rules: ids(rule),
                    reason: reason.as_str(),
                    until: None,
                };
                entries.push((written, vec![key.clone(), Segment::key(rule.as_str())]));
            }
        }
        _ => {
            let problem = source(r, COMPOSE_KEY, std::slice::from_ref(&key)).problem(
                Level::Warning,
                Code::InvalidException,
                format!(
                    "{what} must be a list of {{rule, reason}} entries or a mapping of rule id \
                     to reason"
                ),
            );
            return (Vec::new(), vec![problem]);
        }
    }
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for (written, at) in entries {
        match check(written, source(r, COMPOSE_KEY, &at), &what, "reason") {
            Ok(e) => found.push(e),
            Err(p) => problems.push(p),
        }
    }
    (found, problems)
}

fn ecs(r: &Resource) -> (Vec<Exception>, Vec<Problem>) {
    let tags: Vec<(usize, &str, &Value)> = r.object["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, t)| Some((i, t.get("key")?.as_str()?, t.get("value")?)))
        .collect();
    let tag = |key: &str| tags.iter().find(|(_, k, _)| *k == key);
    let Some(&(index, _, ignore)) = tag(ECS_IGNORE) else {
        return (Vec::new(), Vec::new());
    };
    let at = [
        Segment::key("tags"),
        Segment::Index(index),
        Segment::key("value"),
    ];
    let written = Written {
        rules: ids(ignore.as_str().unwrap_or("")),
        reason: tag(ECS_REASON).and_then(|(_, _, v)| v.as_str()),
        until: tag(ECS_UNTIL).map(|(_, _, v)| *v),
    };
    let what = format!("the {ECS_IGNORE} tag of {}", r.id.display_name());
    match check(
        written,
        source(r, "posture:ignore tag", &at),
        &what,
        &format!("{ECS_REASON} tag"),
    ) {
        Ok(e) => (vec![e], Vec::new()),
        Err(p) => (Vec::new(), vec![p]),
    }
}

/// Where an inline exception is written, for tests.
#[cfg(test)]
fn position(e: &Exception) -> Option<crate::resource::Position> {
    match &e.source {
        Source::Annotation { position, .. } => *position,
        Source::Config { position, .. } => *position,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::{ecs, manifests};
    use std::path::Path;

    #[test]
    fn compose_lists_and_mappings_with_reasons_apply_and_those_without_do_not() {
        let text = "services:\n  db:\n    image: mongo\n    x-posture-ignore:\n      - rule: PST-0515\n        reason: pinned by the base image's digest upstream\n        until: 2027-03-31\n      - rule: PST-0517\n  web:\n    image: nginx\n    x-posture-ignore:\n      PST-0510: the proxy runs as root to bind port 80\n";
        let c = manifests::load_text(Path::new("compose.yaml"), text);
        let (db, problems) = read(&c.resources[0]);
        assert_eq!(db.len(), 1);
        assert_eq!(db[0].expires.unwrap().to_string(), "2027-03-31");
        assert_eq!(position(&db[0]).map(|p| p.line), Some(5));
        assert_eq!(problems.len(), 1, "the entry without a reason");
        assert!(problems[0].message.contains("no reason"), "{}", problems[0]);
        let (web, problems) = read(&c.resources[1]);
        assert!(problems.is_empty());
        assert_eq!(web[0].rules[0].as_str(), "PST-0510");
        assert!(web[0]
            .source
            .describe()
            .starts_with("x-posture-ignore of Service"));
    }

    #[test]
    fn ecs_tags_name_rules_and_a_reason() {
        let text = r#"{"family": "t", "containerDefinitions": [],
            "tags": [{"key": "posture:ignore", "value": "PST-0601, PST-0604"},
                     {"key": "posture:ignore-reason", "value": "a build agent, reviewed in SEC-9"}]}"#;
        let docs = crate::collect::yaml::parse_stream(text);
        let c = ecs::decode(Path::new("t.json"), text, docs, ecs::Format::TaskDefinition);
        let (found, problems) = read(&c.resources[0]);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(found[0].rules.len(), 2);
        assert_eq!(found[0].reason, "a build agent, reviewed in SEC-9");
        assert_eq!(position(&found[0]).map(|p| p.line), Some(2));
    }
}
