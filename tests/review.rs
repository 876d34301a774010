//! The review as an assessment (issue 18): it opens with a verdict, a risk score, the top
//! attack paths and a fix list whose every change applies and removes what it claims; the
//! page's charts are well-formed SVG with text alternatives; JUnit has a test case per path;
//! no Secret value reaches the review; docs/lab-review.md is what the code writes.

use crate::common::{copy_fixture, evaluator, repo, scan_paths};
use crate::formats::{cluster, ratings};
use crate::lab::{LabOptions, LabServer};
use crate::report::render;
use posture::fix::proposal::Change;
use posture::report::{self, Format};
use posture::scan::{scan_snapshot, Judging, ScanReport};
use std::collections::BTreeSet;

/// The review up to its summary: the scope, verdict, risk, top paths and fix list.
fn opening(report: &ScanReport) -> String {
    let md = render(Format::Markdown, report);
    let end = md.find("\n## Summary").expect("the review has a summary");
    md[..end].to_owned()
}

#[test]
fn the_review_opens_with_the_verdict_the_paths_and_the_fixes() {
    let review = opening(&ratings());
    let verdict = review
        .split("## Verdict")
        .nth(1)
        .and_then(|v| v.split("## Top attack paths").next())
        .unwrap();
    // What a reviewer says of the ratings app: public Ingress, the web front end, the API with
    // the database credentials in its environment, no NetworkPolicy, tokens mounted.
    for words in [
        "From the internet",
        "the credentials held by Deployment 'ratingsapp/ratings-api'",
        "Ingress 'ratingsapp/ratings-web-ingress'",
        "no NetworkPolicy",
        "ServiceAccount tokens mounted",
        "Risk score",
    ] {
        assert!(verdict.contains(words), "{words:?} not in {verdict}");
    }
    assert!(
        review.contains("MONGODB_URI"),
        "the path names the variable"
    );
    insta::assert_snapshot!("review_opening_ratings", review);
    insta::assert_snapshot!("review_opening_cluster", opening(&cluster()));
}

#[test]
fn the_lab_verdict_names_the_debug_pod_and_the_internet_facing_controller() {
    let review = opening(&cluster());
    let verdict = review.split("## Top attack paths").next().unwrap();
    for words in [
        "every Secret in the cluster through Service 'ingress/nginx-ingress-ingress-nginx-controller'",
        "Pod 'default/node-debugger-",
        "privileged",
        "with a host directory mounted",
        "leads to the nodes",
    ] {
        assert!(verdict.contains(words), "{words:?} not in {verdict}");
    }
}

#[test]
fn each_object_has_one_fix_and_each_fix_is_given_once() {
    let report = ratings();
    let review = render(Format::Markdown, &report);
    let objects: BTreeSet<_> = report
        .fixes
        .iter()
        .map(|p| (&p.object, p.origin.source_key()))
        .collect();
    assert_eq!(objects.len(), report.fixes.len(), "one change per object");
    // The remediation of PST-0021 is written once in the fix list, not per workload.
    let text = "Set `securityContext.allowPrivilegeEscalation: false`";
    let fixes = review.split("## Fix first").nth(1).unwrap();
    assert!(fixes.matches(text).count() <= 1, "{fixes}");
    // Paths first: the API, on the path to the credentials, is fix 1.
    assert_eq!(report.fixes[0].object.name, "ratings-api");
    assert!(!report.fixes[0].cuts.is_empty());
    assert!(review.contains("Fix: see Fix first, fix 1."));
}

/// (rule, object, field) of every finding: what stays the same when a file is edited.
fn keys(report: &ScanReport) -> BTreeSet<(String, String, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule_id.to_string(),
                f.object.display_name(),
                f.path.to_string(),
            )
        })
        .collect()
}

#[test]
fn every_fix_in_the_list_applies_and_removes_what_it_claims() {
    let count = {
        let dir = tempfile::tempdir().unwrap();
        copy_fixture("fixtures/ratings", dir.path());
        scan_paths(&[dir.path()]).fixes.len()
    };
    let mut edits = 0;
    for i in 0..count {
        // A fresh copy per fix: each change is made on the files as they are.
        let dir = tempfile::tempdir().unwrap();
        copy_fixture("fixtures/ratings", dir.path());
        let before = scan_paths(&[dir.path()]);
        let proposal = &before.fixes[i];
        let Some(Change::Edit(change)) = &proposal.change else {
            continue;
        };
        edits += 1;
        std::fs::write(&change.path, &change.after).unwrap();
        let after = scan_paths(&[dir.path()]);
        assert!(after.problems.is_empty(), "{:?}", after.problems);
        let left = keys(&after);
        let claimed: Vec<_> = before
            .findings
            .iter()
            .filter(|f| proposal.resolves(&f.fingerprint))
            .map(|f| {
                (
                    f.rule_id.to_string(),
                    f.object.display_name(),
                    f.path.to_string(),
                )
            })
            .collect();
        assert!(!claimed.is_empty());
        for key in &claimed {
            assert!(
                !left.contains(key),
                "fix {i} claims {key:?} but it is still found"
            );
        }
        let had = keys(&before);
        let new: Vec<_> = left.difference(&had).collect();
        assert!(new.is_empty(), "fix {i} brings new findings: {new:?}");
    }
    assert_eq!(edits, 3, "the three Deployments each get an edit");
}

#[test]
fn cluster_fixes_are_kubectl_patches_and_pods_get_none() {
    let report = cluster();
    let mut patched = 0;
    for p in &report.fixes {
        match &p.change {
            Some(Change::Kubectl { command }) => {
                patched += 1;
                assert!(command.starts_with("kubectl patch "), "{command}");
                let json = command
                    .split_once(" -p '")
                    .and_then(|(_, rest)| rest.strip_suffix('\''))
                    .unwrap_or_else(|| panic!("{command}"));
                let patch: serde_json::Value = serde_json::from_str(json).unwrap();
                assert!(patch.get("spec").is_some(), "{patch}");
            }
            Some(other) => panic!("a cluster object gets {other:?}"),
            None => {}
        }
        if p.object.kind == "Pod" {
            assert!(p.change.is_none());
            assert!(p.outcomes.iter().all(|(_, r)| r.is_err()));
        }
    }
    assert!(patched > 0, "some live workload has a safe patch");
    let review = render(Format::Markdown, &report);
    assert!(review.contains("```sh\nkubectl patch "));
    assert!(review.contains("No safe automatic change:** a running Pod"));
}

/// Every `<svg>…</svg>` of a page.
fn svgs(page: &str) -> Vec<&str> {
    page.match_indices("<svg ")
        .map(|(start, _)| {
            let end = page[start..].find("</svg>").expect("a closed svg") + start + 6;
            &page[start..end]
        })
        .collect()
}

#[test]
fn html_charts_are_well_formed_svg_with_text_alternatives() {
    for (report, charts) in [(ratings(), 1), (cluster(), 2)] {
        let page = render(Format::Html, &report);
        assert_eq!(page, render(Format::Html, &report), "deterministic");
        let found = svgs(&page);
        assert_eq!(found.len(), charts);
        for svg in found {
            let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
            let root = doc.root_element();
            assert_eq!(root.tag_name().name(), "svg");
            assert_eq!(root.attribute("role"), Some("img"));
            let child = |tag: &str| {
                root.children()
                    .find(|c| c.has_tag_name(tag))
                    .and_then(|c| c.text())
                    .unwrap_or_else(|| panic!("no {tag}"))
                    .to_owned()
            };
            assert!(!child("title").is_empty());
            assert!(!child("desc").is_empty());
            for id in root.attribute("aria-labelledby").unwrap().split(' ') {
                assert!(
                    doc.descendants().any(|n| n.attribute("id") == Some(id)),
                    "{id}"
                );
            }
            assert!(doc.descendants().any(|n| n.has_tag_name("rect")));
            assert!(!svg.contains("<script") && !svg.contains("href"));
        }
        // The numbers beside each chart, in a table.
        assert_eq!(
            page.matches("<summary>The numbers</summary>\n<table>")
                .count(),
            charts
        );
    }
    let page = render(Format::Html, &cluster());
    assert!(page.contains("<title id=\"chart-benchmark-title\">cis-aks-1.8: results by section"));
    assert!(page.contains("<th>Not collected</th>"));
}

#[test]
fn junit_has_a_failing_case_per_attack_path_with_its_steps() {
    let report = cluster();
    let xml = render(Format::Junit, &report);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testsuite") && n.attribute("name") == Some("posture attack paths")
        })
        .expect("an attack paths suite");
    let n = report.attack_paths.len().to_string();
    assert_eq!(suite.attribute("tests"), Some(n.as_str()));
    assert_eq!(suite.attribute("failures"), Some(n.as_str()));
    let cases: Vec<_> = suite
        .children()
        .filter(|c| c.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), report.attack_paths.len());
    for (case, path) in cases.iter().zip(&report.attack_paths) {
        assert!(case.attribute("name").unwrap().starts_with(&path.id));
        let failure = case.children().find(|c| c.has_tag_name("failure")).unwrap();
        let body = failure.text().unwrap();
        for step in &path.steps {
            assert!(body.contains(&step.explanation), "{body}");
        }
        assert!(body.contains("at k8s://"), "{body}");
        let level = match path.score.value {
            10.. => "error",
            6.. => "warning",
            _ => "note",
        };
        assert_eq!(failure.attribute("type"), Some(level));
    }
    // Manifests: the steps are located at their files and lines.
    let xml = render(Format::Junit, &ratings());
    assert!(xml.contains("posture attack paths"));
    assert!(xml.contains("at fixtures/ratings/ratings-api.yaml:"));
}

#[test]
fn no_secret_value_reaches_the_review() {
    let planted = [
        "bW9uZ29kYjovL3JhdGluZ3N1c2VyOkZBS0UtUnQ5eEsycEx3N3FaLW5vdC1hLXJlYWwtcGFzc3dvcmRAcmF0aW5ncy1tb25nb2RiLnJhdGluZ3NhcHA6MjcwMTcvcmF0aW5nc2Ri",
        "RkFLRS1yb290LU00dlE4c0pkMW5IYy1ub3QtcmVhbA==",
        "RkFLRS1SdDl4SzJwTHc3cVotbm90LWEtcmVhbC1wYXNzd29yZA==",
        "FAKE-Rt9xK2pLw7qZ-not-a-real-password",
        "FAKE-root-M4vQ8sJd1nHc-not-real",
        "not-a-real",
    ];
    let report = ratings();
    for format in [Format::Markdown, Format::Html, Format::Junit] {
        let out = render(format, &report);
        for secret in planted {
            assert!(!out.contains(secret), "{format:?} shows a credential");
        }
    }
    let Some(lab) = lab_report() else { return };
    let values = crate::cluster::secret_values();
    for format in [Format::Markdown, Format::Html, Format::Junit] {
        let out = render(format, &lab);
        for v in &values {
            assert!(
                !out.contains(v.as_str()),
                "{format:?} shows a lab Secret value"
            );
        }
    }
}

/// The lab cluster as a reader allowed to list Secrets sees it (their values are dropped at
/// collection; their types and annotations show long-lived tokens). `None` without the
/// recording.
fn lab_report() -> Option<ScanReport> {
    if !crate::lab::recorded() {
        return None;
    }
    let server = LabServer::start(LabOptions::every_list_allowed());
    let mut snapshot = crate::cluster::collect(&server);
    // As the recording was made, so that the document does not change with the clock.
    snapshot.collected_at = "2026-11-22T13:30:00Z".to_owned();
    Some(scan_snapshot(evaluator(), snapshot, &Judging::default()))
}

const LAB_DOC: &str = "docs/lab-review.md";

/// The committed lab review is what the current code writes.
#[test]
fn lab_review_is_current() {
    let Some(report) = lab_report() else { return };
    let mut doc = String::from(
        "<!-- Generated by tests/review.rs from posture's markdown report of the recorded lab \
         cluster (../shared/lab, served by tests/lab with Secrets readable); do not edit.\n\
         Regenerate with `POSTURE_UPDATE_DOCS=1 cargo test lab_review`. -->\n\n",
    );
    let mut part = Vec::new();
    report::markdown::write(&report, &mut part).unwrap();
    doc.push_str(&String::from_utf8(part).unwrap());
    // What a reviewer names on the lab: the privileged debug pod with the host's filesystem in
    // `default`, and the cluster-admin ServiceAccount whose token never expires.
    let verdict = doc.split("## Top attack paths").next().unwrap();
    assert!(verdict.contains("Pod 'default/node-debugger-"), "{verdict}");
    assert!(verdict.contains("privileged"), "{verdict}");
    assert!(
        verdict.contains("Secret 'ratingsapp/azure-devops-deployer-token'"),
        "{verdict}"
    );
    let path = repo().join(LAB_DOC);
    if std::env::var_os("POSTURE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &doc).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == doc,
        "{LAB_DOC} is stale; run `POSTURE_UPDATE_DOCS=1 cargo test lab_review` to regenerate"
    );
}

/// Formats other than the reviews spare the scan the fix list; nothing else changes.
#[test]
fn a_scan_without_a_review_skips_the_fix_list_and_nothing_else() {
    let inputs = vec![repo().join("fixtures/ratings")];
    let scan = |skip_fix_list: bool| {
        let collected =
            posture::collect::manifests::collect(&inputs, &crate::common::render_options());
        let judging = Judging {
            skip_fix_list,
            ..Judging::rules_only()
        };
        posture::scan::evaluate_manifests(evaluator(), collected, &judging)
    };
    let (with, without) = (scan(false), scan(true));
    assert!(!with.fixes.is_empty());
    assert!(without.fixes.is_empty());
    assert_eq!(with.findings, without.findings);
    assert_eq!(with.attack_paths.len(), without.attack_paths.len());
}

/// The fix list reads the files it edits again under the scan's own bound
/// (`--max-input-size`), not the default one.
#[test]
fn the_fix_list_reads_files_under_the_scans_size_bound() {
    let inputs = vec![repo().join("fixtures/ratings")];
    let scan = |max_input_bytes: Option<u64>| {
        let collected =
            posture::collect::manifests::collect(&inputs, &crate::common::render_options());
        let judging = Judging {
            max_input_bytes,
            ..Judging::rules_only()
        };
        posture::scan::evaluate_manifests(evaluator(), collected, &judging)
    };
    let edits = |report: &ScanReport| {
        report
            .fixes
            .iter()
            .filter(|p| matches!(p.change, Some(Change::Edit(_))))
            .count()
    };
    let (default, tiny) = (scan(None), scan(Some(16)));
    assert!(edits(&default) > 0, "the ratings manifests have file edits");
    assert_eq!(edits(&tiny), 0, "no file can be read again under 16 bytes");
    assert_eq!(default.findings, tiny.findings);
}
