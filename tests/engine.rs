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

/// A `spec` written as a list made every container rule find nothing, and the object passed
/// without a word: now each wrong shape is a warning at the field's line.
#[test]
fn wrongly_shaped_workloads_are_problems_with_a_line() {
    let file = repo().join("fixtures/shapes/wrong-shapes.yaml");
    let collected = posture::collect::manifests::collect(
        std::slice::from_ref(&file),
        &crate::common::render_options(),
    );
    let evaluation = evaluator(Backend::Bytecode).evaluate(&collected.resources);
    let text = std::fs::read_to_string(&file).unwrap();
    let line_of = |needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    let shapes: Vec<(Option<u32>, &str)> = evaluation
        .problems
        .iter()
        .filter(|p| p.code == posture::problem::Code::WrongShape)
        .map(|p| (p.position.map(|p| p.line), p.message.as_str()))
        .collect();
    assert_eq!(
        shapes,
        [
            (
                Some(line_of("spec:") as u32),
                "Deployment 'shop/listed-spec': `spec` is a list, but Kubernetes expects a \
                 mapping; its containers were not checked"
            ),
            (
                Some(line_of("  containers:") as u32),
                "Pod 'shop/mapped-containers': `spec.containers` is a mapping, but Kubernetes \
                 expects a list of containers; its containers were not checked"
            ),
        ]
    );
}
