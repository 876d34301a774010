//! A live-cluster scan end to end against the recorded lab API server (tests/lab) on
//! 127.0.0.1: connect, discover, list every needed type, read kubelet configuration, evaluate
//! every rule. The server answers from memory, so this measures posture's side of a scan: a
//! real API server adds its own latency per request (31 requests for this cluster).

#[allow(dead_code)] // test-only helpers of the lab server
#[path = "../tests/lab/mod.rs"]
mod lab;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use posture::collect::cluster::{self, ClusterOptions, ConnectOptions, Silent};
use posture::engine::Evaluator;
use posture::scan::{self, NeededTypes};
use std::time::Duration;

fn lab_scan(c: &mut Criterion) {
    let lab_options = lab::LabOptions::default();
    if !lab_options.lab_dir.join("api").is_dir() {
        eprintln!(
            "skipping the cluster benchmark: the lab recording {} is not there",
            lab_options.lab_dir.display()
        );
        return;
    }
    let server = lab::LabServer::start(lab_options);
    let catalog = scan::load_catalog(&[]).expect("the built-in rules load");
    let evaluator = Evaluator::new(&catalog).expect("the built-in rules compile");
    let needed = NeededTypes::of(&catalog);
    let options = ClusterOptions {
        connect: ConnectOptions {
            kubeconfig: Some(server.kubeconfig()),
            context: None,
            request_timeout: Duration::from_secs(10),
            ..ConnectOptions::default()
        },
        ..ClusterOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let objects = runtime
        .block_on(cluster::collect(&options, &needed, &Silent))
        .expect("the lab collects")
        .objects
        .len();

    let mut group = c.benchmark_group("cluster");
    group.sample_size(20);
    group.throughput(Throughput::Elements(objects as u64));
    group.bench_function("collect_lab", |b| {
        b.iter(|| runtime.block_on(cluster::collect(&options, &needed, &Silent)))
    });
    group.bench_function("collect_and_scan_lab", |b| {
        b.iter(|| {
            let snapshot = runtime
                .block_on(cluster::collect(&options, &needed, &Silent))
                .expect("the lab collects");
            scan::scan_snapshot(&evaluator, snapshot, &scan::Judging::default())
                .findings
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, lab_scan);
criterion_main!(benches);
