//! `posture watch` under load: a store API server (tests/lab `StoreServer`) holding N objects
//! (default 10,000) and a steady stream of changes (default 10 a second: a privileged pod
//! created, an older one deleted), against the release binary. Prints the event-to-finding
//! latency (p50, p99, max: from the change in the store to its `finding_opened` line on
//! posture's stdout) and posture's peak RSS (VmHWM). Run through `benches/watch.sh`.
//!
//!   WATCH_OBJECTS=10000 WATCH_RATE=10 WATCH_SECONDS=60 WATCH_BENCHMARK=auto

#[allow(dead_code)] // test-only helpers of the lab server
#[path = "../tests/lab/mod.rs"]
mod lab;
#[path = "../examples/support/watch_objects.rs"]
mod watch_objects;

use lab::{StoreOptions, StoreServer};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use watch_objects::{deployment, pod};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn get(address: &str, path: &str) -> u16 {
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return 0;
    };
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is taken.
    let objects = env("WATCH_OBJECTS", 10_000);
    let rate = env("WATCH_RATE", 10).max(1);
    let seconds = env("WATCH_SECONDS", 60);
    let benchmark = std::env::var("WATCH_BENCHMARK").unwrap_or_else(|_| "auto".to_owned());
    let binary = std::env::var("POSTURE_BIN").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/posture").to_owned()
    });

    let server = StoreServer::start(StoreOptions::default());
    let namespaces = 50;
    let mut batch =
        vec![json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}})];
    let per_namespace = (objects / namespaces / 2).max(1);
    for n in 0..namespaces {
        let ns = format!("team-{n:02}");
        batch.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        for i in 0..per_namespace {
            batch.push(deployment(&ns, &format!("app-{i:04}")));
            batch.push(pod(&ns, &format!("job-{i:04}"), false));
        }
    }
    server.store().apply_all(batch);
    let held = server.store().len();

    let kubeconfig = server.kubeconfig();
    let mut child = Command::new(&binary)
        .args([
            "watch",
            "--no-config",
            "--listen",
            "127.0.0.1:0",
            "--benchmark",
            &benchmark,
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{binary} runs ({e}); build it with cargo build --release"));
    let pid = child.id();
    let events: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let sink = Arc::clone(&events);
    let stdout = child.stdout.take().expect("stdout is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("\"finding_opened\"") && line.contains("PST-0003") {
                sink.lock().unwrap().push((Instant::now(), line));
            }
        }
    });
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut address = String::new();
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if let Some(rest) = line.split("serving http://").nth(1) {
            address = rest.split('/').next().unwrap_or_default().to_owned();
            break;
        }
    }
    let started = Instant::now();
    while get(&address, "/readyz") != 200 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready = started.elapsed();
    // Let the first evaluation's events drain.
    std::thread::sleep(Duration::from_secs(3));
    let rss_ready = kib(pid, "VmRSS:").unwrap_or(0);

    let changes = seconds * rate;
    let mut created = Vec::new();
    let begun = Instant::now();
    let mut rss_max = 0;
    for i in 0..changes {
        let next = begun + Duration::from_secs(i) / u32::try_from(rate).unwrap_or(1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        let ns = format!("team-{:02}", i % namespaces);
        let name = format!("churn-{i:06}");
        server.store().apply(pod(&ns, &name, true));
        created.push((format!("\"name\":\"{name}\""), Instant::now()));
        if i >= 50 {
            let old = i - 50;
            server.store().delete(
                "v1",
                "Pod",
                Some(&format!("team-{:02}", old % namespaces)),
                &format!("churn-{old:06}"),
            );
        }
        rss_max = rss_max.max(kib(pid, "VmRSS:").unwrap_or(0));
    }
    std::thread::sleep(Duration::from_secs(5));
    let seen = events.lock().unwrap().clone();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut missing = 0;
    for (needle, at) in &created {
        match seen.iter().find(|(_, line)| line.contains(needle.as_str())) {
            Some((when, _)) => latencies.push(when.saturating_duration_since(*at)),
            None => missing += 1,
        }
    }
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let peak = kib(pid, "VmHWM:").unwrap_or(0);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait().expect("posture watch ends");
    println!("objects held by the server: {held}; benchmark: {benchmark}");
    println!("ready (first list and evaluation): {ready:.2?}");
    println!(
        "changes: {changes} at {rate}/s; findings missed: {missing}; event-to-finding latency p50 {:.0?} p99 {:.0?} max {:.0?}",
        pct(50),
        pct(99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "RSS: {} MiB when ready, {} MiB at most under changes; peak (VmHWM) {} MiB; exit {:?}",
        rss_ready / 1024,
        rss_max / 1024,
        peak / 1024,
        status.code()
    );
}
