//! The bytecode VM and the interpreter must agree: same findings, same problems, on every rule
//! fixture, the ratings app and the corpus; and the VM must handle all of it itself.

use crate::common::repo;
use posture::engine::{Backend, Evaluator};
use posture::policy::Catalog;
use std::path::PathBuf;

fn evaluator(backend: Backend) -> Evaluator {
    let catalog = Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    let mut e = Evaluator::new(&catalog).unwrap();
    e.set_backend(backend);
    e
}

fn compare(inputs: &[PathBuf]) {
    let collected = posture::collect::manifests::collect(inputs, &crate::common::render_options());
    let vm = evaluator(Backend::Bytecode).evaluate(&collected.resources);
    let interp = evaluator(Backend::Interpreter).evaluate(&collected.resources);
    assert_eq!(
        vm.interpreted, 0,
        "the bytecode VM fell back to the interpreter on {} objects",
        vm.interpreted
    );
    assert_eq!(vm.problems, interp.problems);
    assert_eq!(vm.findings.len(), interp.findings.len());
    for (a, b) in vm.findings.iter().zip(&interp.findings) {
        assert_eq!(a, b);
    }
}

#[test]
fn bytecode_matches_interpreter_on_fixtures() {
    compare(&[repo().join("fixtures")]);
}

#[test]
fn bytecode_matches_interpreter_on_corpus() {
    let Some(dir) = crate::corpus::corpus_dir() else {
        return;
    };
    compare(&[dir]);
}
