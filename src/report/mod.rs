//! Reporters: one module per format behind one `match` on [`Format`]. Reporters only render;
//! they write to a `&mut dyn Write` and never decide exit codes. Markdown and HTML write one
//! review document ([`review`], made of [`blocks`]), so that both show the same sections in the
//! same order.

pub mod blocks;
pub mod compliance;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod review;
pub mod sarif;
pub mod table;

use crate::scan::ScanReport;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Findings by severity for a terminal.
    Table,
    /// The versioned JSON schema (docs/json-output.md).
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// JUnit XML for CI test dashboards: a suite per rule, a test case per rule and object.
    Junit,
    /// A review document in GitHub-flavoured markdown.
    Markdown,
    /// The same review as one self-contained HTML page.
    Html,
}

/// How the table looks; ignored by machine formats.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours (only on a terminal, never with NO_COLOR).
    pub color: bool,
    /// Width to wrap to.
    pub width: u16,
    /// List suppressed findings, not only their count.
    pub show_suppressed: bool,
    /// List every exception with its use count.
    pub audit_exceptions: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 120,
            show_suppressed: false,
            audit_exceptions: false,
        }
    }
}

pub fn write(
    format: Format,
    report: &ScanReport,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, style, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Junit => junit::write(report, out),
        Format::Markdown => markdown::write(report, out),
        Format::Html => html::write(report, out),
    }
}

/// The stable address of a cluster object: `k8s://<cluster>/<namespace>/<Kind>/<name>`, or
/// `k8s://<cluster>/<Kind>/<name>` for cluster-scoped objects. Kinds served by more than one
/// group are told apart by the group (`Kind.group`).
pub fn object_uri(cluster: &str, object: &crate::ObjectRef) -> String {
    format!(
        "k8s://{}/{}",
        crate::resource::uri_component(cluster),
        object_path(object)
    )
}

/// The part of [`object_uri`] after the cluster.
pub(crate) fn object_path(object: &crate::ObjectRef) -> String {
    use crate::resource::uri_component as enc;
    let group = crate::policy::kinds::api_group(&object.api_version);
    let kind = if group.is_empty() {
        object.kind.clone()
    } else {
        format!("{}.{group}", object.kind)
    };
    match &object.namespace {
        Some(ns) => format!("{}/{}/{}", enc(ns), enc(&kind), enc(&object.name)),
        None => format!("{}/{}", enc(&kind), enc(&object.name)),
    }
}

/// Where a finding is, on one line: `file:line:column` (plus ` (template t)` for Helm output
/// with `# Source:`), `file (helm output of dir, line l:c)` for a rendered object, whose line is
/// one of the tool's output and not of the file, or the object's `k8s://` address.
pub fn location_line(f: &crate::Finding) -> String {
    use crate::resource::Origin;
    let at = |sep: &str| {
        f.position
            .map_or(String::new(), |p| format!("{sep}{}:{}", p.line, p.column))
    };
    match &f.origin {
        Origin::File {
            path, helm_source, ..
        } => {
            let mut s = display_path(path) + &at(":");
            if let Some(t) = helm_source {
                s.push_str(&format!(" (template {t})"));
            }
            s
        }
        Origin::Rendered {
            tool, dir, file, ..
        } => format!(
            "{} ({} output of {}{})",
            display_path(file),
            tool.as_str(),
            display_path(dir),
            at(", line ")
        ),
        Origin::Cluster { cluster } => object_uri(cluster, &f.object),
    }
}

/// `Baseline posture.json: 1 new, 11 unchanged, 2 fixed`, with `--baseline`.
pub fn baseline_line(report: &ScanReport) -> Option<String> {
    let b = report.baseline.as_ref()?;
    let new = report.new_count();
    Some(format!(
        "Baseline {}: {new} new, {} unchanged, {} fixed",
        b.source,
        report.findings.len() - new,
        b.fixed.len()
    ))
}

/// A file path as reports show it: forward slashes, no leading `./`.
pub fn display_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}
