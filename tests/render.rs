//! Charts and kustomizations as scan sources: rendering, where findings point, the `--helm-*`
//! options, and the problems when a tool is missing or fails. Tests that run helm or kubectl skip
//! with a printed reason when the tool is missing, except under CI=true, where they fail.

use crate::common::{
    assert_exit, have_helm, have_kubectl, posture, posture_command, render_options, repo,
    scan_paths,
};
use crate::report::{assert_valid_sarif, render};
use posture::collect::manifests;
use posture::collect::render::RenderOptions;
use posture::finding::Finding;
use posture::problem::{Code, Level, Problem};
use posture::report::Format;
use posture::resource::{
    FieldPath, ObjectRef, Origin, Position, Renderer, Resource, Segment, Written,
};
use posture::{ScanReport, Severity};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const CHART: &str = "fixtures/charts/demo";
const OVERLAY: &str = "fixtures/kustomize/overlay";
/// A chart with a subchart and a field printed by `toYaml`.
const LOCATED: &str = "fixtures/charts/located";
const PRIVILEGED: &str = "PST-0003";
/// The password in the chart's values.yaml, and the base64 of the token the Secret derives from it.
const SECRETS: [&str; 3] = [
    "hunter2",
    "dG9rZW4taHVudGVyMi1mcm9tLXZhbHVlcw",
    "aHVudGVyMi1mcm9tLXZhbHVlcw",
];

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `posture scan --format json ARGS...`, exit code checked.
fn scan_json(args: &[&str], code: i32) -> Value {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let out = posture(&all);
    assert_exit(&out, code);
    json(&out)
}

fn rule_ids(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect()
}

fn resource<'a>(resources: &'a [Resource], kind: &str) -> &'a Resource {
    resources
        .iter()
        .find(|r| r.id.kind == kind)
        .unwrap_or_else(|| panic!("a {kind} among {:?}", resources.len()))
}

fn collect(inputs: &[&str], options: &RenderOptions) -> posture::collect::Collected {
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    manifests::collect(&inputs, options)
}

#[test]
fn chart_findings_point_at_the_template() {
    if !have_helm() {
        return;
    }
    let report = scan_paths(&[Path::new(CHART)]);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.objects, 2, "the Deployment and the Secret");
    let privileged = report
        .findings
        .iter()
        .find(|f| f.rule_id == PRIVILEGED)
        .expect("the chart's default values make the container privileged");
    let Origin::Rendered {
        tool,
        dir,
        file,
        source,
        document,
        item,
    } = &*privileged.origin
    else {
        panic!("a rendered origin: {:?}", privileged.origin);
    };
    assert_eq!(*tool, Renderer::Helm);
    assert_eq!(dir, Path::new(CHART));
    assert_eq!(file, &Path::new(CHART).join("templates/deployment.yaml"));
    assert_eq!(source.as_deref(), Some("demo/templates/deployment.yaml"));
    assert_eq!((*document, *item), (1, None), "after the Secret");
    // The position is in helm's output, where the rendered line says `privileged: true`.
    let at = privileged.position.expect("a position in the output");
    let helm = crate::common::installed_helm()
        .or_else(|| std::env::var_os("POSTURE_HELM").map(PathBuf::from))
        .unwrap_or_else(|| "helm".into());
    let output = std::process::Command::new(helm)
        .args(["template", "demo", CHART, "--namespace", "default"])
        .output()
        .unwrap();
    let line = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .nth(at.line as usize - 1)
        .map(str::to_owned);
    assert_eq!(line.as_deref().map(str::trim), Some("privileged: true"));
}

#[test]
fn secret_values_from_a_chart_never_reach_reports() {
    if !have_helm() {
        return;
    }
    let collected = collect(&[CHART], &render_options());
    let secret = resource(&collected.resources, "Secret");
    assert_eq!(secret.object["stringData"]["password"], "(redacted)");
    assert_eq!(secret.object["data"]["token"], "(redacted)");
    for format in ["table", "json", "sarif"] {
        let out = posture(&["scan", "-f", CHART, "--format", format]);
        assert_exit(&out, 0);
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("demo"), "{format} reports the chart");
        for secret in SECRETS {
            assert!(!text.contains(secret), "{format} output holds {secret}");
        }
    }
}

#[test]
fn helm_set_and_values_change_the_outcome() {
    if !have_helm() {
        return;
    }
    let default = scan_json(&["-f", CHART], 0);
    assert!(rule_ids(&default).contains(&PRIVILEGED));
    assert!(rule_ids(&default).contains(&"PST-0200"), "image tag latest");

    let set = scan_json(
        &[
            "-f",
            CHART,
            "--helm-set",
            "privileged=false",
            "--helm-set",
            "image.tag=1.27.3",
        ],
        0,
    );
    assert!(!rule_ids(&set).contains(&PRIVILEGED));
    assert!(!rule_ids(&set).contains(&"PST-0200"));

    let values = scan_json(
        &[
            "-f",
            CHART,
            "--helm-values",
            "fixtures/charts/demo/values-hardened.yaml",
        ],
        0,
    );
    assert!(!rule_ids(&values).contains(&PRIVILEGED));
    assert!(
        rule_ids(&values).contains(&"PST-0200"),
        "the file sets no tag"
    );
    // --set wins over a values file, as in helm.
    let both = scan_json(
        &[
            "-f",
            CHART,
            "--helm-values",
            "fixtures/charts/demo/values-hardened.yaml",
            "--helm-set",
            "privileged=true",
        ],
        0,
    );
    assert!(rule_ids(&both).contains(&PRIVILEGED));
}

#[test]
fn release_and_namespace_reach_the_objects() {
    if !have_helm() {
        return;
    }
    let objects = |report: &Value| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let o = &f["object"];
                (o["namespace"].to_string(), o["name"].to_string())
            })
            .collect();
        v.dedup();
        v
    };
    // Defaults: the chart's name as release, namespace `default`.
    let default = scan_json(&["-f", CHART], 0);
    assert_eq!(
        objects(&default),
        [("\"default\"".into(), "\"demo\"".into())]
    );
    let named = scan_json(
        &[
            "-f",
            CHART,
            "--helm-release",
            "shop",
            "--helm-namespace",
            "store",
        ],
        0,
    );
    assert_eq!(
        objects(&named),
        [("\"store\"".into(), "\"shop-demo\"".into())]
    );
}

/// Chart options apply to `-f` inputs: a cluster scan or a snapshot would silently ignore them.
#[test]
fn helm_options_need_files() {
    let runs: [&[&str]; 2] = [
        &["scan", "--helm-set", "a=b"],
        &[
            "scan",
            "--snapshot",
            "fixtures/clusters/aks-ratings.json",
            "--helm-set",
            "a=b",
        ],
    ];
    for args in runs {
        let out = posture(args);
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("required arguments were not provided")
                || stderr.contains("cannot be used with '--helm-set"),
            "{stderr}"
        );
    }
}

#[test]
fn kustomize_overlay_maps_origins() {
    if !have_kubectl() {
        return;
    }
    let collected = collect(&[OVERLAY], &RenderOptions::default());
    assert!(collected.problems.is_empty(), "{:?}", collected.problems);
    assert_eq!(
        collected.resources.len(),
        2,
        "the Deployment and the generated ConfigMap"
    );
    let deployment = resource(&collected.resources, "Deployment");
    assert_eq!(deployment.id.name, "prod-web");
    assert_eq!(deployment.id.namespace.as_deref(), Some("prod"));
    // kustomize's build annotations are gone; the base's own annotation stays.
    assert_eq!(
        deployment.object["metadata"]["annotations"],
        serde_json::json!({"team": "storefront"})
    );
    let Origin::Rendered {
        tool, file, source, ..
    } = &*deployment.origin
    else {
        panic!("{:?}", deployment.origin);
    };
    assert_eq!(*tool, Renderer::Kustomize);
    assert_eq!(file, Path::new("fixtures/kustomize/base/deployment.yaml"));
    assert_eq!(source.as_deref(), Some("../base/deployment.yaml"));
    let config = resource(&collected.resources, "ConfigMap");
    assert!(
        config.object["metadata"].get("annotations").is_none(),
        "{}",
        config.object
    );
    assert_eq!(
        config.origin.file().map(|f| f.as_path()),
        Some(Path::new("fixtures/kustomize/overlay/kustomization.yaml")),
        "a generated object points at the kustomization that configured it"
    );

    let report = posture::scan::evaluate(crate::common::evaluator(), collected);
    let privileged = report
        .findings
        .iter()
        .find(|f| f.rule_id == PRIVILEGED)
        .expect("the overlay's patch makes the container privileged");
    assert_eq!(
        privileged.origin.file().map(|f| f.as_path()),
        Some(Path::new("fixtures/kustomize/base/deployment.yaml"))
    );
    // Each finding points at the line that causes it: the patch that sets the field (a
    // strategic merge patch, a JSON 6902 patch file, an inline one), else the base.
    let written = |rule: &str| {
        let f = report
            .findings
            .iter()
            .find(|f| f.rule_id == rule)
            .unwrap_or_else(|| panic!("a {rule} finding"));
        f.written
            .as_ref()
            .map(|w| (w.file.to_string(), w.position.line, w.position.column))
    };
    let at = |file: &str, line, column| Some((format!("fixtures/kustomize/{file}"), line, column));
    assert_eq!(written(PRIVILEGED), at("overlay/privileged.yaml", 11, 13));
    assert_eq!(written("PST-0002"), at("overlay/host-pid.json", 2, 56));
    assert_eq!(written("PST-0004"), at("overlay/kustomization.yaml", 21, 9));
    assert_eq!(written("PST-0201"), at("base/deployment.yaml", 17, 11));
    assert_eq!(
        written("PST-0224"),
        None,
        "the namespace transformer set metadata.namespace; no file writes it"
    );
}

#[test]
fn walked_tree_builds_kustomizations_instead_of_reading_their_files() {
    if !have_kubectl() {
        return;
    }
    let collected = collect(&["fixtures/kustomize"], &RenderOptions::default());
    assert!(collected.problems.is_empty(), "{:?}", collected.problems);
    let mut seen: Vec<(String, String, String)> = collected
        .resources
        .iter()
        .map(|r| match &*r.origin {
            Origin::Rendered { dir, file, .. } => (
                dir.display().to_string(),
                r.id.name.clone(),
                file.display().to_string(),
            ),
            other => panic!("a kustomization's file was read raw: {other:?}"),
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            // Without originAnnotations the base's objects point at its kustomization file.
            (
                "fixtures/kustomize/base".into(),
                "web".into(),
                "fixtures/kustomize/base/kustomization.yaml".into()
            ),
            (
                "fixtures/kustomize/overlay".into(),
                "prod-web".into(),
                "fixtures/kustomize/base/deployment.yaml".into()
            ),
            (
                "fixtures/kustomize/overlay".into(),
                "prod-web-config-9f9c6b5h98".into(),
                "fixtures/kustomize/overlay/kustomization.yaml".into()
            ),
        ]
    );
}

/// Copies a fixture directory, so a test can change it.
fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn walked_tree_renders_charts_and_reads_plain_files() {
    if !have_helm() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    copy_dir(&repo().join(CHART), &tree.path().join("charts/demo"));
    std::fs::create_dir(tree.path().join("plain")).unwrap();
    std::fs::copy(
        repo().join("fixtures/cli/privileged.yaml"),
        tree.path().join("plain/privileged.yaml"),
    )
    .unwrap();
    let collected = manifests::collect(&[tree.path().to_path_buf()], &render_options());
    // The templates would not parse as YAML: no problem means they were not read raw.
    assert!(collected.problems.is_empty(), "{:?}", collected.problems);
    let rendered = collected
        .resources
        .iter()
        .filter(|r| matches!(*r.origin, Origin::Rendered { .. }))
        .count();
    assert_eq!(rendered, 2);
    assert!(
        collected
            .resources
            .iter()
            .any(|r| matches!(&*r.origin, Origin::File { path, .. } if path.starts_with(tree.path().join("plain")))),
        "the plain files are still read"
    );
}

#[test]
fn fingerprints_survive_template_line_shifts() {
    if !have_helm() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let chart = tree.path().join("demo");
    copy_dir(&repo().join(CHART), &chart);
    let prints = || {
        let report = scan_paths(&[&chart]);
        report
            .findings
            .iter()
            .map(|f| {
                let line = f.position.expect("a rendered position").line;
                let written = f.written.as_ref().map(|w| w.position.line);
                (f.fingerprint, f.object.kind.clone(), line, written)
            })
            .collect::<Vec<_>>()
    };
    let before = prints();
    let template = chart.join("templates/deployment.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, format!("# a comment that helm keeps\n\n{text}")).unwrap();
    let after = prints();
    assert_eq!(before.len(), after.len());
    for ((fb, kind, lb, wb), (fa, _, la, wa)) in before.iter().zip(&after) {
        assert_eq!(
            fb, fa,
            "fingerprint changed when the template's lines moved"
        );
        // Only the Deployment's template moved, and helm writes the Secret first, so only the
        // Deployment's lines move, in the template and in the output alike.
        let moved = if kind == "Deployment" { 2 } else { 0 };
        assert!(wb.is_some(), "{kind}: a template line");
        assert_eq!(*wa, wb.map(|l| l + moved), "{kind}: the template line");
        assert_eq!(
            *la,
            lb + moved,
            "{kind}: the rendered line moved with the template"
        );
    }
}

/// SARIF results of a chart that every rule can be placed in: a region in the template (the
/// line where the field is written), and the output position as a property.
#[test]
fn sarif_locates_chart_findings_at_their_template_lines() {
    if !have_helm() {
        return;
    }
    let out = posture(&["scan", "-f", CHART, "--format", "sarif"]);
    assert_exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    // Attack paths (PST-PATH) are located at a step, not at a finding's field.
    for r in results.iter().filter(|r| r["ruleId"] != "PST-PATH") {
        let location = &r["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            repo().join(uri).is_file(),
            "{uri} is a file of the repository"
        );
        assert!(
            location["region"]["startLine"].as_u64().unwrap() >= 1,
            "{r}"
        );
        let rendered = &r["properties"]["rendered"];
        assert_eq!(rendered["tool"], "helm");
        assert_eq!(rendered["dir"], CHART);
        assert!(rendered["line"].as_u64().unwrap() >= 1);
    }
    let privileged = results
        .iter()
        .find(|r| r["ruleId"] == PRIVILEGED)
        .expect("the chart's container is privileged");
    let location = &privileged["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "fixtures/charts/demo/templates/deployment.yaml"
    );
    assert_eq!(
        (
            &location["region"]["startLine"],
            &location["region"]["startColumn"]
        ),
        (&serde_json::json!(22), &serde_json::json!(13))
    );
    assert_eq!(
        template_text(uri_of(privileged), 22, 13),
        "privileged: {{ .Values.privileged }}"
    );
    // Every result has a region now, so code scanning annotates each (SARIF2017 asked for one).
    assert_valid_sarif(&text, &[]);
}

fn uri_of(result: &Value) -> &str {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
}

/// The text of `file` from `line`:`column` (1-based) to the end of that line.
fn template_text(file: &str, line: usize, column: usize) -> String {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let line = text.lines().nth(line - 1).unwrap_or_default();
    line.chars().skip(column - 1).collect()
}

/// A finding's SARIF result by rule and the end of its field path.
fn result<'a>(results: &'a [Value], rule: &str, path: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["ruleId"] == rule && r["properties"]["path"].as_str().unwrap().ends_with(path))
        .unwrap_or_else(|| panic!("a {rule} result at {path}"))
}

fn region(result: &Value) -> Option<(u64, u64)> {
    let region = result["locations"][0]["physicalLocation"].get("region")?;
    Some((
        region["startLine"].as_u64().unwrap(),
        region["startColumn"].as_u64().unwrap(),
    ))
}

/// Template lines are found through `{{ }}` actions, list items by name and subcharts'
/// templates; a field printed by `toYaml` keeps the template without a line.
#[test]
fn chart_findings_point_at_template_lines_or_at_the_template() {
    if !have_helm() {
        return;
    }
    let out = posture(&["scan", "-f", LOCATED, "--format", "sarif"]);
    assert_exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let sarif: Value = serde_json::from_str(&text).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let template = "fixtures/charts/located/templates/deployment.yaml";

    let web = result(
        results,
        PRIVILEGED,
        "containers[1].securityContext.privileged",
    );
    assert_eq!(uri_of(web), template);
    assert_eq!(region(web), Some((28, 13)));
    assert_eq!(
        template_text(template, 28, 13),
        "privileged: {{ .Values.web.privileged }}"
    );
    assert!(web["properties"]["rendered"]["line"].as_u64().unwrap() >= 1);

    let helper = result(
        results,
        PRIVILEGED,
        "containers[0].securityContext.privileged",
    );
    assert_eq!(uri_of(helper), template, "the template, without a line");
    assert_eq!(region(helper), None, "`toYaml` printed the field");

    let sidecar = result(results, "PST-0002", "hostPID");
    assert_eq!(
        uri_of(sidecar),
        "fixtures/charts/located/charts/sidecar/templates/daemonset.yaml"
    );
    assert_eq!(region(sidecar), Some((14, 7)));
    // The `toYaml` result is the one without a region.
    assert_valid_sarif(&text, &["SARIF2017"]);

    // JSON: the template's line and column, and the output position as before.
    let report = scan_json(&["-f", LOCATED], 0);
    let web = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule_id"] == PRIVILEGED
                && f["location"]["path"]
                    .as_str()
                    .unwrap()
                    .contains("containers[1]")
        })
        .unwrap();
    let location = &web["location"];
    assert_eq!(location["file"], template);
    assert_eq!(
        (&location["line"], &location["column"]),
        (&28.into(), &13.into())
    );
    assert_eq!(location["rendered"]["tool"], "helm");
    assert!(location["rendered"]["line"].as_u64().unwrap() >= 1);
}

fn problems(report: &Value) -> Vec<(String, String, String)> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["file"].as_str().unwrap_or_default().to_owned(),
                p["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn missing_helm_is_a_problem_and_the_rest_is_scanned() {
    // POSTURE_HELM naming nothing, and helm absent from PATH.
    let runs = [
        (
            "POSTURE_HELM",
            "/nonexistent/helm",
            "POSTURE_HELM names /nonexistent/helm",
        ),
        ("PATH", "", "helm is not on PATH"),
    ];
    for (var, value, expected) in runs {
        let mut command = posture_command(&[
            "scan",
            "--format",
            "json",
            "-f",
            CHART,
            "fixtures/cli/privileged.yaml",
        ]);
        command.env_remove("POSTURE_HELM").env(var, value);
        let out = command.output().unwrap();
        assert_exit(&out, 2);
        let report = json(&out);
        assert!(
            rule_ids(&report).contains(&PRIVILEGED),
            "the other input was scanned"
        );
        let problems = problems(&report);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let (code, file, message) = &problems[0];
        assert_eq!((code.as_str(), file.as_str()), ("tool-missing", CHART));
        assert!(message.contains(expected), "{message}");
        assert!(
            message.contains("install Helm 3 (https://helm.sh/docs/intro/install/)"),
            "{message}"
        );
        assert!(
            message.contains(
                "render the chart yourself: helm template demo fixtures/charts/demo \
                 --namespace default | posture scan -f -"
            ),
            "{message}"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("fixtures/charts/demo: error[tool-missing]: "),
            "{stderr}"
        );
    }
}

#[test]
fn missing_kubectl_is_a_problem() {
    let mut command = posture_command(&["scan", "--format", "json", "-f", OVERLAY]);
    command.env("PATH", "").env_remove("POSTURE_KUBECTL");
    let out = command.output().unwrap();
    assert_exit(&out, 2);
    let problems = problems(&json(&out));
    // Nothing else was scanned, which is an error of its own.
    let codes: Vec<&str> = problems.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(codes, ["nothing-scanned", "tool-missing"], "{problems:?}");
    let (code, file, message) = &problems[1];
    assert_eq!((code.as_str(), file.as_str()), ("tool-missing", OVERLAY));
    assert!(
        message.starts_with("neither kubectl nor kustomize is on PATH: install kubectl"),
        "{message}"
    );
    assert!(message.contains("kubectl kustomize fixtures/kustomize/overlay | posture scan -f -"));

    let missing = RenderOptions {
        kubectl: Some("/nonexistent/kubectl".into()),
        ..RenderOptions::default()
    };
    let collected = collect(&[OVERLAY], &missing);
    assert_eq!(collected.problems.len(), 1);
    assert_eq!(collected.problems[0].code, Code::ToolMissing);
    assert!(collected.problems[0]
        .message
        .contains("/nonexistent/kubectl"));
}

#[test]
fn helm_failure_reports_helms_error() {
    if !have_helm() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let chart = tree.path().join("broken");
    copy_dir(&repo().join(CHART), &chart);
    std::fs::write(
        chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name | nosuchfunc }}\n",
    )
    .unwrap();
    let chart_arg = chart.to_string_lossy().into_owned();
    let report = scan_json(&["-f", &chart_arg, "fixtures/cli/privileged.yaml"], 2);
    assert!(
        rule_ids(&report).contains(&PRIVILEGED),
        "the other input was scanned"
    );
    let problems = problems(&report);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let (code, file, message) = &problems[0];
    assert_eq!(
        (code.as_str(), file.as_str()),
        ("render-error", chart_arg.as_str())
    );
    assert!(
        message.starts_with(&format!(
            "`helm template demo {chart_arg} --namespace default` failed (exit status: 1): Error: "
        )),
        "{message}"
    );
    assert!(
        message.contains("function \"nosuchfunc\" not defined"),
        "{message}"
    );
}

#[test]
fn kustomize_failure_reports_its_error() {
    if !have_kubectl() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(
        tree.path().join("kustomization.yaml"),
        "resources:\n  - missing.yaml\n",
    )
    .unwrap();
    let collected = manifests::collect(&[tree.path().to_path_buf()], &RenderOptions::default());
    assert!(collected.resources.is_empty());
    assert_eq!(collected.problems.len(), 1, "{:?}", collected.problems);
    let p = &collected.problems[0];
    assert_eq!((p.level, p.code), (Level::Error, Code::RenderError));
    assert_eq!(p.file.as_deref(), Some(tree.path()));
    assert!(
        p.message.contains("failed (exit status: 1)"),
        "{}",
        p.message
    );
    assert!(p.message.contains("missing.yaml"), "{}", p.message);
}

/// A finding on a rendered object in every format, without running any tool.
fn fixed_rendered_report() -> ScanReport {
    let catalog = posture::policy::Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    let object = ObjectRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("default".into()),
        name: "demo".into(),
    };
    let origin = Origin::Rendered {
        tool: Renderer::Helm,
        dir: CHART.into(),
        file: PathBuf::from(CHART)
            .join("templates/deployment.yaml")
            .into(),
        source: Some("demo/templates/deployment.yaml".into()),
        document: 1,
        item: None,
    };
    let path = FieldPath(
        ["spec", "template", "spec", "containers"]
            .map(|k| Segment::Key(k.into()))
            .into_iter()
            .chain([
                Segment::Index(0),
                Segment::Key("securityContext".into()),
                Segment::Key("privileged".into()),
            ])
            .collect(),
    );
    let finding = Finding {
        fingerprint: Finding::fingerprint_of(PRIVILEGED, &object, &origin, &path, None),
        rule_id: PRIVILEGED.into(),
        rule_title: "Privileged container".into(),
        severity: Severity::Critical,
        message: "Container 'web' of Deployment 'demo' runs privileged".into(),
        object: object.into(),
        origin: origin.into(),
        path: path.into(),
        position: Some(Position {
            line: 42,
            column: 13,
        }),
        written: Some(Box::new(Written {
            file: PathBuf::from(CHART)
                .join("templates/deployment.yaml")
                .into(),
            position: Position {
                line: 22,
                column: 13,
            },
        })),
    };
    ScanReport {
        compliance: None,
        attack_paths: Vec::new(),
        fixes: Vec::new(),
        target: posture::scan::Target::Manifests,
        rules: catalog
            .rules
            .into_iter()
            .filter(|r| r.id == PRIVILEGED)
            .map(|r| r.info())
            .collect(),
        findings: vec![finding],
        suppressed: Vec::new(),
        exceptions: Vec::new(),
        baseline: None,
        evaluated: Vec::new(),
        problems: vec![Problem::new(
            Level::Error,
            Code::ToolMissing,
            "neither kubectl nor kustomize is on PATH: install kubectl",
        )
        .in_file(OVERLAY, None)],
        objects: 2,
    }
}

#[test]
fn rendered_findings_in_every_format() {
    let report = fixed_rendered_report();
    insta::with_settings!({filters => vec![(env!("CARGO_PKG_VERSION"), "[version]")]}, {
        insta::assert_snapshot!("rendered_table", render(Format::Table, &report));
        insta::assert_snapshot!("rendered_json", render(Format::Json, &report));
        insta::assert_snapshot!("rendered_sarif", render(Format::Sarif, &report));
    });
}

/// The whole CLI table for the chart and the overlay: what a user sees.
#[test]
fn chart_and_overlay_table() {
    if !have_helm() || !have_kubectl() {
        return;
    }
    let out = posture(&["scan", "-f", CHART, OVERLAY]);
    assert_exit(&out, 0);
    insta::assert_snapshot!(
        "chart_and_overlay_table",
        String::from_utf8(out.stdout).unwrap()
    );
}

/// A problem in helm's output names the template and gives the output line in its message,
/// never as a line of the template.
#[test]
fn problems_in_rendered_output_name_the_template() {
    if !have_helm() {
        return;
    }
    let tree = tempfile::tempdir().unwrap();
    let chart = tree.path().join("demo");
    copy_dir(&repo().join(CHART), &chart);
    std::fs::write(
        chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"1\"\n  a: \"2\"\n",
    )
    .unwrap();
    let collected = manifests::collect(std::slice::from_ref(&chart), &render_options());
    assert_eq!(collected.problems.len(), 1, "{:?}", collected.problems);
    let p = &collected.problems[0];
    assert_eq!((p.level, p.code), (Level::Warning, Code::DuplicateKey));
    assert_eq!(
        p.file.as_deref(),
        Some(chart.join("templates/configmap.yaml").as_path())
    );
    assert_eq!(p.position, None);
    assert!(p.message.ends_with("of the helm output)"), "{}", p.message);
}
