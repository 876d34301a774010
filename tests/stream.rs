//! Streaming a manifest scan (`scan::stream`): evaluating in chunks, reducing objects after
//! their chunk and reading files beyond the budget again must not change any output.

use crate::common::{evaluator, render_options, repo, shared_dir};
use posture::report::{self, Document, Format, Style};
use posture::scan::{self, ExceptionSource, Input, Judging, ScanReport, ScanRequest, Streaming};
use std::path::PathBuf;

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 1, 1)
}

fn request(paths: Vec<PathBuf>, streaming: Streaming) -> ScanRequest {
    ScanRequest {
        streaming,
        skip_fix_list: true,
        allow_empty: true,
        exceptions: ExceptionSource::None,
        today: Some(today()),
        ..ScanRequest::new(Input::Manifests {
            paths,
            render: render_options(),
            skip_paths: Vec::new(),
        })
    }
}

/// The scan as it was before streaming: every object collected, evaluated at once and kept
/// whole to the end.
fn whole(paths: &[PathBuf]) -> ScanReport {
    let collected = posture::collect::manifests::collect(paths, &render_options());
    let judging = Judging {
        today: Some(today()),
        skip_fix_list: true,
        ..Judging::default()
    };
    scan::evaluate_manifests(evaluator(), collected, &judging)
}

fn streamed(request: &ScanRequest) -> ScanReport {
    scan::run(request, &posture::collect::cluster::Silent)
        .unwrap_or_else(|e| panic!("the scan runs: {e}"))
}

fn render(report: &ScanReport, format: Format) -> String {
    let mut out = Vec::new();
    report::write_document(format, Document::Scan(report), Style::default(), &mut out)
        .unwrap_or_else(|e| panic!("the report renders: {e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("reports are UTF-8: {e}"))
}

/// The defaults (every object whole until its chunk is evaluated at this size), every object
/// beyond the budget (every file read twice) in chunks of one object and of a few, and a
/// budget some files fit in, against the scan before streaming.
fn assert_same_output(paths: Vec<PathBuf>) {
    let tiny = [
        Streaming::default(),
        Streaming {
            whole_bytes: 0,
            chunk_objects: 1,
        },
        Streaming {
            whole_bytes: 0,
            chunk_objects: 7,
        },
        Streaming {
            whole_bytes: 20_000,
            chunk_objects: 3,
        },
    ];
    // The review's fix list is made from whole objects, so it is left out (as the CLI leaves
    // it out for every format but the reviews); the review's other parts are compared.
    let whole = whole(&paths);
    for format in [Format::Json, Format::Markdown] {
        let whole = render(&whole, format);
        for streaming in &tiny {
            let streamed = render(
                &streamed(&request(paths.clone(), streaming.clone())),
                format,
            );
            // Compared by line first, so that a failure names the first line that differs.
            for (i, (a, b)) in whole.lines().zip(streamed.lines()).enumerate() {
                assert_eq!(a, b, "line {} differs with {streaming:?}", i + 1);
            }
            assert_eq!(
                whole, streamed,
                "{streaming:?} changed the {format:?} output"
            );
        }
    }
}

#[test]
fn streamed_scan_of_the_fixtures_reports_what_a_whole_scan_does() {
    assert_same_output(vec![repo().join("fixtures")]);
}

#[test]
fn streamed_scan_of_the_corpus_reports_what_a_whole_scan_does() {
    let Some(corpus) = shared_dir("corpus") else {
        return;
    };
    assert_same_output(vec![corpus]);
}
