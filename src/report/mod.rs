//! Reporters: one module per format behind one `match` on [`Format`]. Reporters only render;
//! they write to a `&mut dyn Write` and never decide exit codes. Markdown and HTML write one
//! review document ([`review`], made of [`blocks`]), so that both show the same sections in the
//! same order.

pub mod assessment;
pub mod blocks;
pub mod compliance;
pub mod diff;
pub mod fleet;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod paths;
mod pretty;
pub mod review;
pub mod sarif;
pub mod summary;
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
    /// One screen for a terminal: counts, the top rules and objects, what to fix first.
    Summary,
}

impl Format {
    /// Every format, in the order help and completions list them.
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::Html,
        Format::Summary,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Summary => "summary",
        }
    }

    /// The flag that writes this format to a file beside the main output.
    pub fn output_flag(self) -> &'static str {
        match self {
            Format::Table => "output-table",
            Format::Json => "output-json",
            Format::Sarif => "output-sarif",
            Format::Junit => "output-junit",
            Format::Markdown => "output-markdown",
            Format::Html => "output-html",
            Format::Summary => "output-summary",
        }
    }

    /// What the format is, for help texts.
    pub fn description(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "JSON report",
            Format::Sarif => "SARIF log",
            Format::Junit => "JUnit XML",
            Format::Markdown => "Markdown review",
            Format::Html => "HTML review",
            Format::Summary => "one-screen summary",
        }
    }
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

/// What a reporter renders: a scan, or the comparison of two (`posture diff`).
#[derive(Debug, Clone, Copy)]
pub enum Document<'a> {
    Scan(&'a ScanReport),
    Diff(&'a crate::diff::DiffReport),
    /// Several scans (`--context a,b`, `--all-contexts`, several `--snapshot`s).
    Fleet(&'a crate::scan::fleet::Fleet),
}

impl Format {
    /// Whether the format can render `posture diff`: the table and JSON only, since the
    /// other formats describe one scan's results (SARIF runs, JUnit cases, a review).
    pub fn renders_diffs(self) -> bool {
        matches!(self, Format::Table | Format::Json)
    }
}

pub fn write(
    format: Format,
    report: &ScanReport,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_document(format, Document::Scan(report), style, out)
}

/// Renders `document` in `format`: the one place formats are dispatched.
pub fn write_document(
    format: Format,
    document: Document<'_>,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match (format, document) {
        (Format::Table, Document::Scan(report)) => table::write(report, style, out),
        (Format::Json, Document::Scan(report)) => json::write(report, out),
        (Format::Sarif, Document::Scan(report)) => sarif::write(report, out),
        (Format::Junit, Document::Scan(report)) => junit::write(report, out),
        (Format::Markdown, Document::Scan(report)) => markdown::write(report, out),
        (Format::Html, Document::Scan(report)) => html::write(report, out),
        (Format::Summary, Document::Scan(report)) => summary::write(report, style, out),
        (Format::Table, Document::Diff(d)) => diff::table(d, style, out),
        (Format::Json, Document::Diff(d)) => diff::json(d, out),
        (format, Document::Fleet(fleet)) => fleet::write(format, fleet, style, out),
        (format, Document::Diff(_)) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("posture diff writes table or json, not {}", format.name()),
        )),
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

/// Writes `items` to `out` in order, each rendered to text by `render` on every core,
/// `per_batch` at a time: a batch is all of the text that is held (JUnit's suites, the
/// review's sections).
fn write_in_batches<T: Sync>(
    items: &[T],
    per_batch: usize,
    out: &mut dyn Write,
    render: impl Fn(&T, &mut String) + Sync,
) -> io::Result<()> {
    use rayon::prelude::*;
    for batch in items.chunks(per_batch.max(1)) {
        let texts: Vec<String> = batch
            .par_iter()
            .map(|item| {
                let mut text = String::new();
                render(item, &mut text);
                text
            })
            .collect();
        for text in texts {
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// A printable ASCII character: one column wide, and nothing a terminal acts on.
fn printable_ascii(b: u8) -> bool {
    (b' '..=b'~').contains(&b)
}

/// `s` safe to print on a terminal: control characters from the input (an escape sequence or a
/// carriage return in an object, container or file name) become visible escapes instead of
/// moving the cursor or recolouring the screen. Line breaks stay: reporters compose cells
/// with them.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n')
            // Bidirectional overrides and isolates reorder what follows them.
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    // Nearly every text is printable ASCII: a byte test settles it without decoding chars
    // (a table of 52,000 findings asked this of each of its cells).
    let plain = |b: &u8| printable_ascii(*b) || *b == b'\n';
    if s.as_bytes().iter().all(plain) || !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    /// Escape sequences and carriage returns in names were printed raw to the terminal.
    #[test]
    fn control_characters_become_visible() {
        assert_eq!(
            super::terminal_safe("evil\u{1b}[31mred\rX\nnext"),
            "evil\\u{1b}[31mred\\rX\nnext"
        );
        assert_eq!(super::terminal_safe("plain"), "plain");
        // The edges of printable ASCII: a tab and DEL are control characters, `~` is not.
        assert_eq!(super::terminal_safe("a\tb\u{7f}~"), "a\\tb\\u{7f}~");
        assert_eq!(super::terminal_safe("a\u{202E}b"), "a\\u{202e}b");
    }
}
