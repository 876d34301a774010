//! The live-cluster path against the recorded lab API server (tests/lab): collection, paging,
//! errors that must not abort, kubelet configuration, platform, snapshots, and Secret values
//! that must never appear anywhere.

use crate::common::{assert_exit, evaluator, posture, posture_command, repo};
use crate::lab::{Fault, LabOptions, LabServer};
use crate::report::{assert_valid_sarif, render};
use posture::collect::cluster::{self, ClusterOptions, ConnectOptions, Silent};
use posture::problem::Code;
use posture::report::Format;
use posture::scan::{scan_snapshot, Judging, NeededTypes, ScanReport};
use posture::snapshot::{DiscoveryMethod, KubeletConfig, PlatformKind, Snapshot};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

pub(crate) fn options(server: &LabServer) -> ClusterOptions {
    ClusterOptions {
        connect: ConnectOptions {
            kubeconfig: Some(server.kubeconfig()),
            context: None,
            request_timeout: Duration::from_secs(10),
            ..ConnectOptions::default()
        },
        ..ClusterOptions::default()
    }
}

fn needed() -> NeededTypes {
    let catalog = posture::policy::Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    NeededTypes::of(&catalog)
}

fn collect_with(_server: &LabServer, options: &ClusterOptions) -> Snapshot {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(cluster::collect(options, &needed(), &Silent))
        .unwrap_or_else(|e| panic!("collection fails: {e:#}"))
}

pub(crate) fn collect(server: &LabServer) -> Snapshot {
    collect_with(server, &options(server))
}

fn counts_by_type(snapshot: &Snapshot) -> BTreeMap<String, usize> {
    snapshot
        .resource_types
        .iter()
        .map(|t| (t.qualified_name(), t.count))
        .collect()
}

/// The types a cluster scan must read: what the rules select plus the evidence they need.
const EXPECTED_TYPES: &[&str] = &[
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "configmaps",
    "cronjobs.batch",
    "daemonsets.apps",
    "deployments.apps",
    "horizontalpodautoscalers.autoscaling",
    "ingresses.networking.k8s.io",
    "jobs.batch",
    "limitranges",
    "namespaces",
    "networkpolicies.networking.k8s.io",
    "nodes",
    "persistentvolumeclaims",
    "poddisruptionbudgets.policy",
    "pods",
    "podtemplates",
    "replicasets.apps",
    "replicationcontrollers",
    "resourcequotas",
    "rolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "secrets",
    "serviceaccounts",
    "services",
    "statefulsets.apps",
];

#[test]
fn every_collected_type_has_the_recorded_count() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::every_list_allowed());
    let snapshot = collect(&server);
    let counts = server.counts();
    let collected = counts_by_type(&snapshot);
    let names: Vec<&str> = collected.keys().map(String::as_str).collect();
    assert_eq!(names, EXPECTED_TYPES);
    for (name, count) in &collected {
        assert_eq!(Some(count), counts.get(name), "objects of {name}");
    }
    assert_eq!(snapshot.objects.len(), collected.values().sum::<usize>());
    assert!(
        snapshot.not_collected.is_empty(),
        "{:?}",
        snapshot.not_collected
    );
    assert_eq!(snapshot.discovery, DiscoveryMethod::Aggregated);
    // /version, two discovery requests, one page per type (all under 500 objects), one configz
    // per node: what the README says a scan of this cluster costs.
    assert_eq!(server.requests().len(), 1 + 2 + EXPECTED_TYPES.len() + 4);
    // HPAs come at the version the server prefers, autoscaling/v2, not v1.
    let hpa = snapshot
        .resource_types
        .iter()
        .find(|t| t.kind == "HorizontalPodAutoscaler")
        .unwrap();
    assert_eq!(hpa.api_version, "autoscaling/v2");
    // Secrets were asked for as metadata only.
    let secret_lists: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/secrets")
        .collect();
    assert!(!secret_lists.is_empty());
    for r in secret_lists {
        let accept = r.accept.unwrap_or_default();
        assert!(accept.contains("as=PartialObjectMetadataList"), "{accept}");
    }
}

#[test]
fn small_pages_collect_the_same_objects() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let whole = collect(&server);
    let paged = collect_with(
        &server,
        &ClusterOptions {
            page_size: 3,
            ..options(&server)
        },
    );
    assert_eq!(whole.objects, paged.objects);
    let deployment_pages: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis/apps/v1/deployments" && r.query.contains("limit=3"))
        .map(|r| r.query)
        .collect();
    assert_eq!(deployment_pages.len(), 3, "8 deployments in pages of 3");
    assert!(deployment_pages[1].contains("continue="));
}

/// An etcd compaction expires the continue token mid-list: that list starts over and nothing is
/// lost or doubled.
#[test]
fn an_expired_continue_token_restarts_the_list() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions {
        expire_continue_once: true,
        ..LabOptions::default()
    });
    let snapshot = collect_with(
        &server,
        &ClusterOptions {
            page_size: 3,
            concurrency: 1,
            ..options(&server)
        },
    );
    assert!(server.requests().iter().any(|r| r.status == 410));
    let counts = server.counts();
    for (name, count) in counts_by_type(&snapshot) {
        assert_eq!(Some(&count), counts.get(&name), "objects of {name}");
    }
    assert!(snapshot.not_collected.iter().all(|n| n.target == "secrets"));
}

#[test]
fn throttled_requests_are_retried() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions {
        throttle_first: 3,
        retry_after_secs: 0,
        ..LabOptions::default()
    });
    let snapshot = collect(&server);
    assert_eq!(
        server.requests().iter().filter(|r| r.status == 429).count(),
        3
    );
    assert_eq!(
        snapshot.not_collected.len(),
        1,
        "{:?}",
        snapshot.not_collected
    );
    assert_eq!(counts_by_type(&snapshot)["pods"], 24);
}

/// A connection that closes under a list (a load balancer dropping an idle keep-alive
/// connection) costs a retry, not the list.
#[test]
fn lists_whose_connection_closes_are_retried() {
    if !crate::lab::recorded() {
        return;
    }
    let plain = LabServer::start(LabOptions::default());
    let resetting = LabServer::start(LabOptions {
        reset_first: 3,
        ..LabOptions::default()
    });
    let (expected, snapshot) = (collect(&plain), collect(&resetting));
    assert_eq!(counts_by_type(&snapshot), counts_by_type(&expected));
    assert_eq!(
        format!("{:?}", snapshot.not_collected),
        format!("{:?}", expected.not_collected)
    );
    assert_eq!(resetting.requests().len(), plain.requests().len() + 3);
}

/// A list whose connection closes every time is retried a bounded number of times, then not
/// collected, saying why; the other lists are.
#[test]
fn a_list_whose_connection_always_closes_is_not_collected() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions {
        faults: vec![("pods".to_owned(), Fault::Reset)],
        ..LabOptions::default()
    });
    let snapshot = collect(&server);
    let pods = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .count();
    assert_eq!(pods, 5, "one attempt and four retries");
    let missing = snapshot
        .not_collected
        .iter()
        .find(|n| n.target == "pods")
        .unwrap_or_else(|| panic!("pods are not collected: {:?}", snapshot.not_collected));
    assert!(
        missing.reason.contains("closed"),
        "the reason says the connection closed: {}",
        missing.reason
    );
    assert!(!counts_by_type(&snapshot).contains_key("pods"));
    assert_eq!(counts_by_type(&snapshot)["deployments.apps"], 8);
}

/// A server before 1.26 has no aggregated discovery: the per-group walk finds the same types.
#[test]
fn discovery_falls_back_to_per_group() {
    if !crate::lab::recorded() {
        return;
    }
    let old = LabServer::start(LabOptions {
        aggregated_discovery: false,
        ..LabOptions::default()
    });
    let new = LabServer::start(LabOptions::default());
    let (a, b) = (collect(&old), collect(&new));
    assert_eq!(a.discovery, DiscoveryMethod::PerGroup);
    assert_eq!(b.discovery, DiscoveryMethod::Aggregated);
    assert_eq!(a.resource_types, b.resource_types);
    assert_eq!(a.objects, b.objects);
}

#[test]
fn read_only_user_gets_findings_and_not_collected_secrets() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let snapshot = collect(&server);
    assert_eq!(snapshot.not_collected.len(), 1);
    let missing = &snapshot.not_collected[0];
    assert_eq!(missing.target, "secrets");
    assert!(
        missing.reason.starts_with("403 Forbidden"),
        "{}",
        missing.reason
    );
    let report = scan_snapshot(evaluator(), snapshot, &auto());
    assert!(!report.findings.is_empty());
    let not_collected: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.code == Code::NotCollected)
        .map(|p| p.message.clone())
        .collect();
    assert_eq!(
        not_collected.len(),
        4,
        "secrets and three kubelets: {not_collected:?}"
    );
    assert!(not_collected[0..]
        .iter()
        .any(|m| m.starts_with("not collected: secrets: 403")));
    assert!(!report.has_errors());
}

#[test]
fn kubelet_config_is_read_where_the_kubelet_answers() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let snapshot = collect(&server);
    assert_eq!(snapshot.nodes.len(), 4);
    for node in &snapshot.nodes {
        match (&node.kubelet_config, node.name.as_str()) {
            (KubeletConfig::Collected { source, config }, "lab-kubelet-0") => {
                assert_eq!(source, "configz");
                assert_eq!(config["authentication"]["anonymous"]["enabled"], false);
            }
            (KubeletConfig::NotCollected { reason }, name) => {
                assert!(name.starts_with("aks-nodepool1-"), "{name}");
                assert_eq!(reason, "400 BadRequest: address not allowed");
            }
            (other, name) => panic!("{name}: {other:?}"),
        }
    }
    let node = snapshot
        .nodes
        .iter()
        .find(|n| n.name == "lab-kubelet-0")
        .unwrap();
    assert_eq!(node.kubelet_version, "v1.28.0");
    assert_eq!(node.container_runtime, "containerd://1.6.20");
    // The collected configuration reaches the engine as an object named after its node.
    let collected = posture::collect::Collected::from_snapshot(snapshot.clone());
    let kubelets: Vec<_> = collected
        .resources
        .iter()
        .filter(|r| r.id.kind == "KubeletConfiguration")
        .collect();
    assert_eq!(kubelets.len(), 1);
    assert_eq!(kubelets[0].id.name, "lab-kubelet-0");
}

#[test]
fn platform_is_detected_as_aks() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let snapshot = collect(&server);
    assert_eq!(snapshot.cluster.platform.kind, PlatformKind::Aks);
    assert_eq!(snapshot.cluster.name, "lab-aks");
    assert_eq!(snapshot.cluster.context.as_deref(), Some("lab-aks"));
    assert_eq!(snapshot.cluster.server_version.git_version, "v1.28.0");
}

fn reports_in_every_format(report: &ScanReport) -> Vec<String> {
    <Format as clap::ValueEnum>::value_variants()
        .iter()
        .map(|f| render(*f, report))
        .collect()
}

#[test]
fn a_saved_snapshot_gives_the_live_findings() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let live = collect(&server);
    let mut file = Vec::new();
    live.write(&mut file).unwrap();
    let saved = Snapshot::read(file.as_slice()).unwrap();
    assert_eq!(live, saved);
    let (a, b) = (
        scan_snapshot(evaluator(), live.clone(), &auto()),
        scan_snapshot(evaluator(), saved, &auto()),
    );
    assert_eq!(reports_in_every_format(&a), reports_in_every_format(&b));
}

/// Every string `secrets.json` holds as a value: data (base64 and decoded), stringData, and the
/// last-applied annotations (which repeat them).
pub(crate) fn secret_values() -> Vec<String> {
    let path = crate::lab::shared_root().join("lab/api/resources/secrets.json");
    let list: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut values = Vec::new();
    for item in list["items"].as_array().unwrap() {
        for field in ["data", "stringData"] {
            for v in item[field]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, v)| v)
            {
                let text = v.as_str().unwrap().to_owned();
                if let Some(decoded) = base64_decode(&text) {
                    values.push(decoded);
                }
                values.push(text);
            }
        }
        if let Some(a) = item["metadata"]["annotations"]
            ["kubectl.kubernetes.io/last-applied-configuration"]
            .as_str()
        {
            values.push(a.trim().to_owned());
        }
    }
    // A value the cluster also serves outside Secrets is public there (the cluster CA
    // certificate is in every kube-root-ca.crt ConfigMap; a token Secret's `namespace` is a
    // namespace name), so finding it in a report proves nothing.
    let elsewhere: String = std::fs::read_dir(crate::lab::shared_root().join("lab/api/resources"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("secrets.json"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    values.retain(|v| v.len() >= 6 && !elsewhere.contains(v.as_str()));
    assert!(
        values.iter().any(|v| v.starts_with("eyJhbGciOi"))
            && values.iter().any(|v| v == "X7j2qKwPa5"),
        "the lab's secrets.json holds a token and passwords to look for: {values:?}"
    );
    values
}

fn base64_decode(text: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        bits = (bits << 6) | ALPHABET.iter().position(|a| *a == c)? as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A server that ignores the metadata-only request sends Secrets whole; their values still must
/// not reach the snapshot or any report.
#[test]
fn no_secret_value_reaches_any_output() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions {
        metadata_lists: false,
        ..LabOptions::every_list_allowed()
    });
    let snapshot = collect(&server);
    assert_eq!(counts_by_type(&snapshot)["secrets"], 5);
    let mut outputs = vec![serde_json::to_string(&snapshot).unwrap()];
    outputs.extend(reports_in_every_format(&scan_snapshot(
        evaluator(),
        snapshot,
        &auto(),
    )));
    for value in secret_values() {
        for (i, out) in outputs.iter().enumerate() {
            assert!(!out.contains(&value), "output {i} contains a Secret value");
        }
    }
}

#[test]
fn cluster_sarif_passes_the_validator_with_stable_uris() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let report = scan_snapshot(evaluator(), collect(&server), &auto());
    let sarif = render(Format::Sarif, &report);
    // SARIF2017 asks every physical location for a region; a cluster object has no text to
    // point into, so its locations are the object's URI and a logical location only.
    assert_valid_sarif(&sarif, &["SARIF2017"]);
    let doc: Value = serde_json::from_str(&sarif).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"]["CLUSTER"]["uri"],
        "k8s://lab-aks/"
    );
    let uris: Vec<&str> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let artifact = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(artifact["uriBaseId"], "CLUSTER");
            artifact["uri"].as_str().unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"ratingsapp/Deployment.apps/ratings-api"),
        "{uris:?}"
    );
    assert!(uris.contains(
        &"ClusterRoleBinding.rbac.authorization.k8s.io/azure-devops-deployer-cluster-admin"
    ));
    let notifications = &run["invocations"][0]["toolExecutionNotifications"];
    assert!(notifications
        .to_string()
        .contains("not collected: secrets: 403"));
}

/// Fingerprints of a cluster's findings depend on the cluster and object, not on when or how
/// the objects were collected, so code scanning and baselines can follow them between scans.
#[test]
fn cluster_fingerprints_are_stable_across_collections() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let first = scan_snapshot(evaluator(), collect(&server), &auto());
    let second = scan_snapshot(
        evaluator(),
        collect_with(
            &server,
            &ClusterOptions {
                page_size: 2,
                ..options(&server)
            },
        ),
        &auto(),
    );
    let prints = |r: &ScanReport| r.findings.iter().map(|f| f.fingerprint).collect::<Vec<_>>();
    assert_eq!(prints(&first), prints(&second));
}

#[test]
fn namespace_scope_limits_namespaced_objects() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let snapshot = collect_with(
        &server,
        &ClusterOptions {
            namespaces: Some(vec!["ratingsapp".into(), "kube-system".into()]),
            exclude_namespaces: vec!["kube-system".into()],
            ..options(&server)
        },
    );
    for o in &snapshot.objects {
        if let Some(ns) = o["metadata"]["namespace"].as_str() {
            assert_eq!(ns, "ratingsapp", "{}", o["metadata"]["name"]);
        }
    }
    let namespaces: Vec<&str> = snapshot
        .objects
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces, ["ratingsapp"]);
    assert!(snapshot.objects.iter().any(|o| o["kind"] == "ClusterRole"));
    assert_eq!(counts_by_type(&snapshot)["pods"], 3);
}

/// Not collected never aborts: the exit code follows the findings and --fail-on, and --strict
/// turns anything missing into exit 2.
#[test]
fn cli_cluster_scan_exit_codes() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let kubeconfig = server.kubeconfig();
    let k = kubeconfig.to_str().unwrap();
    let out = posture(&["scan", "--kubeconfig", k]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_exit(&out, 0);
    assert!(
        stdout.starts_with("Cluster lab-aks, Kubernetes v1.28.0 on AKS, collected "),
        "{stdout}"
    );
    assert!(stdout.contains("not collected: secrets: 403 Forbidden"));
    assert!(stdout.contains("kubelet config of node aks-nodepool1-38290315-vmss000000: 400"));
    let out = posture(&["scan", "--kubeconfig", k, "--fail-on", "high"]);
    assert_eq!(out.status.code(), Some(1));
    let out = posture(&["scan", "--kubeconfig", k, "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let out = posture(&["scan", "--kubeconfig", k, "--context", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("context 'nope' is not in the kubeconfig")
    );
}

#[test]
fn cli_snapshot_then_scan_matches_live_json() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.json");
    let k = server.kubeconfig();
    let k = k.to_str().unwrap();
    let out = posture(&["snapshot", "--kubeconfig", k, "-o", file.to_str().unwrap()]);
    assert_exit(&out, 0);
    let from_file = posture(&[
        "scan",
        "--snapshot",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let live = posture(&["scan", "--kubeconfig", k, "--format", "json"]);
    let strip_time = |o: &std::process::Output| {
        let mut v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["cluster"]["collected_at"] = Value::Null;
        v
    };
    assert_eq!(strip_time(&from_file), strip_time(&live));
}

/// fixtures/clusters/aks-ratings.json is posture's snapshot of the recorded lab as its read-only
/// user sees it; regenerate with `POSTURE_UPDATE_FIXTURES=1 cargo test cluster_fixture`.
#[test]
fn cluster_fixture_is_a_current_snapshot_of_the_lab() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let mut snapshot = collect(&server);
    snapshot.collected_at = "2026-11-22T13:30:00Z".to_owned();
    let mut fresh = Vec::new();
    snapshot.write(&mut fresh).unwrap();
    let path = repo().join("fixtures/clusters/aks-ratings.json");
    if std::env::var_os("POSTURE_UPDATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let stored = std::fs::read(&path).unwrap_or_default();
    assert!(
        stored == fresh,
        "{} is stale; regenerate with POSTURE_UPDATE_FIXTURES=1 cargo test cluster_fixture",
        path.display()
    );
    let saved = Snapshot::read(stored.as_slice()).unwrap();
    let report = scan_snapshot(evaluator(), saved, &auto());
    insta::assert_snapshot!("aks_ratings_table", render(Format::Table, &report));
}

/// Writes a kubeconfig with one cluster and one context, both named `name`, whose user is
/// described by `user` (YAML at the indentation of a user's fields, e.g. `token: t`).
fn write_kubeconfig(path: &std::path::Path, name: &str, server: &str, user: &str) {
    let user: String = user.lines().map(|l| format!("    {l}\n")).collect();
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n\
             users:\n- name: {name}-user\n  user:\n{user}contexts:\n- name: {name}\n  context:\n    \
             cluster: {name}\n    user: {name}-user\ncurrent-context: {name}\n"
        ),
    )
    .unwrap();
}

/// KUBECONFIG names several files and kubectl merges them: a context from the second file works.
#[test]
fn kubeconfig_files_in_kubeconfig_are_merged() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other");
    write_kubeconfig(&other, "elsewhere", "http://127.0.0.1:9", "token: t");
    let joined = std::env::join_paths([other, server.kubeconfig()]).unwrap();
    let out = posture_command(&["scan", "--context", "lab-aks", "--format", "json"])
        .env("KUBECONFIG", joined)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cluster"]["name"], "lab-aks");
    assert_eq!(report["cluster"]["platform"], "AKS");
}

/// An API server that accepts connections and never answers: the request times out and the
/// scan ends with a clear error, naming the server and context, instead of hanging.
#[test]
fn an_unanswering_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(
        &kubeconfig,
        "silent",
        &format!("http://{address}"),
        "token: t",
    );
    let out = posture(&[
        "scan",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--request-timeout",
        "500ms",
    ]);
    drop(listener);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: cannot reach the API server http://{address} of context 'silent': \
             no complete answer within 500ms (raise --request-timeout)"
        )
    );
}

/// A refused connection said "cannot reach the API server" without saying which one.
#[test]
fn connection_errors_name_the_server_and_context() {
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // The listener is dropped: nothing listens on the port now.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(&kubeconfig, "aks", &format!("http://{address}"), "token: t");
    let out = posture(&["scan", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: cannot reach the API server http://{address} of context 'aks': "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("onnection refused"), "{stderr}");
}
/// Credentials from an exec plugin (kubelogin, `aws eks get-token`, gke-gcloud-auth-plugin all
/// work this way): kubectl's ExecCredential protocol, here with a shell command standing in.
#[test]
fn exec_credential_plugins_supply_the_token() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let plugin = dir.path().join("credential.sh");
    std::fs::write(
        &plugin,
        r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec-plugin"}}'"#,
    )
    .unwrap();
    write_kubeconfig(
        &kubeconfig,
        "aks",
        &server.url(),
        &format!(
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: sh\n  \
             args: [\"{}\"]\n  interactiveMode: Never",
            plugin.display()
        ),
    );
    let out = posture(&[
        "scan",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["cluster"]["context"], "aks");
    assert!(report["summary"]["findings"].as_u64().unwrap() > 0);
}

/// deploy/rbac.yaml's ClusterRole grants list on exactly what a scan reads, nothing beyond
/// get/list/watch (and get on nodes/proxy), and the README shows the same role.
#[test]
fn shipped_cluster_role_covers_what_is_collected_and_no_more() {
    let text = std::fs::read_to_string(repo().join("deploy/rbac.yaml")).unwrap();
    let start = text
        .find("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n")
        .unwrap();
    let end = start + text[start..].find("---").unwrap();
    let role_text = &text[start..end];
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(role_text.trim_end()),
        "README shows deploy/rbac.yaml's ClusterRole"
    );

    let role: Value = serde_saphyr::from_str(role_text).unwrap();
    let mut granted: Vec<String> = Vec::new();
    for rule in role["rules"].as_array().unwrap() {
        let verbs: Vec<&str> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if rule.get("nonResourceURLs").is_some() {
            assert_eq!(verbs, ["get"]);
            continue;
        }
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                let (group, resource) = (group.as_str().unwrap(), resource.as_str().unwrap());
                let name = if group.is_empty() {
                    resource.to_owned()
                } else {
                    format!("{resource}.{group}")
                };
                if resource == "nodes/proxy" {
                    assert_eq!(verbs, ["get"]);
                } else {
                    assert_eq!(verbs, ["get", "list", "watch"], "{name}");
                    granted.push(name);
                }
            }
        }
    }
    granted.sort();
    let mut expected: Vec<String> = EXPECTED_TYPES
        .iter()
        .chain(OPTIONAL_TYPES)
        .map(|t| t.to_string())
        .collect();
    expected.sort();
    assert_eq!(granted, expected);
}

/// Types collected only where the server serves them (CRDs the lab recording lacks).
const OPTIONAL_TYPES: &[&str] = &[
    "ciliumclusterwidenetworkpolicies.cilium.io",
    "ciliumnetworkpolicies.cilium.io",
    "globalnetworkpolicies.crd.projectcalico.org",
    "globalnetworkpolicies.projectcalico.org",
    "networkpolicies.crd.projectcalico.org",
    "networkpolicies.projectcalico.org",
];

fn cilium_types(policies: Vec<Value>) -> Vec<crate::lab::CustomResource> {
    vec![
        crate::lab::CustomResource {
            group: "cilium.io".into(),
            version: "v2".into(),
            kind: "CiliumNetworkPolicy".into(),
            plural: "ciliumnetworkpolicies".into(),
            namespaced: true,
            items: policies,
        },
        crate::lab::CustomResource {
            group: "cilium.io".into(),
            version: "v2".into(),
            kind: "CiliumClusterwideNetworkPolicy".into(),
            plural: "ciliumclusterwidenetworkpolicies".into(),
            namespaced: false,
            items: vec![],
        },
    ]
}

fn no_network_policy_findings(report: &ScanReport, namespace: &str) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.rule_id == "PST-0224" && f.object.namespace.as_deref() == Some(namespace))
        .count()
}

/// A cluster that serves Cilium's CRDs has its policies collected (and only then), and a
/// CiliumNetworkPolicy default deny counts as the namespace's NetworkPolicy.
#[test]
fn cilium_policies_are_collected_where_served_and_cover_workloads() {
    if !crate::lab::recorded() {
        return;
    }
    let plain = collect(&LabServer::start(LabOptions::default()));
    assert!(!counts_by_type(&plain).contains_key("ciliumnetworkpolicies.cilium.io"));
    let before = scan_snapshot(evaluator(), plain, &auto());
    assert!(no_network_policy_findings(&before, "ratingsapp") > 0);

    let deny = serde_json::json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "ratingsapp", "resourceVersion": "1"},
        "spec": {"endpointSelector": {}, "ingress": [{}], "egress": [{}]},
    });
    let server = LabServer::start(LabOptions {
        custom: cilium_types(vec![deny]),
        ..LabOptions::default()
    });
    let snapshot = collect(&server);
    let counts = counts_by_type(&snapshot);
    assert_eq!(counts.get("ciliumnetworkpolicies.cilium.io"), Some(&1));
    assert!(snapshot
        .not_collected
        .iter()
        .all(|m| !m.target.contains("cilium")));
    let after = scan_snapshot(evaluator(), snapshot, &auto());
    assert_eq!(no_network_policy_findings(&after, "ratingsapp"), 0);
}

/// `--benchmark auto`, the default of `posture scan`.
fn auto() -> Judging {
    Judging::default()
}

/// Collects on a runtime of its own, and fails the test if collection is still running after
/// `limit`: these tests are about posture never hanging.
fn collect_within(options: &ClusterOptions, limit: Duration) -> Snapshot {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(async {
            tokio::time::timeout(limit, cluster::collect(options, &needed(), &Silent)).await
        })
        .unwrap_or_else(|_| panic!("collection still runs after {limit:?}"))
        .unwrap_or_else(|e| panic!("collection fails: {e:#}"))
}

/// Runs posture and kills it if it is still running after `limit`, failing the test.
fn posture_within(args: &[&str], limit: Duration) -> std::process::Output {
    let child = posture_command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(child.wait_with_output()));
    match receive.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // Only this test's own child, by its id.
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("posture {args:?} still runs after {limit:?}");
        }
    }
}

fn lab_with(faults: Vec<(&str, Fault)>) -> LabServer {
    LabServer::start(LabOptions {
        faults: faults
            .into_iter()
            .map(|(target, fault)| (target.to_owned(), fault))
            .collect(),
        ..LabOptions::default()
    })
}

/// The reasons of what was not collected, by target.
fn missing(snapshot: &Snapshot) -> BTreeMap<String, String> {
    snapshot
        .not_collected
        .iter()
        .map(|n| (n.target.clone(), n.reason.clone()))
        .collect()
}

/// Everything but `targets` (and the lab's forbidden Secrets) was collected, in full.
fn assert_only_missing(server: &LabServer, snapshot: &Snapshot, targets: &[&str]) {
    let missing = missing(snapshot);
    let mut expected: Vec<&str> = targets.to_vec();
    expected.push("secrets");
    expected.sort();
    assert_eq!(
        missing.keys().map(String::as_str).collect::<Vec<_>>(),
        expected,
        "{missing:#?}"
    );
    let counts = server.counts();
    for (name, count) in counts_by_type(snapshot) {
        assert_eq!(Some(&count), counts.get(&name), "objects of {name}");
    }
}

/// A body sent at one byte per 50 ms was bounded only while waiting for headers: the list
/// never ended. Now the deadline covers the whole answer, and the other types are collected.
#[test]
fn a_slowly_sent_body_times_out_and_the_rest_is_collected() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![(
        "deployments.apps",
        Fault::Trickle(Duration::from_millis(50)),
    )]);
    let mut options = options(&server);
    options.connect.request_timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let snapshot = collect_within(&options, Duration::from_secs(8));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_only_missing(&server, &snapshot, &["deployments.apps"]);
    assert_eq!(
        missing(&snapshot)["deployments.apps"],
        "no complete answer within 1s (raise --request-timeout)"
    );
}

/// A node proxy that never answers costs that node's kubelet configuration, no more.
#[test]
fn a_hanging_kubelet_read_times_out() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![(
        "/api/v1/nodes/lab-kubelet-0/proxy/configz",
        Fault::Hang,
    )]);
    let mut options = options(&server);
    options.connect.request_timeout = Duration::from_secs(1);
    let snapshot = collect_within(&options, Duration::from_secs(8));
    assert_only_missing(&server, &snapshot, &[]);
    let node = snapshot
        .nodes
        .iter()
        .find(|n| n.name == "lab-kubelet-0")
        .unwrap();
    assert_eq!(
        node.kubelet_config,
        KubeletConfig::NotCollected {
            reason: "no complete answer within 1s (raise --request-timeout)".to_owned()
        }
    );
}

/// `posture scan` and `posture snapshot` ran forever against a server trickling /version.
#[test]
fn cli_scan_and_snapshot_end_when_the_server_trickles() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![(
        "/version",
        Fault::Trickle(Duration::from_millis(200)),
    )]);
    let k = server.kubeconfig();
    let k = k.to_str().unwrap();
    for command in ["scan", "snapshot"] {
        let out = posture_within(
            &[command, "--kubeconfig", k, "--request-timeout", "1s"],
            Duration::from_secs(8),
        );
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim_end(),
            format!(
                "error: cannot reach the API server {} of context 'lab-aks': no complete \
                 answer within 1s (raise --request-timeout)",
                server.url()
            ),
            "{command}"
        );
    }
}

/// A connection read timeout counted the time a keep-alive connection sat idle in the pool
/// while another list was slow, so the next list sent on it timed out though it took 0.8 s
/// of a 2 s limit.
#[test]
fn idle_pooled_connections_do_not_eat_a_request_s_time() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![
        // Lists run two at a time in type order: configmaps, namespaces, then nodes and
        // persistentvolumeclaims once configmaps is done, one of them on the connection
        // namespaces left idle for 1.4 s.
        ("configmaps", Fault::Delay(Duration::from_millis(1400))),
        ("nodes", Fault::Delay(Duration::from_millis(800))),
        (
            "persistentvolumeclaims",
            Fault::Delay(Duration::from_millis(800)),
        ),
    ]);
    let mut options = options(&server);
    options.connect.request_timeout = Duration::from_secs(2);
    options.concurrency = 2;
    let snapshot = collect_within(&options, Duration::from_secs(8));
    assert_only_missing(&server, &snapshot, &[]);
}

/// A continue token that never runs out made posture page until memory ran out.
#[test]
fn an_endless_continue_token_stops_at_max_pages() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![("deployments.apps", Fault::EndlessContinue)]);
    let snapshot = collect_within(
        &ClusterOptions {
            max_pages: 5,
            ..options(&server)
        },
        Duration::from_secs(8),
    );
    assert_only_missing(&server, &snapshot, &["deployments.apps"]);
    assert_eq!(
        missing(&snapshot)["deployments.apps"],
        "stopped after 5 pages: the server kept sending continue tokens (raise --max-pages)"
    );
    let pages = server
        .requests()
        .iter()
        .filter(|r| r.path == "/apis/apps/v1/deployments")
        .count();
    assert_eq!(pages, 5);
}

/// A 3 MB gzip answer that inflates to 3 GiB aborted the process; the cap counts decoded bytes.
#[test]
fn a_gzip_bomb_stops_at_max_response_bytes() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![
        ("configmaps", Fault::GzipBomb(16 << 20)),
        // A small gzip answer under the cap decodes: an empty List.
        ("podtemplates", Fault::GzipBomb(4096)),
    ]);
    let mut options = options(&server);
    options.connect.max_response_bytes = 1 << 20;
    let snapshot = collect_within(&options, Duration::from_secs(8));
    assert_eq!(
        missing(&snapshot)["configmaps"],
        "the answer is larger than 1MiB once decoded (raise --max-response-bytes)"
    );
    assert_eq!(counts_by_type(&snapshot)["podtemplates"], 0);
    assert_eq!(counts_by_type(&snapshot)["pods"], 24);
    assert_eq!(missing(&snapshot).len(), 2, "configmaps and secrets");
}

/// A server that ignores `limit` and sent 10^6 objects in one page peaked at 3.7 GB: the
/// answer's size is capped, and so are the objects kept per list.
#[test]
fn a_list_that_ignores_limit_is_bounded() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab_with(vec![
        ("pods", Fault::Items(30_000)),
        ("configmaps", Fault::Items(3_000)),
    ]);
    let mut options = ClusterOptions {
        max_list_items: 1_000,
        ..options(&server)
    };
    options.connect.max_response_bytes = 1 << 20;
    let snapshot = collect_within(&options, Duration::from_secs(8));
    let missing = missing(&snapshot);
    assert_eq!(
        missing["pods"],
        "the answer is larger than 1MiB once decoded (raise --max-response-bytes)"
    );
    assert_eq!(
        missing["configmaps"],
        "stopped at more than 1000 objects (raise --max-list-items)"
    );
    assert_eq!(counts_by_type(&snapshot)["deployments.apps"], 8);
}

/// A 1 MB HTML error page became a 1 MB reason in every output, and a JSON error body that is
/// not a Status gave the reason `0: `.
#[test]
fn error_bodies_become_short_reasons_with_the_status_code() {
    if !crate::lab::recorded() {
        return;
    }
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>Access denied by policy</title></head><body>{}</body></html>",
        "<p>blocked</p>\n".repeat(70_000)
    );
    let server = lab_with(vec![
        (
            "configmaps",
            Fault::Error {
                status: 403,
                content_type: "text/html".into(),
                body: page.into_bytes(),
            },
        ),
        (
            "pods",
            Fault::Error {
                status: 400,
                content_type: "application/json".into(),
                body: br#"{"error":"bad\nrequest","detail":"x"}"#.to_vec(),
            },
        ),
        (
            "services",
            Fault::Error {
                status: 404,
                content_type: "text/plain".into(),
                body: format!("{}\u{1b}[2J", "not here ".repeat(100)).into_bytes(),
            },
        ),
    ]);
    let snapshot = collect_within(&options(&server), Duration::from_secs(8));
    let missing = missing(&snapshot);
    assert_eq!(
        missing["configmaps"],
        "403 Forbidden: Access denied by policy"
    );
    assert_eq!(
        missing["pods"],
        r#"400 Bad Request: {"error":"bad\nrequest","detail":"x"}"#
    );
    let services = &missing["services"];
    assert!(
        services.starts_with("404 Not Found: not here not here"),
        "{services}"
    );
    assert!(
        services.ends_with('…') && services.chars().count() < 240,
        "{services}"
    );
    assert!(!services.contains('\u{1b}'));
}

/// Garbage `certificate-authority-data` was ignored: the trust store was left empty, and every
/// TLS handshake would fail with an unknown issuer.
#[test]
fn garbage_certificate_authority_data_is_an_error() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // base64 of "garbage": decodes, but holds no PEM certificate.
        ("Z2FyYmFnZQ==", "holds no PEM certificate"),
        (
            "not base64 at all!",
            "holds no PEM certificate: failed to load certificate authority",
        ),
    ];
    for (data, expected) in cases {
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: aks\n  cluster:\n    \
                 server: {}\n    certificate-authority-data: {data}\nusers:\n- name: u\n  \
                 user:\n    token: t\ncontexts:\n- name: aks\n  context:\n    cluster: aks\n    \
                 user: u\ncurrent-context: aks\n",
                server.url()
            ),
        )
        .unwrap();
        let out = posture(&["scan", "--kubeconfig", kubeconfig.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{data}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!(
                "error: the certificate-authority-data of cluster 'aks' in the kubeconfig {expected}"
            )),
            "{data}: {stderr}"
        );
    }
    assert!(server.requests().is_empty());
}

/// `-n` values went into request paths unencoded.
#[test]
fn namespaces_are_validated_and_encoded() {
    if !crate::lab::recorded() {
        return;
    }
    let out = posture(&["scan", "--kubeconfig", "unused", "-n", "web,../../secrets"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'../../secrets' is not a namespace name"),
        "{stderr}"
    );
    // A library caller's namespace is percent-encoded into one path segment.
    let server = LabServer::start(LabOptions::default());
    collect_within(
        &ClusterOptions {
            namespaces: Some(vec!["x/../../../api/v1/secrets?".into()]),
            ..options(&server)
        },
        Duration::from_secs(8),
    );
    let lists: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/namespaces/"))
        .map(|r| r.path)
        .collect();
    assert!(
        lists.contains(
            &"/api/v1/namespaces/x%2F..%2F..%2F..%2Fapi%2Fv1%2Fsecrets%3F/pods".to_owned()
        ),
        "{lists:?}"
    );
    assert!(server
        .requests()
        .iter()
        .all(|r| r.path != "/api/v1/secrets"));
}

/// `--request-timeout 99999999999999999999s` panicked in `Duration::from_secs_f64`.
#[test]
fn absurd_bounds_are_usage_errors() {
    for args in [
        ["--request-timeout", "99999999999999999999s"],
        ["--exec-timeout", "0s"],
        ["--max-response-bytes", "99999999999999999999"],
        ["--max-pages", "0"],
        ["--max-list-items", "1.5"],
    ] {
        let mut all = vec!["scan", "--kubeconfig", "unused"];
        all.extend(args);
        let out = posture(&all);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("invalid value '{}' for '{}", args[1], args[0])),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Writes a kubeconfig whose user gets its credential from `sh <script>` (the script written
/// next to it), as kubelogin and `aws eks get-token` are run.
fn exec_kubeconfig(dir: &std::path::Path, server: &str, script: &str) -> std::path::PathBuf {
    let plugin = dir.join("credential.sh");
    std::fs::write(&plugin, script).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    write_kubeconfig(
        &kubeconfig,
        "aks",
        server,
        &format!(
            "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: sh\n  \
             args: [\"{}\"]\n  interactiveMode: Never",
            plugin.display()
        ),
    );
    kubeconfig
}

/// An exec plugin that never returned hung posture forever.
#[test]
fn a_hanging_exec_plugin_times_out() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    // `exec`, so that the process killed at the timeout is the sleeping one.
    let kubeconfig = exec_kubeconfig(dir.path(), &server.url(), "exec sleep 30\n");
    let out = posture_within(
        &[
            "scan",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--exec-timeout",
            "1s",
        ],
        Duration::from_secs(8),
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "error: cannot get a credential for the API server {} of context 'aks': the \
             credential plugin 'sh' did not finish within 1s (raise --exec-timeout)",
            server.url()
        )
    );
    assert!(server.requests().is_empty());
}

/// A failing exec plugin's output was printed as a raw debug dump of the process output.
#[test]
fn a_failing_exec_plugin_shows_its_command_and_stderr() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = exec_kubeconfig(
        dir.path(),
        &server.url(),
        "echo 'the token of nobody' \n\
         echo 'error: login required' >&2\n\
         printf 'run \\033[1mkubelogin\\033[0m again\\n\\n' >&2\n\
         exit 3\n",
    );
    let out = posture(&["scan", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "error: cannot get a credential for the API server {} of context 'aks': the \
             credential plugin 'sh' failed (exit status: 3); its stderr begins:\n    \
             error: login required\n    run kubelogin again",
            server.url()
        )
    );
}

/// The progress bar showed a full `0/0` while a server had not answered: collection now says
/// what it waits for before it knows its steps.
#[test]
fn progress_names_the_server_before_steps_are_known() {
    if !crate::lab::recorded() {
        return;
    }
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);
    impl cluster::Progress for Recorder {
        fn add_steps(&self, total: usize) {
            self.0.lock().unwrap().push(format!("steps {total}"));
        }
        fn step(&self, _: &str) {}
        fn phase(&self, what: &str) {
            self.0.lock().unwrap().push(what.to_owned());
        }
    }
    let server = LabServer::start(LabOptions::default());
    let recorder = Recorder::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(cluster::collect(&options(&server), &needed(), &recorder))
        .unwrap();
    let events = recorder.0.into_inner().unwrap();
    assert_eq!(
        events,
        [
            format!("connecting to {}", server.url()),
            "discovering resource types".to_owned(),
            format!("steps {}", EXPECTED_TYPES.len()),
            "steps 4".to_owned(),
        ]
    );
}

/// One of the lab's planted problems: metrics-server runs with `--kubelet-insecure-tls`.
#[test]
fn lab_metrics_server_insecure_tls_is_found() {
    if !crate::lab::recorded() {
        return;
    }
    let report = scan_snapshot(
        evaluator(),
        collect(&LabServer::start(LabOptions::default())),
        &auto(),
    );
    let hits: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.rule_id == "PST-0041" && f.object.name == "metrics-server")
        .map(|f| f.message.to_string())
        .collect();
    assert!(
        hits.iter().any(|m| m.contains("--kubelet-insecure-tls")),
        "{hits:?}"
    );
}

/// The lab's planted CI identity: ServiceAccount ratingsapp/azure-devops-deployer, bound to
/// cluster-admin, with a long-lived token Secret. A user who may list Secrets (metadata only, so
/// no type) gets it reported as critical, naming the binding; the applied manifest, scanned as a
/// file, gives the same finding.
#[test]
fn the_lab_cluster_admin_token_secret_is_found() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::every_list_allowed());
    let report = scan_snapshot(evaluator(), collect(&server), &auto());
    let found = |report: &ScanReport| {
        report
            .findings
            .iter()
            .find(|f| f.rule_id == "PST-0125" && f.object.name == "azure-devops-deployer-token")
            .map(|f| f.message.clone())
    };
    let message = found(&report).expect("PST-0125 on the lab's token Secret");
    assert!(
        message.contains(
            "ClusterRoleBinding 'azure-devops-deployer-cluster-admin' grants ClusterRole 'cluster-admin'"
        ),
        "{message}"
    );
    assert!(report.findings.iter().any(|f| f.rule_id == "PST-0126"
        && f.object.kind == "ServiceAccount"
        && f.object.name == "azure-devops-deployer"));
    // A live cluster's Secrets are meant to hold values.
    assert!(!report.findings.iter().any(|f| f.rule_id == "PST-0312"));
    let manifest = crate::lab::shared_root().join("lab/objects/21-ratingsapp-app.yaml");
    let from_file = crate::common::scan_paths(&[&manifest]);
    assert_eq!(found(&from_file), Some(message));
}
