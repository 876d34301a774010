//! Compose files as a source: services become resources of input type `compose`, findings point
//! at the lines of the compose file in every format, and a credential's value reaches no output.

use crate::common::{posture_command, repo, scan_paths, shared_dir};
use crate::report::assert_valid_sarif;
use posture::resource::InputType;
use std::path::{Path, PathBuf};

const RATINGS: &str = "fixtures/compose/ratings";
/// The literal credentials of the ratings fixture; no output may contain them.
const CREDENTIALS: [&str; 2] = ["s3cr3t-ratings-pw", "s3cr3t-root-pw"];

/// The 1-based line of the first line of `file` that contains `needle`.
fn line_of(file: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} is in {}", file.display()));
    index as u64 + 1
}

/// (rule, service, text on the line the finding must point at) for the ratings fixture.
const EXPECTED: [(&str, &str, &str); 6] = [
    ("PST-0508", "nginx", "/var/run/docker.sock:"),
    ("PST-0517", "mongodb", "\"27017:27017\""),
    ("PST-0516", "ratings-api", "MONGO_PASSWORD:"),
    ("PST-0516", "mongodb", "MONGO_INITDB_ROOT_PASSWORD="),
    ("PST-0513", "nginx", "user: root"),
    ("PST-0515", "mongodb", "image: mongo:latest"),
];

fn scan(format: &str) -> (String, String) {
    crate::common::scan_showing_none_of(RATINGS, format, &CREDENTIALS)
}

#[test]
fn ratings_services_are_compose_resources() {
    let report = scan_paths(&[&repo().join(RATINGS)]);
    let collected = posture::collect::manifests::collect(
        &[repo().join(RATINGS)],
        &crate::common::render_options(),
    );
    let mut names: Vec<&str> = collected
        .resources
        .iter()
        .map(|r| {
            assert_eq!(r.input, InputType::Compose);
            assert_eq!(r.id.namespace.as_deref(), Some("ratings"));
            r.id.name.as_str()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["mongodb", "nginx", "ratings-api", "ratings-web"]);
    // Only compose rules run on compose services.
    assert!(report
        .findings
        .iter()
        .all(|f| f.rule_id.as_str() >= "PST-0501" && f.rule_id.as_str() <= "PST-0599"));
    // The `${SESSION_SECRET}` reference is a note, not a finding.
    assert!(report
        .problems
        .iter()
        .any(|p| p.code == posture::problem::Code::Interpolation));
    assert!(!report
        .findings
        .iter()
        .any(|f| f.message.contains("SESSION_SECRET")));
    // The well-configured service passes every rule.
    let web: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.object.name == "ratings-web")
        .map(|f| f.rule_id.as_str())
        .collect();
    assert!(web.is_empty(), "ratings-web: {web:?}");
}

#[test]
fn ratings_findings_point_at_their_lines_in_json() {
    let file = repo().join(RATINGS).join("compose.yaml");
    let (stdout, _) = scan("json");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    for (rule, service, needle) in EXPECTED {
        let line = line_of(&file, needle);
        assert!(
            findings.iter().any(|f| f["rule_id"] == rule
                && f["object"]["name"] == service
                && f["object"]["kind"] == "Service"
                && f["location"]["line"] == line
                && f["location"]["file"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("compose/ratings/compose.yaml"))),
            "no {rule} on {service} at line {line}: {stdout}"
        );
    }
}

#[test]
fn ratings_findings_point_at_their_lines_in_sarif_and_table() {
    let file = repo().join(RATINGS).join("compose.yaml");
    let (sarif, _) = scan("sarif");
    let json: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = json["runs"][0]["results"].as_array().unwrap();
    for (rule, _, needle) in EXPECTED {
        let line = line_of(&file, needle);
        assert!(
            results.iter().any(|r| r["ruleId"] == rule
                && r["locations"][0]["physicalLocation"]["region"]["startLine"] == line),
            "no SARIF {rule} result at line {line}"
        );
    }
    assert_valid_sarif(&sarif, &[]);

    let (table, _) = scan("table");
    for (rule, _, needle) in EXPECTED {
        let at = format!("compose.yaml:{}", line_of(&file, needle));
        assert!(
            table.lines().any(|l| l.contains(rule)) && table.contains(&at),
            "table lacks {rule} at {at}:\n{table}"
        );
    }
}

/// A real-world compose file: a published MongoDB port and `:latest` images.
#[test]
fn sparta_compose_file_has_findings_at_the_right_lines() {
    let Some(dir) = shared_dir("corpus/apps/sparta") else {
        return;
    };
    let file: PathBuf = dir.join("docker-compose.yml");
    let report = scan_paths(&[&file]);
    let at = |rule: &str, service: &str| -> Vec<u32> {
        report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule && f.object.name == service)
            .filter_map(|f| f.position.map(|p| p.line))
            .collect()
    };
    assert_eq!(
        at("PST-0517", "mongodb"),
        [line_of(&file, "- 27017:27017") as u32]
    );
    assert_eq!(
        at("PST-0515", "mongodb"),
        [line_of(&file, "eslabbert/mongodb-image:latest") as u32]
    );
    assert_eq!(
        at("PST-0518", "sparta-app"),
        [line_of(&file, "- 3000:3000") as u32]
    );
    assert!(
        at("PST-0515", "sparta-app").is_empty(),
        "v1 is a version tag"
    );
    assert!(
        at("PST-0521", "mongodb").is_empty(),
        "restart: always is set"
    );
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

const LAYERED: &str = "fixtures/compose/layered";

/// An override file, `extends` in the same file and in another, and an `include`, merged as
/// `docker compose config` would: each finding points at the file and line that wrote the
/// value.
#[test]
fn layered_files_merge_and_findings_point_at_the_file_that_wrote_the_value() {
    let report = scan_paths(&[&repo().join(LAYERED)]);
    let at = |rule: &str, service: &str| -> Vec<String> {
        report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule && f.object.name == service)
            .map(|f| {
                let l = f.location();
                format!("{}:{}", l.file().unwrap(), l.region().unwrap().line)
            })
            .collect()
    };
    let layered = |file: &str| format!("{LAYERED}/{file}");
    let override_file = repo().join(LAYERED).join("compose.override.yaml");
    // The override makes api privileged; worker extends api.
    let privileged = format!(
        "{}:{}",
        layered("compose.override.yaml"),
        line_of(&override_file, "privileged: true")
    );
    assert_eq!(at("PST-0501", "api"), std::slice::from_ref(&privileged));
    assert_eq!(at("PST-0501", "worker"), [privileged]);
    let port = format!(
        "{}:{}",
        layered("compose.override.yaml"),
        line_of(&override_file, "9229:9229")
    );
    assert_eq!(at("PST-0518", "api"), [port]);
    // common.yaml's hardening reaches both services through `extends`.
    for rule in [
        "PST-0513", "PST-0514", "PST-0503", "PST-0512", "PST-0520", "PST-0521",
    ] {
        assert!(at(rule, "api").is_empty(), "{rule} on api");
        assert!(at(rule, "worker").is_empty(), "{rule} on worker");
    }
    // The included project's service belongs to this project, once, and its inline exception
    // applies.
    let adminer: Vec<&posture::Finding> = report
        .findings
        .iter()
        .filter(|f| f.object.name == "adminer")
        .collect();
    assert!(!adminer.is_empty());
    assert!(adminer
        .iter()
        .all(|f| f.object.namespace.as_deref() == Some("layered")
            && f.location().file().unwrap().as_str() == layered("tools/compose.yaml")));
    assert_eq!(
        adminer.iter().filter(|f| f.rule_id == "PST-0513").count(),
        1
    );
    assert!(report
        .suppressed
        .iter()
        .any(|s| s.finding.rule_id == "PST-0515" && s.finding.object.name == "adminer"));
    assert!(!report
        .problems
        .iter()
        .any(|p| p.level == posture::problem::Level::Error));

    let out = posture_command(&["scan", "-f", LAYERED, "--format", "sarif"])
        .output()
        .unwrap();
    let sarif = String::from_utf8(out.stdout).unwrap();
    assert!(sarif.contains("compose.override.yaml") && sarif.contains("common.yaml"));
    assert_valid_sarif(&sarif, &[]);
}

/// A YAML file of no format posture reads is reported once, not a note per document; the files
/// of the tools posture renders are not reported.
#[test]
fn an_unrecognised_yaml_file_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.yaml"),
        "retries: 3\n---\ntimeout: 10s\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("chart")).unwrap();
    std::fs::write(
        dir.path().join("chart/Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("chart/values.yaml"), "replicas: 2\n").unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [deploy.yaml]\n",
    )
    .unwrap();
    let report = scan_paths(&[
        &dir.path().join("settings.yaml"),
        &dir.path().join("chart/values.yaml"),
        &dir.path().join("chart/Chart.yaml"),
        &dir.path().join("kustomization.yaml"),
    ]);
    let unrecognised: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.message.contains("not a recognised format"))
        .map(|p| p.to_string())
        .collect();
    assert_eq!(unrecognised.len(), 1, "{:?}", report.problems);
    assert!(
        unrecognised[0].contains("settings.yaml:1:1"),
        "{unrecognised:?}"
    );
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.message.contains("not a recognised format")
                || p.code == posture::problem::Code::NothingScanned),
        "{:?}",
        report.problems
    );
}
