//! Times `posture watch`'s phases and prints resident memory after each, without a server: N
//! objects (as benches/watch.rs makes them) are handed to the watch state as its first list
//! would hand them, in the evaluation's batches, then one change, then a benchmark assessment.
//! `cargo run --release --example watch_timing -- [OBJECTS]` (default 10000);
//! `WATCH_BENCHMARK=none` leaves the benchmark out.

#[path = "support/watch_objects.rs"]
mod watch_objects;
use watch_objects::{deployment, pod};
#[path = "support/memory.rs"]
mod memory;
use memory::memory;
use posture::collect::cluster::watch::{strip, Change, WatchedStream};
use posture::scan::{BenchmarkChoice, Judging};
use posture::watch::WatchState;
use serde_json::{json, Value};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// As `posture watch` batches changes (cli/watch.rs `BATCH`).
const BATCH: usize = 4096;

fn stream(api_version: &str, kind: &str, type_name: &str) -> WatchedStream {
    WatchedStream {
        api_version: api_version.into(),
        kind: kind.into(),
        type_name: type_name.into(),
        namespace: None,
    }
}

/// Resident and peak resident memory in KiB (Linux; zero elsewhere).
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    let objects: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let benchmark = match std::env::var("WATCH_BENCHMARK").as_deref() {
        Ok("none") => BenchmarkChoice::Off,
        _ => BenchmarkChoice::Auto,
    };
    eprintln!("start ({})", memory());
    let t = Instant::now();
    let catalog = posture::policy::Catalog::builtin().unwrap();
    let evaluator = posture::engine::Evaluator::new(&catalog).unwrap();
    eprintln!("compile {:?} ({})", t.elapsed(), memory());
    let streams = vec![
        stream("v1", "Namespace", "namespaces"),
        stream("v1", "Node", "nodes"),
        stream("v1", "Pod", "pods"),
        stream("apps/v1", "Deployment", "deployments.apps"),
    ];
    let mut state = WatchState::new(
        evaluator,
        "bench".into(),
        None,
        Default::default(),
        streams.clone(),
    );
    state.set_judging(Judging {
        benchmark,
        ..Judging::default()
    });

    let mut changes: Vec<Change> = (0..streams.len())
        .map(|stream| Change::Relisting { stream })
        .collect();
    let mut add = |stream: usize, mut object: Value| {
        strip(&mut object);
        changes.push(Change::Applied { stream, object });
    };
    add(
        1,
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}),
    );
    let namespaces = 50;
    let per_namespace = (objects / namespaces / 2).max(1);
    for n in 0..namespaces {
        let ns = format!("team-{n:02}");
        add(
            0,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
        for i in 0..per_namespace {
            add(3, deployment(&ns, &format!("app-{i:04}")));
            add(2, pod(&ns, &format!("job-{i:04}"), false));
        }
    }
    changes.extend((0..streams.len()).map(|stream| Change::Listed { stream }));
    let total = changes.len();
    eprintln!("{total} changes made ({})", memory());

    let t = Instant::now();
    let mut opened = 0;
    let mut rest = changes;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(BATCH));
        let batch = std::mem::replace(&mut rest, tail);
        let last = rest.is_empty();
        let before = Instant::now();
        // As `posture watch` writes them: each chunk's events are dropped before the next.
        state.apply_each(batch, "t0", &mut |events| opened += events.len());
        if last {
            eprintln!(
                "first evaluation {:?} ({} events; {})",
                before.elapsed(),
                opened,
                memory()
            );
        }
    }
    eprintln!("listed and evaluated {:?} ({})", t.elapsed(), memory());

    let t = Instant::now();
    let mut object = pod("team-00", "loud", true);
    strip(&mut object);
    let events = state.apply(vec![Change::Applied { stream: 2, object }], "t1");
    eprintln!(
        "one change {:?} ({} events; {})",
        t.elapsed(),
        events.len(),
        memory()
    );

    // What the findings held cost: a copy of them, measured.
    let open = state.open_findings();
    let count = open.len();
    let (rss, _) = resident();
    let copy: Vec<posture::finding::Finding> = open.into_iter().cloned().collect();
    let (grown, _) = resident();
    eprintln!(
        "a copy of the {count} open findings: {} MiB (about {} bytes each)",
        grown.saturating_sub(rss) / 1024,
        grown.saturating_sub(rss) * 1024 / count.max(1) as u64
    );
    drop(copy);

    let t = Instant::now();
    let snapshot = state.benchmark_snapshot();
    eprintln!("benchmark snapshot {:?} ({})", t.elapsed(), memory());
    if let Some(snapshot) = snapshot {
        let t = Instant::now();
        let assessed = snapshot.assess();
        eprintln!("benchmark assessment {:?} ({})", t.elapsed(), memory());
        let events = state.apply_benchmark(assessed, "t2");
        eprintln!("benchmark applied ({} events)", events.len());
    }
}
