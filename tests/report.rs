//! Reporters over fixed findings (snapshots per format) and SARIF checks the validator does not
//! make: fingerprints, regions, `security-severity` as a string.

use crate::common::{repo, scan_paths};
use posture::finding::Finding;
use posture::policy::Catalog;
use posture::problem::{Code, Level, Problem};
use posture::report::{self, Format, Style};
use posture::resource::{FieldPath, InputType, ObjectRef, Origin, Position, Segment};
use posture::scan::EvaluatedObject;
use posture::{ScanReport, Severity};
use std::path::PathBuf;

pub fn fixed_report() -> ScanReport {
    let mut catalog = Catalog::default();
    catalog
        .add_user_dir(&repo().join("fixtures/policies/good"))
        .unwrap();
    let object = ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("ratingsapp".into()),
        name: "ratings-api".into(),
    };
    let origin = Origin::File {
        path: PathBuf::from("deploy/ratings-api.yaml").into(),
        document: 0,
        item: None,
        helm_source: Some("ratings/templates/deployment.yaml".into()),
    };
    let path = FieldPath(vec![
        Segment::Key("metadata".into()),
        Segment::Key("labels".into()),
    ]);
    let finding = Finding {
        fingerprint: Finding::fingerprint_of("ACME-0001", &object, &origin, &path, None),
        rule_id: "ACME-0001".into(),
        rule_title: "Deployment without a team label".into(),
        severity: Severity::Low,
        message: "Deployment 'ratings-api' has no team label".into(),
        object: object.clone().into(),
        origin: origin.clone().into(),
        path: path.into(),
        position: Some(Position { line: 5, column: 3 }),
        written: None,
    };
    // A second Deployment the rule passes on, for JUnit's passing test cases.
    let labelled = ObjectRef {
        name: "ratings-web".into(),
        ..object.clone()
    };
    let evaluated = vec![
        EvaluatedObject {
            input: InputType::Kubernetes,
            object: object.into(),
            origin: origin.into(),
        },
        EvaluatedObject {
            input: InputType::Kubernetes,
            object: labelled.into(),
            origin: Origin::File {
                path: PathBuf::from("deploy/ratings-web.yaml").into(),
                document: 0,
                item: None,
                helm_source: None,
            }
            .into(),
        },
    ];
    ScanReport {
        compliance: None,
        attack_paths: Vec::new(),
        fixes: Vec::new(),
        target: posture::scan::Target::Manifests,
        rules: catalog.rules.iter().map(|r| r.info()).collect(),
        findings: vec![finding],
        suppressed: Vec::new(),
        exceptions: Vec::new(),
        baseline: None,
        problems: vec![
            Problem::new(Level::Error, Code::ParseError, "unclosed bracket '['").in_file(
                "deploy/broken.yaml",
                Some(Position {
                    line: 14,
                    column: 9,
                }),
            ),
        ],
        objects: 7,
        evaluated,
    }
}

pub fn render(format: Format, report: &ScanReport) -> String {
    let mut out = Vec::new();
    report::write(
        format,
        report,
        Style {
            width: 100,
            ..Style::default()
        },
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn fixed_findings_in_every_format() {
    let report = fixed_report();
    insta::with_settings!({filters => vec![(env!("CARGO_PKG_VERSION"), "[version]")]}, {
        insta::assert_snapshot!("fixed_table", render(Format::Table, &report));
        insta::assert_snapshot!("fixed_json", render(Format::Json, &report));
        insta::assert_snapshot!("fixed_sarif", render(Format::Sarif, &report));
        insta::assert_snapshot!("fixed_junit", render(Format::Junit, &report));
        insta::assert_snapshot!("fixed_markdown", render(Format::Markdown, &report));
        insta::assert_snapshot!("fixed_html", render(Format::Html, &report));
    });
}

#[test]
fn ratings_findings_in_every_format() {
    let report = scan_paths(&[&PathBuf::from("fixtures/ratings")]);
    assert!(!report.findings.is_empty(), "the ratings app has findings");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    insta::with_settings!({filters => vec![(env!("CARGO_PKG_VERSION"), "[version]")]}, {
        insta::assert_snapshot!("ratings_table", render(Format::Table, &report));
        insta::assert_snapshot!("ratings_json", render(Format::Json, &report));
        insta::assert_snapshot!("ratings_sarif", render(Format::Sarif, &report));
    });
}

fn sarif_of(paths: &[&std::path::Path]) -> serde_json::Value {
    let report = scan_paths(paths);
    serde_json::from_str(&render(Format::Sarif, &report)).unwrap()
}

#[test]
fn sarif_regions_point_at_the_offending_field() {
    let sarif = sarif_of(&[&PathBuf::from("fixtures/ratings")]);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    // Attack paths (PST-PATH) are located at a step, not at a finding's field.
    for r in results.iter().filter(|r| r["ruleId"] != "PST-PATH") {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains("://"),
            "relative uri: {uri}"
        );
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let line = loc["region"]["startLine"].as_u64().unwrap() as usize;
        let column = loc["region"]["startColumn"].as_u64().unwrap() as usize;
        assert!(
            line >= 1 && column >= 1,
            "SARIF lines and columns are 1-based"
        );
        let text = std::fs::read_to_string(repo().join(uri)).unwrap();
        let source_line = text.lines().nth(line - 1).unwrap();
        assert!(
            source_line.len() >= column,
            "column {column} inside line {line} of {uri}"
        );
        // The region starts at the last key of the field path that exists in the file.
        let path = r["properties"]["path"].as_str().unwrap();
        let last_key = path
            .rsplit(['.', '['])
            .map(|s| s.trim_end_matches(']').trim_matches('"'))
            .find(|s| !s.is_empty() && s.parse::<usize>().is_err())
            .unwrap_or("");
        let at = &source_line[column - 1..];
        // A path ending in a list index points at the item, just after its `- `.
        let list_item = path.ends_with(']') && source_line[..column - 1].trim_end().ends_with('-');
        assert!(
            at.starts_with(last_key) || list_item || !text.contains(&format!("{last_key}:")),
            "{uri}:{line}:{column} `{source_line}` should start at `{last_key}` ({path})"
        );
        assert!(r["partialFingerprints"]["postureFinding/v1"]
            .as_str()
            .is_some_and(|f| f.len() == 32));
    }
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        let sev = &rule["properties"]["security-severity"];
        assert!(sev.is_string(), "security-severity must be a string: {sev}");
        let score: f64 = sev.as_str().unwrap().parse().unwrap();
        assert!((0.0..=10.0).contains(&score));
        assert!(rule["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(rule["help"]["markdown"]
            .as_str()
            .is_some_and(|t| t.contains("Remediation")));
    }
}

#[test]
fn fingerprints_survive_line_shifts_and_reordering() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(repo().join("fixtures/cli/privileged.yaml")).unwrap();
    let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: filler\n";
    std::fs::write(dir.path().join("a.yaml"), &original).unwrap();
    let before = sarif_of(&[&dir.path().join("a.yaml")]);
    std::fs::write(
        dir.path().join("a.yaml"),
        format!("# moved down\n\n{extra}---\n{original}"),
    )
    .unwrap();
    let after = sarif_of(&[&dir.path().join("a.yaml")]);
    let prints = |s: &serde_json::Value| -> Vec<(String, u64)> {
        let mut v: Vec<_> = s["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ruleId"] != "PST-PATH")
            .map(|r| {
                (
                    r["partialFingerprints"]["postureFinding/v1"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (b, a) = (prints(&before), prints(&after));
    assert_eq!(b.len(), a.len());
    for ((fb, lb), (fa, la)) in b.iter().zip(&a) {
        assert_eq!(fb, fa, "fingerprint changed when the document moved");
        assert!(la > lb, "the region moved with the document");
    }
}

/// Microsoft's SARIF validator with GitHub's rules. `.ci/run` installs it from npm.
#[test]
fn sarif_passes_microsoft_validator() {
    let report = scan_paths(&[&PathBuf::from("fixtures/ratings")]);
    assert_valid_sarif(&render(Format::Sarif, &report), &[]);
}

/// Runs Microsoft's SARIF validator with GitHub's rules on `sarif`; fails on any result except
/// warnings of the rules in `allowed_warnings`. Skips with a printed reason when the validator
/// is not installed, except under CI.
pub fn assert_valid_sarif(sarif: &str, allowed_warnings: &[&str]) {
    let tool = repo().join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if !tool.exists() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but the SARIF validator is not installed (scripts/test.sh installs it)"
        );
        eprintln!(
            "skipping: {} not installed; run scripts/test.sh",
            tool.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("posture.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, sarif).unwrap();
    let run = std::process::Command::new(&tool)
        .arg("validate")
        .arg(&input)
        .args(["--rule-kind", "Sarif;Gh", "-o"])
        .arg(&output)
        .output()
        .expect("the validator runs");
    assert!(
        run.status.success(),
        "validator failed: {}",
        String::from_utf8_lossy(&run.stdout)
    );
    let validation: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    let results: Vec<serde_json::Value> = validation["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !allowed_warnings.contains(&r["ruleId"].as_str().unwrap_or_default()))
        .collect();
    let errors: Vec<String> = results
        .iter()
        .filter(|r| r["level"].as_str().unwrap_or("warning") == "error")
        .map(|r| format!("{} {}", r["ruleId"], r["message"]))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF validation errors:\n{}",
        errors.join("\n")
    );
    let warnings: Vec<String> = results
        .iter()
        .map(|r| format!("{} {}", r["ruleId"], r["message"]))
        .collect();
    assert!(
        warnings.is_empty(),
        "SARIF validation warnings:\n{}",
        warnings.join("\n")
    );
}
