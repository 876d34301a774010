//! The review model behind the markdown and HTML reports: what was scanned, counts by
//! severity, the benchmark's summary, the top priorities, the findings grouped into sections
//! (workloads, RBAC, network exposure, the rest) and the problems.
//!
//! All grouping and ordering is decided here, once, so that `markdown` and `html` only render
//! and cannot drift apart. Counts come from `report.findings` alone; findings a later feature
//! sets aside (suppressed, baselined) belong here as one more field and section, not in the
//! renderers.

use super::{display_path, object_uri};
use crate::compliance::{CheckResult, Compliance, State};
use crate::finding::Finding;
use crate::policy::kinds;
use crate::problem::{Level, Problem};
use crate::resource::{ObjectRef, Origin};
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Objects a priority names before "and N more".
pub const NAMED_OBJECTS: usize = 5;
/// Files the scope names before "and N more".
pub const NAMED_FILES: usize = 20;

/// Everything the markdown and HTML reports show, in the order they show it.
pub struct Review<'a> {
    /// `Security review of fixtures/ratings`, `Security review of cluster lab-aks`.
    pub title: String,
    pub scope: Scope<'a>,
    /// Objects read, owned Pods and ReplicaSets included.
    pub objects_read: usize,
    /// Objects the rules ran on.
    pub objects_evaluated: usize,
    /// One row per severity, most severe first.
    pub by_severity: Vec<SeverityRow>,
    /// Distinct objects with at least one finding.
    pub objects_with_findings: usize,
    pub findings: usize,
    pub benchmark: Option<BenchmarkSummary<'a>>,
    /// Critical and high findings grouped by rule, most pressing first.
    pub priorities: Vec<Priority<'a>>,
    /// Always the four sections, in [`SectionKind::ALL`] order, empty ones included.
    pub sections: Vec<Section<'a>>,
    pub problems: &'a [Problem],
    /// Findings exceptions accepted, with their reasons: not counted above, still shown.
    pub suppressed: &'a [crate::exceptions::Suppressed],
    /// How the findings compare with `--baseline`.
    pub baseline: Option<String>,
    /// Problems of level error: part of the input was not scanned.
    pub errors: usize,
    /// Problems of level warning (something not collected, say).
    pub warnings: usize,
}

/// What was scanned.
pub enum Scope<'a> {
    Manifests {
        /// The directory every file is under, when there is one.
        directory: Option<String>,
        /// The first [`NAMED_FILES`] files that held evaluated objects, sorted, relative to
        /// `directory`.
        files: Vec<String>,
        /// How many more there were.
        more_files: usize,
    },
    Cluster {
        name: &'a str,
        context: Option<&'a str>,
        version: &'a str,
        platform: &'a str,
        collected_at: &'a str,
    },
}

pub struct SeverityRow {
    pub severity: Severity,
    pub findings: usize,
    /// Distinct objects with a finding of this severity.
    pub objects: usize,
}

/// The applied benchmark: its counts per section, failed checks, and what could not be judged.
pub struct BenchmarkSummary<'a> {
    pub compliance: &'a Compliance,
    /// `CIS Kubernetes Benchmark 1.12.0 (cis-1.12, chosen automatically: ...)`.
    pub heading: String,
    pub failed: Vec<&'a CheckResult>,
    /// Not-collected checks, one entry per reason: (reason, check ids).
    pub not_collected: Vec<(&'a str, Vec<&'a str>)>,
}

/// A piece of text from rule metadata: plain text, or a `code` span the author marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inline<'a> {
    Text(&'a str),
    Code(&'a str),
}

/// A rule as the review names it.
pub struct RuleInfo<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub severity: Severity,
    /// Empty when the report does not describe the rule.
    pub remediation: Vec<Inline<'a>>,
}

pub struct Priority<'a> {
    pub rule: RuleInfo<'a>,
    pub findings: usize,
    /// Distinct objects, in report order.
    pub objects: Vec<&'a ObjectRef>,
}

impl Priority<'_> {
    /// The objects to name, and how many are left unnamed.
    pub fn named_objects(&self) -> (&[&ObjectRef], usize) {
        let n = self.objects.len().min(NAMED_OBJECTS);
        (&self.objects[..n], self.objects.len() - n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SectionKind {
    Workloads,
    Rbac,
    Network,
    Other,
}

impl SectionKind {
    pub const ALL: [SectionKind; 4] = [
        SectionKind::Workloads,
        SectionKind::Rbac,
        SectionKind::Network,
        SectionKind::Other,
    ];

    pub fn title(self) -> &'static str {
        match self {
            SectionKind::Workloads => "Workloads",
            SectionKind::Rbac => "RBAC and service accounts",
            SectionKind::Network => "Network exposure",
            SectionKind::Other => "Other findings",
        }
    }

    /// What the section holds, for its first line.
    pub fn about(self) -> &'static str {
        match self {
            SectionKind::Workloads => {
                "Pods and their controllers, one per block, most severe finding first; each \
                 rule's fix is given once per workload."
            }
            SectionKind::Rbac => {
                "Roles, bindings and service accounts: who can do what in the cluster."
            }
            SectionKind::Network => {
                "Services, Ingresses and NetworkPolicies, and every finding of the network \
                 rules (workloads no NetworkPolicy covers), by namespace."
            }
            SectionKind::Other => {
                "Secrets, namespaces, configuration, and the benchmark's checks on the control \
                 plane and the nodes."
            }
        }
    }

    /// A stable id for links and HTML anchors.
    pub fn id(self) -> &'static str {
        match self {
            SectionKind::Workloads => "workloads",
            SectionKind::Rbac => "rbac",
            SectionKind::Network => "network",
            SectionKind::Other => "other",
        }
    }

    /// The section of an evaluated object, by its kind alone.
    fn of_object(id: &ObjectRef) -> SectionKind {
        let group = kinds::api_group(&id.api_version);
        if kinds::is_workload(id) {
            SectionKind::Workloads
        } else if matches!(
            (group, id.kind.as_str()),
            ("rbac.authorization.k8s.io", _) | ("", "ServiceAccount")
        ) {
            SectionKind::Rbac
        } else if matches!(
            id.kind.as_str(),
            "Service" | "Ingress" | "IngressClass" | "NetworkPolicy" | "Gateway" | "HTTPRoute"
        ) {
            SectionKind::Network
        } else {
            SectionKind::Other
        }
    }
}

pub struct Section<'a> {
    pub kind: SectionKind,
    /// Evaluated objects of this section's kinds, or that its rules ran on.
    pub evaluated: usize,
    /// Distinct objects with a finding in this section.
    pub objects_with_findings: usize,
    pub groups: Vec<Group<'a>>,
}

/// What a group is about: one object (workloads, other findings), a namespace (network
/// exposure) or a rule (RBAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Object(&'a ObjectRef),
    /// `None`: cluster-scoped objects, or manifests that leave the namespace to deploy time.
    Namespace(Option<&'a str>),
    Rule {
        id: &'a str,
        title: &'a str,
    },
}

/// Where every finding of a group was read from, when they share it.
pub struct Source<'a> {
    /// A file path, or a cluster object's `k8s://` address.
    pub location: String,
    /// The chart template named by Helm's `# Source:` comment.
    pub template: Option<&'a str>,
}

pub struct Group<'a> {
    pub subject: Subject<'a>,
    pub source: Option<Source<'a>>,
    /// Findings per severity.
    pub counts: [usize; 4],
    /// Most severe rule first.
    pub rules: Vec<RuleGroup<'a>>,
}

impl Group<'_> {
    pub fn count(&self, severity: Severity) -> usize {
        self.counts[severity as usize]
    }

    pub fn worst(&self) -> Option<Severity> {
        self.rules.first().map(|r| r.rule.severity)
    }

    /// Whether rows need a rule column: not when the group is one rule's.
    pub fn rule_column(&self) -> bool {
        !matches!(self.subject, Subject::Rule { .. })
    }
}

pub struct RuleGroup<'a> {
    pub rule: RuleInfo<'a>,
    pub items: Vec<Item<'a>>,
}

pub struct Item<'a> {
    pub finding: &'a Finding,
    /// `file:line:column` for manifests; the object's address for a cluster object when the
    /// group's source does not already give it; `None` otherwise.
    pub place: Option<String>,
    /// The offending field, or empty.
    pub field: String,
}

impl Item<'_> {
    /// What the location cell shows, one entry a line: the place, then the field.
    pub fn location_lines(&self) -> impl Iterator<Item = &str> {
        self.place
            .as_deref()
            .into_iter()
            .chain(Some(self.field.as_str()).filter(|f| !f.is_empty()))
    }
}

impl Review<'_> {
    /// ` 12 objects read, 9 evaluated (...)`: how much of the input the rules ran on.
    pub fn objects_sentence(&self) -> String {
        let mut s = format!(
            " {} object{} read, {} evaluated",
            self.objects_read,
            plural(self.objects_read),
            self.objects_evaluated
        );
        if self.objects_read != self.objects_evaluated {
            s.push_str(
                " (Pods and ReplicaSets that a scanned controller owns are reported through it)",
            );
        }
        s
    }
}

impl<'a> Review<'a> {
    pub fn build(report: &'a ScanReport) -> Review<'a> {
        let benchmark_prefix = report
            .compliance
            .as_ref()
            .map(|c| format!("{}/", c.benchmark));
        let is_benchmark = |f: &Finding| {
            benchmark_prefix
                .as_deref()
                .is_some_and(|p| f.rule_id.starts_with(p))
        };
        let section_of = |f: &Finding| {
            if is_benchmark(f) {
                SectionKind::Other
            } else if report
                .rule(&f.rule_id)
                .is_some_and(|r| r.group == "network")
            {
                SectionKind::Network
            } else {
                SectionKind::of_object(&f.object)
            }
        };

        let mut grouped: BTreeMap<(SectionKind, GroupKey<'a>), Vec<&'a Finding>> = BTreeMap::new();
        for f in &report.findings {
            let section = section_of(f);
            grouped
                .entry((section, GroupKey::of(section, f)))
                .or_default()
                .push(f);
        }
        // Network rules also look at workloads (is a NetworkPolicy selecting them?), so the
        // objects they ran on count as evaluated for the network section.
        let network_rules: Vec<&crate::rule_info::RuleInfo> = report
            .rules
            .iter()
            .filter(|r| r.group == "network")
            .collect();
        let in_section = |kind: SectionKind, o: &ObjectRef| {
            SectionKind::of_object(o) == kind
                || (kind == SectionKind::Network
                    && network_rules.iter().any(|r| r.kinds.matches(o)))
        };
        let mut sections: Vec<Section<'a>> = SectionKind::ALL
            .iter()
            .map(|&kind| Section {
                kind,
                evaluated: report
                    .evaluated
                    .iter()
                    .filter(|e| in_section(kind, &e.object))
                    .count(),
                objects_with_findings: 0,
                groups: Vec::new(),
            })
            .collect();
        let mut with_findings: Vec<BTreeSet<(&ObjectRef, String)>> =
            vec![BTreeSet::new(); SectionKind::ALL.len()];
        for ((kind, key), findings) in grouped {
            with_findings[kind as usize]
                .extend(findings.iter().map(|f| (&f.object, f.origin.source_key())));
            let group = group(report, key.subject(), findings);
            sections[kind as usize].groups.push(group);
        }
        for (section, objects) in sections.iter_mut().zip(with_findings) {
            section.objects_with_findings = objects.len();
        }

        Review {
            title: title(report),
            scope: scope(report),
            objects_read: report.objects,
            objects_evaluated: report.evaluated.len(),
            by_severity: by_severity(&report.findings),
            objects_with_findings: distinct_objects(report.findings.iter()),
            findings: report.findings.len(),
            benchmark: report.compliance.as_ref().map(|c| BenchmarkSummary {
                compliance: c,
                heading: super::compliance::heading(c),
                failed: c.checks.iter().filter(|r| r.state == State::Fail).collect(),
                not_collected: super::compliance::not_collected_by_reason(c),
            }),
            priorities: priorities(report),
            sections,
            problems: &report.problems,
            suppressed: &report.suppressed,
            baseline: super::baseline_line(report),
            errors: count_level(&report.problems, Level::Error),
            warnings: count_level(&report.problems, Level::Warning),
        }
    }
}

/// How findings are grouped, and in which order: objects by namespace, then name; namespaces
/// by name; rules most severe first. The object key holds where the object was read, so that
/// the same Deployment in two overlays stays two groups.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey<'a> {
    Object {
        namespace: Option<&'a str>,
        name: &'a str,
        kind: &'a str,
        api_version: &'a str,
        source: String,
        object: &'a ObjectRef,
    },
    Namespace(Option<&'a str>),
    Rule(Reverse<Severity>, &'a str, &'a str),
}

impl<'a> GroupKey<'a> {
    /// Workloads and the rest are fixed object by object; network exposure is a namespace's
    /// matter; RBAC findings are mostly one per object, and one fix serves them all.
    fn of(section: SectionKind, f: &'a Finding) -> GroupKey<'a> {
        let o = &f.object;
        match section {
            SectionKind::Network => GroupKey::Namespace(o.namespace.as_deref()),
            SectionKind::Rbac => GroupKey::Rule(Reverse(f.severity), &f.rule_id, &f.rule_title),
            SectionKind::Workloads | SectionKind::Other => GroupKey::Object {
                namespace: o.namespace.as_deref(),
                name: &o.name,
                kind: &o.kind,
                api_version: &o.api_version,
                source: f.origin.source_key(),
                object: o,
            },
        }
    }

    fn subject(&self) -> Subject<'a> {
        match *self {
            GroupKey::Object { object, .. } => Subject::Object(object),
            GroupKey::Namespace(ns) => Subject::Namespace(ns),
            GroupKey::Rule(_, id, title) => Subject::Rule { id, title },
        }
    }
}

/// Where a finding was read: the file (with its chart template) or the object's address.
fn source_of(f: &Finding) -> Source<'_> {
    match &f.origin {
        Origin::File {
            path, helm_source, ..
        } => Source {
            location: display_path(path),
            template: helm_source.as_deref(),
        },
        Origin::Rendered { file, .. } => Source {
            location: display_path(file),
            template: None,
        },
        Origin::Cluster { cluster } => Source {
            location: object_uri(cluster, &f.object),
            template: None,
        },
    }
}

fn group<'a>(
    report: &'a ScanReport,
    subject: Subject<'a>,
    findings: Vec<&'a Finding>,
) -> Group<'a> {
    // A shared source is shown once, above the rows: for one object's group. A namespace's
    // or a rule's group names each finding's object in its row even when there is one.
    let first = source_of(findings[0]);
    let shared = matches!(subject, Subject::Object(_))
        && findings.iter().all(|f| {
            let s = source_of(f);
            s.location == first.location && s.template == first.template
        });
    let mut counts = [0; 4];
    // Most severe rule first, then by id; findings keep the report's order within a rule.
    let mut by_rule: BTreeMap<(Reverse<Severity>, &str), Vec<&'a Finding>> = BTreeMap::new();
    for f in findings {
        counts[f.severity as usize] += 1;
        by_rule
            .entry((Reverse(f.severity), &f.rule_id))
            .or_default()
            .push(f);
    }
    let rules = by_rule
        .into_values()
        .map(|findings| RuleGroup {
            rule: rule_info(report, findings[0]),
            items: findings
                .into_iter()
                .map(|f| Item {
                    finding: f,
                    place: place(f, shared),
                    field: f.path.to_string(),
                })
                .collect(),
        })
        .collect();
    Group {
        subject,
        source: shared.then_some(first),
        counts,
        rules,
    }
}

fn place(f: &Finding, shared_source: bool) -> Option<String> {
    match &f.origin {
        Origin::File {
            path, helm_source, ..
        } => {
            let mut place = display_path(path);
            if let Some(p) = f.position {
                place.push_str(&format!(":{}:{}", p.line, p.column));
            }
            if let Some(template) = helm_source.as_deref().filter(|_| !shared_source) {
                place.push_str(&format!(" (template {template})"));
            }
            Some(place)
        }
        Origin::Rendered { .. } => Some(super::location_line(f)),
        Origin::Cluster { cluster } => (!shared_source).then(|| object_uri(cluster, &f.object)),
    }
}

fn rule_info<'a>(report: &'a ScanReport, f: &'a Finding) -> RuleInfo<'a> {
    RuleInfo {
        id: &f.rule_id,
        title: &f.rule_title,
        severity: f.severity,
        remediation: report
            .rule(&f.rule_id)
            .map(|r| inline_code(&r.remediation))
            .unwrap_or_default(),
    }
}

fn count_level(problems: &[Problem], level: Level) -> usize {
    problems.iter().filter(|p| p.level == level).count()
}

fn distinct_objects<'a>(findings: impl Iterator<Item = &'a Finding>) -> usize {
    findings
        .map(|f| (&f.object, f.origin.source_key()))
        .collect::<BTreeSet<_>>()
        .len()
}

fn by_severity(findings: &[Finding]) -> Vec<SeverityRow> {
    Severity::ALL
        .iter()
        .map(|&severity| SeverityRow {
            severity,
            findings: findings.iter().filter(|f| f.severity == severity).count(),
            objects: distinct_objects(findings.iter().filter(|f| f.severity == severity)),
        })
        .collect()
}

/// Critical and high findings by rule: most severe first, then the rule on most objects.
fn priorities(report: &ScanReport) -> Vec<Priority<'_>> {
    let mut by_rule: BTreeMap<&str, Priority<'_>> = BTreeMap::new();
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
    {
        let p = by_rule.entry(&f.rule_id).or_insert_with(|| Priority {
            rule: rule_info(report, f),
            findings: 0,
            objects: Vec::new(),
        });
        p.findings += 1;
        if !p.objects.contains(&&f.object) {
            p.objects.push(&f.object);
        }
    }
    let mut priorities: Vec<Priority<'_>> = by_rule.into_values().collect();
    priorities.sort_by(|a, b| {
        (
            Reverse(a.rule.severity),
            Reverse(a.objects.len()),
            a.rule.id,
        )
            .cmp(&(
                Reverse(b.rule.severity),
                Reverse(b.objects.len()),
                b.rule.id,
            ))
    });
    priorities
}

fn files(report: &ScanReport) -> Vec<String> {
    let files: BTreeSet<String> = report
        .evaluated
        .iter()
        .filter_map(|e| match &e.origin {
            Origin::File { path, .. } => Some(display_path(path)),
            // The chart or kustomization that was rendered, as the user named it.
            Origin::Rendered { dir, .. } => Some(display_path(dir)),
            Origin::Cluster { .. } => None,
        })
        .collect();
    files.into_iter().collect()
}

fn scope(report: &ScanReport) -> Scope<'_> {
    match &report.target {
        Target::Cluster { info, collected_at } => Scope::Cluster {
            name: &info.name,
            context: info.context.as_deref().filter(|c| *c != info.name),
            version: &info.server_version.git_version,
            platform: info.platform.kind.as_str(),
            collected_at,
        },
        Target::Manifests => {
            let all = files(report);
            let directory = common_directory(&all);
            let more_files = all.len().saturating_sub(NAMED_FILES);
            let files = all
                .iter()
                .take(NAMED_FILES)
                .map(|f| match &directory {
                    Some(dir) => f[dir.len() + 1..].to_owned(),
                    None => f.clone(),
                })
                .collect();
            Scope::Manifests {
                directory,
                files,
                more_files,
            }
        }
    }
}

fn title(report: &ScanReport) -> String {
    if let Target::Cluster { info, .. } = &report.target {
        return format!("Security review of cluster {}", info.name);
    }
    let files = files(report);
    let subject = match files.as_slice() {
        [] => "manifests".to_owned(),
        [one] if one == "-" => "standard input".to_owned(),
        [one] => one.clone(),
        many => match common_directory(many) {
            Some(dir) => dir,
            None => format!("{} manifest files", many.len()),
        },
    };
    format!("Security review of {subject}")
}

/// The longest directory every path is under (`fixtures/ratings`), if there is one.
fn common_directory(paths: &[String]) -> Option<String> {
    let dirs: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            let mut parts: Vec<&str> = p.split('/').collect();
            parts.pop();
            parts
        })
        .collect();
    let first = dirs.first()?;
    let depth = (0..first.len())
        .take_while(|&i| dirs.iter().all(|d| d.get(i) == first.get(i)))
        .count();
    let dir = first[..depth].join("/");
    (!dir.is_empty()).then_some(dir)
}

/// `s` for a count other than one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1 error and 4 warnings: ...`, for the summary, when there are problems to look at.
pub fn problems_line(errors: usize, warnings: usize) -> Option<String> {
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(format!("{errors} error{}", plural(errors)));
    }
    if warnings > 0 {
        parts.push(format!("{warnings} warning{}", plural(warnings)));
    }
    if parts.is_empty() {
        return None;
    }
    let why = if errors > 0 {
        "part of the input was not scanned; "
    } else {
        ""
    };
    Some(format!(
        "{}: {why}see Problems and gaps.",
        parts.join(" and ")
    ))
}

/// A benchmark state as a column heading.
pub fn state_label(s: State) -> &'static str {
    match s {
        State::Pass => "Pass",
        State::Fail => "Fail",
        State::Manual => "Manual",
        State::NotApplicable => "Not applicable",
        State::NotCollected => "Not collected",
    }
}

/// Splits metadata text at its `code` spans (CommonMark: a run of n backticks up to the next
/// run of exactly n). Text with an unclosed run stays text.
pub fn inline_code(text: &str) -> Vec<Inline<'_>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut plain_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        let content_start = i + run;
        let mut j = content_start;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let other = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                if other == run {
                    close = Some(j);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                if plain_start < i {
                    out.push(Inline::Text(&text[plain_start..i]));
                }
                let code = &text[content_start..end];
                // One space on each side is padding (so a span can start with a backtick).
                let code = match code.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !inner.trim().is_empty() => inner,
                    _ => code,
                };
                out.push(Inline::Code(code));
                i = end + run;
                plain_start = i;
            }
            None => i = content_start,
        }
    }
    if plain_start < text.len() {
        out.push(Inline::Text(&text[plain_start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_are_split_out() {
        assert_eq!(
            inline_code("Set `a: b` and ``x`y`` then `unclosed"),
            vec![
                Inline::Text("Set "),
                Inline::Code("a: b"),
                Inline::Text(" and "),
                Inline::Code("x`y"),
                Inline::Text(" then `unclosed"),
            ]
        );
        assert_eq!(inline_code(""), vec![]);
        assert_eq!(inline_code("``"), vec![Inline::Text("``")]);
    }

    #[test]
    fn common_directory_of_paths() {
        let paths = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_directory(&paths(&["a/b/x.yaml", "a/b/c/y.yaml"])),
            Some("a/b".to_owned())
        );
        assert_eq!(common_directory(&paths(&["x.yaml", "a/y.yaml"])), None);
        assert_eq!(
            common_directory(&paths(&["ab/x.yaml", "a/y.yaml"])),
            None,
            "components, not characters"
        );
    }
}
