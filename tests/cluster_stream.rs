//! A cluster scan evaluates pages as they arrive (`scan::cluster`): its report must be the
//! report of the same cluster collected whole, then scanned, whatever the lists do (small
//! pages, a continue token that expires, a list that is refused, one list per namespace).

use crate::cluster::options;
use crate::common::{evaluator, repo};
use crate::lab::{LabOptions, LabServer};
use posture::collect::cluster::{self, ClusterOptions, Silent};
use posture::report::{self, Document, Format, Style};
use posture::scan::{self, ExceptionSource, Input, Judging, NeededTypes, ScanReport, ScanRequest};
use serde_json::Value;

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 1, 1)
}

fn streamed(options: &ClusterOptions) -> ScanReport {
    let request = ScanRequest {
        skip_fix_list: true,
        allow_empty: true,
        exceptions: ExceptionSource::None,
        today: Some(today()),
        ..ScanRequest::new(Input::Cluster(options.clone()))
    };
    scan::run(&request, &Silent).unwrap_or_else(|e| panic!("the scan runs: {e:#}"))
}

/// The scan as it was before pages were evaluated as they arrived: a snapshot of every object,
/// then evaluated at once.
fn whole(options: &ClusterOptions) -> ScanReport {
    let catalog = posture::policy::Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let snapshot = runtime
        .block_on(cluster::collect(
            options,
            &NeededTypes::of(&catalog),
            &Silent,
        ))
        .unwrap_or_else(|e| panic!("collection fails: {e:#}"));
    let judging = Judging {
        today: Some(today()),
        skip_fix_list: true,
        ..Judging::default()
    };
    scan::scan_snapshot(evaluator(), snapshot, &judging)
}

/// The JSON report, without the time of collection (two collections, two times).
fn json(report: &ScanReport) -> Value {
    fn forget_time(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("collected_at");
                map.values_mut().for_each(forget_time);
            }
            Value::Array(items) => items.iter_mut().for_each(forget_time),
            _ => {}
        }
    }
    let mut out = Vec::new();
    report::write_document(
        Format::Json,
        Document::Scan(report),
        Style::default(),
        &mut out,
    )
    .unwrap_or_else(|e| panic!("the report renders: {e}"));
    let mut value: Value = serde_json::from_slice(&out).unwrap();
    forget_time(&mut value);
    value
}

/// A lab server of its own (a fault that happens once must happen to each of the two
/// collections compared) and the options to collect from it.
fn served(lab: &LabOptions, tune: impl Fn(&mut ClusterOptions)) -> (LabServer, ClusterOptions) {
    let server = LabServer::start(lab.clone());
    let mut options = options(&server);
    tune(&mut options);
    (server, options)
}

/// Compares the two scans of the recorded lab; skipped (as `lab::recorded` says) without it.
fn assert_same(lab: LabOptions, tune: impl Fn(&mut ClusterOptions)) {
    if !crate::lab::recorded() {
        return;
    }
    let (_server, options_whole) = served(&lab, &tune);
    let whole = whole(&options_whole);
    let (_server, options_streamed) = served(&lab, &tune);
    let streamed = streamed(&options_streamed);
    assert!(
        whole.findings.len() > 20 && whole.objects > 50,
        "the lab cluster has something to find: {} findings on {} objects",
        whole.findings.len(),
        whole.objects
    );
    assert_eq!(streamed.objects, whole.objects);
    assert_eq!(streamed.evaluated.len(), whole.evaluated.len());
    let (streamed, whole) = (json(&streamed), json(&whole));
    if streamed != whole {
        let (s, w) = (
            serde_json::to_string_pretty(&streamed).unwrap(),
            serde_json::to_string_pretty(&whole).unwrap(),
        );
        let first = s
            .lines()
            .zip(w.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let at = |text: &str| {
            text.lines()
                .skip(first.saturating_sub(5))
                .take(15)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "the streamed scan differs from the whole one from line {first}:\n--- streamed\n{}\n--- whole\n{}",
            at(&s),
            at(&w)
        );
    }
}

#[test]
fn a_cluster_scan_reports_what_a_scan_of_its_snapshot_reports() {
    assert_same(LabOptions::every_list_allowed(), |_| {});
}

#[test]
fn small_pages_and_an_expired_continue_token_change_nothing() {
    assert_same(
        LabOptions {
            expire_continue_once: true,
            ..LabOptions::every_list_allowed()
        },
        |o| o.page_size = 2,
    );
}

/// Pods whose ReplicaSets cannot be listed are judged themselves, as from a snapshot without
/// ReplicaSets.
#[test]
fn refused_lists_change_nothing() {
    assert_same(
        LabOptions {
            forbidden: vec![
                "replicasets.apps".into(),
                "rolebindings.rbac.authorization.k8s.io".into(),
            ],
            ..LabOptions::default()
        },
        |o| o.page_size = 3,
    );
}

#[test]
fn one_list_per_namespace_changes_nothing() {
    assert_same(
        LabOptions {
            expire_continue_once: true,
            ..LabOptions::every_list_allowed()
        },
        |o| {
            o.page_size = 2;
            o.namespaces = Some(vec![
                "kube-system".into(),
                "default".into(),
                "kube-public".into(),
            ]);
        },
    );
}

/// Lists that stop after some of their pages (too many pages) are not collected: what their
/// pages gave is taken back.
#[test]
fn lists_that_stop_part_way_change_nothing() {
    assert_same(LabOptions::every_list_allowed(), |o| {
        o.page_size = 2;
        o.max_pages = 4;
    });
}

/// A change to the options of a case.
type Tune = fn(&mut ClusterOptions);

/// `posture snapshot` writes the objects it kept in a temporary file as they were listed: the
/// same bytes as the snapshot held whole, under the same faults.
#[test]
fn a_snapshot_written_from_its_spilled_pages_is_the_whole_snapshot() {
    if !crate::lab::recorded() {
        return;
    }
    let faults: [(LabOptions, Tune); 3] = [
        (LabOptions::every_list_allowed(), |_| {}),
        (
            LabOptions {
                expire_continue_once: true,
                ..LabOptions::every_list_allowed()
            },
            |o| {
                o.page_size = 2;
                o.max_pages = 6;
                // One list at a time, so that the same list meets the expiry in both
                // collections: the pages read before it count towards `max_pages`, and
                // with lists side by side, whichever sent the first continue token got it
                // (rolebindings, 9 objects in 5 pages, then went over the bound in one
                // collection and not the other).
                o.concurrency = 1;
            },
        ),
        (
            LabOptions {
                expire_continue_once: true,
                ..LabOptions::default()
            },
            |o| {
                o.page_size = 3;
                o.namespaces = Some(vec!["kube-system".into(), "default".into()]);
            },
        ),
    ];
    let catalog = posture::policy::Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    let needed = NeededTypes::of(&catalog);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (lab, tune) in faults {
        let (_server, options_whole) = served(&lab, tune);
        let whole = runtime
            .block_on(cluster::collect(&options_whole, &needed, &Silent))
            .unwrap();
        let (_server, options_spilled) = served(&lab, tune);
        let mut spilled = runtime
            .block_on(cluster::collect_spilled(&options_spilled, &needed, &Silent))
            .unwrap();
        assert!(
            spilled.snapshot.objects.is_empty(),
            "the objects are spilled"
        );
        assert_eq!(
            spilled.objects(),
            whole.objects.len(),
            "the two collections kept different objects:\nspilled: {}\nwhole:   {}",
            collected(&spilled.snapshot),
            collected(&whole)
        );
        spilled.snapshot.collected_at = whole.collected_at.clone();
        let (mut expected, mut written) = (Vec::new(), Vec::new());
        whole.write(&mut expected).unwrap();
        spilled.write(&mut written).unwrap();
        assert!(
            written == expected,
            "the spilled snapshot differs:\n{}",
            String::from_utf8_lossy(&written)
                .lines()
                .zip(String::from_utf8_lossy(&expected).lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("written:  {a}\nexpected: {b}"))
                .unwrap_or_else(|| "(one is longer)".to_owned())
        );
    }
}

/// What a collection kept per type and what it did not collect, to tell two collections apart.
fn collected(snapshot: &posture::snapshot::Snapshot) -> String {
    let kept = snapshot
        .resource_types
        .iter()
        .map(|t| format!("{} {}", t.resource, t.count));
    let missing = snapshot
        .not_collected
        .iter()
        .map(|n| format!("not collected: {}: {}", n.target, n.reason));
    kept.chain(missing).collect::<Vec<_>>().join(", ")
}

/// The AKS ratings cluster of fixtures/clusters, served page by page from the store API
/// server: its Ingress, Services, controllers and owned ReplicaSets and Pods, NetworkPolicy and
/// RBAC, judged as its snapshot is. Needs nothing from ../shared.
#[test]
fn the_ratings_cluster_scans_as_its_snapshot_does() {
    use crate::lab::{StoreOptions, StoreServer};
    let text = std::fs::read_to_string(repo().join("fixtures/clusters/aks-ratings.json")).unwrap();
    let snapshot = posture::snapshot::Snapshot::read(text.as_bytes()).unwrap();
    let server = StoreServer::start(StoreOptions::default());
    let served: Vec<Value> = snapshot
        .objects
        .iter()
        .filter(|o| {
            let api_version = o["apiVersion"].as_str().unwrap_or_default();
            server
                .store()
                .type_of(api_version, o["kind"].as_str().unwrap_or_default())
                .is_some()
        })
        .cloned()
        .collect();
    assert!(served.len() > 200, "most of the cluster is served");
    server.store().apply_all(served);
    let mut options = ClusterOptions {
        page_size: 5,
        ..ClusterOptions::default()
    };
    options.connect.kubeconfig = Some(server.kubeconfig());
    options.connect.request_timeout = std::time::Duration::from_secs(10);
    let whole = whole(&options);
    let streamed = streamed(&options);
    assert!(
        whole.findings.len() > 50 && whole.compliance.is_some() && !whole.attack_paths.is_empty(),
        "the cluster has findings, a benchmark and attack paths to compare"
    );
    assert_eq!(json(&streamed), json(&whole));
}
