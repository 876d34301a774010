//! JSON output: a public, versioned schema (see docs/json-output.md). Bump `SCHEMA_VERSION`'s
//! major number on any change that can break a consumer.

use super::display_path;
use crate::finding::Finding;
use crate::problem::{Level, Problem};
use crate::resource::Origin;
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use serde::Serialize;
use std::io::{self, Write};

pub const SCHEMA_VERSION: &str = "1.1";

#[derive(Serialize)]
struct Document<'a> {
    schema_version: &'static str,
    tool: Tool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<JsonCluster<'a>>,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    problems: Vec<JsonProblem<'a>>,
}

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
    message: &'a str,
    object: JsonObject<'a>,
    location: JsonLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    frameworks: Option<&'a crate::policy::Frameworks>,
    fingerprint: &'a str,
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
struct JsonLocation {
    #[serde(flatten)]
    source: JsonSource,
    path: String,
}

/// A manifest position, or the object's address in a cluster.
#[derive(Serialize)]
#[serde(untagged)]
enum JsonSource {
    File {
        file: String,
        document: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        #[serde(skip_serializing_if = "Option::is_none")]
        helm_source: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        column: Option<u32>,
    },
    Cluster {
        cluster: String,
        uri: String,
    },
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    level: Level,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    message: &'a str,
}

fn finding<'a>(report: &'a ScanReport, f: &'a Finding) -> JsonFinding<'a> {
    let source = match &f.origin {
        Origin::File {
            path,
            document,
            item,
            helm_source,
        } => JsonSource::File {
            file: display_path(path),
            document: *document,
            item: *item,
            helm_source: helm_source.clone(),
            line: f.position.map(|p| p.line),
            column: f.position.map(|p| p.column),
        },
        Origin::Cluster { cluster } => JsonSource::Cluster {
            cluster: cluster.clone(),
            uri: super::object_uri(cluster, &f.object),
        },
    };
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
        frameworks: report
            .rule(&f.rule_id)
            .map(|r| &r.frameworks)
            .filter(|fw| **fw != crate::policy::Frameworks::default()),
        fingerprint: &f.fingerprint,
    }
}

fn problem(p: &Problem) -> JsonProblem<'_> {
    JsonProblem {
        level: p.level,
        code: p.code.as_str(),
        file: p.file.as_deref().map(display_path),
        line: p.position.map(|p| p.line),
        column: p.position.map(|p| p.column),
        message: &p.message,
    }
}

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "posture",
            version: env!("CARGO_PKG_VERSION"),
        },
        cluster: match &report.target {
            Target::Manifests => None,
            Target::Cluster { info, collected_at } => Some(JsonCluster {
                name: &info.name,
                context: info.context.as_deref(),
                server_version: &info.server_version.git_version,
                platform: info.platform.kind.as_str(),
                collected_at,
            }),
        },
        summary: Summary {
            objects: report.objects,
            findings: report.findings.len(),
            by_severity: BySeverity {
                critical: report.count(Severity::Critical),
                high: report.count(Severity::High),
                medium: report.count(Severity::Medium),
                low: report.count(Severity::Low),
            },
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
        },
        findings: report.findings.iter().map(|f| finding(report, f)).collect(),
        problems: report.problems.iter().map(problem).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
