//! The CIS benchmark applied to scans: every automated check passes on a hardened fixture and
//! fails on a weak one, the recorded lab's results per profile, the lab's real control-plane
//! flags, kubeadm's defaults, the kubelet's own defaults, and node facts on disk.

use crate::common::{evaluator, repo};
use posture::benchmark::{Assessment, Benchmark, Evidence, Judgement, Registry};
use posture::collect;
use posture::compliance::{CheckResult, Compliance, Selection, State};
use posture::scan::{evaluate_manifests, scan_snapshot, BenchmarkChoice, Judging, ScanReport};
use posture::snapshot::{FactsFile, NodeFacts, ProcessFact, Snapshot};
use posture::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

fn fixture(path: &str) -> PathBuf {
    repo().join("fixtures").join(path)
}

fn request(choice: BenchmarkChoice, facts: &[PathBuf]) -> Judging {
    let (node_facts, problems) =
        collect::node::read_facts(facts, posture::collect::input::DEFAULT_MAX_INPUT_BYTES);
    assert!(problems.is_empty(), "node facts load: {problems:?}");
    Judging {
        benchmark: choice,
        node_facts,
        ..Default::default()
    }
}

fn scan_files(inputs: &[PathBuf], request: &Judging) -> ScanReport {
    let collected = collect::manifests::collect(inputs, &crate::common::render_options());
    evaluate_manifests(evaluator(), collected, request)
}

fn named(name: &str) -> BenchmarkChoice {
    BenchmarkChoice::Named(name.to_owned())
}

fn lab_snapshot() -> Snapshot {
    let file = std::fs::File::open(fixture("clusters/aks-ratings.json")).unwrap();
    Snapshot::read(file).unwrap()
}

fn compliance(report: &ScanReport) -> &Compliance {
    report.compliance.as_ref().expect("a benchmark was applied")
}

fn check<'a>(c: &'a Compliance, id: &str) -> &'a CheckResult {
    c.checks
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{} has a check {id}", c.benchmark))
}

/// One line per check (and per subject), for snapshots a reviewer can read.
fn listing(c: &Compliance) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "{} {}: total {:?}, automated {:?}, score {:?}",
        c.benchmark, c.version, c.total, c.automated, c.score
    )
    .unwrap();
    for s in &c.sections {
        if let Some(note) = &s.note {
            writeln!(out, "section {} {}: {note}", s.id, s.title).unwrap();
        }
    }
    for r in &c.checks {
        if r.state == State::Manual {
            continue;
        }
        let level = r.level.map_or("L?".to_owned(), |l| format!("L{l}"));
        let note = if r.note.is_some() { " (posture)" } else { "" };
        writeln!(
            out,
            "{} {level} {}{note}: {}",
            r.id,
            r.state.as_str(),
            r.detail
        )
        .unwrap();
        if r.subjects.len() > 1 {
            for s in &r.subjects {
                writeln!(out, "    {} {}", s.subject, s.state.as_str()).unwrap();
            }
        }
    }
    out
}

/// The scenarios under fixtures/benchmark: (name, inputs, node facts).
fn scenarios() -> Vec<(&'static str, Vec<PathBuf>, Vec<PathBuf>)> {
    vec![
        (
            "hardened",
            vec![fixture("benchmark/hardened/manifests")],
            vec![fixture("benchmark/hardened/node-facts")],
        ),
        (
            "weak",
            vec![fixture("benchmark/weak/manifests")],
            vec![fixture("benchmark/weak/node-facts")],
        ),
        (
            "workloads-pass",
            vec![fixture("benchmark/workloads-pass")],
            vec![],
        ),
        (
            "workloads-fail",
            vec![fixture("benchmark/workloads-fail")],
            vec![],
        ),
        // A kubelet's command line, for settings only a flag makes (--hostname-override).
        (
            "kubelet-flags-pass",
            vec![],
            vec![fixture("benchmark/kubelet-flags-pass")],
        ),
        (
            "kubelet-flags-fail",
            vec![],
            vec![fixture("benchmark/kubelet-flags-fail")],
        ),
    ]
}

#[test]
fn every_automated_check_has_a_pass_and_a_fail_fixture() {
    for name in Registry::builtin().names() {
        let benchmark = Benchmark::builtin(name).unwrap();
        let mut seen: BTreeMap<String, BTreeSet<State>> = BTreeMap::new();
        for (scenario, inputs, facts) in scenarios() {
            let report = scan_files(&inputs, &request(named(name), &facts));
            assert!(
                report.problems.is_empty(),
                "{name} {scenario}: {:?}",
                report.problems
            );
            for r in &compliance(&report).checks {
                seen.entry(r.id.clone()).or_default().insert(r.state);
            }
        }
        // Every check posture judges, automated or not (a manual one is "judged by posture;
        // CIS assesses this manually").
        let missing: Vec<String> = benchmark
            .checks
            .iter()
            .filter(|c| c.judged_by_posture())
            .filter(|c| {
                let states = &seen[&c.id];
                !(states.contains(&State::Pass) && states.contains(&State::Fail))
            })
            .map(|c| format!("{} saw {:?}", c.id, seen[&c.id]))
            .collect();
        assert!(
            missing.is_empty(),
            "{name}: these need a passing and a failing fixture: {missing:#?}"
        );
    }
}

#[test]
fn hardened_settings_and_files_pass_and_weak_ones_fail() {
    for name in Registry::builtin().names() {
        for (scenario, want) in [("hardened", State::Pass), ("weak", State::Fail)] {
            let report = scan_files(
                &[fixture(&format!("benchmark/{scenario}/manifests"))],
                &request(
                    named(name),
                    &[fixture(&format!("benchmark/{scenario}/node-facts"))],
                ),
            );
            let benchmark = Benchmark::builtin(name).unwrap();
            for r in &compliance(&report).checks {
                let check = benchmark.check(&r.id).unwrap();
                let on_host = matches!(
                    r.evidence,
                    Evidence::Flags | Evidence::KubeletConfig | Evidence::NodeFile
                );
                // A kubelet configuration file says nothing of flags only the command line can
                // give (see the kubelet-flags scenarios).
                let flag_only = matches!(&check.judgement, Judgement::Settings { test, .. }
                    if test.items().iter().all(|i| i.config_path.is_none())
                        && check.component() == Some(posture::benchmark::Component::Kubelet));
                if on_host && check.judged_by_posture() && !flag_only {
                    assert_eq!(r.state, want, "{name} {scenario} {}: {}", r.id, r.detail);
                }
            }
            // Only failures become findings, one per failing subject.
            let failing = compliance(&report)
                .checks
                .iter()
                .filter(|r| r.state == State::Fail && r.rules[0].starts_with("cis-"))
                .count();
            let findings: BTreeSet<&str> = report
                .findings
                .iter()
                .filter(|f| f.rule_id.starts_with("cis-"))
                .map(|f| f.rule_id.as_str())
                .collect();
            assert_eq!(findings.len(), failing, "{name} {scenario}");
        }
    }
}

#[test]
fn weak_control_plane_findings_point_at_the_flag() {
    let report = scan_files(
        &[fixture("benchmark/weak/manifests")],
        &request(named("cis-1.12"), &[]),
    );
    let profiling = finding(&report, "cis-1.12/1.2.15");
    let line = std::fs::read_to_string(fixture("benchmark/weak/manifests/kube-apiserver.yaml"))
        .unwrap()
        .lines()
        .position(|l| l.contains("--profiling"))
        .unwrap()
        + 1;
    assert_eq!(profiling.position.map(|p| p.line as usize), Some(line));
    assert!(
        profiling
            .message
            .contains("--profiling is true; it must be false"),
        "{}",
        profiling.message
    );
    let maxbackup = finding(&report, "cis-1.12/1.2.18");
    assert!(
        maxbackup.message.contains("so the default 0 applies")
            && maxbackup
                .message
                .contains("decided by the component's default"),
        "{}",
        maxbackup.message
    );
}

/// A small GKE cluster (fixtures/clusters/gke-shop.json: nodes with GKE labels and gce://
/// provider IDs, one kubelet read through /configz and one forbidden).
fn gke_snapshot() -> Snapshot {
    let file = std::fs::File::open(fixture("clusters/gke-shop.json")).unwrap();
    Snapshot::read(file).unwrap()
}

#[test]
fn gke_snapshot_auto_is_cis_gke_with_the_control_plane_left_to_google() {
    let report = scan_snapshot(evaluator(), gke_snapshot(), &Judging::default());
    let c = compliance(&report);
    assert_eq!(c.benchmark, "cis-gke-1.6");
    assert_eq!(
        c.selection,
        Selection::Auto {
            reason: "GKE detected".to_owned()
        }
    );
    let control_plane = c.sections.iter().find(|s| s.id == "1").unwrap();
    assert!(control_plane
        .note
        .as_deref()
        .is_some_and(|n| n.starts_with("not applicable: Google runs the control plane")));
    // GKE turns the read-only port on unless asked not to; the collected kubelet has it.
    let read_only = check(c, "3.2.4");
    assert_eq!(read_only.state, State::Fail, "{}", read_only.detail);
    assert!(report
        .findings
        .iter()
        .any(|f| f.rule_id == "cis-gke-1.6/3.2.4" && f.object.kind == "KubeletConfiguration"));
    insta::assert_snapshot!("gke_shop_cis_gke", listing(c));
}

#[test]
fn lab_snapshot_auto_is_aks_with_kubelets_judged_where_collected() {
    let report = scan_snapshot(evaluator(), lab_snapshot(), &Judging::default());
    let c = compliance(&report);
    assert_eq!(c.benchmark, "cis-aks-1.8");
    assert_eq!(
        c.selection,
        Selection::Auto {
            reason: "AKS detected".to_owned()
        }
    );
    let control_plane = c.sections.iter().find(|s| s.id == "1").unwrap();
    assert!(control_plane
        .note
        .as_deref()
        .is_some_and(|n| n.starts_with("not applicable: Azure runs the control plane")));
    for r in c.checks.iter().filter(|r| r.section == "3.2") {
        let lab = r
            .subjects
            .iter()
            .find(|s| s.subject == "kubelet on node 'lab-kubelet-0'")
            .unwrap_or_else(|| panic!("{}: lab-kubelet-0 judged", r.id));
        assert!(matches!(lab.state, State::Pass | State::Fail), "{}", r.id);
        let aks: Vec<_> = r
            .subjects
            .iter()
            .filter(|s| s.subject.contains("aks-nodepool1"))
            .collect();
        assert_eq!(aks.len(), 3, "{}", r.id);
        assert!(aks
            .iter()
            .all(|s| s.state == State::NotCollected && s.detail.contains("address not allowed")));
        // A kubelet that could not be read never counts as passing.
        assert_ne!(r.state, State::Pass, "{}", r.id);
    }
    insta::assert_snapshot!("lab_cis_aks", listing(c));
}

#[test]
fn lab_mirror_pods_judge_every_control_plane_flag_check() {
    let report = scan_snapshot(
        evaluator(),
        lab_snapshot(),
        &request(named("cis-1.12"), &[]),
    );
    let c = compliance(&report);
    for r in &c.checks {
        let flag_section = ["1.2", "1.3", "1.4", "2"].contains(&r.section.as_str());
        if flag_section && r.assessment == Assessment::Automated {
            assert!(
                matches!(r.state, State::Pass | State::Fail),
                "{}: {}",
                r.id,
                r.detail
            );
        }
    }
    // The weaknesses of a default-heavy kubeadm-like control plane, named with their flag and
    // whether a default decided them.
    for (id, flag, by_default) in [
        ("1.2.15", "--profiling", true),
        ("1.3.2", "--profiling", true),
        ("1.4.1", "--profiling", true),
        ("1.2.5", "--kubelet-certificate-authority", false),
    ] {
        let r = check(c, id);
        assert_eq!(r.state, State::Fail, "{id}");
        assert!(r.detail.contains(flag), "{id}: {}", r.detail);
        assert_eq!(
            r.detail.contains("decided by the component's default"),
            by_default,
            "{id}: {}",
            r.detail
        );
    }
    // The control plane is in sight, so its node files need node facts (see
    // visible_control_plane_pods_overrule_a_managed_platform_guess).
    assert_eq!(check(c, "1.1.1").state, State::NotCollected);
    insta::assert_snapshot!("lab_cis_1_12", listing(c));
    let eks = scan_snapshot(
        evaluator(),
        lab_snapshot(),
        &request(named("cis-eks-1.8"), &[]),
    );
    insta::assert_snapshot!("lab_cis_eks", listing(compliance(&eks)));
}

/// The flags the lab's components really ran with (../shared/lab/flags/*.args), as node
/// facts' process list: the same verdicts as from the mirror pods, judged on the process.
#[test]
fn lab_process_flags_from_node_facts() {
    if !crate::lab::recorded() {
        return;
    }
    let dir = crate::lab::shared_root().join("lab/flags");
    let processes: Vec<ProcessFact> = [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
    ]
    .iter()
    .enumerate()
    .map(|(pid, component)| {
        let text = std::fs::read_to_string(dir.join(format!("{component}.args")))
            .unwrap_or_else(|e| panic!("the lab's flags are needed in {}: {e}", dir.display()));
        let mut args = vec![format!("/usr/local/bin/{component}")];
        args.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned),
        );
        ProcessFact {
            component: (*component).to_owned(),
            pid: 100 + pid as u32,
            args,
        }
    })
    .collect();
    let facts = process_facts("lab-cp", processes);
    let report = scan_files(
        &[],
        &Judging {
            benchmark: named("cis-1.12"),
            node_facts: vec![facts],
            ..Default::default()
        },
    );
    let c = compliance(&report);
    let from_pods = scan_snapshot(
        evaluator(),
        lab_snapshot(),
        &request(named("cis-1.12"), &[]),
    );
    for r in &c.checks {
        if ["1.2", "1.3", "1.4", "2"].contains(&r.section.as_str())
            && r.assessment == Assessment::Automated
        {
            assert_eq!(
                r.state,
                check(compliance(&from_pods), &r.id).state,
                "{}: {}",
                r.id,
                r.detail
            );
            assert!(
                r.detail.contains("process on node 'lab-cp'"),
                "{}",
                r.detail
            );
        }
    }
    let on_node = finding(&report, "cis-1.12/1.2.15");
    assert_eq!(on_node.object.kind, "Node");
    assert_eq!(on_node.object.name, "lab-cp");
}

#[test]
fn kubeadm_default_manifests() {
    let report = scan_files(&[fixture("control-plane/kubeadm")], &Judging::default());
    let c = compliance(&report);
    assert_eq!(
        c.benchmark, "cis-1.12",
        "auto picks CIS Kubernetes for manifests"
    );
    insta::assert_snapshot!("kubeadm_defaults", listing(c));
}

#[test]
fn manifests_without_settings_get_no_benchmark() {
    let report = scan_files(&[fixture("benchmark/workloads-fail")], &Judging::default());
    assert!(report.compliance.is_none());
    let off = scan_files(
        &[fixture("control-plane/kubeadm")],
        &request(BenchmarkChoice::Off, &[]),
    );
    assert!(off.compliance.is_none());
    assert!(off.findings.iter().all(|f| !f.rule_id.starts_with("cis-")));
}

/// Node facts of `node` with these processes and no files.
fn process_facts(node: &str, processes: Vec<ProcessFact>) -> FactsFile {
    FactsFile {
        path: PathBuf::from(format!("{node}.json")).into(),
        facts: NodeFacts {
            schema_version: "1.0".to_owned(),
            kind: "NodeFacts".to_owned(),
            node: node.to_owned(),
            collected_at: "2026-11-22T10:00:00Z".to_owned(),
            files: vec![],
            absent: vec![],
            processes,
            not_collected: vec![],
        },
    }
}

fn kubelet_facts(args: &[&str]) -> FactsFile {
    process_facts(
        "worker-1",
        vec![ProcessFact {
            component: "kubelet".to_owned(),
            pid: 7,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        }],
    )
}

fn finding<'a>(report: &'a ScanReport, rule_id: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule_id == rule_id)
        .unwrap_or_else(|| panic!("a finding of {rule_id}"))
}

#[test]
fn a_kubelet_without_a_config_file_uses_its_command_line_defaults() {
    let report = scan_files(
        &[],
        &Judging {
            benchmark: named("cis-aks-1.8"),
            node_facts: vec![kubelet_facts(&[
                "/usr/bin/kubelet",
                "--client-ca-file=/ca.crt",
            ])],
            ..Default::default()
        },
    );
    let c = compliance(&report);
    // On a bare command line the kubelet allows anonymous requests and serves the read-only
    // port, unlike a kubelet started with a configuration file.
    for id in ["3.2.1", "3.2.2", "3.2.4"] {
        let r = check(c, id);
        assert_eq!(r.state, State::Fail, "{id}: {}", r.detail);
        assert!(
            r.detail.contains("decided by the component's default"),
            "{}",
            r.detail
        );
    }
    assert_eq!(check(c, "3.2.3").state, State::Pass);
}

#[test]
fn a_kubelet_config_file_that_was_not_read_leaves_its_fields_open() {
    let report = scan_files(
        &[],
        &Judging {
            benchmark: named("cis-1.12"),
            node_facts: vec![kubelet_facts(&[
                "/usr/bin/kubelet",
                "--config=/var/lib/kubelet/config.yaml",
                "--anonymous-auth=false",
            ])],
            ..Default::default()
        },
    );
    let c = compliance(&report);
    assert_eq!(check(c, "4.2.1").state, State::Pass, "a flag decides alone");
    let r = check(c, "4.2.2");
    assert_eq!(r.state, State::NotCollected);
    assert!(
        r.detail.contains("/var/lib/kubelet/config.yaml"),
        "{}",
        r.detail
    );
}

#[test]
fn a_kubelet_config_file_merges_with_the_kubelets_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
         authentication:\n  anonymous:\n    enabled: false\nreadOnlyPort: 0\n",
    )
    .unwrap();
    let flag = format!("--config={}", config.display());
    let report = scan_files(
        std::slice::from_ref(&config),
        &Judging {
            benchmark: named("cis-eks-1.8"),
            node_facts: vec![kubelet_facts(&[
                "/usr/bin/kubelet",
                &flag,
                "--read-only-port=10255",
            ])],
            ..Default::default()
        },
    );
    let c = compliance(&report);
    assert_eq!(check(c, "3.2.1").state, State::Pass);
    let r = check(c, "3.2.4");
    assert_eq!(r.state, State::Fail, "the flag overrides the file");
    assert!(
        r.detail.contains("--read-only-port is 10255"),
        "{}",
        r.detail
    );
    assert_eq!(
        r.subjects.len(),
        1,
        "one kubelet, not two: {:?}",
        r.subjects
    );
}

#[test]
fn node_facts_files_are_read_and_bad_ones_reported_with_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixture("benchmark/hardened/node-facts/cp-1.json")).unwrap();
    // `kubectl logs` of two collector pods into one file.
    std::fs::write(
        dir.path().join("all.json"),
        format!("{good}\n{}", good.replace("cp-1", "cp-2")),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.json"),
        "{\n  \"kind\": \"NodeFacts\",\n  oops\n}",
    )
    .unwrap();
    std::fs::write(dir.path().join("other.json"), "{\"kind\": \"Pod\"}").unwrap();
    let (facts, problems) = collect::node::read_facts(
        &[dir.path().to_path_buf()],
        posture::collect::input::DEFAULT_MAX_INPUT_BYTES,
    );
    let nodes: Vec<&str> = facts.iter().map(|f| f.facts.node.as_str()).collect();
    assert_eq!(nodes, ["cp-1", "cp-2"]);
    let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 2, "{text:?}");
    let broken = problems
        .iter()
        .find(|p| {
            p.file
                .as_deref()
                .is_some_and(|f| f.ends_with("broken.json"))
        })
        .unwrap();
    assert_eq!(broken.position.map(|p| p.line), Some(3));
    assert!(
        text.iter().any(|t| t.contains("not node facts")),
        "{text:?}"
    );
}

#[test]
fn compliance_travels_in_json_and_sarif() {
    let report = scan_snapshot(evaluator(), lab_snapshot(), &Judging::default());
    let mut json = Vec::new();
    posture::report::json::write(&report, &mut json).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["compliance"]["benchmark"], "cis-aks-1.8");
    assert_eq!(json["compliance"]["checks"].as_array().unwrap().len(), 51);
    assert_eq!(
        json["compliance"]["total"]["fail"],
        compliance(&report).total.fail
    );
    let mut sarif = Vec::new();
    posture::report::sarif::write(&report, &mut sarif).unwrap();
    let sarif_text = String::from_utf8(sarif).unwrap();
    crate::report::assert_valid_sarif(&sarif_text, &["SARIF2017"]);
    let sarif: serde_json::Value = serde_json::from_str(&sarif_text).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["properties"]["compliance"]["benchmark"], "cis-aks-1.8");
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    for f in report
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("cis-"))
    {
        assert!(
            rules.contains(&f.rule_id.as_str()),
            "{} described",
            f.rule_id
        );
    }
}

/// The verdicts of `id` on one fixture under fixtures/control-plane/edges.
fn edge(file: &str, id: &str) -> CheckResult {
    let report = scan_files(
        &[fixture(&format!("control-plane/edges/{file}"))],
        &request(named("cis-1.12"), &[]),
    );
    check(compliance(&report), id).clone()
}

/// kube-bench's "eq 127.0.0.1, or not set" passed a controller manager and scheduler that,
/// without --bind-address, listen on every address; rotateCertificates omitted from /configz
/// is the default false, not "unset and fine".
#[test]
fn an_absent_setting_is_judged_by_the_components_default() {
    for (file, id, words) in [
        (
            "controller-manager-default-bind.yaml",
            "1.3.7",
            "--bind-address is not set, so the default 0.0.0.0 applies",
        ),
        (
            "scheduler-default-bind.yaml",
            "1.4.2",
            "--bind-address is not set, so the default 0.0.0.0 applies",
        ),
        (
            "kubelet-configz-rotate-omitted.yaml",
            "4.2.10",
            "rotateCertificates is not set, so the default false applies",
        ),
    ] {
        let r = edge(file, id);
        assert_eq!(r.state, State::Fail, "{id}: {}", r.detail);
        assert!(
            r.detail.contains(words) && r.detail.contains("decided by the component's default"),
            "{id}: {}",
            r.detail
        );
    }
    // The same settings, explicitly safe, pass (the hardened fixture sets them).
    let hardened = scan_files(
        &[fixture("benchmark/hardened/manifests")],
        &request(named("cis-1.12"), &[]),
    );
    for id in ["1.3.7", "1.4.2", "4.2.10"] {
        assert_eq!(check(compliance(&hardened), id).state, State::Pass, "{id}");
    }
}

/// `--tls-private-key-file=` leaves the flag at its empty default; it counted as set.
#[test]
fn a_flag_with_an_empty_value_is_not_set() {
    for id in ["1.2.24", "1.2.25"] {
        let r = edge("apiserver-empty-values.yaml", id);
        assert_eq!(r.state, State::Fail, "{id}: {}", r.detail);
        assert!(
            r.detail.contains("is given an empty value"),
            "{id}: {}",
            r.detail
        );
    }
    let report = scan_files(
        &[],
        &Judging {
            benchmark: named("cis-1.12"),
            node_facts: vec![kubelet_facts(&[
                "/usr/bin/kubelet",
                "--client-ca-file=",
                "--anonymous-auth=false",
            ])],
            ..Default::default()
        },
    );
    let r = check(compliance(&report), "4.2.3");
    assert_eq!(r.state, State::Fail, "{}", r.detail);
    assert!(
        r.detail
            .contains("--client-ca-file is given an empty value"),
        "{}",
        r.detail
    );
}

/// A control-plane container with only `args` runs its image's ENTRYPOINT; it used to be no
/// component at all, so none of its checks ran.
#[test]
fn a_control_plane_container_with_only_args_is_recognised_by_its_image() {
    let report = scan_files(
        &[fixture("control-plane/edges/apiserver-args-only.yaml")],
        &Judging::default(),
    );
    let c = compliance(&report);
    assert_eq!(
        c.benchmark, "cis-1.12",
        "the API server is benchmark evidence"
    );
    let profiling = check(c, "1.2.15");
    assert_eq!(profiling.state, State::Fail, "{}", profiling.detail);
    assert!(profiling
        .detail
        .contains("kube-apiserver in Pod 'kube-system/kube-apiserver-cp-2'"));
    let finding = finding(&report, "cis-1.12/1.2.15");
    let line = std::fs::read_to_string(fixture("control-plane/edges/apiserver-args-only.yaml"))
        .unwrap()
        .lines()
        .position(|l| l.contains("--profiling"))
        .unwrap()
        + 1;
    assert_eq!(finding.position.map(|p| p.line as usize), Some(line));
}

/// AKS detected, yet the control-plane pods are in kube-system: their flags are judged, so their
/// node files are not "Azure's business" but not collected, and the guess is reported.
#[test]
fn visible_control_plane_pods_overrule_a_managed_platform_guess() {
    let report = scan_snapshot(
        evaluator(),
        lab_snapshot(),
        &request(named("cis-1.12"), &[]),
    );
    let c = compliance(&report);
    for r in c.checks.iter().filter(|r| r.section == "1.1") {
        assert_ne!(r.state, State::NotApplicable, "{}: {}", r.id, r.detail);
    }
    let file = check(c, "1.1.1");
    assert_eq!(file.state, State::NotCollected);
    assert!(file.detail.contains("needs node facts"), "{}", file.detail);
    let warned: Vec<&posture::Problem> = report
        .problems
        .iter()
        .filter(|p| p.code == posture::problem::Code::PlatformMismatch)
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", report.problems);
    assert_eq!(warned[0].level, posture::problem::Level::Warning);
    assert!(
        warned[0].message.contains("looks like AKS"),
        "{}",
        warned[0].message
    );
}

/// The lab's one readable kubelet (lab-kubelet-0) passes several kubelet checks while three AKS
/// kubelets cannot be read: each node counts once, the checks say how far they got, and the
/// score is no longer 0 of 5.
#[test]
fn per_node_results_count_per_node() {
    let report = scan_snapshot(evaluator(), lab_snapshot(), &Judging::default());
    let c = compliance(&report);
    let partial: Vec<&CheckResult> = c
        .checks
        .iter()
        .filter(|r| {
            r.subjects
                .iter()
                .any(|s| s.subject.contains("lab-kubelet-0") && s.state == State::Pass)
        })
        .collect();
    assert!(
        !partial.is_empty(),
        "lab-kubelet-0 passes some kubelet checks"
    );
    for r in &partial {
        assert_eq!(r.state, State::NotCollected, "{}", r.id);
        assert!(
            r.detail
                .starts_with("passes on 1 of 4 nodes; 3 not collected: "),
            "{}: {}",
            r.id,
            r.detail
        );
    }
    let per_subject: usize = c
        .checks
        .iter()
        .filter(|r| r.assessment == Assessment::Automated)
        .map(|r| r.subjects.len().max(1))
        .sum();
    assert_eq!(c.results.total(), per_subject);
    assert!(c.results.pass >= partial.len(), "{:?}", c.results);
    assert!(c.score.is_some_and(|s| s > 0.0), "{:?}", c.score);
    // CIS 1.12 on the same lab: 4.2.10 fails on lab-kubelet-0, whose /configz omits the false
    // rotateCertificates.
    let cis = scan_snapshot(
        evaluator(),
        lab_snapshot(),
        &request(named("cis-1.12"), &[]),
    );
    let rotate = check(compliance(&cis), "4.2.10");
    assert_eq!(rotate.state, State::Fail, "{}", rotate.detail);
    let lab = rotate
        .subjects
        .iter()
        .find(|s| s.subject == "kubelet on node 'lab-kubelet-0'")
        .unwrap();
    assert_eq!(lab.state, State::Fail, "{}", lab.detail);
}

/// `posture explain cis-1.12/4.2.10` says what absence means: the default, and its verdict.
#[test]
fn explain_names_the_default_an_absent_setting_gets() {
    let benchmark = Benchmark::builtin("cis-1.12").unwrap();
    let rotate = posture::compliance::when_absent(benchmark.check("4.2.10").unwrap()).unwrap();
    assert_eq!(
        rotate[0],
        "rotateCertificates is not set, so the default false applies: fails"
    );
    assert!(rotate[1].contains("/configz leaves out false and zero values"));
    let anonymous = posture::compliance::when_absent(benchmark.check("4.2.1").unwrap()).unwrap();
    assert!(
        anonymous.iter().any(|l| l
            .starts_with("on a kubelet started without a configuration file")
            && l.ends_with("fails")),
        "{anonymous:?}"
    );
    assert!(
        posture::compliance::when_absent(benchmark.check("1.1.1").unwrap())
            .unwrap()
            .is_empty()
    );
}

/// On the recorded lab, every CIS 1.12 recommendation posture can decide from what it collects
/// is judged; what stays manual needs a person (or a file posture does not read), and every
/// recommendation carries its CIS profile level.
#[test]
fn lab_leaves_manual_only_what_needs_a_person() {
    let report = scan_snapshot(
        evaluator(),
        lab_snapshot(),
        &request(named("cis-1.12"), &[]),
    );
    let c = compliance(&report);
    let manual: Vec<&str> = c
        .checks
        .iter()
        .filter(|r| r.state == State::Manual)
        .map(|r| r.id.as_str())
        .collect();
    // 1.2.20 and 5.6.1 ask what suits the cluster; 1.2.28 and 3.2.2 read files posture does not
    // collect (the encryption and audit configurations); 2.7 compares two CAs' contents; 3.1.x,
    // 5.3.1, 5.4.2 and 5.5.1 are about people, the CNI plugin's behaviour and outside systems.
    assert_eq!(
        manual,
        [
            "1.2.20", "1.2.28", "2.7", "3.1.1", "3.1.2", "3.1.3", "3.2.2", "5.3.1", "5.4.2",
            "5.5.1", "5.6.1"
        ]
    );
    assert!(c.checks.iter().all(|r| r.level.is_some()));
    for r in c
        .checks
        .iter()
        .filter(|r| r.assessment == Assessment::Manual)
    {
        assert_eq!(
            r.note.is_some(),
            r.state != State::Manual,
            "{}: judged manual checks say so",
            r.id
        );
    }
    // The lab's namespaces carry no enforce label (ingress only warns), so nothing rejects
    // privileged pods; the node-debugger pod in default is one.
    let privileged = check(c, "5.2.2");
    assert_eq!(privileged.state, State::Fail, "{}", privileged.detail);
    let default = privileged
        .subjects
        .iter()
        .find(|s| s.subject == "namespace 'default'")
        .unwrap();
    assert!(
        default.detail.contains("no Pod Security enforce label")
            && default.detail.contains("PST-0003"),
        "{}",
        default.detail
    );
    // RBAC checks are judged by their rules over the bindings and roles the lab has.
    assert_eq!(check(c, "5.1.1").state, State::Fail);
    let wildcards = check(c, "5.1.3");
    assert_eq!(wildcards.state, State::Pass, "{}", wildcards.detail);
    assert!(
        wildcards.detail.contains("ClusterRoles"),
        "{}",
        wildcards.detail
    );
}

/// `--cis-level 1` keeps the Level 1 profile; Level 2 includes Level 1; checks without a known
/// level are left out of either, with a warning.
#[test]
fn cis_level_limits_the_benchmark_to_a_profile() {
    let at = |name: &str, level: u8| {
        scan_snapshot(
            evaluator(),
            lab_snapshot(),
            &Judging {
                benchmark: named(name),
                cis_level: Some(level),
                ..Default::default()
            },
        )
    };
    let one = at("cis-1.12", 1);
    let c = compliance(&one);
    assert_eq!(c.profile_level, Some(1));
    assert!(c.checks.iter().all(|r| r.level == Some(1)));
    assert!(c.checks.iter().all(|r| r.id != "5.2.7" && r.id != "1.2.12"));
    assert!(one.findings.iter().all(|f| f.rule_id != "cis-1.12/1.2.12"));
    let two = at("cis-1.12", 2);
    assert_eq!(compliance(&two).checks.len(), 131);
    let level_two: usize = Benchmark::builtin("cis-1.12")
        .unwrap()
        .checks
        .iter()
        .filter(|c| c.level == Some(2))
        .count();
    assert_eq!(c.checks.len(), 131 - level_two);
    // AKS 1.8: every recommendation has a level now, so a Level 1 scan of the AKS lab snapshot
    // judges the 39 Level 1 recommendations, leaves the 12 Level 2 ones out and warns of none.
    let aks = at("cis-aks-1.8", 1);
    let ac = compliance(&aks);
    assert_eq!(ac.profile_level, Some(1));
    assert_eq!(ac.checks.len(), 39);
    assert!(ac.checks.iter().all(|r| r.level == Some(1)));
    assert!(ac.checks.iter().all(|r| r.id != "3.2.7" && r.id != "4.4.2"));
    assert!(ac.checks.iter().any(|r| r.state != State::Manual));
    assert!(aks
        .problems
        .iter()
        .all(|p| p.code != posture::problem::Code::BenchmarkLevel));
    assert_eq!(compliance(&at("cis-aks-1.8", 2)).checks.len(), 51);
    // GKE 1.6: 3.1.3 and 5.10.5 have no level any source states; a profile leaves them out
    // and says so.
    let gke = at("cis-gke-1.6", 2);
    assert_eq!(compliance(&gke).checks.len(), 66);
    let warned = gke
        .problems
        .iter()
        .find(|p| p.code == posture::problem::Code::BenchmarkLevel)
        .expect("a warning about the left-out checks");
    assert!(
        warned.message.contains("2 recommendations"),
        "{}",
        warned.message
    );
    // The level travels in JSON, per check.
    let mut json = Vec::new();
    posture::report::json::write(&one, &mut json).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["compliance"]["profile_level"], 1);
    assert_eq!(json["compliance"]["checks"][0]["level"], 1);
}

/// Namespaces without Pod Security labels are guarded by an enforcing Kyverno or Gatekeeper
/// policy; one that only audits guards nothing.
#[test]
fn policy_engines_count_as_admission_control() {
    let report = scan_files(
        &[fixture("benchmark/admission-engines")],
        &request(named("cis-1.12"), &[]),
    );
    let c = compliance(&report);
    let states = |id: &str| -> Vec<(String, State)> {
        check(c, id)
            .subjects
            .iter()
            .map(|s| (s.subject.clone(), s.state))
            .collect()
    };
    assert_eq!(
        states("5.2.2"),
        [
            ("namespace 'audit-only'".to_owned(), State::Fail),
            ("namespace 'gatekeeper-guarded'".to_owned(), State::Pass),
            ("namespace 'kyverno-guarded'".to_owned(), State::Pass),
        ]
    );
    // Gatekeeper's constraint forbids privileged containers only; Kyverno's restricted level
    // forbids running as root too.
    assert_eq!(
        states("5.2.7"),
        [
            ("namespace 'audit-only'".to_owned(), State::Fail),
            ("namespace 'gatekeeper-guarded'".to_owned(), State::Fail),
            ("namespace 'kyverno-guarded'".to_owned(), State::Fail),
        ]
    );
    let kyverno = check(c, "5.2.2")
        .subjects
        .iter()
        .find(|s| s.subject == "namespace 'kyverno-guarded'")
        .unwrap();
    assert!(
        kyverno
            .detail
            .contains("enforcing Kyverno ClusterPolicy 'pod-security-restricted'"),
        "{}",
        kyverno.detail
    );
    assert_eq!(check(c, "5.2.2").state, State::Fail);
}
