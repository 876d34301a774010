//! Reporters: one module per format behind one `match` on [`Format`]. Reporters only render;
//! they write to a `&mut dyn Write` and never decide exit codes.

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
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 120,
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

/// A file path as reports show it: forward slashes, no leading `./`.
pub(crate) fn display_path(path: &std::path::Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}
