//! Fleets: several clusters (`--context a,b`, `--all-contexts`) or snapshots (`--snapshot`
//! repeated) scanned in parallel into one report, each failure isolated.

use crate::common::{posture, posture_command};
use crate::lab::{LabOptions, LabServer};
use crate::report::assert_valid_sarif;
use serde_json::Value;

const GKE: &str = "fixtures/clusters/gke-shop.json";
const AKS: &str = "fixtures/clusters/aks-ratings.json";
const MISSING: &str = "fixtures/clusters/no-such-snapshot.json";

fn fleet_of_snapshots(format: &str) -> (Option<i32>, String) {
    let out = posture(&[
        "scan",
        "--snapshot",
        GKE,
        "--snapshot",
        MISSING,
        "--snapshot",
        AKS,
        "--format",
        format,
    ]);
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("reports are UTF-8"),
    )
}

#[test]
fn snapshots_scan_as_a_fleet_and_a_missing_one_is_isolated() {
    let (code, stdout) = fleet_of_snapshots("json");
    assert_eq!(code, Some(2), "a member that cannot be scanned is an error");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let clusters = doc["clusters"].as_array().unwrap();
    let names: Vec<&str> = clusters
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [GKE, MISSING, AKS],
        "members keep the order asked for"
    );
    assert_eq!(clusters[1]["status"], "not-scanned");
    assert!(
        clusters[1]["error"]
            .as_str()
            .unwrap()
            .contains("no-such-snapshot.json"),
        "{}",
        clusters[1]["error"]
    );
    for i in [0, 2] {
        assert_eq!(clusters[i]["status"], "scanned");
        assert!(!clusters[i]["report"]["findings"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    assert_eq!(doc["fleet"]["size"], 3);
    assert_eq!(doc["fleet"]["scanned"], 2);
    // Both clusters' default ServiceAccounts mount their token: one finding, two clusters.
    let shared = doc["fleet"]["shared_findings"].as_array().unwrap();
    assert!(
        shared.iter().any(|s| s["rule_id"] == "PST-0105"
            && s["object"]["name"] == "default"
            && s["clusters"] == serde_json::json!([GKE, AKS])),
        "{shared:?}"
    );
    let scores: Vec<&Value> = doc["fleet"]["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["benchmark"]["benchmark"])
        .collect();
    assert_eq!(scores[0], "cis-gke-1.6");
    assert_eq!(scores[2], "cis-aks-1.8");
}

#[test]
fn fleet_sarif_has_a_run_per_cluster_and_passes_the_validator() {
    let (_, sarif) = fleet_of_snapshots("sarif");
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    let runs = doc["runs"].as_array().unwrap();
    let ids: Vec<&str> = runs
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [format!("{GKE}/"), format!("{MISSING}/"), format!("{AKS}/")]
    );
    assert_eq!(runs[1]["invocations"][0]["executionSuccessful"], false);
    assert!(runs[1]["results"].as_array().unwrap().is_empty());
    assert!(!runs[2]["results"].as_array().unwrap().is_empty());
    // Cluster objects have no text for a region (SARIF2017), as for one cluster's scan.
    assert_valid_sarif(&sarif, &["SARIF2017"]);
}

#[test]
fn every_format_renders_a_fleet() {
    for format in ["table", "summary", "junit", "markdown", "html"] {
        let (code, out) = fleet_of_snapshots(format);
        assert_eq!(code, Some(2), "{format}");
        assert!(
            out.contains("no-such-snapshot.json"),
            "{format}: the failure is shown"
        );
        assert!(out.contains("gke-shop.json"), "{format}");
        assert!(
            out.contains("PST-0105"),
            "{format}: findings of the members"
        );
    }
    let (_, junit) = fleet_of_snapshots("junit");
    assert!(
        junit.contains(&format!("name=\"{GKE}: PST-")),
        "suites are named per cluster"
    );
    assert_eq!(junit.matches("<testsuites").count(), 1);
    let (_, summary) = fleet_of_snapshots("summary");
    assert!(
        summary.starts_with("Fleet of 3 clusters (scanned 2, not scanned 1)"),
        "{summary}"
    );
}

#[test]
fn all_contexts_scans_the_reachable_cluster_and_reports_the_unreachable_one() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // The lab's context, and one whose server refuses connections.
    let text = std::fs::read_to_string(server.kubeconfig())
        .unwrap()
        .replace(
            "contexts:\n",
            "contexts:\n- name: gone\n  context:\n    cluster: gone\n    user: lab-reader\n",
        )
        .replace(
            "clusters:\n",
            "clusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:1\n",
        );
    std::fs::write(&kubeconfig, text).unwrap();
    let out = posture_command(&[
        "scan",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--all-contexts",
        "--request-timeout",
        "10s",
        "--format",
        "json",
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let clusters = doc["clusters"].as_array().unwrap();
    let by_name = |name: &str| clusters.iter().find(|c| c["name"] == name).unwrap();
    assert_eq!(by_name("lab-aks")["status"], "scanned");
    assert!(!by_name("lab-aks")["report"]["findings"]
        .as_array()
        .unwrap()
        .is_empty());
    let gone = by_name("gone");
    assert_eq!(gone["status"], "not-scanned");
    assert!(
        gone["error"].as_str().unwrap().contains("127.0.0.1:1"),
        "the failure names the server: {gone}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("gone: not scanned"), "{stderr}");
}
