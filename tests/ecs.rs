//! ECS task definitions as a source: the ratings task definition as register JSON, as a
//! CloudFormation template and as a Terraform plan gives the same findings, each at its line in
//! every format; exceptions, baselines and the gate work on it; a credential's value reaches no
//! output.

use crate::common::{assert_exit, posture_command, repo, scan_paths};
use crate::report::assert_valid_sarif;
use posture::resource::InputType;
use std::path::Path;

const TASKDEF: &str = "fixtures/ecs/ratings-taskdef.json";
const CLOUDFORMATION: &str = "fixtures/ecs/ratings-cloudformation.yaml";
const TERRAFORM: &str = "fixtures/ecs/ratings-terraform-plan.json";
const SHAPES: [&str; 3] = [TASKDEF, CLOUDFORMATION, TERRAFORM];
/// The literal credentials of the ratings fixtures; no output may contain them.
const CREDENTIALS: [&str; 2] = ["s3cr3t-ratings-pw", "s3cr3t-root-pw"];

/// The 1-based line of the first line of `file` that contains `needle`.
fn line_of(file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(repo().join(file)).unwrap();
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} is in {file}"));
    index as u64 + 1
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    posture_command(args)
        .current_dir(dir)
        .output()
        .expect("posture runs")
}

/// (rule, container, text on the line of the register JSON the finding must point at).
const EXPECTED: [(&str, &str, &str); 6] = [
    ("PST-0612", "ratings-api", "\"s3cr3t-ratings-pw\""),
    ("PST-0612", "mongodb", "\"s3cr3t-root-pw\""),
    ("PST-0602", "mongodb", "\"user\": \"root\""),
    ("PST-0614", "ratings-api", "ratings-api:latest"),
    ("PST-0614", "mongodb", "\"image\": \"mongo\""),
    ("PST-0616", "", "\"efsVolumeConfiguration\""),
];

fn scan(file: &str, format: &str) -> String {
    crate::common::scan_showing_none_of(file, format, &CREDENTIALS).0
}

#[test]
fn the_three_shapes_of_the_ratings_task_definition_give_the_same_findings() {
    let findings = |file: &str| {
        let report = scan_paths(&[&repo().join(file)]);
        assert!(
            report
                .problems
                .iter()
                .all(|p| p.code == posture::problem::Code::Interpolation),
            "{file}: {:?}",
            report.problems
        );
        let mut found: Vec<(String, String, String)> = report
            .findings
            .iter()
            .map(|f| {
                assert_eq!(f.object.kind, "TaskDefinition");
                assert_eq!(f.object.name, "ratings");
                (
                    f.rule_id.to_string(),
                    f.path.to_string(),
                    f.message.to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let register = findings(TASKDEF);
    assert_eq!(register.len(), 14, "{register:#?}");
    // The CloudFormation template names the ECR registry with `!Sub`, so the image in its
    // message is the template's text; everything else is the same.
    let without_images = |v: Vec<(String, String, String)>| -> Vec<(String, String)> {
        v.into_iter().map(|(r, p, _)| (r, p)).collect()
    };
    assert_eq!(
        without_images(findings(CLOUDFORMATION)),
        without_images(register.clone())
    );
    assert_eq!(findings(TERRAFORM), register);
    // ratings-web is well configured.
    assert!(register
        .iter()
        .all(|(_, p, _)| !p.starts_with("containerDefinitions[1]")));
    let collected = posture::collect::manifests::collect(
        &[repo().join("fixtures/ecs")],
        &crate::common::render_options(),
    );
    assert_eq!(collected.resources.len(), 3);
    assert!(collected
        .resources
        .iter()
        .all(|r| r.input == InputType::Ecs));
}

#[test]
fn ratings_findings_point_at_their_lines_in_json_sarif_and_table() {
    let json: serde_json::Value = serde_json::from_str(&scan(TASKDEF, "json")).unwrap();
    let findings = json["findings"].as_array().unwrap();
    for (rule, container, needle) in EXPECTED {
        let line = line_of(TASKDEF, needle);
        assert!(
            findings.iter().any(|f| f["rule_id"] == rule
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(&format!("'{container}'")) || container.is_empty())
                && f["location"]["line"] == line
                && f["location"]["file"] == TASKDEF),
            "no {rule} on {container} at line {line}"
        );
    }
    let table = scan(TASKDEF, "table");
    for (rule, _, needle) in EXPECTED {
        let at = format!("ratings-taskdef.json:{}", line_of(TASKDEF, needle));
        assert!(
            table.contains(rule) && table.contains(&at),
            "table lacks {rule} at {at}"
        );
    }
    for file in SHAPES {
        let sarif = scan(file, "sarif");
        let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 14, "{file}");
        assert!(results.iter().all(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == file
                && r["locations"][0]["physicalLocation"]["region"]["startLine"].is_u64()
        }));
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        assert!(rules.iter().any(|r| r["properties"]["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "ecs"))));
        assert_valid_sarif(&sarif, &[]);
    }
    // The CloudFormation template: the finding is at the property's line.
    let sarif: serde_json::Value = serde_json::from_str(&scan(CLOUDFORMATION, "sarif")).unwrap();
    let user = line_of(CLOUDFORMATION, "User: root");
    assert!(sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ruleId"] == "PST-0602"
            && r["locations"][0]["physicalLocation"]["region"]["startLine"] == user));
}

/// `container_definitions` is one JSON text in the plan: a finding points into it.
#[test]
fn a_plans_findings_point_into_the_container_definitions_text() {
    let report = scan_paths(&[&repo().join(TERRAFORM)]);
    let text = std::fs::read_to_string(repo().join(TERRAFORM)).unwrap();
    let image = report
        .findings
        .iter()
        .find(|f| f.rule_id == "PST-0614" && f.message.contains("ratings-api"))
        .unwrap();
    let at = image.position.unwrap();
    let line = text.lines().nth(at.line as usize - 1).unwrap();
    let rest: String = line.chars().skip(at.column as usize - 1).collect();
    assert!(rest.starts_with("\\\"image\\\""), "{at:?}: {rest:.40}");
}

#[test]
fn every_format_renders_ecs_findings_without_a_credential() {
    for file in SHAPES {
        for format in ["junit", "markdown", "html"] {
            let out = scan(file, format);
            assert!(out.contains("PST-0612"), "{file} {format}");
        }
    }
    let review = scan(TASKDEF, "markdown");
    assert!(review.contains("### TaskDefinition `ratings`, container `mongodb`"));
    assert!(review.contains("### TaskDefinition `ratings`, container `ratings-api`"));
}

#[test]
fn tags_and_config_except_ecs_findings_and_the_gate_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let mut task: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join(TASKDEF)).unwrap()).unwrap();
    let file = dir.path().join("taskdef.json");
    std::fs::write(&file, serde_json::to_string_pretty(&task).unwrap()).unwrap();
    let out = run(
        dir.path(),
        &["scan", "-f", "taskdef.json", "--fail-on", "high"],
    );
    assert_exit(&out, 1);

    // The tag excepts the only high findings; the config file the low ones.
    task["tags"].as_array_mut().unwrap().extend([
        serde_json::json!({"key": "posture:ignore", "value": "PST-0612"}),
        serde_json::json!({"key": "posture:ignore-reason", "value": "rotated by the platform team, SEC-77"}),
    ]);
    std::fs::write(&file, serde_json::to_string_pretty(&task).unwrap()).unwrap();
    std::fs::write(
        dir.path().join(".posture.yaml"),
        "exceptions:\n  - rules: [PST-0608]\n    resources:\n      - kind: TaskDefinition\n        name: ratings\n    reason: capabilities are dropped by the platform's task wrapper\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "scan",
            "-f",
            "taskdef.json",
            "--fail-on",
            "high",
            "--format",
            "json",
        ],
    );
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let suppressed: Vec<&str> = report["suppressed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(suppressed.iter().filter(|r| **r == "PST-0612").count(), 2);
    assert_eq!(suppressed.iter().filter(|r| **r == "PST-0608").count(), 2);
    std::fs::write(dir.path().join("baseline.json"), &out.stdout).unwrap();

    // A baseline of this scan: nothing is new, so even `--fail-on low` passes.
    let out = run(
        dir.path(),
        &[
            "scan",
            "-f",
            "taskdef.json",
            "--baseline",
            "baseline.json",
            "--fail-on",
            "low",
        ],
    );
    assert_exit(&out, 0);
}

#[test]
fn a_malformed_task_definition_is_an_error_at_its_line_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\n  \"family\": \"broken\",\n  \"containerDefinitions\": [ {\"name\": \"a\",, } ]\n}\n",
    )
    .unwrap();
    std::fs::copy(repo().join(TASKDEF), dir.path().join("ratings.json")).unwrap();
    let out = run(dir.path(), &["scan", "-f", "."]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("broken.json:3:") || stderr.contains("broken.json:3:"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("PST-0612"),
        "the good file is scanned: {stdout}"
    );
}
