//! CI gating: exceptions (`.posture.yaml` and annotations), baselines, several outputs from one
//! scan, and `posture diff`.

use crate::common::{assert_exit, copy_fixture, posture, posture_command, repo};
use serde_json::Value;
use std::path::Path;

fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    posture_command(args)
        .current_dir(dir)
        .output()
        .expect("posture runs")
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn new_findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new")
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// A copy of the ratings manifests to change, as a pull request would.
fn ratings_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("fixtures/ratings", &dir.path().join("manifests"));
    dir
}

/// Scans the repository's manifests into `file` in `format`, as main's pipeline would.
fn save_scan(dir: &Path, format: &str, file: &str) {
    let out = run_in(
        dir,
        &["scan", "-f", "manifests", "--format", format, "-o", file],
    );
    assert_exit(&out, 0);
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

const PRIVILEGED: &str = "          imagePullPolicy: Always
          securityContext:
            privileged: true
";

fn exception(expires: &str) -> String {
    format!(
        "exceptions:
  - name: ratings-api-debugger
    rules: [PST-0003]
    resources:
      - kind: Deployment
        namespace: ratingsapp
        name: ratings-api
    reason: The API is profiled with a privileged debugger until the memory leak is found (INC-812).
    expires: {expires}
"
    )
}

#[test]
fn baseline_gate_fails_on_a_new_privileged_container_until_excepted_and_again_after_expiry() {
    let dir = ratings_repo();
    let d = dir.path();
    let gate = [
        "scan",
        "-f",
        "manifests",
        "--baseline",
        "baseline.json",
        "--fail-on",
        "high",
        "--format",
        "table,json=posture.json,sarif=posture.sarif,markdown=review.md",
    ];

    // The first run, compared with itself, fails on nothing: every finding is unchanged.
    save_scan(d, "json", "baseline.json");
    let baseline = json_file(&d.join("baseline.json"));
    assert!(
        baseline["summary"]["by_severity"]["high"].as_u64().unwrap() > 0,
        "the ratings app has high findings, so passing below means the baseline works"
    );
    assert_exit(&run_in(d, &gate), 0);
    assert!(new_findings(&json_file(&d.join("posture.json"))).is_empty());

    // Making the API's container privileged adds exactly one new finding, and the gate fails.
    edit(
        &d.join("manifests/ratings-api.yaml"),
        "          imagePullPolicy: Always\n",
        PRIVILEGED,
    );
    let out = run_in(d, &gate);
    assert_exit(&out, 1);
    let report = json_file(&d.join("posture.json"));
    assert_eq!(
        new_findings(&report),
        vec![(
            "PST-0003".to_owned(),
            "spec.template.spec.containers[0].securityContext.privileged".to_owned()
        )]
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with("NEW CRITICAL (1)"),
        "new findings come first:\n{table}"
    );

    // An exception with a reason suppresses it: the gate passes, SARIF shows it as suppressed.
    std::fs::write(d.join("manifests/.posture.yaml"), exception("2999-12-31")).unwrap();
    let out = run_in(d, &gate);
    assert_exit(&out, 0);
    let report = json_file(&d.join("posture.json"));
    assert!(new_findings(&report).is_empty());
    assert_eq!(report["summary"]["suppressed"], 1);
    assert_eq!(report["suppressed"][0]["rule_id"], "PST-0003");
    assert_eq!(report["suppressed"][0]["suppression"]["kind"], "config");
    let sarif = json_file(&d.join("posture.sarif"));
    let suppressed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["ruleId"], "PST-0003");
    let s = &suppressed[0]["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["status"], "accepted");
    assert!(s["justification"].as_str().unwrap().contains("INC-812"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 finding is suppressed by exceptions"));
    let review = std::fs::read_to_string(d.join("review.md")).unwrap();
    assert!(review.contains("## Accepted risks"), "{review}");
    assert!(review.contains("until the memory leak is found (INC-812)"));
    assert!(review.contains("Baseline baseline.json: 0 new"));

    // After its expiry date the exception no longer applies: the gate fails again, and says why.
    std::fs::write(d.join("manifests/.posture.yaml"), exception("2020-01-31")).unwrap();
    let out = run_in(d, &gate);
    assert_exit(&out, 1);
    let report = json_file(&d.join("posture.json"));
    assert_eq!(new_findings(&report).len(), 1);
    assert_eq!(report["summary"]["suppressed"], 0);
    let expired = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "exception-expired")
        .expect("the expired exception is a problem");
    assert_eq!(expired["file"], "manifests/.posture.yaml");
    assert_eq!(expired["line"], 2);
    assert!(expired["message"].as_str().unwrap().contains("2020-01-31"));
}

#[test]
fn fingerprints_survive_line_shifts_and_reordering() {
    let dir = ratings_repo();
    let d = dir.path();
    save_scan(d, "sarif", "baseline.sarif");
    // Comments above the objects shift every line; the documents of a file swap places.
    let api = d.join("manifests/ratings-api.yaml");
    let text = std::fs::read_to_string(&api).unwrap();
    let (first, second) = text.split_once("\n---\n").unwrap();
    std::fs::write(&api, format!("# moved\n# around\n{second}\n---\n{first}\n")).unwrap();
    let out = run_in(
        d,
        &[
            "scan",
            "-f",
            "manifests",
            "--baseline",
            "baseline.sarif",
            "--format",
            "json",
            "--fail-on",
            "low",
        ],
    );
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        new_findings(&report).is_empty(),
        "{:?}",
        new_findings(&report)
    );
    assert_eq!(report["baseline"]["fixed"], serde_json::json!([]));
    assert!(report["baseline"]["unchanged"].as_u64().unwrap() > 10);
}

#[test]
fn annotations_except_findings_on_their_own_object_and_need_a_reason() {
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/exceptions/annotated.yaml",
        "--format",
        "json",
        "--fail-on",
        "high",
        "--no-config",
    ]);
    // The unreasoned ignore on the privileged pod is not applied, so the gate still fails.
    assert_exit(&out, 1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let suppressed: Vec<(&str, &str, &str)> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap(),
                f["suppression"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        vec![
            ("PST-0002", "node-exporter", "annotation"),
            ("PST-0005", "node-exporter", "annotation")
        ]
    );
    assert_eq!(
        report["suppressed"][0]["suppression"]["expires"],
        "2099-12-31"
    );
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["rule_id"] == "PST-0003"));
    assert!(!findings.iter().any(|f| f["rule_id"] == "PST-0005"));
    let problem = &report["problems"][0];
    assert_eq!(problem["code"], "invalid-exception");
    assert_eq!(problem["line"], 31);
    assert!(problem["message"]
        .as_str()
        .unwrap()
        .contains("posture.io/ignore-reason"));

    let sarif = posture(&[
        "scan",
        "-f",
        "fixtures/exceptions/annotated.yaml",
        "--format",
        "sarif",
        "--no-config",
    ]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let kinds: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["suppressions"][0]["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["inSource", "inSource"]);
}

#[test]
fn invalid_exceptions_are_errors_with_their_line_and_the_valid_ones_still_apply() {
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/cli/privileged.yaml",
        "--config",
        "fixtures/exceptions/invalid.posture.yaml",
        "--fail-on",
        "critical",
    ]);
    assert_exit(&out, 2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "fixtures/exceptions/invalid.posture.yaml:2:5: error[config-error]: exception 1 is not used: `reason` is empty",
        "fixtures/exceptions/invalid.posture.yaml:4:5: error[config-error]: exception 2 is not used: `expires` is 'next spring', not a date",
        "fixtures/exceptions/invalid.posture.yaml:7:5: error[config-error]: exception 3 is not used: unknown field `rule`",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in\n{stdout}");
    }
    // The fourth, valid, exception suppressed the privileged pod's critical finding.
    assert!(stdout.contains("0 critical"), "{stdout}");
    assert!(stdout.contains("1 suppressed"), "{stdout}");
}

#[test]
fn unused_exceptions_are_reported_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("posture.yaml");
    std::fs::write(
        &config,
        "exceptions:\n  - rules: [PST-0003]\n    resources: [{namespace: tools}]\n    reason: Debug pods live in tools.\n  - name: stale\n    rules: ['PST-07*']\n    reason: Left over from a removed chart.\n",
    )
    .unwrap();
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/cli/privileged.yaml",
        "--config",
        config.to_str().unwrap(),
        "--audit-exceptions",
        "--show-suppressed",
        "--fail-on",
        "critical",
    ]);
    assert_exit(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("SUPPRESSED (1)"), "{stdout}");
    assert!(stdout.contains("Debug pods live in tools."), "{stdout}");
    assert!(stdout.contains("EXCEPTIONS (2)"), "{stdout}");
    assert!(stdout.contains("unused"), "{stdout}");
    assert!(
        stdout.contains(
            "warning[exception-unused]: exception 'stale' matched no finding of rules PST-07*"
        ),
        "{stdout}"
    );
    let json = posture(&[
        "scan",
        "-f",
        "fixtures/cli/privileged.yaml",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let uses: Vec<(u64, &str)> = report["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["uses"].as_u64().unwrap(), e["state"].as_str().unwrap()))
        .collect();
    assert_eq!(uses, vec![(1, "active"), (0, "unused")]);
}

#[test]
fn cluster_findings_are_excepted_by_cluster_namespace_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("posture.yaml");
    let snapshot = "fixtures/clusters/aks-ratings.json";
    let scan = |config_text: &str| {
        std::fs::write(&config, config_text).unwrap();
        let out = posture(&[
            "scan",
            "--snapshot",
            snapshot,
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
            "--benchmark",
            "none",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        report
    };
    let plain = posture(&[
        "scan",
        "--snapshot",
        snapshot,
        "--format",
        "json",
        "--benchmark",
        "none",
        "--no-config",
    ]);
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    let in_ratings = plain["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "PST-0203" && f["object"]["namespace"] == "ratingsapp")
        .count();
    assert!(in_ratings > 0);
    let cluster = plain["cluster"]["name"].as_str().unwrap().to_owned();

    let matching = scan(&format!(
        "exceptions:\n  - rules: [PST-0203]\n    resources: [{{cluster: '{}*', namespace: ratingsapp}}]\n    reason: The app writes its cache to the root filesystem until v2.\n",
        &cluster[..3]
    ));
    assert_eq!(matching["suppressed"].as_array().unwrap().len(), in_ratings);
    assert!(matching["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["location"]["cluster"] == cluster.as_str()));

    let other_cluster = scan(
        "exceptions:\n  - rules: [PST-0203]\n    resources: [{cluster: prod-*, namespace: ratingsapp}]\n    reason: Only in prod.\n",
    );
    assert_eq!(other_cluster["suppressed"], serde_json::json!([]));
    assert!(other_cluster["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["code"] == "exception-unused"));

    // AKS add-ons carry the addon-manager label; a label selector takes them all.
    let addons = scan(
        "exceptions:\n  - rules: ['PST-02*']\n    resources: [{labels: {addonmanager.kubernetes.io/mode: Reconcile}}]\n    reason: AKS manages its add-ons.\n",
    );
    let suppressed = addons["suppressed"].as_array().unwrap();
    assert!(!suppressed.is_empty());
    assert!(suppressed
        .iter()
        .all(|f| f["object"]["namespace"] == "kube-system"
            && f["rule_id"].as_str().unwrap().starts_with("PST-02")));
    assert!(addons["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["object"]["namespace"] == "kube-system"));
}

#[test]
fn one_scan_writes_several_formats_identical_to_single_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = |name: &str| d.join(name).to_str().unwrap().to_owned();
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/ratings",
        "--format",
        "table",
        "--output-sarif",
        &path("a.sarif"),
        "--output-json",
        &path("a.json"),
    ]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("HIGH ("));
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/ratings",
        "--format",
        &format!("sarif={},json={}", path("b.sarif"), path("b.json")),
    ]);
    assert_exit(&out, 0);
    assert!(out.stdout.is_empty(), "every format went to a file");
    let single_json = posture(&["scan", "-f", "fixtures/ratings", "--format", "json"]).stdout;
    let single_sarif = posture(&["scan", "-f", "fixtures/ratings", "--format", "sarif"]).stdout;
    for (file, single) in [
        ("a.json", &single_json),
        ("b.json", &single_json),
        ("a.sarif", &single_sarif),
        ("b.sarif", &single_sarif),
    ] {
        assert_eq!(&std::fs::read(d.join(file)).unwrap(), single, "{file}");
    }
    let two_on_stdout = posture(&["scan", "-f", "fixtures/ratings", "--format", "json,sarif"]);
    assert_exit(&two_on_stdout, 2);
    assert!(String::from_utf8_lossy(&two_on_stdout.stderr)
        .contains("only one format can go to standard output"));
}

#[test]
fn an_unreadable_baseline_stops_the_gate() {
    let out = posture(&[
        "scan",
        "-f",
        "fixtures/ratings",
        "--baseline",
        "fixtures/ratings/hpa.yaml",
        "--fail-on",
        "high",
    ]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixtures/ratings/hpa.yaml is not JSON"));
}

#[test]
fn diff_of_two_results_lists_introduced_and_fixed_findings() {
    let dir = ratings_repo();
    let d = dir.path();
    save_scan(d, "json", "old.json");
    edit(
        &d.join("manifests/ratings-api.yaml"),
        "          imagePullPolicy: Always\n",
        PRIVILEGED,
    );
    // Fix one: the web front end gets resource limits already; give it a read-only root.
    edit(
        &d.join("manifests/ratings-web.yaml"),
        "          imagePullPolicy: Always\n",
        "          imagePullPolicy: Always\n          securityContext:\n            readOnlyRootFilesystem: true\n",
    );
    save_scan(d, "sarif", "new.sarif");
    let out = run_in(
        d,
        &[
            "diff",
            "old.json",
            "new.sarif",
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
    );
    assert_exit(&out, 1);
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = |key: &str| -> Vec<String> {
        diff["findings"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["rule_id"].as_str().unwrap(),
                    f["object"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        rules("introduced"),
        vec!["PST-0003 Deployment ratingsapp/ratings-api"]
    );
    assert!(
        rules("fixed").contains(&"PST-0203 Deployment ratingsapp/ratings-web".to_owned()),
        "{:?}",
        rules("fixed")
    );
    assert_eq!(
        diff["summary"]["unchanged"],
        diff["findings"]["unchanged"].as_array().unwrap().len()
    );
    let table = run_in(d, &["diff", "old.json", "new.sarif"]);
    assert_exit(&table, 0);
    assert!(String::from_utf8_lossy(&table.stdout).contains("INTRODUCED (1)"));
}

#[test]
fn diff_of_two_snapshots_reports_drift() {
    let dir = tempfile::tempdir().unwrap();
    let original = repo().join("fixtures/clusters/aks-ratings.json");
    let mut snapshot: Value =
        serde_json::from_str(&std::fs::read_to_string(&original).unwrap()).unwrap();
    let objects = snapshot["objects"].as_array_mut().unwrap();
    let api = objects
        .iter_mut()
        .find(|o| o["kind"] == "Deployment" && o["metadata"]["name"] == "ratings-api")
        .expect("the lab runs ratings-api");
    api["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
        serde_json::json!({"privileged": true});
    api["metadata"]["resourceVersion"] = "99999".into();
    let removed = objects.iter().position(|o| o["kind"] == "Service").unwrap();
    let removed = objects.remove(removed);
    objects.push(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "drifted", "namespace": "ratingsapp"},
        "data": {"mode": "debug"}
    }));
    let changed = dir.path().join("later.json");
    std::fs::write(&changed, serde_json::to_string(&snapshot).unwrap()).unwrap();
    let out = posture(&[
        "diff",
        original.to_str().unwrap(),
        changed.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    let drift = &diff["drift"];
    assert_eq!(drift["added"][0]["name"], "drifted");
    assert_eq!(drift["removed"][0]["name"], removed["metadata"]["name"]);
    assert_eq!(
        drift["changed"].as_array().unwrap().len(),
        1,
        "resourceVersion is not drift: {drift}"
    );
    assert_eq!(
        drift["changed"][0]["fields"],
        serde_json::json!(["spec.template.spec.containers[0].securityContext"])
    );
    assert!(diff["findings"]["introduced"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule_id"] == "PST-0003"));
    let mixed = posture(&[
        "diff",
        original.to_str().unwrap(),
        "fixtures/clusters/../../tests/snapshots/main__report__fixed_json.snap",
    ]);
    assert_exit(&mixed, 2);
}

/// Paths were normalised in five places, and fingerprints used the path as typed: a baseline
/// taken with `-f ./manifests` reported "19 new, 19 fixed" against `-f manifests`.
#[test]
fn dot_slash_plain_and_absolute_paths_keep_identical_fingerprints_and_baseline_unchanged() {
    let dir = ratings_repo();
    let absolute = dir.path().join("manifests");
    let absolute = absolute.to_str().unwrap();
    let mut reports = Vec::new();
    for (i, named) in ["manifests", "./manifests", absolute].iter().enumerate() {
        let file = format!("scan-{i}.json");
        let out = run_in(
            dir.path(),
            &["scan", "-f", named, "--format", "json", "-o", &file],
        );
        assert_exit(&out, 0);
        reports.push(json_file(&dir.path().join(&file)));
    }
    assert!(!reports[0]["findings"].as_array().unwrap().is_empty());
    for (named, report) in ["./manifests", "absolute"].iter().zip(&reports[1..]) {
        assert_eq!(
            report["findings"], reports[0]["findings"],
            "-f {named} gives the same findings, locations and fingerprints"
        );
    }
    for named in ["./manifests", absolute] {
        let out = run_in(
            dir.path(),
            &[
                "scan",
                "-f",
                named,
                "--baseline",
                "scan-0.json",
                "--format",
                "json",
            ],
        );
        assert_exit(&out, 0);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            new_findings(&report),
            vec![],
            "-f {named} against -f manifests"
        );
    }
}

/// Findings a filter leaves out are not "fixed" against a baseline that has them.
#[test]
fn a_rule_filter_does_not_count_left_out_findings_as_fixed() {
    let dir = ratings_repo();
    save_scan(dir.path(), "json", "base.json");
    let out = run_in(
        dir.path(),
        &[
            "scan",
            "manifests",
            "--baseline",
            "base.json",
            "--skip-rule",
            "PST-0021",
        ],
    );
    assert_exit(&out, 0);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("0 new, 38 unchanged, 0 fixed"), "{table}");
}
