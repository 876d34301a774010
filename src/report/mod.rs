//! Reporters: one module per format behind one `match` on [`Format`]. Reporters only render;
//! they write to a `&mut dyn Write` and never decide exit codes. Markdown and HTML render one
//! review model ([`review`]), so that both show the same sections in the same order.

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

// Kept for the review renderers until they read `Location` (being rewritten in parallel).
pub(crate) fn object_uri(cluster: &str, object: &crate::ObjectRef) -> String {
    object.uri(cluster)
}

pub(crate) fn location_line(f: &crate::Finding) -> String {
    f.location().line()
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

/// A file path as reports show it.
pub(crate) fn display_path(path: &crate::resource::SourcePath) -> String {
    path.to_string()
}
