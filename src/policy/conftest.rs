//! Policies written for conftest and OPA: a package in one of the conftest namespaces (`main`
//! unless `--policy-namespace` says otherwise) whose `deny`, `violation` and `warn` rules (and
//! their `_suffix` forms) are run on every object. Recognising them is textual, as conftest's
//! own rule matching is by name; compiling and evaluating them is the engine's.

use super::{Contract, KindSelector, Rule, Source};
use crate::severity::Severity;
use regex::Regex;
use serde::Deserialize;
use std::sync::LazyLock;

/// The conftest namespace when none is given, as in conftest.
pub const DEFAULT_NAMESPACE: &str = "main";

/// A rule head whose name conftest runs: `deny`, `violation`, `warn`, or one of them with
/// `_suffix`es (conftest's `^(deny|violation)(_[a-zA-Z0-9]+)*$` and `^warn(_[a-zA-Z0-9]+)*$`),
/// in any rule form: `deny[msg] {`, `deny contains msg if`, `deny if`, `deny := ...`.
static RULE_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^((?:deny|violation|warn)(?:_[A-Za-z0-9]+)*)\s*(?:\[|\{|contains\b|if\b|:=|=[^=])",
    )
    .unwrap_or_else(|e| unreachable!("the rule-head pattern is a valid regex: {e}"))
});

/// What a conftest rule's results are: failures (`deny`, `violation`) or warnings (`warn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Failure,
    Warning,
}

impl Level {
    fn of(rule: &str) -> Level {
        if rule.starts_with("warn") {
            Level::Warning
        } else {
            Level::Failure
        }
    }

    /// Failures are high, warnings low: `--fail-on high` fails on conftest's failures only, as
    /// conftest does without `--fail-on-warn`.
    pub fn default_severity(self) -> Severity {
        match self {
            Level::Failure => Severity::High,
            Level::Warning => Severity::Low,
        }
    }
}

/// Names of the rules conftest would run that `text` defines, with the 1-based line of each
/// one's first definition, in order of appearance.
pub fn rule_heads(text: &str) -> Vec<(String, u32)> {
    let mut heads: Vec<(String, u32)> = Vec::new();
    for m in RULE_HEAD.captures_iter(text) {
        let Some(name) = m.get(1) else { continue };
        if heads.iter().any(|(n, _)| n == name.as_str()) {
            continue;
        }
        let line = text[..name.start()].matches('\n').count() as u32 + 1;
        heads.push((name.as_str().to_owned(), line));
    }
    heads
}

/// The optional fields posture reads from an OPA METADATA block of a conftest policy; every
/// other field is allowed (conftest policies carry their own).
#[derive(Debug, Default, Deserialize)]
struct Annotations {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    custom: Option<CustomAnnotations>,
}

#[derive(Debug, Default, Deserialize)]
struct CustomAnnotations {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    remediation: Option<String>,
}

/// The METADATA block nearest before line `line` (1-based) of `text`, read leniently.
fn annotations_before(text: &str, line: u32) -> Annotations {
    let lines: Vec<&str> = text.lines().collect();
    let end = (line as usize).saturating_sub(1).min(lines.len());
    let Some(start) = lines[..end].iter().rposition(|l| l.trim() == "# METADATA") else {
        return Annotations::default();
    };
    let mut yaml = String::new();
    for l in &lines[start + 1..end] {
        let Some(rest) = l.trim_start().strip_prefix('#') else {
            break;
        };
        yaml.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        yaml.push('\n');
    }
    // A block posture cannot read gives no title; conftest ignores METADATA, so does posture.
    serde_saphyr::from_str(&yaml).unwrap_or_default()
}

/// The rule for conftest rule `name` of `package`, first defined at `line` of `source`.
pub fn rule(package: &str, name: &str, line: u32, source: &Source) -> Rule {
    let level = Level::of(name);
    let meta = annotations_before(&source.text, line);
    let custom = meta.custom.unwrap_or_default();
    let kind = match level {
        Level::Failure => "failure",
        Level::Warning => "warning",
    };
    Rule {
        id: custom
            .id
            .unwrap_or_else(|| format!("conftest/{package}/{name}"))
            .into(),
        slug: name.to_owned(),
        group: "conftest".to_owned(),
        package: package.to_owned(),
        title: meta
            .title
            .unwrap_or_else(|| format!("conftest {kind} rule `{name}` of package `{package}`"))
            .into(),
        description: meta
            .description
            .map(|d| d.trim().to_owned())
            .unwrap_or_else(|| {
                format!(
                    "The results of conftest rule `{package}.{name}`, first defined in {}.",
                    source.path
                )
            }),
        severity: custom.severity.unwrap_or(level.default_severity()),
        remediation: custom
            .remediation
            .map(|r| r.trim().to_owned())
            .unwrap_or_else(|| "Do what each finding's message asks.".to_owned()),
        input: crate::resource::InputType::Kubernetes,
        kinds: KindSelector::any(),
        origins: Vec::new(),
        frameworks: Default::default(),
        related: Vec::new(),
        source: source.clone(),
        builtin: false,
        contract: Contract::Conftest {
            rule: name.to_owned(),
            level,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_rule_form_conftest_runs() {
        let text = "package main\n\ndeny[msg] {\n  true\n}\n\nviolation_x contains m if true\n\
                    warn_a_b[m] { m := 1 }\ndeny[x] { false }\ndenied := 1\nwarning := 2\n\
                    deny_f(x) := x\nallow if true\n";
        let heads = rule_heads(text);
        assert_eq!(
            heads,
            vec![
                ("deny".to_owned(), 3),
                ("violation_x".to_owned(), 7),
                ("warn_a_b".to_owned(), 8),
            ]
        );
    }

    #[test]
    fn title_and_severity_come_from_metadata_when_present() {
        let text = "package main\n\n# METADATA\n# title: No latest tag\n# custom:\n#   severity: medium\n#   other: x\ndeny contains m if { m := \"x\" }\n";
        let source = Source {
            path: "p.rego".into(),
            text: text.into(),
        };
        let r = rule("main", "deny", 8, &source);
        assert_eq!(r.title, "No latest tag");
        assert_eq!(r.severity, Severity::Medium);
        assert_eq!(r.id, "conftest/main/deny");
        let w = rule("main", "warn", 1, &source);
        assert_eq!(w.severity, Severity::Low);
    }
}
