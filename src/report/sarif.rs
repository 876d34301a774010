//! SARIF 2.1.0 for code scanning: rules with help and `security-severity`, results located at
//! the offending field (relative URI, 1-based line and column), stable `partialFingerprints`,
//! and problems as tool execution notifications.

use super::pretty::{pretty, write_array};
use crate::exceptions::SuppressionKind;
use crate::finding::{Finding, FINGERPRINT_KEY};
use crate::location::Location as SourceLocation;
use crate::paths::PATH_FINGERPRINT_KEY;
use crate::policy::RuleInfo;
use crate::problem::{Level, Problem};
use crate::resource::{Position, SourcePath};
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, CodeFlow, Invocation, Location, LogicalLocation, Message,
    MultiformatMessageString, Notification, PhysicalLocation, PropertyBag, Region,
    ReportingConfiguration, ReportingDescriptor, ReportingDescriptorReference,
    Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Suppression, ThreadFlow,
    ThreadFlowLocation, Tool, ToolComponent,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// Base id that relative URIs resolve against: the checkout root in code scanning.
const SRCROOT: &str = "%SRCROOT%";
const CLUSTER: &str = "CLUSTER";

fn level(severity: Severity) -> ResultLevel {
    match severity {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low => ResultLevel::Note,
    }
}

fn level_name(severity: Severity) -> &'static str {
    match level(severity) {
        ResultLevel::Error => "error",
        ResultLevel::Warning => "warning",
        _ => "note",
    }
}

/// `privileged_container` → `PrivilegedContainer` (SARIF rule names are identifiers).
fn pascal(slug: &str) -> String {
    slug.split(['_', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn tags(rule: &RuleInfo) -> Vec<String> {
    let mut tags = vec!["security".to_owned(), rule.input.as_str().to_owned()];
    for r in rule.frameworks.references() {
        match r.tag {
            // NSA sections are prose headings, not ids: one tag says the guidance applies.
            "NSA-CISA" => tags.push(r.tag.to_owned()),
            "PSS" => tags.extend(
                r.ids
                    .iter()
                    .map(|level| format!("pss-{}", level.to_lowercase())),
            ),
            _ => tags.extend(r.ids.iter().map(|id| format!("{}-{id}", r.tag))),
        }
    }
    tags
}

fn help_markdown(rule: &RuleInfo) -> String {
    let mut md = format!(
        "{}\n\n**Remediation:** {}",
        rule.description, rule.remediation
    );
    let mut refs = Vec::new();
    for r in rule.frameworks.references() {
        if r.tag == "NSA-CISA" {
            // Sections are headings, one line each.
            refs.extend(r.ids.iter().map(|n| format!("{}: {n}", r.standard)));
        } else {
            refs.push(format!("{}: {}", r.standard, r.ids.join(", ")));
        }
    }
    for r in &rule.related {
        refs.push(format!("<{}>", r.reference));
    }
    if !refs.is_empty() {
        md.push_str("\n\n**References:**\n");
        for r in refs {
            md.push_str(&format!("- {r}\n"));
        }
    }
    md
}

fn descriptor(rule: &RuleInfo) -> ReportingDescriptor {
    let mut props = BTreeMap::new();
    // GitHub requires a string here; a number is silently ignored.
    props.insert(
        "security-severity".to_owned(),
        json!(rule.severity.security_severity()),
    );
    props.insert("precision".to_owned(), json!("high"));
    props.insert(
        "problem.severity".to_owned(),
        json!(level_name(rule.severity)),
    );
    let mut descriptor = ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(pascal(&rule.slug))
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.title.clone())
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(rule.description.clone())
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(format!(
                    "{}\n\nRemediation: {}",
                    rule.description, rule.remediation
                ))
                .markdown(help_markdown(rule))
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level_name(rule.severity)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags(rule))
                .additional_properties(props)
                .build(),
        )
        .build();
    if let Some(r) = rule.related.first() {
        descriptor.help_uri = Some(r.reference.clone());
    }
    descriptor
}

/// A relative URI for code scanning: files under the working directory have relative paths
/// (their [`SourcePath`] says so), others become `file://` URIs.
fn uri(path: &SourcePath) -> (String, bool) {
    if path.is_relative() {
        (percent_encode(path.as_str()), true)
    } else {
        (format!("file://{}", percent_encode(path.as_str())), false)
    }
}

/// Percent-encodes each path segment, keeping the slashes between them.
fn percent_encode(s: &str) -> String {
    s.split('/')
        .map(crate::resource::uri_component)
        .collect::<Vec<_>>()
        .join("/")
}

fn physical(path: &SourcePath, position: Option<Position>) -> PhysicalLocation {
    let (uri, relative) = uri(path);
    let mut artifact = ArtifactLocation::builder().uri(uri).build();
    if relative {
        artifact.uri_base_id = Some(SRCROOT.to_owned());
    }
    let mut location = PhysicalLocation::builder()
        .artifact_location(artifact)
        .build();
    if let Some(p) = position {
        location.region = Some(
            Region::builder()
                .start_line(i64::from(p.line))
                .start_column(i64::from(p.column))
                .build(),
        );
    }
    location
}

/// A cluster object's location: its path relative to the `CLUSTER` base (`k8s://<cluster>/`),
/// so the URI is stable across scans and still relative, as code scanning requires.
fn cluster_physical(object: &crate::resource::ObjectRef) -> PhysicalLocation {
    let mut artifact = ArtifactLocation::builder().uri(object.address()).build();
    artifact.uri_base_id = Some(CLUSTER.to_owned());
    PhysicalLocation::builder()
        .artifact_location(artifact)
        .build()
}

fn logical(object: &crate::resource::ObjectRef) -> LogicalLocation {
    let qualified = match &object.namespace {
        Some(ns) => format!("{ns}/{}/{}", object.kind, object.name),
        None => format!("{}/{}", object.kind, object.name),
    };
    LogicalLocation::builder()
        .name(object.name.clone())
        .fully_qualified_name(qualified)
        .kind("resource")
        .build()
}

fn result(f: &Finding, rule_index: Option<usize>) -> SarifResult {
    let mut props = BTreeMap::new();
    props.insert("path".to_owned(), json!(f.path.to_string()));
    // Read back by `--baseline` and `posture diff`, which show what was fixed.
    props.insert("severity".to_owned(), json!(f.severity.as_str()));
    let location = f.location();
    if let Some(src) = location.helm_template() {
        props.insert("helmSource".to_owned(), json!(src));
    }
    let physical_location = match location {
        SourceLocation::File { file, position, .. } => physical(file, position),
        SourceLocation::Rendered {
            tool,
            dir,
            file,
            written,
            source,
            document,
            item,
            position,
        } => {
            let mut rendered = json!({"tool": tool, "dir": dir, "document": document});
            if let Some(src) = source {
                rendered["source"] = json!(src);
            }
            if let Some(i) = item {
                rendered["item"] = json!(i);
            }
            if let Some(p) = position {
                rendered["line"] = json!(p.line);
                rendered["column"] = json!(p.column);
            }
            props.insert("rendered".to_owned(), rendered);
            // A region only where the field is written in `file` (the template line, the
            // patch line): the output position is a line of the tool's output, and claiming it
            // as a line of the template or base file would send readers astray.
            physical(file, written)
        }
        SourceLocation::Cluster { .. } => cluster_physical(&f.object),
    };
    let location = Location::builder()
        .physical_location(physical_location)
        .logical_locations(vec![logical(&f.object)])
        .build();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY.to_owned(), f.fingerprint.to_string());
    let mut r = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .level(level(f.severity))
        .message(Message::builder().text(f.message.to_string()).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    r.rule_index = rule_index.map(|i| i as i64);
    r
}

/// The rule every attack path reports under.
pub const PATH_RULE: &str = "PST-PATH";
fn path_descriptor() -> ReportingDescriptor {
    let description = "A route from an entry point (an Ingress, an exposed Service, a pod on the \
                       host network, a binding open to everyone, a long-lived token) through \
                       workloads and their weaknesses to a crown jewel (cluster-admin, every \
                       Secret, the nodes, credentials). Each step of the code flow is one object; \
                       the score is exposure × impact.";
    let remediation = "Cut the path at its cheapest step: isolate the workload with a \
                       NetworkPolicy, remove the weakness the findings name, stop mounting the \
                       ServiceAccount token, or narrow the binding.";
    let mut props = BTreeMap::new();
    props.insert("security-severity".to_owned(), json!("9.0"));
    props.insert("precision".to_owned(), json!("medium"));
    props.insert("problem.severity".to_owned(), json!("error"));
    ReportingDescriptor::builder()
        .id(PATH_RULE)
        .name("AttackPath")
        .short_description(
            MultiformatMessageString::builder()
                .text("Attack path to a crown jewel")
                .build(),
        )
        .full_description(
            MultiformatMessageString::builder()
                .text(description)
                .build(),
        )
        .help(
            MultiformatMessageString::builder()
                .text(format!("{description}\n\nRemediation: {remediation}"))
                .markdown(format!("{description}\n\n**Remediation:** {remediation}"))
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!("error"))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec!["security".to_owned(), "attack-path".to_owned()])
                .additional_properties(props)
                .build(),
        )
        .build()
}

/// A step's place: the file and line of a manifest or template, or the cluster object.
fn step_location(s: &crate::paths::Step) -> Location {
    let physical_location =
        match SourceLocation::new(&s.origin, &s.object, s.position, s.written.as_ref()) {
            SourceLocation::File { file, position, .. } => physical(file, position),
            SourceLocation::Rendered { file, written, .. } => physical(file, written),
            SourceLocation::Cluster { .. } => cluster_physical(&s.object),
        };
    Location::builder()
        .physical_location(physical_location)
        .logical_locations(vec![logical(&s.object)])
        .message(Message::builder().text(s.explanation.clone()).build())
        .build()
}

/// A result per attack path: located at the step that gains the jewel, with a code flow whose
/// thread flow locations are the steps, so code scanning shows the path.
fn path_result(p: &crate::paths::AttackPath, rule_index: usize) -> SarifResult {
    let level = match p.score.value {
        10.. => ResultLevel::Error,
        6.. => ResultLevel::Warning,
        _ => ResultLevel::Note,
    };
    let flow = ThreadFlow::builder()
        .locations(
            p.steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut props = BTreeMap::new();
                    props.insert("edge".to_owned(), json!(s.edge));
                    props.insert("evidence".to_owned(), json!(s.evidence));
                    ThreadFlowLocation::builder()
                        .location(step_location(s))
                        .execution_order(i as i64 + 1)
                        .properties(PropertyBag::builder().additional_properties(props).build())
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .build();
    let last = p.steps.last().expect("a path has at least one step");
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert(PATH_FINGERPRINT_KEY.to_owned(), p.id.clone());
    let mut props = BTreeMap::new();
    props.insert("id".to_owned(), json!(p.id));
    props.insert("jewel".to_owned(), json!(p.jewel));
    props.insert("score".to_owned(), json!(p.score));
    let mut r = SarifResult::builder()
        .rule_id(PATH_RULE)
        .level(level)
        .message(
            Message::builder()
                .text(format!(
                    "{} (score {}: {}).",
                    p.title,
                    p.score.value,
                    p.score.reasons.join("; ")
                ))
                .build(),
        )
        .locations(vec![step_location(last)])
        .code_flows(vec![CodeFlow::builder().thread_flows(vec![flow]).build()])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    r.rule_index = Some(rule_index as i64);
    r
}

/// One result of a run, rendered when it is written.
enum Item<'a> {
    Finding(&'a Finding),
    Suppressed(&'a crate::exceptions::Suppressed),
    Path(&'a crate::paths::AttackPath),
}

/// Findings that count, then suppressed ones (code scanning shows them as dismissed rather
/// than open alerts, SARIF §3.27.23 `suppressions`), then attack paths: written a batch at a
/// time, each rendered on every core, so that no report is held whole as SARIF.
fn write_results(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let index: HashMap<&str, usize> = report
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    // The attack-path descriptor follows the rules' (see `run`).
    let path_index = report.rules.len();
    let items: Vec<Item<'_>> = report
        .findings
        .iter()
        .map(Item::Finding)
        .chain(report.suppressed.iter().map(Item::Suppressed))
        .chain(report.attack_paths.iter().map(Item::Path))
        .collect();
    let render = |item: &Item<'_>| -> SarifResult {
        let rule_index = |f: &Finding| index.get(f.rule_id.as_str()).copied();
        match item {
            Item::Finding(f) => {
                let mut r = result(f, rule_index(f));
                r.baseline_state = report.baseline_state(f).map(|s| {
                    json!(match s {
                        crate::baseline::State::New => "new",
                        crate::baseline::State::Unchanged => "unchanged",
                    })
                });
                r
            }
            Item::Suppressed(s) => {
                let mut r = result(&s.finding, rule_index(&s.finding));
                let mut props = BTreeMap::new();
                props.insert("exception".to_owned(), json!(s.suppression.exception));
                if let Some(d) = s.suppression.expires {
                    props.insert("expires".to_owned(), json!(d.to_string()));
                }
                let kind = match s.suppression.kind {
                    SuppressionKind::Config => "external",
                    SuppressionKind::Annotation => "inSource",
                };
                r.suppressions = Some(vec![Suppression::builder()
                    .kind(json!(kind))
                    .status(json!("accepted"))
                    .justification(s.suppression.reason.clone())
                    .properties(PropertyBag::builder().additional_properties(props).build())
                    .build()]);
                r
            }
            Item::Path(p) => path_result(p, path_index),
        }
    };
    write_array(
        &items,
        RESULTS_DEPTH,
        out,
        || (),
        |_, item, buf| pretty(&render(item), RESULTS_DEPTH + 1, buf),
    )
}

fn notification(p: &Problem) -> Notification {
    let level = match p.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    };
    let mut n = Notification::builder()
        .message(Message::builder().text(p.message.clone()).build())
        .level(json!(level))
        .descriptor(
            ReportingDescriptorReference::builder()
                .id(p.code.as_str())
                .build(),
        )
        .build();
    if let Some(file) = &p.file {
        n.locations = Some(vec![Location::builder()
            .physical_location(physical(file, p.position))
            .build()]);
    }
    n
}

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    write_runs(vec![(run(report), Some(report))], out)
}

/// A log of several scans (a fleet): a run per member, told apart by `automationDetails.id`
/// (`<member>/`, as code scanning's categories), so that each cluster's results are tracked on
/// their own. A member that could not be scanned is a run with no results whose invocation
/// failed and says why.
pub fn write_members(members: &[super::fleet::Member<'_>], out: &mut dyn Write) -> io::Result<()> {
    use super::fleet::Member;
    let runs = members
        .iter()
        .map(|m| {
            let (name, mut run, report) = match m {
                Member::Scanned(name, report) => (*name, run(report), Some(*report)),
                Member::Failed(name, why) => {
                    let invocation = Invocation::builder()
                        .execution_successful(false)
                        .tool_execution_notifications(vec![Notification::builder()
                            .message(
                                Message::builder()
                                    .text(format!("{name}: not scanned: {why}"))
                                    .build(),
                            )
                            .level(json!("error"))
                            .build()])
                        .build();
                    let run = Run::builder()
                        .tool(Tool::builder().driver(driver(&[])).build())
                        .invocations(vec![invocation])
                        .results(Vec::<SarifResult>::new())
                        .build();
                    (*name, run, None)
                }
            };
            run.automation_details = Some(
                RunAutomationDetails::builder()
                    .id(format!("{name}/"))
                    .build(),
            );
            (run, report)
        })
        .collect();
    write_runs(runs, out)
}

/// How deep a run's `results` key is in the log: `runs` (1), a run (2), its keys (3).
const RESULTS_DEPTH: usize = 3;

/// Writes the log with each run's results (left empty in the `Run`s) written from its report
/// where serde puts them: the document around them is small, the results are not.
fn write_runs(runs: Vec<(Run, Option<&ScanReport>)>, out: &mut dyn Write) -> io::Result<()> {
    let reports: Vec<Option<&ScanReport>> = runs.iter().map(|(_, r)| *r).collect();
    let sarif = Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(runs.into_iter().map(|(run, _)| run).collect::<Vec<_>>())
        .build();
    let mut doc = Vec::new();
    serde_json::to_writer_pretty(&mut doc, &sarif)?;
    doc.push(b'\n');
    // Each run was given an empty results array at its depth.
    let mut rest = &doc[..];
    for report in reports {
        let at = crate::pretty_json::empty_array_at(rest, "results", RESULTS_DEPTH)
            .ok_or_else(|| io::Error::other("SARIF: a run has no results array to fill"))?;
        let (head, tail) = rest.split_at(at);
        out.write_all(head)?;
        match report {
            Some(report) => write_results(report, out)?,
            None => out.write_all(b"[]")?,
        }
        rest = &tail[2..];
    }
    out.write_all(rest)
}

fn driver(rules: &[RuleInfo]) -> ToolComponent {
    ToolComponent::builder()
        .name("posture")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/posture-dev/posture")
        .rules(rules.iter().map(descriptor).collect::<Vec<_>>())
        .build()
}

/// One scan as a SARIF run.
fn run(report: &ScanReport) -> Run {
    let mut driver = driver(&report.rules);
    if !report.attack_paths.is_empty() {
        // At index `report.rules.len()`, which `write_results` gives the paths' results.
        driver
            .rules
            .get_or_insert_with(Vec::new)
            .push(path_descriptor());
    }
    let invocation = Invocation::builder()
        .execution_successful(!report.has_errors())
        .tool_execution_notifications(report.problems.iter().map(notification).collect::<Vec<_>>())
        .build();
    let mut base_ids = BTreeMap::new();
    base_ids.insert(
        SRCROOT.to_owned(),
        ArtifactLocation::builder()
            .description(
                Message::builder()
                    .text("The directory posture was run from.")
                    .build(),
            )
            .build(),
    );
    if let Target::Cluster { info, .. } = &report.target {
        let mut root = ArtifactLocation::builder()
            .uri(format!(
                "k8s://{}/",
                crate::resource::uri_component(&info.name)
            ))
            .description(
                Message::builder()
                    .text(format!("Objects of cluster {}.", info.name))
                    .build(),
            )
            .build();
        root.uri_base_id = None;
        base_ids.insert(CLUSTER.to_owned(), root);
    }
    let mut properties = BTreeMap::new();
    if let Some(c) = &report.compliance {
        let checks: Vec<serde_json::Value> = c
            .checks
            .iter()
            .map(|r| json!({"id": r.id, "state": r.state, "assessment": r.assessment}))
            .collect();
        properties.insert(
            "compliance".to_owned(),
            json!({
                "benchmark": c.benchmark, "title": c.title, "version": c.version,
                "selection": c.selection, "total": c.total, "automated": c.automated,
                "results": c.results, "score": c.score, "sections": c.sections, "checks": checks,
            }),
        );
    }
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .original_uri_base_ids(base_ids)
        // Written by `write_results` in place of this empty list.
        .results(Vec::<SarifResult>::new())
        .column_kind(json!("unicodeCodePoints"))
        .build();
    if !properties.is_empty() {
        // The benchmark's compliance summary travels as run properties (SARIF §3.8), where
        // code scanning keeps but does not interpret it.
        run.properties = Some(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        );
    }
    run
}
