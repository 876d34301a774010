//! A benchmark file as written, and its validation into a [`Benchmark`]: serde reads the YAML
//! into [`UnvalidatedBenchmark`] (flat, with optional fields), and [`parse`] checks every rule
//! of the schema (docs/benchmarks.md) before building each check's [`Judgement`].

use super::catalog::{
    AdmissionControl, Assessment, Benchmark, BenchmarkError, Check, Component, Evidence, FileSpec,
    Judgement, Op, Section, Target, Test, TestItem, Violation,
};
use crate::severity::Severity;
use crate::snapshot::PlatformKind;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeSet;

/// A benchmark file as serde reads it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnvalidatedBenchmark {
    pub benchmark: String,
    pub title: String,
    pub version: String,
    #[serde(default)]
    pub platforms: Vec<PlatformKind>,
    #[serde(default)]
    pub fallback: bool,
    pub sections: Vec<Section>,
    pub checks: Vec<UnvalidatedCheck>,
    /// Where the `level` of the checks comes from.
    #[serde(default)]
    pub level_source: Option<String>,
}

/// One recommendation as written: which of the optional fields may appear together is what
/// validation decides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnvalidatedCheck {
    pub id: String,
    pub title: String,
    pub assessment: Assessment,
    #[serde(default)]
    pub level: Option<u8>,
    /// Where this check's level comes from, or why it has none, when the file's
    /// `level_source` does not say.
    #[serde(default)]
    pub level_source: Option<String>,
    pub scored: bool,
    #[serde(default)]
    pub severity: Option<Severity>,
    pub target: Target,
    pub evidence: Evidence,
    #[serde(default)]
    pub component: Option<Component>,
    #[serde(default)]
    pub test: Option<Test>,
    #[serde(default)]
    pub file: Option<FileSpec>,
    /// The Pod Security control admission control must reject (api checks).
    #[serde(default)]
    pub admission: Option<AdmissionControl>,
    /// One id or a list in the file.
    #[serde(default, deserialize_with = "one_or_many")]
    pub rule: Vec<String>,
    #[serde(default)]
    pub manual: Option<String>,
    pub remediation: String,
}

impl UnvalidatedCheck {
    fn section_id(&self) -> &str {
        self.id.rsplit_once('.').map_or("", |(parent, _)| parent)
    }
}

/// Parses a benchmark file's text and validates it; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Benchmark, BenchmarkError> {
    let raw: UnvalidatedBenchmark =
        serde_saphyr::from_str(text).map_err(|source| BenchmarkError::Parse {
            file: file.to_owned(),
            check: source
                .location()
                .and_then(|l| check_at_line(text, l.line())),
            source: Box::new(source),
        })?;
    raw.validate()
        .map_err(|violations| BenchmarkError::Invalid {
            file: file.to_owned(),
            violations,
        })
}

impl UnvalidatedBenchmark {
    /// The validated benchmark, or every violation found.
    pub fn validate(self) -> Result<Benchmark, Vec<Violation>> {
        let mut out = Vec::new();
        let mut file_level = |message: String| {
            out.push(Violation {
                check: None,
                message,
            })
        };
        if self.title.trim().is_empty() || self.version.trim().is_empty() {
            file_level("title and version must not be empty".to_owned());
        }
        if self
            .level_source
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            file_level("level_source is empty".to_owned());
        }
        let mut platforms = BTreeSet::new();
        for p in &self.platforms {
            if !platforms.insert(p.as_str()) {
                file_level(format!("platform {} appears twice", p.as_str()));
            }
        }
        let mut sections = BTreeSet::new();
        for s in &self.sections {
            if !is_dotted_id(&s.id) {
                file_level(format!("section id '{}' is not a dotted number", s.id));
            }
            if !sections.insert(s.id.as_str()) {
                file_level(format!("section {} appears twice", s.id));
            }
            if s.title.trim().is_empty() {
                file_level(format!("section {} has no title", s.id));
            }
            if let Some((parent, _)) = s.id.rsplit_once('.') {
                if !self.sections.iter().any(|p| p.id == parent) {
                    file_level(format!("section {} has no parent section {parent}", s.id));
                }
            }
        }
        let mut ids = BTreeSet::new();
        let mut checks = Vec::with_capacity(self.checks.len());
        for check in &self.checks {
            let mut problems = Vec::new();
            if !ids.insert(check.id.as_str()) {
                problems.push("id appears twice".to_owned());
            }
            check_violations(check, &sections, &mut problems);
            // Every level is a fact with a source: the check's own, or the file's.
            if check.level.is_some() && check.level_source.is_none() && self.level_source.is_none()
            {
                problems.push("level has no source: set level_source".to_owned());
            }
            if problems.is_empty() {
                match judgement(check.clone()) {
                    Some(judgement) => checks.push(Check {
                        manual: match judgement {
                            Judgement::Manual { .. } => None,
                            _ => check.manual.clone(),
                        },
                        id: check.id.clone(),
                        title: check.title.clone(),
                        assessment: check.assessment,
                        level: check.level,
                        level_source: check.level_source.clone(),
                        scored: check.scored,
                        target: check.target,
                        evidence: check.evidence,
                        remediation: check.remediation.clone(),
                        judgement,
                    }),
                    // check_violations covers every combination judgement() rejects; this
                    // keeps the two honest without a panic.
                    None => problems.push("fields do not form one kind of judgement".to_owned()),
                }
            }
            out.extend(problems.into_iter().map(|message| Violation {
                check: Some(check.id.clone()),
                message,
            }));
        }
        if !out.is_empty() {
            return Err(out);
        }
        Ok(Benchmark {
            benchmark: self.benchmark,
            title: self.title,
            version: self.version,
            platforms: self.platforms,
            fallback: self.fallback,
            sections: self.sections,
            checks,
            level_source: self.level_source,
        })
    }
}

/// The one way a valid check is judged: by what it carries, whatever CIS's assessment (a
/// manual recommendation posture can decide from its data carries its requirement too).
fn judgement(check: UnvalidatedCheck) -> Option<Judgement> {
    let UnvalidatedCheck {
        evidence,
        severity,
        component,
        test,
        file,
        admission,
        rule,
        manual,
        ..
    } = check;
    Some(match (test, file, admission) {
        (Some(test), None, None) => Judgement::Settings {
            component: component?,
            test,
            severity: severity?,
        },
        (None, Some(spec), None) => Judgement::Files {
            component: component?,
            spec,
            severity: severity?,
        },
        (None, None, Some(control)) => Judgement::Admission {
            control,
            rules: rule,
        },
        (None, None, None) if evidence == Evidence::Api && !rule.is_empty() => {
            Judgement::Rules { rules: rule }
        }
        (None, None, None) => Judgement::Manual {
            component,
            steps: manual?,
            rules: rule,
        },
        _ => return None,
    })
}

fn check_violations(
    check: &UnvalidatedCheck,
    sections: &BTreeSet<&str>,
    problems: &mut Vec<String>,
) {
    if !is_dotted_id(&check.id) || !check.id.contains('.') {
        problem(problems, "id is not a dotted number inside a section");
    } else if !sections.contains(check.section_id()) {
        problems.push(format!("section {} does not exist", check.section_id()));
    }
    if check.title.trim().is_empty() {
        problem(problems, "title is empty");
    }
    if check.remediation.trim().is_empty() {
        problem(problems, "remediation is empty");
    }
    if check.level.is_some_and(|l| !(1..=2).contains(&l)) {
        problem(problems, "level must be 1 or 2");
    }
    if check
        .level_source
        .as_deref()
        .is_some_and(|s| s.trim().is_empty())
    {
        problem(problems, "level_source is empty");
    }
    let evidence = check.evidence;
    let on_host = matches!(
        evidence,
        Evidence::Flags | Evidence::KubeletConfig | Evidence::NodeFile
    );
    if on_host && check.component.is_none() {
        problem(
            problems,
            "evidence flags, kubelet-config and node-file need a component",
        );
    }
    if check.test.is_some() && !matches!(evidence, Evidence::Flags | Evidence::KubeletConfig) {
        problem(
            problems,
            "a test belongs to evidence flags or kubelet-config",
        );
    }
    if check.file.is_some() && evidence != Evidence::NodeFile {
        problem(problems, "a file spec belongs to evidence node-file");
    }
    // api: the rules judge the check; manual: their findings are evidence for a person.
    if !check.rule.is_empty() && !matches!(evidence, Evidence::Api | Evidence::Manual) {
        problem(
            problems,
            "a rule belongs to evidence api (or manual, as evidence)",
        );
    }
    if check.admission.is_some() && evidence != Evidence::Api {
        problem(problems, "an admission control belongs to evidence api");
    }
    let requirements = [
        check.test.is_some(),
        check.file.is_some(),
        check.admission.is_some(),
    ];
    if requirements.iter().filter(|r| **r).count() > 1 {
        problem(
            problems,
            "a check carries one of test, file spec and admission control",
        );
    }
    match check.assessment {
        Assessment::Manual => {
            // What CIS asks a person to look at: shown by `posture explain`, and the whole
            // verdict when posture cannot judge the check.
            if check.manual.as_deref().is_none_or(|m| m.trim().is_empty()) {
                problem(problems, "a manual check needs `manual` text");
            }
        }
        Assessment::Automated => {
            let required = match evidence {
                Evidence::Flags | Evidence::KubeletConfig => {
                    check.test.is_some().then_some(()).ok_or("test")
                }
                Evidence::NodeFile => check.file.is_some().then_some(()).ok_or("file spec"),
                Evidence::Api | Evidence::Cloud | Evidence::Manual => {
                    (!check.rule.is_empty() || check.admission.is_some() || check.manual.is_some())
                        .then_some(())
                        .ok_or("rule or `manual` text")
                }
            };
            if let Err(what) = required {
                problems.push(format!(
                    "an automated check with this evidence needs a {what}"
                ));
            }
            // The rules' findings decide such a check; text for a person would never be shown.
            if evidence == Evidence::Api
                && (!check.rule.is_empty() || check.admission.is_some())
                && check.manual.is_some()
            {
                problem(
                    problems,
                    "an automated check judged by rules carries no `manual` text",
                );
            }
        }
    }
    let judged_here = check.test.is_some() || check.file.is_some();
    if judged_here && check.severity.is_none() {
        problem(
            problems,
            "a check with a test or file spec needs a severity",
        );
    }
    if !judged_here && check.severity.is_some() {
        problem(
            problems,
            "severity belongs to checks with a test or file spec (rules carry their own)",
        );
    }
    if let Some(test) = &check.test {
        if test.items().is_empty() {
            problems.push("test has no items".to_owned());
        }
        for (n, item) in test.items().iter().enumerate() {
            test_item_violations(item, n + 1, problems);
        }
        unset_alternative_violations(test.items(), problems);
    }
    if let Some(file) = &check.file {
        if file.paths.is_empty() {
            problems.push("file spec has no paths".to_owned());
        }
        if file.mode.is_none() && file.owner.is_none() {
            problems.push("file spec needs a mode or an owner".to_owned());
        }
        if let Some(mode) = &file.mode {
            if !is_octal_mode(mode) {
                problems.push(format!("file mode '{mode}' is not an octal mode"));
            }
        }
        if let Some(owner) = &file.owner {
            if !owner
                .split_once(':')
                .is_some_and(|(u, g)| !u.is_empty() && !g.is_empty())
            {
                problems.push(format!("file owner '{owner}' is not user:group"));
            }
        }
    }
}

fn problem(problems: &mut Vec<String>, message: &str) {
    problems.push(message.to_owned());
}

fn test_item_violations(item: &TestItem, n: usize, problems: &mut Vec<String>) {
    if item.flag.is_none() && item.config_path.is_none() {
        problems.push(format!(
            "test item {n} names neither a flag nor a config_path"
        ));
    }
    if let Some(flag) = &item.flag {
        if !flag.starts_with("--") {
            problems.push(format!(
                "test item {n}: flag '{flag}' does not start with --"
            ));
        }
    }
    match (item.op.takes_value(), &item.value) {
        (true, None) => problems.push(format!(
            "test item {n}: op {} needs a value",
            item.op.as_str()
        )),
        (false, Some(_)) => problems.push(format!(
            "test item {n}: op {} takes no value",
            item.op.as_str()
        )),
        _ => {}
    }
    if item.op == Op::Bitmask && !item.value.as_deref().is_some_and(is_octal_mode) {
        problems.push(format!("test item {n}: bitmask value is not an octal mode"));
    }
    if item.cli_default.is_some() && (item.flag.is_none() || item.config_path.is_none()) {
        problems.push(format!(
            "test item {n}: cli_default needs both a flag and a config_path"
        ));
    }
}

/// An `unset` item next to a comparison on the same setting (kube-bench's "eq 127.0.0.1, or not
/// set") would pass an absent setting whatever the component does without it. The comparison
/// already judges absence through its `default`, which is what the component really runs with:
/// the controller manager without `--bind-address` listens on 0.0.0.0.
fn unset_alternative_violations(items: &[TestItem], problems: &mut Vec<String>) {
    let same_setting = |a: &TestItem, b: &TestItem| {
        (a.flag.is_some() && a.flag == b.flag)
            || (a.config_path.is_some() && a.config_path == b.config_path)
    };
    for (n, item) in items.iter().enumerate() {
        if item.op != Op::Unset {
            continue;
        }
        if items
            .iter()
            .any(|other| other.op.takes_value() && same_setting(item, other))
        {
            problems.push(format!(
                "test item {}: unset beside a comparison on the same setting passes whatever \
                 the default is; state the default on the comparison instead",
                n + 1
            ));
        }
    }
}

fn is_dotted_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

fn is_octal_mode(mode: &str) -> bool {
    (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// The id of the check whose entry contains 1-based `line`: the last `  - id:` under the
/// top-level `checks:` key at or before it. The files keep that layout (see docs/benchmarks.md).
fn check_at_line(text: &str, line: u64) -> Option<String> {
    let mut in_checks = false;
    let mut current = None;
    for (n, l) in text.lines().enumerate() {
        if n as u64 >= line {
            break;
        }
        if !l.starts_with(' ') && !l.starts_with('#') && !l.is_empty() {
            in_checks = l.trim_end() == "checks:";
            current = None;
        } else if in_checks {
            if let Some(id) = l.strip_prefix("  - id:") {
                current = Some(id.trim().trim_matches(['"', '\'']).to_owned());
            }
        }
    }
    current
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(id) => vec![id],
        OneOrMany::Many(ids) => ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_at_line_finds_the_enclosing_check() {
        let text = "benchmark: x\nsections:\n  - id: \"1\"\nchecks:\n  - id: \"1.1\"\n    title: a\n  - id: \"1.2\"\n    op: nope\n";
        assert_eq!(check_at_line(text, 3), None);
        assert_eq!(check_at_line(text, 6).as_deref(), Some("1.1"));
        assert_eq!(check_at_line(text, 8).as_deref(), Some("1.2"));
    }
}
