//! The review formats: JUnit (well-formed, counts that add up, every object a rule applies to),
//! markdown and HTML (snapshots, escaping, no external asset), and docs/ratings-review.md,
//! which they generate.

use crate::common::{assert_exit, evaluator, posture, repo, scan_paths};
use crate::report::render;
use posture::finding::Finding;
use posture::policy::Catalog;
use posture::report::{self, Format};
use posture::resource::{FieldPath, InputType, ObjectRef, Origin, Position, Segment};
use posture::scan::{scan_snapshot, EvaluatedObject, Judging, ScanReport, Target};
use posture::snapshot::Snapshot;
use posture::Severity;
use std::collections::BTreeSet;
use std::path::PathBuf;

pub fn ratings() -> ScanReport {
    scan_paths(&[&PathBuf::from("fixtures/ratings")])
}

/// The recorded lab cluster as `posture scan --snapshot` sees it (AKS benchmark applied).
pub fn cluster() -> ScanReport {
    let file = std::fs::File::open(repo().join("fixtures/clusters/aks-ratings.json")).unwrap();
    let snapshot = Snapshot::read(file).unwrap();
    scan_snapshot(evaluator(), snapshot, &Judging::default())
}

/// One Deployment whose name and finding message carry markup, quotes, a pipe, a backtick and a
/// control character, as a hostile manifest or cluster could.
fn hostile() -> ScanReport {
    let mut catalog = Catalog::default();
    catalog
        .add_user_dir(&repo().join("fixtures/policies/good"))
        .unwrap();
    let name = "<script>alert(1)</script>";
    let object = ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("a&b".into()),
        name: name.into(),
    };
    let origin = Origin::File {
        path: PathBuf::from("deploy/x\"y.yaml").into(),
        document: 0,
        item: None,
        helm_source: None,
    };
    let path = FieldPath(vec![Segment::Key("metadata".into())]);
    let finding = Finding {
        fingerprint: Finding::fingerprint_of("ACME-0001", &object, &origin, &path, None),
        rule_id: "ACME-0001".into(),
        rule_title: "Deployment without a team label".into(),
        severity: Severity::Low,
        message: format!("Deployment '{name}' | has `no` \"team\" label\u{7}\r\n<img src=x>")
            .into(),
        object: object.clone().into(),
        origin: origin.clone().into(),
        path: path.into(),
        position: Some(Position { line: 2, column: 3 }),
        written: None,
    };
    ScanReport {
        suppressed: Vec::new(),
        exceptions: Vec::new(),
        baseline: None,
        target: Target::Manifests,
        rules: catalog.rules.iter().map(|r| r.info()).collect(),
        findings: vec![finding],
        problems: vec![],
        objects: 1,
        evaluated: vec![EvaluatedObject {
            input: InputType::Kubernetes,
            object: object.into(),
            origin: origin.into(),
        }],
        compliance: None,
        attack_paths: Vec::new(),
        fixes: Vec::new(),
    }
}

#[test]
fn ratings_in_the_review_formats() {
    let report = ratings();
    insta::assert_snapshot!("ratings_junit", render(Format::Junit, &report));
    insta::assert_snapshot!("ratings_markdown", render(Format::Markdown, &report));
    insta::assert_snapshot!("ratings_html", render(Format::Html, &report));
}

#[test]
fn cluster_in_markdown() {
    insta::assert_snapshot!("cluster_markdown", render(Format::Markdown, &cluster()));
}

/// Counts of one `<testsuite>` or of `<testsuites>`, as attributes say and as children show.
#[derive(Debug, Default, PartialEq, Eq, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn attribute_counts(node: roxmltree::Node<'_, '_>) -> Counts {
    let n = |a: &str| {
        node.attribute(a)
            .unwrap_or_else(|| panic!("{a} on {:?}", node.attribute("name")))
            .parse()
            .unwrap()
    };
    Counts {
        tests: n("tests"),
        failures: n("failures"),
        errors: n("errors"),
        skipped: n("skipped"),
    }
}

/// Parses the JUnit document (so it must be well-formed) and checks every count against the
/// test cases: tests = passed + failures + errors + skipped, per suite and in total.
fn checked_junit(xml: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut total = Counts::default();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let claimed = attribute_counts(suite);
        let mut seen = Counts::default();
        let mut passed = 0;
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            seen.tests += 1;
            let has = |tag: &str| case.children().any(|c| c.has_tag_name(tag));
            match (has("failure"), has("error"), has("skipped")) {
                (true, false, false) => seen.failures += 1,
                (false, true, false) => seen.errors += 1,
                (false, false, true) => seen.skipped += 1,
                (false, false, false) => passed += 1,
                other => panic!("a test case with more than one outcome: {other:?}"),
            }
            assert!(case.attribute("classname").is_some_and(|c| !c.is_empty()));
            assert!(case.attribute("name").is_some_and(|c| !c.is_empty()));
        }
        assert_eq!(claimed, seen, "suite {:?}", suite.attribute("name"));
        assert_eq!(
            seen.tests,
            passed + seen.failures + seen.errors + seen.skipped
        );
        assert!(seen.tests > 0, "no empty suite");
        total.tests += seen.tests;
        total.failures += seen.failures;
        total.errors += seen.errors;
        total.skipped += seen.skipped;
    }
    assert_eq!(attribute_counts(root), total);
    doc
}

#[test]
fn junit_counts_match_the_findings_and_the_evaluated_objects() {
    let report = ratings();
    let xml = render(Format::Junit, &report);
    let doc = checked_junit(&xml);
    // No benchmark and no problem: every failure is one rule failing on one object, or an
    // attack path.
    let failing: BTreeSet<(&str, &ObjectRef)> = report
        .findings
        .iter()
        .map(|f| (f.rule_id.as_str(), &*f.object))
        .collect();
    assert_eq!(
        attribute_counts(doc.root_element()).failures,
        failing.len() + report.attack_paths.len()
    );
    let suite = |id: &str| {
        doc.descendants()
            .find(|n| {
                n.has_tag_name("testsuite")
                    && n.attribute("name").is_some_and(|s| s.starts_with(id))
            })
            .unwrap_or_else(|| panic!("suite {id}"))
    };
    // PST-0302 (default namespace) applies to workloads, Services, Ingresses and more: each of
    // the twelve passes, and objects of other kinds (the Namespace) are not test cases.
    let default_ns = suite("PST-0302 ");
    let classes: Vec<&str> = default_ns
        .children()
        .filter_map(|c| c.attribute("classname"))
        .collect();
    assert_eq!(classes.len(), 12, "{classes:?}");
    assert!(classes.contains(&"Service/ratingsapp/ratings-web"));
    assert!(classes.contains(&"Deployment/ratingsapp/ratings-api"));
    assert!(!classes.iter().any(|c| c.starts_with("Namespace/")));
    // PST-0201 (no limits) fails on MongoDB only and passes on the two app Deployments.
    let limits = suite("PST-0201 ");
    let failed: Vec<&str> = limits
        .children()
        .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
        .filter_map(|c| c.attribute("classname"))
        .collect();
    assert_eq!(failed, ["Deployment/ratingsapp/ratings-mongodb"]);
    assert_eq!(attribute_counts(limits).tests, 3);
    let failure = limits
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("medium"));
    let text = failure.text().unwrap();
    assert!(
        text.contains("at fixtures/ratings/mongodb.yaml:207:13"),
        "{text}"
    );
    assert!(
        text.contains("Remediation: Set `resources.limits.memory`"),
        "{text}"
    );
}

#[test]
fn junit_reports_the_benchmark_and_problems() {
    let doc_text = render(Format::Junit, &cluster());
    let doc = checked_junit(&doc_text);
    let benchmark = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testsuite")
                && n.attribute("name")
                    .is_some_and(|s| s.starts_with("cis-aks-1.8 "))
        })
        .expect("a suite for the benchmark");
    // The AKS lab: 17 failed, 17 manual and 10 not-collected of 51 checks (see the table);
    // the policy checks posture judges itself fail or pass instead of being skipped as manual.
    assert_eq!(
        attribute_counts(benchmark),
        Counts {
            tests: 51,
            failures: 17,
            errors: 0,
            skipped: 27
        }
    );
    assert!(
        !doc.descendants().any(|n| n.has_tag_name("testsuite")
            && n.attribute("name")
                .is_some_and(|s| s.starts_with("cis-aks-1.8/"))),
        "checks the benchmark judges are in its suite, not suites of their own"
    );
    let problems = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("posture problems"))
        .unwrap();
    assert_eq!(
        attribute_counts(problems).skipped,
        5,
        "four not-collected warnings, and AKS detected with its control-plane pods in sight"
    );

    let broken = scan_paths(&[&PathBuf::from("fixtures/cli/malformed.yaml")]);
    let doc_text = render(Format::Junit, &broken);
    let doc = checked_junit(&doc_text);
    let error = doc
        .descendants()
        .find(|n| n.has_tag_name("error"))
        .expect("a parse error is an <error> test case");
    assert_eq!(error.attribute("type"), Some("parse-error"));
    assert_eq!(
        error.parent().unwrap().attribute("classname"),
        Some("fixtures/cli/malformed.yaml")
    );
}

#[test]
fn junit_escapes_what_it_quotes() {
    let report = hostile();
    let xml = render(Format::Junit, &report);
    let doc = checked_junit(&xml);
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    assert_eq!(
        case.attribute("classname"),
        Some("Deployment/a&b/<script>alert(1)</script>")
    );
    assert_eq!(case.attribute("file"), Some("deploy/x\"y.yaml"));
    let failure = case.first_element_child().unwrap();
    // The bell cannot be carried by XML 1.0 and is replaced; the rest reads back as it was.
    let expected = report.findings[0]
        .message
        .to_string()
        .replace('\u{7}', "\u{FFFD}");
    assert_eq!(failure.attribute("message"), Some(expected.as_str()));
    assert!(failure.text().unwrap().starts_with(&expected));
}

#[test]
fn html_escapes_every_scanned_string() {
    let html = render(Format::Html, &hostile());
    let lower = html.to_lowercase();
    assert!(!lower.contains("<script"), "{html}");
    assert!(!lower.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a&amp;b/"));
    assert!(html.contains("deploy/x&quot;y.yaml:2:3"));
}

#[test]
fn markdown_escapes_table_cells() {
    let md = render(Format::Markdown, &hostile());
    let row = md
        .lines()
        .find(|l| l.contains("has \\`no\\`"))
        .unwrap_or_else(|| panic!("the finding's row: {md}"));
    // Four cells: five unescaped pipes, however many the message holds.
    let unescaped = row
        .char_indices()
        .filter(|&(i, c)| c == '|' && !row[..i].ends_with('\\'))
        .count();
    assert_eq!(unescaped, 5, "{row}");
    assert!(row.contains("\\<script\\>alert(1)\\</script\\>"), "{row}");
    assert!(row.contains("\\<img src=x\\>"), "{row}");
    // In code spans (object names, paths) markup is shown literally and needs no escape.
    assert!(md.contains("Deployment `a&b/<script>alert(1)</script>`"));
}

#[test]
fn html_loads_nothing_from_outside() {
    for report in [ratings(), cluster()] {
        let html = render(Format::Html, &report);
        let lower = html.to_lowercase();
        for needle in [
            "src=",
            "href=\"http",
            "href='http",
            "url(",
            "@import",
            "<link",
            "<script",
        ] {
            assert!(!lower.contains(needle), "HTML contains {needle}");
        }
        assert!(lower.starts_with("<!doctype html>"));
        assert!(lower.contains("<style>"));
    }
}

#[test]
fn review_formats_are_deterministic() {
    let (a, b) = (cluster(), cluster());
    for format in [Format::Junit, Format::Markdown, Format::Html] {
        assert_eq!(render(format, &a), render(format, &b), "{format:?}");
    }
}

#[test]
fn review_formats_write_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [
        (Format::Junit, "junit"),
        (Format::Markdown, "markdown"),
        (Format::Html, "html"),
    ] {
        let path = dir.path().join(name);
        let out = posture(&[
            "scan",
            "-f",
            "fixtures/ratings",
            "--format",
            name,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_exit(&out, 0);
        assert!(out.stdout.is_empty());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            render(format, &ratings()),
            "{name}"
        );
    }
}

const REVIEW_DOC: &str = "docs/ratings-review.md";

/// docs/ratings-review.md, entirely from posture's markdown report: this header, then the
/// manifests' review. The running cluster's review is docs/lab-review.md (tests/review.rs).
fn ratings_review() -> String {
    let mut doc = String::from(
        "<!-- Generated by tests/formats.rs from posture's markdown report; do not edit.\n\
         Regenerate with `POSTURE_UPDATE_DOCS=1 cargo test ratings_review`. -->\n\n\
         # Ratings app: security review\n\n\
         The Fruit Smoothies ratings app from the AKS workshop (MongoDB from the Bitnami chart, \
         ratings-api, ratings-web, an ingress-nginx Ingress with cert-manager TLS): the \
         manifests in `fixtures/ratings`, what the team deploys, reviewed by \
         `posture scan -f fixtures/ratings --format markdown`. The same app running in the lab \
         cluster, beside its system workloads, is reviewed in [lab-review.md](lab-review.md).\n\n\
         The review opens with the verdict (what an attacker reaches from outside), the risk \
         score and its reasons, the attack paths step by step and the fix list (one change per \
         object, with the edit `posture fix` makes); then the counts, the top priorities and \
         every finding by workload, RBAC, network exposure and the rest.\n\n",
    );
    let mut part = Vec::new();
    report::markdown::write_at(&ratings(), 2, &mut part).unwrap();
    doc.push_str(&String::from_utf8(part).unwrap());
    doc
}

/// The committed review is what the current code writes.
#[test]
fn ratings_review_is_current() {
    let fresh = ratings_review();
    let path = repo().join(REVIEW_DOC);
    if std::env::var_os("POSTURE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{REVIEW_DOC} is stale; run `POSTURE_UPDATE_DOCS=1 cargo test ratings_review` to regenerate"
    );
}
