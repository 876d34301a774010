//! Exceptions: findings a team has accepted, with a reason and optionally until a date.
//!
//! Exceptions come from a `.posture.yaml` ([`config`]) or from annotations on the object itself
//! ([`annotations`]). An excepted finding leaves the gate and the counts but stays in every
//! report as suppressed, with its reason. An expired exception stops applying and is reported,
//! and so is one that matched nothing, so exceptions cannot silently outlive their purpose.
//! Pure data and matching: files are read by [`config::load`] only.

pub mod annotations;
pub mod config;
pub mod inline;

pub use crate::pattern::Pattern;

use crate::finding::Finding;
use crate::problem::{Code, Level, Problem};
use crate::resource::{ObjectRef, Origin, Position, Resource, SourcePath};
use jiff::civil::Date;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One accepted risk: which rules, on which objects, why, and until when.
#[derive(Debug, Clone, Serialize)]
pub struct Exception {
    /// A name to report it by; defaults to where it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Rule ids (or patterns of them) it excepts.
    pub rules: Vec<Pattern>,
    /// The objects it applies to.
    pub scope: Scope,
    pub reason: String,
    /// The last day it applies (UTC); none means until removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
    /// Where it was written.
    pub source: Source,
}

/// The objects an exception applies to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Objects matching any of the selectors; every object when there are none.
    Selectors(Vec<Selector>),
    /// The one object whose annotations hold the exception.
    Object,
}

/// Which objects a config exception covers. Every field given must match.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Selector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Pattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Pattern>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Pattern>,
    /// Label values by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, Pattern>,
    /// The cluster's name or the kubeconfig context (cluster scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<Pattern>,
    /// The manifest file, or the chart template it was rendered from (manifest scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Pattern>,
}

/// Where an exception was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// The `index`-th entry of a config file's `exceptions`.
    Config {
        file: SourcePath,
        index: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<Position>,
    },
    /// The `posture.io/ignore` annotation of an object, or the inline exception of another
    /// input type (a Compose service's `x-posture-ignore`, an ECS task definition's tags).
    Annotation {
        /// What holds it, as messages name it: `posture.io/ignore annotation`.
        #[serde(skip)]
        via: &'static str,
        object: ObjectRef,
        #[serde(skip)]
        origin: Origin,
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<Position>,
    },
}

impl Source {
    /// `.posture.yaml:12:5` or `annotation of Deployment 'ratings/api'`.
    pub fn describe(&self) -> String {
        match self {
            Source::Config { file, position, .. } => {
                let mut s = file.to_string();
                if let Some(p) = position {
                    s.push_str(&format!(":{}:{}", p.line, p.column));
                }
                s
            }
            Source::Annotation { via, object, .. } => {
                format!("{via} of {}", object.display_name())
            }
        }
    }

    fn problem(&self, level: Level, code: Code, message: String) -> Problem {
        let problem = Problem::new(level, code, message);
        match self {
            Source::Config { file, position, .. } => problem.in_file(file, *position),
            Source::Annotation {
                origin: Origin::File { path, .. },
                position,
                ..
            } => problem.in_file(path, *position),
            Source::Annotation {
                origin: Origin::Rendered { file, .. },
                ..
            } => problem.in_file(file, None),
            Source::Annotation { .. } => problem,
        }
    }
}

impl Exception {
    /// The name it is reported by.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("'{name}'"),
            None => format!("at {}", self.source.describe()),
        }
    }

    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|last| today > last)
    }

    fn covers_rule(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|p| p.matches(rule_id))
    }
}

/// Why a finding is suppressed, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `config` (a `.posture.yaml`) or `annotation` (on the object).
    pub kind: SuppressionKind,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
    /// The exception's name, or where it was written.
    pub exception: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionKind {
    Config,
    Annotation,
}

/// A finding an exception covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub finding: Finding,
    pub suppression: Suppression,
}

/// How an exception fared in this scan, for `--audit-exceptions` and the JSON `exceptions`.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    #[serde(flatten)]
    pub exception: Exception,
    /// Findings it suppressed (or, once expired, would have).
    pub uses: usize,
    pub state: UsageState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageState {
    Active,
    Expired,
    Unused,
}

/// What a scan needs to know to apply exceptions to an object's findings.
#[derive(Debug, Clone, Default)]
struct ObjectFacts {
    labels: BTreeMap<String, String>,
}

/// An object as findings name it: its identity and where it was read.
type ObjectKey = (ObjectRef, String);

fn key(object: &ObjectRef, origin: &Origin) -> ObjectKey {
    (object.clone(), origin.source_key())
}

/// The outcome of [`apply`].
#[derive(Debug, Default)]
pub struct Applied {
    pub findings: Vec<Finding>,
    pub suppressed: Vec<Suppressed>,
    pub usage: Vec<Usage>,
    pub problems: Vec<Problem>,
}

/// Splits `findings` into those that count and those an unexpired exception covers.
///
/// `exceptions` are the config's; the objects' own annotations are read from `objects`.
/// `context` is the kubeconfig context of a cluster scan, which `cluster:` selectors also match.
pub fn apply<R: std::borrow::Borrow<Resource> + Sync>(
    findings: Vec<Finding>,
    exceptions: &[Exception],
    objects: &[R],
    context: Option<&str>,
    today: Date,
) -> Applied {
    let mut applied = Applied::default();
    let mut facts: HashMap<ObjectKey, ObjectFacts> = HashMap::new();
    let mut inline: HashMap<ObjectKey, Vec<usize>> = HashMap::new();
    let mut all: Vec<Exception> = Vec::new();
    // Labels are copied only when a selector asks for them: a large scan has many objects.
    let needs_labels = exceptions.iter().any(|e| match &e.scope {
        Scope::Selectors(s) => s.iter().any(|s| !s.labels.is_empty()),
        Scope::Object => false,
    });
    // Read on every core (at 100,000 objects one thread took some 40 ms), kept in order.
    let read: Vec<_> = objects
        .par_iter()
        .map(R::borrow)
        .map(|r| {
            let labels = if needs_labels {
                annotations::labels(&r.read_object())
            } else {
                BTreeMap::new()
            };
            let (found, problems) = inline::read(r);
            (r, labels, found, problems)
        })
        .filter(|(_, labels, found, problems)| {
            !(labels.is_empty() && found.is_empty() && problems.is_empty())
        })
        .collect();
    for (r, labels, found, problems) in read {
        applied.problems.extend(problems);
        if labels.is_empty() && found.is_empty() {
            continue;
        }
        let k = key(&r.id, &r.origin);
        for e in found {
            inline.entry(k.clone()).or_default().push(all.len());
            all.push(e);
        }
        facts.insert(k, ObjectFacts { labels });
    }
    if all.is_empty() && exceptions.is_empty() {
        applied.findings = findings;
        return applied;
    }
    let first_config = all.len();
    all.extend(exceptions.iter().cloned());
    let mut uses = vec![0usize; all.len()];
    let none = ObjectFacts::default();
    // The findings no exception suppresses stay where they are: moved one by one into a new
    // list, every finding was held twice at the end (a million generated objects with one
    // exception peaked 564 MB higher).
    let mut findings = findings;
    let mut chosen_for = Vec::new();
    let taken: Vec<Finding> = findings
        .extract_if(.., |f| {
            let k = key(&f.object, &f.origin);
            let object_facts = facts.get(&k).unwrap_or(&none);
            // The object's own annotation first: it is the most specific.
            let candidates = inline
                .get(&k)
                .into_iter()
                .flatten()
                .copied()
                .chain(first_config..all.len());
            for i in candidates {
                let e = &all[i];
                let applies = e.covers_rule(&f.rule_id)
                    && match &e.scope {
                        Scope::Object => true,
                        Scope::Selectors(s) => {
                            s.is_empty() || s.iter().any(|s| s.matches(f, object_facts, context))
                        }
                    };
                if !applies {
                    continue;
                }
                uses[i] += 1;
                if !e.is_expired(today) {
                    chosen_for.push(i);
                    return true;
                }
            }
            false
        })
        .collect();
    applied.findings = findings;
    for (finding, i) in taken.into_iter().zip(chosen_for) {
        let e = &all[i];
        applied.suppressed.push(Suppressed {
            finding,
            suppression: Suppression {
                kind: match e.scope {
                    Scope::Object => SuppressionKind::Annotation,
                    Scope::Selectors(_) => SuppressionKind::Config,
                },
                reason: e.reason.clone(),
                expires: e.expires,
                exception: e.name.clone().unwrap_or_else(|| e.source.describe()),
            },
        });
    }
    for (e, uses) in all.into_iter().zip(uses) {
        let state = if e.is_expired(today) {
            let expires = e.expires.expect("an expired exception has a date");
            applied.problems.push(e.source.problem(
                Level::Warning,
                Code::ExceptionExpired,
                format!(
                    "exception {} expired on {expires}, so its {uses} finding{} count again \
                     (its reason was: {}); renew `expires` if the risk is still accepted, or fix \
                     the findings",
                    e.label(),
                    if uses == 1 { "" } else { "s" },
                    e.reason
                ),
            ));
            UsageState::Expired
        } else if uses == 0 {
            applied.problems.push(e.source.problem(
                Level::Warning,
                Code::ExceptionUnused,
                format!(
                    "exception {} matched no finding of rules {}: remove it, or correct its \
                     rule ids and selector",
                    e.label(),
                    e.rules
                        .iter()
                        .map(Pattern::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            UsageState::Unused
        } else {
            UsageState::Active
        };
        applied.usage.push(Usage {
            exception: e,
            uses,
            state,
        });
    }
    applied
}

impl Selector {
    fn matches(&self, f: &Finding, facts: &ObjectFacts, context: Option<&str>) -> bool {
        let opt = |p: &Option<Pattern>, value: Option<&str>| {
            p.as_ref()
                .is_none_or(|p| value.is_some_and(|v| p.matches(v)))
        };
        let (cluster, file, template) = match &*f.origin {
            Origin::Cluster { cluster } => (Some(cluster.as_str()), None, None),
            Origin::File {
                path, helm_source, ..
            } => (None, Some(path.to_string()), helm_source.as_deref()),
            Origin::Rendered { file, source, .. } => {
                (None, Some(file.to_string()), source.as_deref())
            }
        };
        opt(&self.kind, Some(&f.object.kind))
            && opt(&self.namespace, f.object.namespace.as_deref())
            && opt(&self.name, Some(&f.object.name))
            && self.cluster.as_ref().is_none_or(|p| {
                cluster.is_some_and(|c| p.matches(c)) || context.is_some_and(|c| p.matches(c))
            })
            && self.file.as_ref().is_none_or(|p| {
                file.as_deref().is_some_and(|v| p.matches(v))
                    || template.is_some_and(|t| p.matches(t))
            })
            && self
                .labels
                .iter()
                .all(|(k, p)| facts.labels.get(k).is_some_and(|v| p.matches(v)))
    }
}

/// Today's date in UTC, the day expiry dates are compared with.
pub fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::FieldPath;
    use serde_json::{json, Value};
    use std::sync::Arc;

    fn object(annotations: Value) -> Resource {
        let origin = Origin::Cluster {
            cluster: "aks-prod".into(),
        };
        Resource::from_object(
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "debug", "namespace": "tools", "annotations": annotations,
                                "labels": {"team": "sre"}}}),
            origin,
            None,
        )
        .unwrap()
    }

    fn finding(r: &Resource, rule: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_title: "".into(),
            severity: crate::Severity::High,
            message: Default::default(),
            object: Arc::clone(&r.id),
            origin: Arc::clone(&r.origin),
            path: crate::finding::empty_path(),
            position: None,
            written: None,
            fingerprint: Finding::fingerprint_of(
                rule,
                &r.id,
                &r.origin,
                &FieldPath::default(),
                None,
            ),
        }
    }

    fn config(rule: &str, selector: Selector, expires: Option<&str>) -> Exception {
        Exception {
            name: Some(rule.to_lowercase()),
            rules: vec![Pattern::parse(rule).unwrap()],
            scope: Scope::Selectors(vec![selector]),
            reason: format!("accepted {rule}"),
            expires: expires.map(|d| d.parse().unwrap()),
            source: Source::Config {
                file: ".posture.yaml".into(),
                index: 0,
                position: None,
            },
        }
    }

    #[test]
    fn an_exception_applies_through_its_expiry_day_and_not_after() {
        let r = object(json!({}));
        let e = config("PST-0003", Selector::default(), Some("2026-03-31"));
        let on = |day: &str| {
            apply(
                vec![finding(&r, "PST-0003")],
                std::slice::from_ref(&e),
                std::slice::from_ref(&r),
                None,
                day.parse().unwrap(),
            )
        };
        assert_eq!(on("2026-03-31").suppressed.len(), 1);
        let after = on("2026-04-01");
        assert_eq!(after.findings.len(), 1);
        assert_eq!(after.usage[0].state, UsageState::Expired);
        assert_eq!(after.problems[0].code, Code::ExceptionExpired);
    }

    #[test]
    fn selectors_match_cluster_or_context_and_labels() {
        let r = object(json!({}));
        let today: Date = "2026-01-01".parse().unwrap();
        let selector = |cluster: &str, team: &str| Selector {
            cluster: Some(Pattern::parse(cluster).unwrap()),
            labels: [("team".to_owned(), Pattern::parse(team).unwrap())].into(),
            ..Selector::default()
        };
        let suppressed = |s: Selector, context: Option<&str>| {
            apply(
                vec![finding(&r, "PST-0003")],
                &[config("PST-0003", s, None)],
                std::slice::from_ref(&r),
                context,
                today,
            )
            .suppressed
            .len()
        };
        assert_eq!(suppressed(selector("aks-*", "sre"), None), 1);
        assert_eq!(suppressed(selector("prod-ctx", "sre"), Some("prod-ctx")), 1);
        assert_eq!(suppressed(selector("aks-*", "dev"), None), 0);
        assert_eq!(suppressed(selector("eks-*", "sre"), Some("aks-ctx")), 0);
    }

    #[test]
    fn the_object_annotation_wins_over_the_config() {
        let r = object(json!({
            "posture.io/ignore": "PST-0003",
            "posture.io/ignore-reason": "the annotation's reason",
        }));
        let applied = apply(
            vec![finding(&r, "PST-0003"), finding(&r, "PST-0004")],
            &[config("PST-000*", Selector::default(), None)],
            std::slice::from_ref(&r),
            None,
            "2026-01-01".parse().unwrap(),
        );
        let reasons: Vec<(&str, &str)> = applied
            .suppressed
            .iter()
            .map(|s| (s.finding.rule_id.as_str(), s.suppression.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("PST-0003", "the annotation's reason"),
                ("PST-0004", "accepted PST-000*")
            ]
        );
        assert!(applied.problems.is_empty(), "{:?}", applied.problems);
    }
}
