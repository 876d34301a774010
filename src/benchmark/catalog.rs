//! Serde types for a benchmark file, the embedded built-in files, and their validation.

use crate::severity::Severity;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Names of the built-in benchmarks, in the order [`Benchmark::all`] returns them.
pub const BUILTIN_NAMES: &[&str] = &["cis-1.12", "cis-aks-1.8", "cis-eks-1.8"];

/// (name, display path, text) of each embedded benchmark file.
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "cis-1.12",
        "benchmarks/cis-1.12.yaml",
        include_str!("../../benchmarks/cis-1.12.yaml"),
    ),
    (
        "cis-aks-1.8",
        "benchmarks/cis-aks-1.8.yaml",
        include_str!("../../benchmarks/cis-aks-1.8.yaml"),
    ),
    (
        "cis-eks-1.8",
        "benchmarks/cis-eks-1.8.yaml",
        include_str!("../../benchmarks/cis-eks-1.8.yaml"),
    ),
];

/// One benchmark: its sections and every recommendation, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    /// `cis-1.12`, `cis-aks-1.8` or `cis-eks-1.8`.
    pub benchmark: String,
    pub title: String,
    pub version: String,
    pub sections: Vec<Section>,
    pub checks: Vec<Check>,
}

/// A section or subsection (`1`, `1.2`), titled in posture's words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: String,
    /// For a part of the cluster the provider runs (AKS and EKS section 1): why the benchmark
    /// has no recommendations there. Reports show the section as not applicable.
    #[serde(default)]
    pub managed: Option<String>,
}

/// One recommendation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    /// The good state, e.g. "Anonymous requests to the API server are disabled".
    pub title: String,
    pub assessment: Assessment,
    /// CIS profile level, where the source states it.
    #[serde(default)]
    pub level: Option<u8>,
    /// Whether the benchmark counts the recommendation in its score.
    pub scored: bool,
    /// How serious a failure is: posture's judgement, since CIS rates none. Required on the
    /// checks posture evaluates itself (a `test` or `file`); an `api` check's findings carry
    /// the severity of their rules.
    #[serde(default)]
    pub severity: Option<Severity>,
    pub target: Target,
    pub evidence: Evidence,
    #[serde(default)]
    pub component: Option<Component>,
    /// The machine-checkable requirement on flags or configuration fields.
    #[serde(default)]
    pub test: Option<Test>,
    /// The requirement on files of a node.
    #[serde(default)]
    pub file: Option<FileSpec>,
    /// Built-in Rego rules that together implement the recommendation (a finding of any of
    /// them fails it). One id or a list in the file.
    #[serde(default, deserialize_with = "one_or_many")]
    pub rule: Vec<String>,
    /// What a person checks, for manual recommendations and those posture cannot evaluate.
    #[serde(default)]
    pub manual: Option<String>,
    pub remediation: String,
}

impl Check {
    /// How posture judges the check, in a few words (for `posture rules --benchmark`):
    /// `flags of kube-apiserver: --profiling eq false (default true)`.
    pub fn method(&self) -> String {
        let component = self.component.map_or("", Component::as_str);
        if let Some(test) = &self.test {
            let items: Vec<String> = test
                .items()
                .iter()
                .map(|i| {
                    let setting = match (&i.flag, &i.config_path) {
                        (Some(f), Some(c)) => format!("{f} | {c}"),
                        (Some(f), None) => f.clone(),
                        (None, Some(c)) => c.clone(),
                        (None, None) => String::new(),
                    };
                    let value = i
                        .value
                        .as_deref()
                        .map_or(String::new(), |v| format!(" {v}"));
                    let default = i
                        .default
                        .as_deref()
                        .map_or(String::new(), |d| format!(" (default {d:?})"));
                    format!("{setting} {}{value}{default}", i.op.as_str())
                })
                .collect();
            let joined = items.join(if matches!(test, Test::All(_)) {
                " and "
            } else {
                " or "
            });
            let source = match self.evidence {
                Evidence::KubeletConfig => "kubelet configuration and flags",
                _ => "flags",
            };
            return format!("{source} of {component}: {joined}");
        }
        if let Some(file) = &self.file {
            let mut wants = Vec::new();
            if let Some(mode) = &file.mode {
                wants.push(format!("mode {mode} or stricter"));
            }
            if let Some(owner) = &file.owner {
                wants.push(format!("owner {owner}"));
            }
            return format!(
                "node facts: {component} {} files, {}",
                file.kind.as_str(),
                wants.join(", ")
            );
        }
        let rules = if self.rule.is_empty() {
            String::new()
        } else {
            format!(" (rules {} give evidence)", self.rule.join(", "))
        };
        match (self.assessment, self.evidence) {
            (Assessment::Automated, Evidence::Api) => {
                format!("findings of {}", self.rule.join(", "))
            }
            (_, Evidence::Cloud) => format!("by hand, in the cloud provider's settings{rules}"),
            _ => format!("by hand{rules}"),
        }
    }

    /// The id of the section the check belongs to: its id without the last component.
    pub fn section_id(&self) -> &str {
        self.id.rsplit_once('.').map_or("", |(parent, _)| parent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Assessment {
    Automated,
    Manual,
}

impl Assessment {
    pub fn as_str(self) -> &'static str {
        match self {
            Assessment::Automated => "automated",
            Assessment::Manual => "manual",
        }
    }
}

/// What part of the cluster a recommendation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    ControlPlane,
    Etcd,
    Node,
    Policies,
    ManagedServices,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::ControlPlane => "control-plane",
            Target::Etcd => "etcd",
            Target::Node => "node",
            Target::Policies => "policies",
            Target::ManagedServices => "managed-services",
        }
    }
}

/// What a verdict would be based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// A component's command-line flags (or, with `config_path`, its configuration file).
    Flags,
    /// The kubelet's configuration (`/configz` or its `--config` file).
    KubeletConfig,
    /// Mode and owner of files on a node.
    NodeFile,
    /// Kubernetes objects read through the API (evaluated by Rego rules).
    Api,
    /// The cloud provider's configuration of the cluster.
    Cloud,
    /// Only a person can judge it.
    Manual,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Flags => "flags",
            Evidence::KubeletConfig => "kubelet-config",
            Evidence::NodeFile => "node-file",
            Evidence::Api => "api",
            Evidence::Cloud => "cloud",
            Evidence::Manual => "manual",
        }
    }
}

/// The program or file family a recommendation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    KubeApiserver,
    KubeControllerManager,
    KubeScheduler,
    Etcd,
    Kubelet,
    KubeProxy,
    /// CNI configuration files.
    Cni,
    /// The control plane's PKI directory.
    Pki,
    /// Administrator kubeconfigs (admin.conf, super-admin.conf).
    Admin,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::KubeApiserver => "kube-apiserver",
            Component::KubeControllerManager => "kube-controller-manager",
            Component::KubeScheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
            Component::KubeProxy => "kube-proxy",
            Component::Cni => "cni",
            Component::Pki => "pki",
            Component::Admin => "admin",
        }
    }
}

/// Test items joined by `all` (every item passes) or `any` (at least one passes), like
/// kube-bench's `bin_op: and | or`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Test {
    All(Vec<TestItem>),
    Any(Vec<TestItem>),
}

impl Test {
    pub fn items(&self) -> &[TestItem] {
        match self {
            Test::All(items) | Test::Any(items) => items,
        }
    }

    /// `all` or `any`.
    pub fn combinator(&self) -> &'static str {
        match self {
            Test::All(_) => "all",
            Test::Any(_) => "any",
        }
    }
}

/// One requirement on a flag and/or a configuration field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestItem {
    /// Command-line flag, e.g. `--anonymous-auth`.
    #[serde(default)]
    pub flag: Option<String>,
    /// Dotted path in the component's configuration, e.g. `authentication.anonymous.enabled`.
    #[serde(default)]
    pub config_path: Option<String>,
    pub op: Op,
    /// Expected value, always a string; absent for `set` and `unset`.
    #[serde(default)]
    pub value: Option<String>,
    /// The component's built-in value when the flag or field is absent (`null`: none). The key
    /// is required so that every item states it.
    #[serde(deserialize_with = "nullable")]
    pub default: Option<String>,
    /// The kubelet's default for the flag when it runs without a configuration file, where that
    /// differs from the file's `default` (`--anonymous-auth` is `true` on a bare command line).
    #[serde(default)]
    pub cli_default: Option<String>,
}

/// Comparison operators, as kube-bench names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Op {
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "noteq")]
    NotEq,
    /// The comma-separated value contains the expected element (or substring).
    #[serde(rename = "has")]
    Has,
    #[serde(rename = "nothave")]
    NotHave,
    #[serde(rename = "gt")]
    Gt,
    #[serde(rename = "gte")]
    Gte,
    #[serde(rename = "lt")]
    Lt,
    #[serde(rename = "lte")]
    Lte,
    /// Every comma-separated element is one of the expected, comma-separated elements.
    #[serde(rename = "valid_elements")]
    ValidElements,
    /// Permission bits are no wider than the expected octal mode.
    #[serde(rename = "bitmask")]
    Bitmask,
    #[serde(rename = "regex")]
    Regex,
    /// The flag or field is present.
    #[serde(rename = "set")]
    Set,
    /// The flag or field is absent.
    #[serde(rename = "unset")]
    Unset,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::NotEq => "noteq",
            Op::Has => "has",
            Op::NotHave => "nothave",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::ValidElements => "valid_elements",
            Op::Bitmask => "bitmask",
            Op::Regex => "regex",
            Op::Set => "set",
            Op::Unset => "unset",
        }
    }

    /// Whether the operator compares against a `value`.
    pub fn takes_value(self) -> bool {
        !matches!(self, Op::Set | Op::Unset)
    }
}

/// Files of a node and what their mode and owner must be.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub kind: FileKind,
    /// Candidate locations (kube-bench's lists per distribution); every one that exists must
    /// meet the requirement. Directory kinds apply to the directory's contents.
    pub paths: Vec<String>,
    /// The widest permission bits allowed, in octal (`600`).
    #[serde(default)]
    pub mode: Option<String>,
    /// `user:group`.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    PodSpec,
    Kubeconfig,
    Config,
    /// The cloud provider's configuration file on a node (AKS's azure.json).
    CloudConfig,
    ServiceFile,
    PkiDir,
    PkiCert,
    PkiKey,
    DataDir,
    Cni,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::PodSpec => "pod-spec",
            FileKind::Kubeconfig => "kubeconfig",
            FileKind::Config => "config",
            FileKind::CloudConfig => "cloud-config",
            FileKind::ServiceFile => "service-file",
            FileKind::PkiDir => "pki-dir",
            FileKind::PkiCert => "pki-cert",
            FileKind::PkiKey => "pki-key",
            FileKind::DataDir => "data-dir",
            FileKind::Cni => "cni",
        }
    }
}

/// One broken rule of the schema, with the check it was found in (`None`: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub check: Option<String>,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.check {
            Some(id) => write!(f, "check {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Errors loading a benchmark; each names the file and, where known, the check.
#[derive(Debug, thiserror::Error)]
pub enum BenchmarkError {
    #[error("unknown benchmark '{name}' (built in: {})", BUILTIN_NAMES.join(", "))]
    Unknown { name: String },
    #[error("{file}: {}{source}", in_check(.check.as_deref()))]
    Parse {
        file: String,
        /// The check whose entry the error is in, when the error has a location.
        check: Option<String>,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("{file}: {}", join(.violations))]
    Invalid {
        file: String,
        violations: Vec<Violation>,
    },
}

fn in_check(check: Option<&str>) -> String {
    check.map(|id| format!("check {id}: ")).unwrap_or_default()
}

fn join(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(Violation::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Benchmark {
    /// A built-in benchmark by name, parsed and structurally validated. Rule ids are checked by
    /// [`Benchmark::validate`], which needs the rule catalog.
    pub fn builtin(name: &str) -> Result<Benchmark, BenchmarkError> {
        let (_, file, text) =
            BUILTIN
                .iter()
                .find(|(n, _, _)| *n == name)
                .ok_or_else(|| BenchmarkError::Unknown {
                    name: name.to_owned(),
                })?;
        let benchmark = Benchmark::parse(file, text)?;
        if benchmark.benchmark != name {
            return Err(BenchmarkError::Invalid {
                file: (*file).to_owned(),
                violations: vec![Violation {
                    check: None,
                    message: format!("names itself '{}', expected '{name}'", benchmark.benchmark),
                }],
            });
        }
        Ok(benchmark)
    }

    /// Every built-in benchmark, in [`BUILTIN_NAMES`] order.
    pub fn all() -> Result<Vec<Benchmark>, BenchmarkError> {
        BUILTIN_NAMES
            .iter()
            .map(|n| Benchmark::builtin(n))
            .collect()
    }

    /// Parses a benchmark file's text and checks its structure; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Benchmark, BenchmarkError> {
        let benchmark: Benchmark =
            serde_saphyr::from_str(text).map_err(|source| BenchmarkError::Parse {
                file: file.to_owned(),
                check: source
                    .location()
                    .and_then(|l| check_at_line(text, l.line())),
                source: Box::new(source),
            })?;
        let violations = benchmark.structural_violations();
        if violations.is_empty() {
            Ok(benchmark)
        } else {
            Err(BenchmarkError::Invalid {
                file: file.to_owned(),
                violations,
            })
        }
    }

    /// Every validation rule, including that each `rule` names one of `known_rules` (the ids of
    /// the built-in rule catalog).
    pub fn validate(&self, file: &str, known_rules: &[&str]) -> Result<(), BenchmarkError> {
        let mut violations = self.structural_violations();
        for check in &self.checks {
            for rule in &check.rule {
                if !known_rules.contains(&rule.as_str()) {
                    violations.push(Violation {
                        check: Some(check.id.clone()),
                        message: format!("rule {rule} is not in the rule catalog"),
                    });
                }
            }
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(BenchmarkError::Invalid {
                file: file.to_owned(),
                violations,
            })
        }
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    fn structural_violations(&self) -> Vec<Violation> {
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
        for check in &self.checks {
            let mut problems = Vec::new();
            if !ids.insert(check.id.as_str()) {
                problems.push("id appears twice".to_owned());
            }
            check_violations(check, &sections, &mut problems);
            out.extend(problems.into_iter().map(|message| Violation {
                check: Some(check.id.clone()),
                message,
            }));
        }
        out
    }
}

fn check_violations(check: &Check, sections: &BTreeSet<&str>, problems: &mut Vec<String>) {
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
    if !check.rule.is_empty() && evidence != Evidence::Api {
        problem(problems, "a rule belongs to evidence api");
    }
    match check.assessment {
        Assessment::Manual => {
            if check.manual.as_deref().is_none_or(|m| m.trim().is_empty()) {
                problem(problems, "a manual check needs `manual` text");
            }
            // Only automated recommendations carry a machine-checkable requirement.
            if check.test.is_some() || check.file.is_some() {
                problem(problems, "a manual check carries no test or file spec");
            }
        }
        Assessment::Automated => {
            let required = match evidence {
                Evidence::Flags | Evidence::KubeletConfig => {
                    check.test.is_some().then_some(()).ok_or("test")
                }
                Evidence::NodeFile => check.file.is_some().then_some(()).ok_or("file spec"),
                Evidence::Api | Evidence::Cloud | Evidence::Manual => (!check.rule.is_empty()
                    || check.manual.is_some())
                .then_some(())
                .ok_or("rule or `manual` text"),
            };
            if let Err(what) = required {
                problems.push(format!(
                    "an automated check with this evidence needs a {what}"
                ));
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

/// A required key whose value may be `null`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
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

    #[test]
    fn section_id_drops_the_last_component() {
        let check = |id: &str| Check {
            id: id.to_owned(),
            title: String::new(),
            assessment: Assessment::Manual,
            level: None,
            scored: false,
            severity: None,
            target: Target::Policies,
            evidence: Evidence::Manual,
            component: None,
            test: None,
            file: None,
            rule: Vec::new(),
            manual: None,
            remediation: String::new(),
        };
        assert_eq!(check("1.2.3").section_id(), "1.2");
        assert_eq!(check("2.1").section_id(), "2");
    }
}
