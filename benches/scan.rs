//! Whole-scan benchmarks through the library API: collect generated manifests from disk, then
//! evaluate every built-in rule on them.
//!
//! Inputs come from `examples/gen_manifests.rs` (included below, so the generator exists once):
//! small (100 objects), medium (1,000) and large (10,000), plus a sweep over 1 and 2 rayon
//! threads on the medium input, and each stage of a scan on its own (`stages/`: reading and
//! parsing, evaluating already-parsed objects, and writing each report format of a finished
//! scan) on the medium input. The evaluator is built once; compiling the rules is not what
//! these measure. Budget: the whole run stays within about four minutes on two cores.

#[allow(dead_code)] // the generator's `main` and `generate` are for the example binary
#[path = "../examples/gen_manifests.rs"]
mod gen;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use posture::collect::manifests;
use posture::engine::Evaluator;
use posture::scan;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

const SMALL: usize = 100;
const MEDIUM: usize = 1_000;
const LARGE: usize = 10_000;

/// Generated manifests in a temporary directory, removed on drop.
struct Input {
    objects: usize,
    dir: TempDir,
}

impl Input {
    fn new(objects: usize) -> Input {
        let dir = tempfile::tempdir().expect("the system temp directory is writable");
        gen::write_dir(objects, dir.path()).expect("the temp directory is writable");
        Input { objects, dir }
    }

    fn paths(&self) -> Vec<PathBuf> {
        vec![self.dir.path().to_path_buf()]
    }
}

fn evaluator() -> Evaluator {
    let catalog = scan::load_catalog(&[]).expect("the built-in rules load");
    Evaluator::new(&catalog).expect("the built-in rules compile")
}

/// One scan; panics if the input did not load cleanly, since then the numbers would mislead.
fn scan_dir(evaluator: &Evaluator, paths: &[PathBuf], objects: usize) -> usize {
    let report = scan::evaluate(evaluator, manifests::collect(paths, &Default::default()));
    assert_eq!(report.objects, objects, "every generated object loads");
    assert!(
        !report.has_errors(),
        "generated input scans without errors: {:?}",
        report.problems.first()
    );
    report.findings.len()
}

fn sizes(c: &mut Criterion) {
    let evaluator = evaluator();
    let mut group = c.benchmark_group("scan");
    for objects in [SMALL, MEDIUM, LARGE] {
        let input = Input::new(objects);
        let paths = input.paths();
        if objects >= LARGE {
            // A large scan takes about a second; ten samples keep the group to ~15 s.
            group.sample_size(10);
            group.warm_up_time(Duration::from_secs(1));
            group.measurement_time(Duration::from_secs(10));
        } else {
            group.sample_size(20);
            group.measurement_time(Duration::from_secs(5));
        }
        group.throughput(Throughput::Elements(input.objects as u64));
        group.bench_with_input(BenchmarkId::from_parameter(objects), &paths, |b, paths| {
            b.iter(|| scan_dir(&evaluator, paths, objects))
        });
    }
    group.finish();
}

fn threads(c: &mut Criterion) {
    let evaluator = evaluator();
    let input = Input::new(MEDIUM);
    let paths = input.paths();
    let mut group = c.benchmark_group("threads");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(input.objects as u64));
    for n in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("a rayon pool of 1 or 2 threads builds");
        group.bench_with_input(BenchmarkId::from_parameter(n), &paths, |b, paths| {
            b.iter(|| pool.install(|| scan_dir(&evaluator, paths, input.objects)))
        });
    }
    group.finish();
}

/// Each stage apart, so that a change to one shows in its own figure: collecting (reading and
/// parsing), evaluating (rules, benchmark, exceptions, attack paths) on objects parsed once, and
/// every report format on one finished scan.
fn stages(c: &mut Criterion) {
    let evaluator = evaluator();
    let input = Input::new(MEDIUM);
    let paths = input.paths();
    let mut group = c.benchmark_group("stages");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(input.objects as u64));
    group.bench_function("collect", |b| {
        b.iter(|| {
            manifests::collect(&paths, &Default::default())
                .resources
                .len()
        })
    });
    let collected = manifests::collect(&paths, &Default::default());
    group.bench_function("evaluate", |b| {
        b.iter_batched(
            || collected.clone(),
            |collected| scan::evaluate(&evaluator, collected).findings.len(),
            criterion::BatchSize::LargeInput,
        )
    });
    let report = scan::evaluate(&evaluator, collected);
    for format in posture::report::Format::ALL {
        group.bench_function(format!("report/{format:?}").to_lowercase(), |b| {
            b.iter(|| {
                let mut out = Vec::new();
                posture::report::write(
                    format,
                    &report,
                    posture::report::Style::default(),
                    &mut out,
                )
                .expect("a report writes to memory");
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sizes, threads, stages);
criterion_main!(benches);
