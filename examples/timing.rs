//! Times the phases of a scan (compile, collect, evaluate) on the given inputs; `ONLY=group,slug,id`
//! limits the rules. `cargo run --release --example timing -- DIR`.
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn main() {
    let inputs: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let t = Instant::now();
    let mut catalog = posture::scan::load_catalog(&[]).unwrap();
    if let Ok(only) = std::env::var("ONLY") {
        let ids: Vec<&str> = only.split(',').collect();
        catalog.rules.retain(|r| {
            ids.iter()
                .any(|i| r.id == *i || r.slug == *i || r.group == *i)
        });
    }
    let ev = posture::engine::Evaluator::new(&catalog).unwrap();
    eprintln!("compile {:?} ({} rules)", t.elapsed(), catalog.rules.len());
    let t = Instant::now();
    let c = posture::collect::manifests::collect(&inputs);
    eprintln!("collect {:?} {} objects", t.elapsed(), c.resources.len());
    let t = Instant::now();
    let r = posture::scan::evaluate(&ev, c);
    eprintln!(
        "evaluate {:?} {} findings {} problems",
        t.elapsed(),
        r.findings.len(),
        r.problems.len()
    );
    for format in [
        posture::report::Format::Json,
        posture::report::Format::Sarif,
    ] {
        let t = Instant::now();
        let mut out = Vec::new();
        posture::report::write(format, &r, posture::report::Style::default(), &mut out).unwrap();
        eprintln!("report {format:?} {:?} {} bytes", t.elapsed(), out.len());
    }
}
