//! The CIS benchmark applied to a scan: every recommendation of the chosen benchmark ends in one
//! [`State`] (pass, fail, manual, not-applicable, not-collected), per section and in total, and
//! each failure of a check posture judges itself becomes a [`Finding`].
//!
//! How each kind of evidence is judged:
//! - flags and kubelet configuration: the one Rego rule in policies/benchmark/settings.rego, on
//!   every run of the component ([`subjects`]);
//! - node files: the modes and owners in node facts ([`files`]);
//! - API objects: the findings of the Rego rules the check names, over the objects they select;
//! - admission: namespaces' Pod Security labels and policy engines' policies ([`admission`]);
//! - cloud settings and manual checks: what a person should look at.
//!
//! No I/O here: node facts arrive parsed, and reporters render the result.

pub mod admission;
pub mod files;
pub mod settings;
pub mod subjects;

use crate::benchmark::{
    AdmissionControl, Assessment, Benchmark, Check, Component, Evidence, FileSpec, Judgement,
    Registry, Target, Test,
};
use crate::finding::Finding;
use crate::policy;
use crate::policy::RuleInfo;
use crate::problem::{Code, Level, Problem};
use crate::resource::{FieldPath, ObjectRef, Origin, Position, Resource, Segment, Written};
use crate::severity::Severity;
use crate::snapshot::PlatformKind;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

pub use crate::snapshot::FactsFile;
pub use settings::SettingsError;

/// The end state of a check, on one subject or overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Pass,
    Fail,
    /// Only a person can judge it; the detail says what to look at.
    Manual,
    /// Does not apply here (a control plane the provider runs; a file this node does not have).
    NotApplicable,
    /// The evidence was not available; the detail says why.
    NotCollected,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Pass,
        State::Fail,
        State::Manual,
        State::NotApplicable,
        State::NotCollected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pass => "pass",
            State::Fail => "fail",
            State::Manual => "manual",
            State::NotApplicable => "not-applicable",
            State::NotCollected => "not-collected",
        }
    }
}

/// One check's verdict on one subject (a component run, a node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectResult {
    /// `kube-apiserver in Pod 'kube-system/kube-apiserver-cp-1'`, `node 'cp-1'`.
    pub subject: String,
    pub state: State,
    pub detail: String,
}

/// One recommendation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub section: String,
    pub assessment: Assessment,
    /// CIS profile level (1 or 2); `null` where no published source states it.
    pub level: Option<u8>,
    pub scored: bool,
    pub evidence: Evidence,
    pub state: State,
    /// Why: what failed, why it could not be judged, or what to check by hand.
    pub detail: String,
    /// `judged by posture; CIS assesses this manually`, on a manual recommendation posture
    /// decided from its data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Per-subject verdicts, for checks judged on component runs or nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectResult>,
    /// The rule id of this check's findings (`cis-1.12/1.2.15`), or the Rego rules of an API
    /// check.
    pub rules: Vec<String>,
}

/// Counts per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub pass: usize,
    pub fail: usize,
    pub manual: usize,
    pub not_applicable: usize,
    pub not_collected: usize,
}

impl Tally {
    fn add(&mut self, state: State) {
        *self.slot(state) += 1;
    }

    fn slot(&mut self, state: State) -> &mut usize {
        match state {
            State::Pass => &mut self.pass,
            State::Fail => &mut self.fail,
            State::Manual => &mut self.manual,
            State::NotApplicable => &mut self.not_applicable,
            State::NotCollected => &mut self.not_collected,
        }
    }

    pub fn get(&self, state: State) -> usize {
        match state {
            State::Pass => self.pass,
            State::Fail => self.fail,
            State::Manual => self.manual,
            State::NotApplicable => self.not_applicable,
            State::NotCollected => self.not_collected,
        }
    }

    pub fn total(&self) -> usize {
        State::ALL.iter().map(|s| self.get(*s)).sum()
    }

    /// Passed / (passed + failed), in percent; `None` when nothing was judged.
    pub fn score(&self) -> Option<f64> {
        let judged = self.pass + self.fail;
        (judged > 0).then(|| (self.pass as f64 * 1000.0 / judged as f64).round() / 10.0)
    }
}

/// A section's counts. Scores count automated checks only, as the benchmark does.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionSummary {
    pub id: String,
    pub title: String,
    /// Every check of the section and its subsections.
    pub counts: Tally,
    /// Automated checks only.
    pub automated: Tally,
    /// The automated checks' results, one per subject (node or component run) for checks
    /// judged per subject, one per check otherwise: the basis of `score`.
    pub results: Tally,
    pub score: Option<f64>,
    /// Why a section without checks has none (`managed by the provider`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How the benchmark was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "kebab-case")]
pub enum Selection {
    /// `--benchmark auto`: from the detected platform, or from the inputs.
    Auto { reason: String },
    /// `--benchmark <name>`.
    Named,
}

/// The benchmark's result for one scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compliance {
    pub benchmark: String,
    pub title: String,
    pub version: String,
    pub selection: Selection,
    /// The CIS profile the benchmark was limited to (`--cis-level`): Level 2 includes Level 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_level: Option<u8>,
    pub total: Tally,
    pub automated: Tally,
    /// Per-subject results of the automated checks (see [`SectionSummary::results`]).
    pub results: Tally,
    /// Passed / (passed + failed) of `results`: a kubelet check that passes on one node and
    /// could not be read on three counts one pass, not zero.
    pub score: Option<f64>,
    pub sections: Vec<SectionSummary>,
    pub checks: Vec<CheckResult>,
}

/// What a benchmark assessment reads besides the objects.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The cluster's name, for a cluster scan (origins of node-level findings).
    pub cluster: Option<String>,
    /// The detected platform, for a cluster scan.
    pub platform: Option<PlatformKind>,
    /// Nodes of the cluster and, for each, why its kubelet configuration was not collected.
    pub nodes: Vec<(String, Option<String>)>,
    /// Resource types that could not be listed (`secrets`), with the reason.
    pub missing_types: Vec<(String, String)>,
    pub node_facts: Vec<FactsFile>,
}

/// What [`assess`] produced.
pub struct Assessed {
    pub compliance: Compliance,
    /// One finding per failing subject of each check posture judges itself.
    pub findings: Vec<Finding>,
    /// Descriptors of those checks, for reporters (SARIF rules, JSON, the table).
    pub rules: Vec<RuleInfo>,
    /// What the user should know about the verdicts (a platform guess the cluster contradicts).
    pub problems: Vec<Problem>,
}

/// What reports say of a manual recommendation posture judged from its data.
pub const JUDGED_BEYOND_CIS: &str = "judged by posture; CIS assesses this manually";

/// The rule id of a benchmark check's findings: `cis-1.12/1.2.15`.
pub fn rule_id(benchmark: &str, check: &str) -> String {
    format!("{benchmark}/{check}")
}

/// Every component run the scan's objects (`resources`) and node facts show: found once per
/// scan, for choosing a benchmark ([`has_benchmark_evidence`]) and for judging it ([`assess`]).
pub fn component_runs<'a, R: std::borrow::Borrow<Resource> + Sync>(
    resources: &'a [R],
    context: &Context,
) -> Vec<subjects::Run<'a>> {
    subjects::runs(resources, &context.node_facts, context.cluster.as_deref())
}

/// Applies `benchmark` to a scan's objects, component runs (from [`component_runs`]),
/// findings and context.
pub fn assess<R: std::borrow::Borrow<Resource>>(
    benchmark: &Benchmark,
    selection: Selection,
    objects: &[R],
    runs: &[subjects::Run<'_>],
    findings: &[Finding],
    catalog_rules: &[RuleInfo],
    context: &Context,
) -> Result<Assessed, SettingsError> {
    let rule = settings::SettingsRule::shared()?;
    // Control-plane pods in sight mean the control plane is not hidden by a provider, whatever
    // the platform guess says: its checks are judged from what is seen, and the guess is
    // reported.
    let mut problems = Vec::new();
    let contradicted = context
        .platform
        .filter(|p| p.managed_control_plane() && control_plane_seen(runs));
    let judged_context;
    let context = match contradicted {
        Some(platform) => {
            problems.push(Problem::new(
                Level::Warning,
                Code::PlatformMismatch,
                format!(
                    "the cluster looks like {}, whose provider runs the control plane, but \
                     control-plane pods are visible: {} judges their flags from those pods \
                     and their node files from node facts",
                    platform.as_str(),
                    benchmark.benchmark
                ),
            ));
            judged_context = Context {
                platform: None,
                ..context.clone()
            };
            &judged_context
        }
        None => context,
    };
    let mut results = Vec::with_capacity(benchmark.checks.len());
    let mut out_findings = Vec::new();
    let mut rules = Vec::new();

    // Settings checks are judged per run, all checks of a component at once.
    let mut verdicts: BTreeMap<(usize, String), settings::Verdict> = BTreeMap::new();
    for (i, run) in runs.iter().enumerate() {
        let checks: Vec<(&str, &Test)> = benchmark
            .checks
            .iter()
            .filter_map(|c| match &c.judgement {
                Judgement::Settings {
                    component, test, ..
                } if *component == run.component => Some((c.id.as_str(), test)),
                _ => None,
            })
            .collect();
        if checks.is_empty() {
            continue;
        }
        for (id, verdict) in rule.judge(run, &checks)? {
            verdicts.insert((i, id), verdict);
        }
    }

    for check in &benchmark.checks {
        let id = rule_id(&benchmark.benchmark, &check.id);
        let (state, detail, subjects, failures) = match &check.judgement {
            Judgement::Settings {
                component, test, ..
            } => by_settings(check, *component, test, runs, &verdicts, context),
            Judgement::Files {
                component, spec, ..
            } => by_files(check, *component, spec, context),
            Judgement::Rules { rules } => {
                by_rules(rules, objects, findings, catalog_rules, context)
            }
            Judgement::Admission { control, rules } => {
                by_admission(*control, rules, objects, findings, context)
            }
            Judgement::Manual { steps, rules, .. } => manual(steps, rules, findings),
        };
        // Settings and file checks are posture's own: their failures are findings.
        let judged_here = check.severity();
        if let Some(severity) = judged_here {
            rules.push(descriptor(benchmark, check, &id, severity));
            for failure in failures {
                out_findings.push(failure.into_finding(check, &id, severity));
            }
        }
        results.push(CheckResult {
            id: check.id.clone(),
            title: check.title.clone(),
            section: check.section_id().to_owned(),
            assessment: check.assessment,
            level: check.level,
            scored: check.scored,
            evidence: check.evidence,
            state,
            detail,
            note: check
                .judged_beyond_cis()
                .then(|| JUDGED_BEYOND_CIS.to_owned()),
            subjects,
            rules: if judged_here.is_some() {
                vec![id]
            } else {
                check.rules().to_vec()
            },
        });
    }
    let compliance = summarize(benchmark, selection, results);
    Ok(Assessed {
        compliance,
        findings: out_findings,
        rules,
        problems,
    })
}

/// Whether a control-plane component (API server, controller manager, scheduler, etcd) runs
/// where the scan can see it.
fn control_plane_seen(runs: &[subjects::Run<'_>]) -> bool {
    runs.iter().any(|r| {
        matches!(
            r.component,
            Component::KubeApiserver
                | Component::KubeControllerManager
                | Component::KubeScheduler
                | Component::Etcd
        )
    })
}

/// Where and how a failing subject becomes a finding.
struct Failure {
    object: ObjectRef,
    origin: Origin,
    path: FieldPath,
    position: Option<Position>,
    written: Option<Written>,
    message: String,
}

impl Failure {
    /// At `path` in `resource`, with its source position when it has one.
    fn at(resource: &crate::resource::Resource, path: FieldPath, message: String) -> Failure {
        Failure {
            object: (*resource.id).clone(),
            origin: (*resource.origin).clone(),
            position: resource.position_of(&path),
            written: resource.written_at(&path),
            path,
            message,
        }
    }

    /// On a node known from node facts, which has no object text to point into.
    fn on_node(name: &str, origin: Origin, message: String) -> Failure {
        Failure {
            object: node_ref(name),
            origin,
            path: FieldPath::default(),
            position: None,
            written: None,
            message,
        }
    }

    fn into_finding(self, check: &Check, id: &str, severity: Severity) -> Finding {
        let fingerprint = Finding::fingerprint_of(id, &self.object, &self.origin, &self.path, None);
        Finding {
            rule_id: id.into(),
            rule_title: check.title.as_str().into(),
            severity,
            message: self.message.into(),
            object: self.object.into(),
            origin: self.origin.into(),
            path: std::sync::Arc::new(self.path),
            position: self.position,
            written: self.written.map(Box::new),
            fingerprint,
        }
    }
}

type Judged = (State, String, Vec<SubjectResult>, Vec<Failure>);

fn manual(steps: &str, rules: &[String], findings: &[Finding]) -> Judged {
    let mut detail = steps.to_owned();
    if !rules.is_empty() {
        let n = findings
            .iter()
            .filter(|f| rules.iter().any(|r| f.rule_id == *r))
            .count();
        detail = format!(
            "{detail} (posture's {} found {n} finding{} to start from.)",
            rules.join(", "),
            if n == 1 { "" } else { "s" }
        );
    }
    (State::Manual, detail, Vec::new(), Vec::new())
}

/// The overall state of a check judged on several subjects: one failure fails it; a subject
/// that could not be judged keeps the others' passes from counting as a pass for all.
fn combine(subjects: &[SubjectResult]) -> Option<State> {
    [
        State::Fail,
        State::NotCollected,
        State::Pass,
        State::NotApplicable,
    ]
    .into_iter()
    .find(|s| subjects.iter().any(|r| r.state == *s))
}

/// The check's result from its subjects, or from `without` when it had none to judge.
fn overall(
    subjects: Vec<SubjectResult>,
    failures: Vec<Failure>,
    noun: &str,
    without: impl FnOnce() -> (State, String),
) -> Judged {
    let (state, detail) = match combine(&subjects) {
        Some(state) => (state, summary_detail(state, &subjects, noun)),
        None => without(),
    };
    (state, detail, subjects, failures)
}

/// The provider's name, for a control-plane check on a cluster whose control plane it runs.
fn provider_run(check: &Check, context: &Context) -> Option<String> {
    let control_plane = matches!(check.target, Target::ControlPlane | Target::Etcd);
    context
        .platform
        .filter(|p| control_plane && p.managed_control_plane())
        .map(|p| p.as_str().to_uppercase())
}

/// The subjects in the overall state, with their details. A check left open by subjects that
/// could not be judged says how far the others got: "passes on 1 of 4 nodes; 3 not collected:
/// …", so a partial pass is neither hidden nor taken for a pass.
fn summary_detail(state: State, subjects: &[SubjectResult], noun: &str) -> String {
    let relevant: Vec<String> = subjects
        .iter()
        .filter(|s| s.state == state)
        .map(|s| format!("{}: {}", s.subject, s.detail))
        .collect();
    let passed = subjects.iter().filter(|s| s.state == State::Pass).count();
    if state == State::NotCollected && passed > 0 {
        let judged = subjects
            .iter()
            .filter(|s| s.state != State::NotApplicable)
            .count();
        return format!(
            "passes on {passed} of {judged} {noun}; {} not collected: {}",
            relevant.len(),
            relevant.join("; ")
        );
    }
    relevant.join("; ")
}

/// Why a component's checks have nothing to look at.
fn no_runs(check: &Check, component: Component, context: &Context) -> (State, String) {
    let kubelet = component == Component::Kubelet;
    let component = component.as_str();
    match provider_run(check, context) {
        Some(platform) => (
            State::NotApplicable,
            format!(
                "managed by the provider: {platform} runs the control plane and does not expose {component}"
            ),
        ),
        _ if kubelet => (
            State::NotCollected,
            "no kubelet configuration: scan a cluster, a KubeletConfiguration file \
             (-f /var/lib/kubelet/config.yaml) or node facts (--node-facts)"
                .to_owned(),
        ),
        _ => (
            State::NotCollected,
            format!(
                "no {component} command line: scan a cluster with its mirror pods, a static-pod \
                 manifest (-f /etc/kubernetes/manifests/) or node facts (--node-facts)"
            ),
        ),
    }
}

fn by_settings(
    check: &Check,
    component: Component,
    test: &Test,
    runs: &[subjects::Run<'_>],
    verdicts: &BTreeMap<(usize, String), settings::Verdict>,
    context: &Context,
) -> Judged {
    let mut subjects = Vec::new();
    let mut failures = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        if run.component != component {
            continue;
        }
        let Some(verdict) = verdicts.get(&(i, check.id.clone())) else {
            continue;
        };
        let (state, detail) = match verdict.outcome {
            settings::Outcome::Pass => (State::Pass, verdict.observations()),
            settings::Outcome::Fail => {
                let mut explained = verdict.explain(test);
                if verdict.decided_by_default() {
                    explained.push_str(" (decided by the component's default)");
                }
                (State::Fail, explained)
            }
            settings::Outcome::Unknown if verdict.items.iter().any(|i| i.source == "unseen") => (
                State::NotCollected,
                format!(
                    "{}: collect its command line with `posture node-collect` and pass it \
                         with --node-facts",
                    verdict.explain(test)
                ),
            ),
            settings::Outcome::Unknown => (
                State::NotCollected,
                format!(
                    "{}: read {} with -f, or scan the cluster",
                    verdict.explain(test),
                    run.config_unread
                        .as_deref()
                        .unwrap_or("its configuration file")
                ),
            ),
        };
        if state == State::Fail {
            failures.push(failure_of(run, verdict, &detail));
        }
        subjects.push(SubjectResult {
            subject: run.label.clone(),
            state,
            detail,
        });
    }
    // Cluster nodes whose kubelet could not be read are part of the verdict.
    if component == Component::Kubelet {
        for (node, reason) in &context.nodes {
            let judged = runs
                .iter()
                .any(|r| r.component == Component::Kubelet && r.node.as_deref() == Some(node));
            if !judged {
                subjects.push(SubjectResult {
                    subject: format!("kubelet on node '{node}'"),
                    state: State::NotCollected,
                    detail: reason
                        .clone()
                        .unwrap_or_else(|| "kubelet configuration not collected".to_owned()),
                });
            }
        }
    }
    let noun = if component == Component::Kubelet {
        "nodes"
    } else {
        "component runs"
    };
    overall(subjects, failures, noun, || {
        no_runs(check, component, context)
    })
}

/// A failing run as a finding: at the flag in the container's command line, at the field of
/// the configuration, or on the node.
fn failure_of(run: &subjects::Run<'_>, verdict: &settings::Verdict, detail: &str) -> Failure {
    let message = format!("{}: {detail}", run.label);
    let failing = verdict
        .items
        .iter()
        .find(|i| i.outcome != settings::Outcome::Pass);
    match &run.anchor {
        subjects::Anchor::Container {
            resource,
            container,
        } => {
            let path = failing
                .and_then(|i| flag_path(&resource.object, container, &i.setting))
                .unwrap_or_else(|| {
                    let mut p = container.clone();
                    let key = if resource
                        .object
                        .pointer(&pointer(container))
                        .is_some_and(|c| c["command"].is_array())
                    {
                        "command"
                    } else {
                        "args"
                    };
                    p.0.push(Segment::key(key));
                    p
                });
            Failure::at(resource, path, message)
        }
        subjects::Anchor::Config { resource, prefix } => {
            let mut path = prefix.clone();
            if prefix.is_empty() {
                if let Some(item) = failing.filter(|i| i.source == "config") {
                    path.0.extend(item.setting.split('.').map(Segment::key));
                }
            }
            Failure::at(resource, path, message)
        }
        subjects::Anchor::Node { name, origin } => Failure::on_node(name, origin.clone(), message),
    }
}

fn node_ref(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_owned(),
        kind: "Node".to_owned(),
        namespace: None,
        name: name.to_owned(),
    }
}

fn pointer(path: &FieldPath) -> String {
    path.0
        .iter()
        .map(|s| match s {
            Segment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Segment::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// The last command-line word that sets `flag` in the container.
fn flag_path(object: &serde_json::Value, container: &FieldPath, flag: &str) -> Option<FieldPath> {
    if !flag.starts_with("--") {
        return None;
    }
    let spec = object.pointer(&pointer(container))?;
    let mut found = None;
    for key in ["command", "args"] {
        for (i, word) in spec[key].as_array().into_iter().flatten().enumerate() {
            let word = word.as_str().unwrap_or_default();
            if word == flag || word.starts_with(&format!("{flag}=")) {
                let mut p = container.clone();
                p.0.push(Segment::key(key));
                p.0.push(Segment::Index(i));
                found = Some(p);
            }
        }
    }
    found
}

fn by_files(check: &Check, component: Component, spec: &FileSpec, context: &Context) -> Judged {
    let mut subjects = Vec::new();
    let mut failures = Vec::new();
    for file in &context.node_facts {
        let node = &file.facts.node;
        let subject = format!("node '{node}'");
        let (state, detail) = match files::judge(component, spec, &file.facts) {
            files::FileVerdict::Pass { checked } => (State::Pass, checked.join(", ")),
            files::FileVerdict::Fail { offending } => {
                let detail = offending.join("; ");
                failures.push(Failure::on_node(
                    node,
                    subjects::facts_origin(file, context.cluster.as_deref()),
                    format!("node '{node}': {detail}"),
                ));
                (State::Fail, detail)
            }
            files::FileVerdict::Absent => (
                State::NotApplicable,
                format!(
                    "no {} {} file on this node",
                    component.as_str(),
                    spec.kind.as_str()
                ),
            ),
        };
        subjects.push(SubjectResult {
            subject,
            state,
            detail,
        });
    }
    overall(subjects, failures, "nodes", || {
        match provider_run(check, context) {
            Some(platform) => (
                State::NotApplicable,
                format!("managed by the provider: {platform} runs the control plane nodes"),
            ),
            None => (
                State::NotCollected,
                "needs node facts: run `posture node-collect` on the nodes \
             (deploy/node-collector.yaml) and pass them with --node-facts"
                    .to_owned(),
            ),
        }
    })
}

fn by_rules<R: std::borrow::Borrow<Resource>>(
    names: &[String],
    objects: &[R],
    findings: &[Finding],
    catalog_rules: &[RuleInfo],
    context: &Context,
) -> Judged {
    let n = findings
        .iter()
        .filter(|f| names.iter().any(|n| f.rule_id == *n))
        .count();
    if n > 0 {
        let detail = format!(
            "{n} finding{} of {}",
            if n == 1 { "" } else { "s" },
            names.join(", ")
        );
        return (State::Fail, detail, Vec::new(), Vec::new());
    }
    let rules: Vec<&RuleInfo> = catalog_rules
        .iter()
        .filter(|r| names.contains(&r.id))
        .collect();
    if rules.len() < names.len() {
        return (
            State::NotCollected,
            format!("{} did not run", names.join(", ")),
            Vec::new(),
            Vec::new(),
        );
    }
    let missing: Vec<String> = context
        .missing_types
        .iter()
        .filter(|(plural, _)| {
            rules
                .iter()
                .any(|r| r.kinds.kinds().iter().any(|k| plural_of(k) == *plural))
        })
        .map(|(plural, reason)| format!("{plural}: {reason}"))
        .collect();
    if !missing.is_empty() {
        return (
            State::NotCollected,
            missing.join("; "),
            Vec::new(),
            Vec::new(),
        );
    }
    // The objects the rules ran over: the evidence of a pass.
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for o in objects.iter().map(R::borrow) {
        if rules.iter().any(|r| r.kinds.matches(&o.id)) {
            *seen.entry(o.id.kind.as_str()).or_default() += 1;
        }
    }
    let kinds = || {
        let mut kinds: Vec<&str> = rules.iter().flat_map(|r| r.kinds.kinds()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds.join(", ")
    };
    if seen.is_empty() {
        // A cluster scan lists every object of these kinds: none is an answer. Manifests may
        // simply leave them out.
        return match context.cluster {
            Some(_) => (
                State::Pass,
                format!(
                    "no finding of {}: the cluster has no {}",
                    names.join(", "),
                    kinds()
                ),
                Vec::new(),
                Vec::new(),
            ),
            None => (
                State::NotCollected,
                format!(
                    "{} read {}, and the inputs hold none: scan the cluster, or add them",
                    names.join(", "),
                    kinds()
                ),
                Vec::new(),
                Vec::new(),
            ),
        };
    }
    let over: Vec<String> = seen
        .iter()
        .map(|(kind, n)| format!("{n} {kind}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    (
        State::Pass,
        format!(
            "no finding of {} among {}",
            names.join(", "),
            over.join(", ")
        ),
        Vec::new(),
        Vec::new(),
    )
}

/// Per namespace with user workloads: does admission control reject pods that break
/// `control` there (its Pod Security enforce label, or an enforcing policy-engine policy), and
/// do the workloads already there keep to it (no finding of `rules`)?
fn by_admission<R: std::borrow::Borrow<Resource>>(
    control: AdmissionControl,
    rules: &[String],
    objects: &[R],
    findings: &[Finding],
    context: &Context,
) -> Judged {
    let engines = admission::engine_policies(objects);
    // Namespaces with user workloads; `None`: manifests that leave it to deploy time.
    let mut namespaces: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for o in objects.iter().map(R::borrow) {
        let ns = o.id.namespace.as_deref();
        if crate::policy::kinds::is_workload(&o.id)
            && !ns.is_some_and(|n| admission::SYSTEM_NAMESPACES.contains(&n))
        {
            *namespaces.entry(ns).or_default() += 1;
        }
    }
    // Looked up per namespace, not searched: a cluster has hundreds of namespaces and a
    // hundred thousand findings.
    let mut violations_in: HashMap<Option<&str>, Vec<&Finding>> = HashMap::new();
    for f in findings
        .iter()
        .filter(|f| rules.iter().any(|r| f.rule_id == *r))
    {
        violations_in
            .entry(f.object.namespace.as_deref())
            .or_default()
            .push(f);
    }
    let namespace_objects: HashMap<&str, &Resource> = objects
        .iter()
        .map(R::borrow)
        .filter(|o| o.id.kind == "Namespace" && o.id.namespace.is_none())
        .map(|o| (o.id.name.as_str(), o))
        .rev() // the first of a name wins, as a search from the front found it
        .collect();
    let mut subjects = Vec::new();
    for (ns, workloads) in &namespaces {
        let violations: &[&Finding] = violations_in.get(ns).map_or(&[], Vec::as_slice);
        let engine = engines
            .iter()
            .find(|p| ns.is_some_and(|n| p.covers(n, control)));
        let namespace_object = ns.and_then(|n| namespace_objects.get(n).copied());
        let enforce = namespace_object.map(|o| admission::Enforce::of(&o.object));
        let admitted_by = match (&enforce, engine) {
            (Some(e), _) if e.forbids(control) => Some(e.describe()),
            (_, Some(policy)) => Some(format!("enforcing {}", policy.label)),
            _ => None,
        };
        let workloads_text = format!(
            "{workloads} workload{}",
            if *workloads == 1 { "" } else { "s" }
        );
        let found = if violations.is_empty() {
            String::new()
        } else {
            let mut objects: Vec<String> = violations
                .iter()
                .map(|f| format!("{} '{}'", f.object.kind, f.object.name))
                .collect();
            objects.dedup();
            format!(
                "; {} finding{} of {} ({})",
                violations.len(),
                if violations.len() == 1 { "" } else { "s" },
                rules.join(", "),
                objects.join(", ")
            )
        };
        let (subject, state, detail) = match (ns, admitted_by, &enforce) {
            (Some(n), Some(by), _) => {
                let state = if violations.is_empty() {
                    State::Pass
                } else {
                    State::Fail
                };
                (
                    format!("namespace '{n}'"),
                    state,
                    format!(
                        "{by} rejects {} ({workloads_text}){found}",
                        control.describe()
                    ),
                )
            }
            (Some(n), None, Some(e)) => (
                format!("namespace '{n}'"),
                State::Fail,
                format!(
                    "{}, and no enforcing policy-engine policy forbids {} ({workloads_text}){found}",
                    e.describe(),
                    control.describe()
                ),
            ),
            (Some(n), None, None) if !violations.is_empty() => (
                format!("namespace '{n}'"),
                State::Fail,
                format!(
                    "the Namespace object was not read, so its Pod Security labels are unknown                      ({workloads_text}){found}"
                ),
            ),
            (Some(n), None, None) => (
                format!("namespace '{n}'"),
                State::NotCollected,
                format!(
                    "the Namespace object is not among the inputs, so its Pod Security labels                      are unknown ({workloads_text}): scan the cluster, or add the Namespace"
                ),
            ),
            (None, _, _) if !violations.is_empty() => (
                "workloads without a namespace".to_owned(),
                State::Fail,
                format!("their namespace is chosen at deploy time ({workloads_text}){found}"),
            ),
            (None, _, _) => (
                "workloads without a namespace".to_owned(),
                State::NotCollected,
                format!(
                    "their namespace is chosen at deploy time, so the policy that admits them \
                     is unknown ({workloads_text})"
                ),
            ),
        };
        subjects.push(SubjectResult {
            subject,
            state,
            detail,
        });
    }
    overall(subjects, Vec::new(), "namespaces", || {
        let place = if context.cluster.is_some() {
            "the cluster has"
        } else {
            "the inputs hold"
        };
        (
            State::NotApplicable,
            format!(
                "{place} no workloads outside {}",
                admission::SYSTEM_NAMESPACES.join(", ")
            ),
        )
    })
}

/// A kind's resource name as the API serves it by default (`NetworkPolicy` → `networkpolicies`).
fn plural_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// A check as reporters describe a rule, so that its findings read like any rule's.
fn descriptor(benchmark: &Benchmark, check: &Check, id: &str, severity: Severity) -> RuleInfo {
    let how = match check.evidence {
        Evidence::NodeFile => "posture's node-file check",
        _ => "policies/benchmark/settings.rego",
    };
    RuleInfo {
        id: id.to_owned(),
        slug: check
            .title
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join("_"),
        group: benchmark.benchmark.clone(),
        title: check.title.clone(),
        description: format!(
            "{} {} recommendation {}: {}. Judged by {how}.",
            benchmark.title, benchmark.version, check.id, check.title
        ),
        severity,
        remediation: check.remediation.clone(),
        // Benchmark checks read no objects of their own: the settings rule reads component
        // runs, the file checks node facts.
        kinds: policy::KindSelector::none(),
        input: crate::resource::InputType::Kubernetes,
        frameworks: policy::Frameworks {
            cis_1_12: if benchmark.benchmark == "cis-1.12" {
                vec![check.id.clone()]
            } else {
                Vec::new()
            },
            ..Default::default()
        },
        related: Vec::new(),
    }
}

fn summarize(benchmark: &Benchmark, selection: Selection, checks: Vec<CheckResult>) -> Compliance {
    let inside = |c: &CheckResult, prefix: Option<&str>| {
        prefix.is_none_or(|p| c.id.starts_with(&format!("{p}.")))
    };
    let tally = |prefix: Option<&str>, automated_only: bool| {
        let mut t = Tally::default();
        for c in &checks {
            if inside(c, prefix) && (!automated_only || c.assessment == Assessment::Automated) {
                t.add(c.state);
            }
        }
        t
    };
    // Each node (or component run) a check was judged on counts once.
    let results = |prefix: Option<&str>| {
        let mut t = Tally::default();
        for c in &checks {
            if !inside(c, prefix) || c.assessment != Assessment::Automated {
                continue;
            }
            if c.subjects.is_empty() {
                t.add(c.state);
            } else {
                for s in &c.subjects {
                    t.add(s.state);
                }
            }
        }
        t
    };
    let sections = benchmark
        .sections
        .iter()
        .map(|s| {
            let counts = tally(Some(&s.id), false);
            let automated = tally(Some(&s.id), true);
            let results = results(Some(&s.id));
            let note = match &s.managed {
                Some(managed) => Some(format!("not applicable: {managed}")),
                None => (counts.total() == 0).then(|| "no recommendations".to_owned()),
            };
            SectionSummary {
                id: s.id.clone(),
                title: s.title.clone(),
                counts,
                automated,
                results,
                score: results.score(),
                note,
            }
        })
        .collect();
    let total = tally(None, false);
    let automated = tally(None, true);
    let results = results(None);
    Compliance {
        benchmark: benchmark.benchmark.clone(),
        title: benchmark.title.clone(),
        version: benchmark.version.clone(),
        selection,
        profile_level: None,
        total,
        automated,
        results,
        score: results.score(),
        sections,
        checks,
    }
}

/// What a settings check concludes when its settings are absent, one line per item with a
/// default: the default that applies and whether it meets the requirement. For the kubelet,
/// absence also covers `/configz`, which leaves out false and zero values. Empty for other
/// judgements.
pub fn when_absent(check: &Check) -> Result<Vec<String>, SettingsError> {
    let Judgement::Settings {
        component, test, ..
    } = &check.judgement
    else {
        return Ok(Vec::new());
    };
    let rule = settings::SettingsRule::new()?;
    let verdict = |config_known: bool| -> Result<Option<settings::Verdict>, SettingsError> {
        let run = subjects::Run {
            component: *component,
            node: None,
            label: component.as_str().to_owned(),
            flags: crate::resource::CommandLine::parse::<&str>(&[]),
            config: BTreeMap::new(),
            config_known,
            config_unread: None,
            anchor: subjects::Anchor::Node {
                name: String::new(),
                origin: Origin::Cluster {
                    cluster: String::new(),
                },
            },
        };
        Ok(rule
            .judge(&run, &[(check.id.as_str(), test)])?
            .remove(&check.id))
    };
    let words = |outcome: settings::Outcome| match outcome {
        settings::Outcome::Pass => "passes",
        settings::Outcome::Fail => "fails",
        settings::Outcome::Unknown => "cannot be judged",
    };
    let has_config = test.items().iter().any(|i| i.config_path.is_some());
    let mut lines = Vec::new();
    if let Some(v) = verdict(has_config)? {
        for item in &v.items {
            lines.push(format!("{}: {}", item.observed, words(item.outcome)));
        }
        if has_config && *component == Component::Kubelet {
            lines.push(
                "the kubelet's /configz leaves out false and zero values, so a field missing \
                 there is this default"
                    .to_owned(),
            );
        }
    }
    if test.items().iter().any(|i| i.cli_default.is_some()) {
        if let Some(v) = verdict(false)? {
            for item in v.items.iter().filter(|i| i.source == "default") {
                lines.push(format!(
                    "on a kubelet started without a configuration file, {}: {}",
                    item.observed,
                    words(item.outcome)
                ));
            }
        }
    }
    Ok(lines)
}

/// The benchmark `--benchmark auto` picks for a cluster on `platform`: the built-in benchmark
/// whose `platforms:` names it, else the fallback.
pub fn for_platform(platform: PlatformKind) -> String {
    Registry::builtin().for_platform(platform).benchmark.clone()
}

/// The benchmark `--benchmark auto` picks for manifests that carry benchmark evidence.
pub fn fallback() -> String {
    Registry::builtin().fallback().benchmark.clone()
}

/// Whether manifests carry anything the benchmark judges beyond what the rules see: a
/// control-plane or kube-proxy command line, a kubelet or kube-proxy configuration, or node
/// facts.
pub fn has_benchmark_evidence(runs: &[subjects::Run<'_>], facts: &[FactsFile]) -> bool {
    !facts.is_empty() || !runs.is_empty()
}
