//! The table's readability: cells wrap at word and path boundaries, never inside an identifier,
//! and a narrow terminal does not get a wall of one-word lines.

use crate::common::scan_paths;
use posture::report::{self, Format, Style};
use posture::ScanReport;
use std::path::PathBuf;

fn table_at(report: &ScanReport, width: u16) -> String {
    let mut out = Vec::new();
    report::write(
        Format::Table,
        report,
        Style {
            width,
            ..Style::default()
        },
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// The text of every cell line of a rendered table (and every line outside tables).
fn cell_lines(table: &str) -> Vec<&str> {
    table
        .lines()
        .flat_map(|line| line.split(['│', '┆']))
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect()
}

/// The identifiers of `text`: its words, split where a path may break (after `.` and `/`,
/// before `[`), since those are the only places a cell may break them.
fn identifiers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split_whitespace() {
        let mut piece = String::new();
        for c in word.chars() {
            if c == '[' && !piece.is_empty() {
                out.push(std::mem::take(&mut piece));
            }
            piece.push(c);
            if c == '.' || c == '/' {
                out.push(std::mem::take(&mut piece));
            }
        }
        if !piece.is_empty() {
            out.push(piece);
        }
    }
    out
}

/// comfy-table broke `allowPrivilegeEscalation` into `allowPrivileg|eEscalation` and
/// `fixtures/cli/privileged.yaml` mid-word at 80 columns.
#[test]
fn table_cells_never_break_an_identifier() {
    let report = scan_paths(&[&PathBuf::from("fixtures/ratings")]);
    assert!(!report.findings.is_empty());
    for width in [80, 100, 140] {
        let table = table_at(&report, width);
        let cells = cell_lines(&table);
        for f in &report.findings {
            let texts = [
                f.message.to_string(),
                f.path.to_string(),
                f.rule_title.to_string(),
                f.object.name.clone(),
                f.location().line(),
            ];
            for id in texts.iter().flat_map(|t| identifiers(t)) {
                assert!(
                    cells.iter().any(|c| c.contains(&id)),
                    "at {width} columns, {id:?} is broken across lines:\n{table}"
                );
            }
        }
    }
}

#[test]
fn table_lines_fit_the_width() {
    let report = scan_paths(&[&PathBuf::from("fixtures/ratings")]);
    for width in [80, 100, 140] {
        let table = table_at(&report, width);
        for line in table.lines() {
            assert!(
                line.chars().count() <= usize::from(width),
                "wider than {width}: {line}"
            );
        }
    }
}

/// 30 findings took 399 lines at 80 columns when four columns shared the width.
#[test]
fn narrow_table_stays_short() {
    let report = scan_paths(&[&PathBuf::from("fixtures/ratings")]);
    let lines = table_at(&report, 80).lines().count();
    assert!(
        lines <= report.findings.len() * 8,
        "{lines} lines for {} findings",
        report.findings.len()
    );
}
