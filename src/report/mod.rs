//! Reporters: one module per format behind one `match` on [`Format`]. Reporters only render;
//! they write to a `&mut dyn Write` and never decide exit codes.

pub mod compliance;
pub mod json;
pub mod sarif;
pub mod table;

use crate::scan::ScanReport;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Sarif,
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

/// A file path as reports show it: forward slashes, no leading `./`.
pub fn display_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}
