//! Helpers shared by the integration tests.

use posture::engine::Evaluator;
use posture::scan::{self, ScanReport};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built-in catalog compiled once for the whole test binary.
pub fn evaluator() -> &'static Evaluator {
    static EVALUATOR: OnceLock<Evaluator> = OnceLock::new();
    EVALUATOR.get_or_init(|| {
        let catalog = scan::load_catalog(&[]).expect("built-in rules load");
        Evaluator::new(&catalog).expect("built-in rules compile")
    })
}

/// Scans `paths` with the built-in rules.
pub fn scan_paths(paths: &[&Path]) -> ScanReport {
    let inputs: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let collected = posture::collect::manifests::collect(&inputs);
    scan::evaluate(evaluator(), collected)
}
