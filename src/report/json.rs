//! JSON output: a public, versioned schema (see docs/json-output.md). Bump `SCHEMA_VERSION`'s
//! major number on any change that can break a consumer.

use super::pretty::{pretty, write_array};
use crate::baseline::State;
use crate::exceptions::Suppression;
use crate::finding::Finding;
use crate::location::Location;
use crate::problem::{Level, Problem};
use crate::resource::Renderer;
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use serde::Serialize;
use std::io::{self, Write};

pub const SCHEMA_VERSION: &str = "1.4";

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// The scanned cluster, for cluster scans only.
#[derive(Serialize)]
struct JsonCluster<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a str>,
    server_version: &'a str,
    platform: &'a str,
    collected_at: &'a str,
}

#[derive(Serialize)]
struct Summary {
    objects: usize,
    findings: usize,
    by_severity: BySeverity,
    suppressed: usize,
    errors: usize,
    warnings: usize,
}

#[derive(Serialize)]
struct BySeverity {
    critical: usize,
    high: usize,
    medium: usize,
    low: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule_id: &'a str,
    title: &'a str,
    severity: Severity,
    message: &'a crate::message::Message,
    object: JsonObject<'a>,
    location: JsonLocation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frameworks: Option<&'a crate::policy::Frameworks>,
    fingerprint: crate::fingerprint::Fingerprint,
    /// `new` or `unchanged`, with `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<State>,
    /// Why it does not count, for suppressed findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppression: Option<&'a Suppression>,
}

/// The comparison with `--baseline`.
#[derive(Serialize)]
struct JsonBaseline<'a> {
    source: &'a str,
    new: usize,
    unchanged: usize,
    fixed: &'a [crate::baseline::PriorFinding],
}

#[derive(Serialize)]
struct JsonObject<'a> {
    api_version: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    name: &'a str,
}

#[derive(Serialize)]
struct JsonLocation<'a> {
    #[serde(flatten)]
    source: JsonSource<'a>,
    path: String,
}

/// A manifest position, a rendered object's file and place in the tool's output, or the
/// object's address in a cluster.
#[derive(Serialize)]
#[serde(untagged)]
enum JsonSource<'a> {
    File {
        file: &'a str,
        document: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        helm_source: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        column: Option<u32>,
    },
    /// `line` and `column` only where the field is written in `file`: a line of the tool's
    /// output (in `rendered`) is not a line of `file`.
    Rendered {
        file: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        helm_source: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        column: Option<u32>,
        rendered: JsonRendered<'a>,
    },
    Cluster {
        cluster: &'a str,
        uri: String,
    },
}

/// Where a rendered object's field is in the output of the tool that rendered it.
#[derive(Serialize)]
struct JsonRendered<'a> {
    tool: Renderer,
    dir: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    document: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
}

/// An attack path (see `paths::AttackPath`).
#[derive(Serialize)]
struct JsonPath<'a> {
    id: &'a str,
    title: &'a str,
    jewel: crate::paths::Jewel,
    score: &'a crate::paths::Score,
    steps: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonStep<'a> {
    object: JsonObject<'a>,
    edge: crate::paths::Edge,
    location: JsonSource<'a>,
    explanation: &'a str,
    evidence: &'a [crate::paths::Evidence],
}

fn attack_path(p: &crate::paths::AttackPath) -> JsonPath<'_> {
    JsonPath {
        id: &p.id,
        title: &p.title,
        jewel: p.jewel,
        score: &p.score,
        steps: p
            .steps
            .iter()
            .map(|s| JsonStep {
                object: JsonObject {
                    api_version: &s.object.api_version,
                    kind: &s.object.kind,
                    namespace: s.object.namespace.as_deref(),
                    name: &s.object.name,
                },
                edge: s.edge,
                location: source(Location::new(
                    &s.origin,
                    &s.object,
                    s.position,
                    s.written.as_ref(),
                )),
                explanation: &s.explanation,
                evidence: &s.evidence,
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    level: Level,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    message: &'a str,
}

fn finding<'a>(
    report: &ScanReport,
    rule: Option<&'a crate::policy::RuleInfo>,
    f: &'a Finding,
) -> JsonFinding<'a> {
    let location = f.location();
    let source = source(location);
    JsonFinding {
        rule_id: &f.rule_id,
        title: &f.rule_title,
        severity: f.severity,
        message: &f.message,
        object: JsonObject {
            api_version: &f.object.api_version,
            kind: &f.object.kind,
            namespace: f.object.namespace.as_deref(),
            name: &f.object.name,
        },
        location: JsonLocation {
            source,
            path: f.path.to_string(),
        },
        frameworks: rule
            .map(|r| &r.frameworks)
            .filter(|fw| **fw != crate::policy::Frameworks::default()),
        fingerprint: f.fingerprint,
        baseline: report.baseline_state(f),
        suppression: None,
    }
}

/// Where an object or field is, in the shape findings and attack-path steps share.
fn source(location: Location<'_>) -> JsonSource<'_> {
    match location {
        Location::File {
            file,
            document,
            item,
            helm_template,
            position,
        } => JsonSource::File {
            file: file.as_str(),
            document,
            item,
            helm_source: helm_template,
            line: position.map(|p| p.line),
            column: position.map(|p| p.column),
        },
        Location::Rendered {
            tool,
            dir,
            file,
            written,
            source,
            document,
            item,
            position,
        } => JsonSource::Rendered {
            file: file.as_str(),
            // The field that Helm output piped to `posture scan -f -` fills too.
            helm_source: location.helm_template(),
            line: written.map(|p| p.line),
            column: written.map(|p| p.column),
            rendered: JsonRendered {
                tool,
                dir: dir.as_str(),
                source,
                document,
                item,
                line: position.map(|p| p.line),
                column: position.map(|p| p.column),
            },
        },
        Location::Cluster { cluster, .. } => JsonSource::Cluster {
            cluster,
            uri: location.object_uri().unwrap_or_default(),
        },
    }
}

fn problem(p: &Problem) -> JsonProblem<'_> {
    JsonProblem {
        level: p.level,
        code: p.code.as_str(),
        file: p.file.as_ref().map(|f| f.as_str()),
        line: p.position.map(|p| p.line),
        column: p.position.map(|p| p.column),
        message: &p.message,
    }
}

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let summary = Summary {
        objects: report.objects,
        findings: report.findings.len(),
        by_severity: BySeverity {
            critical: report.count(Severity::Critical),
            high: report.count(Severity::High),
            medium: report.count(Severity::Medium),
            low: report.count(Severity::Low),
        },
        suppressed: report.suppressed.len(),
        errors: report
            .problems
            .iter()
            .filter(|p| p.level == Level::Error)
            .count(),
        warnings: report
            .problems
            .iter()
            .filter(|p| p.level == Level::Warning)
            .count(),
    };
    let tool = Tool {
        name: "posture",
        version: env!("CARGO_PKG_VERSION"),
    };
    // The same bytes as `serde_json::to_writer_pretty` on the whole document, but findings
    // (tens of megabytes for a large scan) are rendered on every core, and into memory rather
    // than through `dyn Write` one token at a time.
    let mut doc = Vec::with_capacity(1 << 16);
    doc.extend_from_slice(b"{\n  \"schema_version\": ");
    pretty(&SCHEMA_VERSION, 1, &mut doc)?;
    doc.extend_from_slice(b",\n  \"tool\": ");
    pretty(&tool, 1, &mut doc)?;
    let cluster = match &report.target {
        Target::Manifests => None,
        Target::Cluster { info, collected_at } => Some(JsonCluster {
            name: &info.name,
            context: info.context.as_deref(),
            server_version: &info.server_version.git_version,
            platform: info.platform.kind.as_str(),
            collected_at,
        }),
    };
    if let Some(cluster) = &cluster {
        doc.extend_from_slice(b",\n  \"cluster\": ");
        pretty(cluster, 1, &mut doc)?;
    }
    doc.extend_from_slice(b",\n  \"summary\": ");
    pretty(&summary, 1, &mut doc)?;
    if let Some(b) = &report.baseline {
        let new = report.new_count();
        let baseline = JsonBaseline {
            source: &b.source,
            new,
            unchanged: report.findings.len() - new,
            fixed: &b.fixed,
        };
        doc.extend_from_slice(b",\n  \"baseline\": ");
        pretty(&baseline, 1, &mut doc)?;
    }
    if let Some(compliance) = &report.compliance {
        doc.extend_from_slice(b",\n  \"compliance\": ");
        pretty(compliance, 1, &mut doc)?;
    }
    doc.extend_from_slice(b",\n  \"findings\": ");
    out.write_all(&doc)?;
    doc.clear();
    // Findings sorted by rule: a chunk looks up few rules.
    write_array(
        &report.findings,
        1,
        out,
        || None::<&crate::policy::RuleInfo>,
        |rule, f, buf| {
            if rule.is_none_or(|r| r.id != f.rule_id) {
                *rule = report.rule(&f.rule_id);
            }
            pretty(&finding(report, *rule, f), 2, buf)
        },
    )?;
    let suppressed: Vec<JsonFinding<'_>> = report
        .suppressed
        .iter()
        .map(|s| JsonFinding {
            baseline: None,
            suppression: Some(&s.suppression),
            ..finding(report, report.rule(&s.finding.rule_id), &s.finding)
        })
        .collect();
    let paths: Vec<JsonPath<'_>> = report.attack_paths.iter().map(attack_path).collect();
    doc.extend_from_slice(b",\n  \"attack_paths\": ");
    pretty(&paths, 1, &mut doc)?;
    doc.extend_from_slice(b",\n  \"suppressed\": ");
    pretty(&suppressed, 1, &mut doc)?;
    if !report.exceptions.is_empty() {
        doc.extend_from_slice(b",\n  \"exceptions\": ");
        pretty(&report.exceptions, 1, &mut doc)?;
    }
    let problems: Vec<JsonProblem<'_>> = report.problems.iter().map(problem).collect();
    doc.extend_from_slice(b",\n  \"problems\": ");
    pretty(&problems, 1, &mut doc)?;
    doc.extend_from_slice(b"\n}\n");
    out.write_all(&doc)
}
