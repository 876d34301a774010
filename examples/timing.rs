//! Times the phases of a scan (compile, collect, evaluate, report) on the given inputs.
//! `cargo run --release --example timing -- DIR`.
//!
//! - `ONLY=group,slug,id` limits the rules (`ONLY=none` runs none: the fixed costs alone).
//! - `REPORTS=json,sarif,table` picks the reports to time (default all three; `REPORTS=none`
//!   skips them). The table is rendered as `posture scan` renders it into a file (no colour,
//!   the default width).
//! - `POLICIES=DIR` reads the built-in rules from DIR (e.g. `policies`) instead of the copy
//!   embedded in the binary, to try a rule change without rebuilding.
//! - `OUT=FILE` also writes the JSON report to FILE, to compare findings before and after.

#[path = "support/memory.rs"]
mod memory;
use memory::memory;
#[path = "support/catalog.rs"]
mod support;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    // As the posture binary does: regorus builds anyhow errors while parsing, and with
    // RUST_BACKTRACE set each would capture a backtrace that the binary never pays for.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: nothing else runs yet; no other thread can read the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let inputs: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let t = Instant::now();
    let catalog = support::from_env();
    let ev = posture::engine::Evaluator::new(&catalog).unwrap();
    eprintln!("compile {:?} ({} rules)", t.elapsed(), catalog.rules.len());
    let t = Instant::now();
    let c = posture::collect::manifests::collect(&inputs, &Default::default());
    eprintln!(
        "collect {:?} {} objects ({})",
        t.elapsed(),
        c.resources.len(),
        memory()
    );
    let t = Instant::now();
    let r = posture::scan::evaluate(&ev, c);
    eprintln!(
        "evaluate {:?} {} findings {} problems ({})",
        t.elapsed(),
        r.findings.len(),
        r.problems.len(),
        memory()
    );
    if let Some(path) = std::env::var_os("OUT") {
        let mut out = Vec::new();
        posture::report::write(
            posture::report::Format::Json,
            &r,
            posture::report::Style::default(),
            &mut out,
        )
        .unwrap();
        std::fs::write(path, out).unwrap();
    }
    let reports = std::env::var("REPORTS").unwrap_or_else(|_| "json,sarif,table".to_owned());
    for (name, format) in [
        ("json", posture::report::Format::Json),
        ("sarif", posture::report::Format::Sarif),
        ("table", posture::report::Format::Table),
    ] {
        if !reports.split(',').any(|r| r == name) {
            continue;
        }
        let t = Instant::now();
        let mut out = Vec::new();
        posture::report::write(format, &r, posture::report::Style::default(), &mut out).unwrap();
        eprintln!("report {format:?} {:?} {} bytes", t.elapsed(), out.len());
    }
}
