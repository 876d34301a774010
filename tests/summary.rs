//! `--format summary`: one screen whatever the scan's size, the same bytes for the same input,
//! colour only when the style asks for it.

use crate::common::{assert_exit, posture, scan_paths, shared_dir};
use crate::formats::{cluster, ratings};
use crate::report::{fixed_report, render};
use posture::report::{self, Format, Style};
use posture::ScanReport;

fn summary(report: &ScanReport) -> String {
    render(Format::Summary, report)
}

#[test]
fn ratings_summary() {
    insta::assert_snapshot!("ratings_summary", summary(&ratings()));
}

#[test]
fn cluster_summary() {
    let text = summary(&cluster());
    assert!(text.contains("CIS AZURE KUBERNETES SERVICE"), "{text}");
    insta::assert_snapshot!("cluster_summary", text);
}

/// Rendered at 100 columns (`render`), the summary fits them.
#[test]
fn summary_lines_fit_the_width() {
    for report in [ratings(), cluster(), fixed_report()] {
        for line in summary(&report).lines() {
            assert!(line.chars().count() <= 100, "wider than 100: {line}");
        }
    }
}

#[test]
fn summary_counts_problems_and_points_at_them() {
    let text = summary(&fixed_report());
    assert!(
        text.contains("PROBLEMS (1): 1 error, 0 warnings; --format table lists them"),
        "{text}"
    );
}

#[test]
fn summary_is_coloured_only_when_asked() {
    let report = cluster();
    let with = |color: bool| {
        let mut out = Vec::new();
        let style = Style {
            color,
            width: 100,
            ..Style::default()
        };
        report::write(Format::Summary, &report, style, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(!with(false).contains('\x1b'));
    assert!(with(true).contains("\x1b[1;35mcritical"));
}

/// The whole corpus (hundreds of findings in hundreds of objects) still fits one screen.
#[test]
fn corpus_summary_fits_one_screen() {
    let Some(dir) = shared_dir("corpus") else {
        return;
    };
    let report = scan_paths(&[&dir]);
    assert!(
        report.findings.len() >= 500,
        "the corpus is large: {} findings",
        report.findings.len()
    );
    let text = summary(&report);
    assert!(
        text.lines().count() <= 50,
        "{} lines:\n{text}",
        text.lines().count()
    );
    assert_eq!(text, summary(&report), "deterministic");
}

#[test]
fn summary_from_the_command_line_with_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let also = dir.path().join("summary.txt");
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/ratings",
        "--format",
        "json",
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/ratings",
        "--baseline",
        baseline.to_str().unwrap(),
        "--format",
        "summary",
        "--output-summary",
        also.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("FIX FIRST"), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("Baseline ") && last.ends_with(": 0 new, 41 unchanged, 0 fixed"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&also).unwrap(), stdout);
}
