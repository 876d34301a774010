//! A scaled cluster: `posture scan --kubeconfig` against the store API server (tests/lab
//! `StoreServer`, on 127.0.0.1) holding N objects, listed page by page (`limit`/`continue`, at
//! the page size posture asks for, as from a real API server). The objects are
//! `examples/gen_manifests.rs`'s mix (the same as `benches/scale.sh` scans from files), plus the
//! Namespaces they live in. Runs the release binary under GNU time and prints objects, wall
//! seconds, CPU seconds (user + system), objects per second (by wall time), peak RSS and the list
//! requests the server answered. Run through `benches/cluster_scale.sh`.
//!
//!   cargo bench --bench cluster_scale -- [N...]     (default: 10000)

#[allow(dead_code)] // test-only helpers of the lab server
#[path = "../tests/lab/mod.rs"]
mod lab;

#[allow(dead_code)] // the generator's `main` and `write_dir` are for the example binary
#[path = "../examples/gen_manifests.rs"]
mod gen;

use lab::{StoreOptions, StoreServer};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;

/// The generated objects as the API server would hold them, Namespaces first.
fn objects(n: usize) -> Vec<Value> {
    let mut objects = Vec::with_capacity(n);
    for (name, text) in gen::generate(n) {
        // gen_manifests separates documents with a line of its own.
        for doc in text.split("\n---\n") {
            let object: Value = serde_saphyr::from_str(doc)
                .unwrap_or_else(|e| panic!("{name}: generated YAML parses ({e})"));
            objects.push(object);
        }
    }
    let namespaces: BTreeSet<String> = objects
        .iter()
        .filter_map(|o| o["metadata"]["namespace"].as_str().map(str::to_owned))
        .collect();
    let mut all: Vec<Value> = namespaces
        .into_iter()
        .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        .collect();
    all.extend(objects);
    all
}

/// Seconds from GNU time's "h:mm:ss" or "m:ss.ss".
fn clock(text: &str) -> f64 {
    text.split(':')
        .fold(0.0, |s, part| s * 60.0 + part.parse::<f64>().unwrap_or(0.0))
}

fn field<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix(name))
        .map(str::trim)
        .unwrap_or("0")
}

fn main() {
    // `cargo bench` passes --bench; the rest are object counts.
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| {
            a.parse()
                .unwrap_or_else(|_| panic!("N must be a number, got '{a}'"))
        })
        .collect();
    if sizes.is_empty() {
        sizes.push(10_000);
    }
    let binary = std::env::var("POSTURE_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/posture").to_owned()
    });
    let work = tempfile::tempdir().expect("a temporary directory for GNU time's report");
    let timing = work.path().join("time.txt");

    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>12} {:>14} {:>8}",
        "objects", "served", "wall_s", "cpu_s", "objects/s", "peak_rss_mb", "pages"
    );
    for n in sizes {
        let objects = objects(n);
        let served = objects.len();
        // A watch log is not needed for one list; keeping 200,000 copies would only make the
        // bench's own process larger.
        let server = StoreServer::start(StoreOptions {
            log_limit: 16,
            ..StoreOptions::default()
        });
        server.store().apply_all(objects);
        let output = Command::new("/usr/bin/time")
            .arg("-v")
            .arg("-o")
            .arg(&timing)
            .arg(&binary)
            .args(["scan", "--no-config", "--format", "json", "-o", "/dev/null"])
            .arg("--kubeconfig")
            .arg(server.kubeconfig())
            .output()
            .unwrap_or_else(|e| panic!("/usr/bin/time {binary} runs ({e}); needs GNU time"));
        // 0: clean, 1: findings at or above --fail-on; 2 is an error.
        if !matches!(output.status.code(), Some(0 | 1)) {
            panic!(
                "posture exited {:?} on {n} objects:\n{}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let report = std::fs::read_to_string(&timing).expect("GNU time wrote its report");
        let wall = clock(field(
            &report,
            "Elapsed (wall clock) time (h:mm:ss or m:ss):",
        ));
        let cpu = field(&report, "User time (seconds):")
            .parse::<f64>()
            .unwrap_or(0.0)
            + field(&report, "System time (seconds):")
                .parse::<f64>()
                .unwrap_or(0.0);
        let rss_kb: f64 = field(&report, "Maximum resident set size (kbytes):")
            .parse()
            .unwrap_or(0.0);
        let pages = server
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && !r.is_watch() && r.param("limit").is_some())
            .count();
        println!(
            "{:>10} {:>10} {:>10.2} {:>10.2} {:>12.0} {:>14.1} {:>8}",
            n,
            served,
            wall,
            cpu,
            if wall > 0.0 {
                served as f64 / wall
            } else {
                0.0
            },
            rss_kb / 1024.0,
            pages
        );
    }
}
