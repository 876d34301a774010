//! The bytecode VM and the interpreter must agree: same findings, same problems, on every rule
//! fixture, the ratings app and the corpus; and the VM must handle all of it itself. User
//! policies: bounded, reported when broken, and run under posture's or conftest's contract.

use crate::common::repo;
use posture::engine::{Backend, Evaluation, Evaluator, Limits};
use posture::policy::{Catalog, UserPolicies};
use posture::problem::{Code, Problem};
use std::path::PathBuf;
use std::time::Duration;

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

/// User rules run under a tiny time limit, so that a runaway rule is stopped within the test's
/// time.
fn tiny_limits() -> Limits {
    Limits {
        timeout: Duration::from_millis(300),
        memory: None,
    }
}

#[test]
fn user_rules_in_a_child_process_report_as_in_process() {
    // With --rego-memory the user's rules run in a posture child process; what crosses the pipe
    // must not change a finding or a problem.
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: user rules run in a child process on Linux only");
        return;
    }
    let mut catalog = Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    catalog.add_user(&UserPolicies {
        paths: vec![
            repo().join("fixtures/policies/good"),
            repo().join("fixtures/policies/conftest"),
        ],
        ..UserPolicies::default()
    });
    let collected = posture::collect::manifests::collect(
        &[
            repo().join("fixtures/policies"),
            repo().join("fixtures/ratings"),
        ],
        &crate::common::render_options(),
    );
    let evaluate = |memory| {
        let limits = Limits {
            timeout: Duration::from_secs(30),
            memory,
        };
        Evaluator::with_limits(&catalog, limits)
            .unwrap()
            .evaluate(&collected.resources)
    };
    let here = evaluate(None);
    let child = evaluate(Some(posture::engine::limits::MemoryBound {
        bytes: 1 << 30,
        program: PathBuf::from(env!("CARGO_BIN_EXE_posture")),
    }));
    assert!(
        here.findings.iter().any(|f| !f.rule_id.starts_with("PST-")),
        "the user rules report"
    );
    assert_eq!(here.problems, child.problems);
    assert_eq!(here.findings, child.findings);
}

fn scan_with_user_policy(policy: &str) -> (Evaluator, Evaluation) {
    let mut catalog = Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    catalog.add_user(&UserPolicies {
        paths: vec![repo().join(policy)],
        ..UserPolicies::default()
    });
    let evaluator = Evaluator::with_limits(&catalog, tiny_limits()).unwrap();
    let collected = posture::collect::manifests::collect(
        &[repo().join("fixtures/policies/good/deployment.yaml")],
        &crate::common::render_options(),
    );
    let evaluation = evaluator.evaluate(&collected.resources);
    (evaluator, evaluation)
}

fn builtin_findings(evaluation: &Evaluation) -> usize {
    evaluation
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("PST-"))
        .count()
}

/// The problem about `rule_id`, which must be the only one.
fn only_problem<'a>(evaluation: &'a Evaluation, rule_id: &str) -> &'a Problem {
    assert_eq!(evaluation.problems.len(), 1, "{:#?}", evaluation.problems);
    let p = &evaluation.problems[0];
    assert!(p.message.contains(rule_id), "{p}");
    assert!(p.is_error(), "{p}");
    p
}

#[test]
fn recursive_function_in_a_user_rule_is_a_policy_error_not_a_stack_overflow() {
    // A self-recursive function aborted the whole process with a stack overflow.
    let (evaluator, evaluation) = scan_with_user_policy("fixtures/policies/limits/recursion");
    let p = only_problem(&evaluation, "LIMIT-0001");
    assert_eq!(p.code, Code::PolicyError, "{p}");
    assert_eq!(
        p.place().as_deref(),
        Some("fixtures/policies/limits/recursion/recursion.rego:15:1")
    );
    assert!(
        p.message.contains("`limits.recursion.deeper` is recursive"),
        "{p}"
    );
    assert!(!evaluator.rules().iter().any(|r| r.id == "LIMIT-0001"));
    assert!(
        builtin_findings(&evaluation) > 0,
        "built-in rules still report"
    );
}

#[test]
fn recursion_through_a_rule_is_stopped_at_the_time_limit_not_a_stack_overflow() {
    // Recursion the static check cannot see runs on the VM's heap stack until the timer stops it.
    let (_, evaluation) =
        scan_with_user_policy("fixtures/policies/limits/recursion_through_a_rule");
    let p = only_problem(&evaluation, "LIMIT-0004");
    assert_eq!(p.code, Code::EvalError, "{p}");
    assert!(p.message.contains("Deployment 'orphan'"), "{p}");
    assert!(
        p.message
            .contains("the time limit of 300ms (raise it with --rego-timeout)"),
        "names the bound and its flag: {p}"
    );
    assert!(!evaluation
        .findings
        .iter()
        .any(|f| f.rule_id == "LIMIT-0004"));
    assert!(
        builtin_findings(&evaluation) > 0,
        "built-in rules still report"
    );
}

#[test]
fn huge_array_in_a_user_rule_is_stopped_at_the_time_limit() {
    // A rule building a 2e8-element array ran until allocation failed and the process aborted.
    let (_, evaluation) = scan_with_user_policy("fixtures/policies/limits/huge_array");
    let p = only_problem(&evaluation, "LIMIT-0002");
    assert_eq!(p.code, Code::EvalError, "{p}");
    assert!(
        p.message
            .contains("the time limit of 300ms (raise it with --rego-timeout)"),
        "{p}"
    );
    assert!(
        builtin_findings(&evaluation) > 0,
        "built-in rules still report"
    );
}

#[test]
fn endless_loop_in_a_user_rule_is_stopped_at_load_time() {
    // A 1e4 x 1e4 loop never ended, already while the rules were loaded.
    let started = std::time::Instant::now();
    let (evaluator, evaluation) = scan_with_user_policy("fixtures/policies/limits/endless_loop");
    assert!(started.elapsed() < Duration::from_secs(30), "bounded");
    let p = only_problem(&evaluation, "LIMIT-0003");
    assert_eq!(p.code, Code::PolicyError, "{p}");
    assert!(
        p.message
            .contains("the time limit of 300ms (raise it with --rego-timeout)"),
        "{p}"
    );
    assert!(p.place().unwrap().ends_with("endless_loop.rego"), "{p}");
    assert!(
        !evaluator.rules().iter().any(|r| r.id == "LIMIT-0003"),
        "the rule does not run"
    );
    assert!(
        builtin_findings(&evaluation) > 0,
        "built-in rules still report"
    );
}

#[test]
fn broken_user_policy_is_a_problem_with_its_line_and_builtin_rules_still_run() {
    // A syntax error in a --policy file stopped the whole scan with no report.
    let (_, evaluation) = scan_with_user_policy("fixtures/policies/broken");
    let p = only_problem(&evaluation, "");
    assert_eq!(p.code, Code::PolicyError, "{p}");
    let place = p.place().unwrap();
    assert!(
        place.starts_with("fixtures/policies/broken/bad_syntax.rego:1"),
        "{place}"
    );
    assert!(builtin_findings(&evaluation) > 0);
}

#[test]
fn conftest_v0_and_v1_policies_give_the_same_findings() {
    let findings = |dir: &str| {
        let (_, evaluation) = scan_with_user_policy(dir);
        assert!(evaluation.problems.is_empty(), "{:#?}", evaluation.problems);
        let mut user: Vec<(String, String, String)> = evaluation
            .findings
            .iter()
            .filter(|f| f.rule_id.starts_with("conftest/"))
            .map(|f| {
                (
                    f.rule_id.to_string(),
                    f.severity.to_string(),
                    f.message.to_string(),
                )
            })
            .collect();
        user.sort();
        user
    };
    let v0 = findings("fixtures/policies/conftest/v0");
    assert_eq!(
        v0,
        vec![
            (
                "conftest/main/deny".to_owned(),
                "high".to_owned(),
                "Deployment orphan has no team label".to_owned()
            ),
            (
                "conftest/main/warn".to_owned(),
                "low".to_owned(),
                "Deployment orphan does not set replicas".to_owned()
            ),
        ]
    );
    assert_eq!(findings("fixtures/policies/conftest/v1"), v0);
}

#[test]
fn conftest_object_messages_need_a_string_msg() {
    let (_, evaluation) = scan_with_user_policy("fixtures/policies/conftest/messages");
    let f: Vec<String> = evaluation
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("conftest/"))
        .map(|f| f.message.to_string())
        .collect();
    assert_eq!(f, vec!["images must come from images.acme.example"]);
    let p = only_problem(&evaluation, "conftest/main/deny_broken");
    assert!(p.message.contains("string `msg`"), "{p}");
}

#[test]
fn rules_that_cannot_run_are_an_error_not_a_library() {
    // A `deny` rule outside any contract was loaded as a helper library and never ran.
    let (_, evaluation) = scan_with_user_policy("fixtures/policies/cannot_run");
    let p = only_problem(&evaluation, "--policy-namespace acme.checks");
    assert_eq!(p.code, Code::PolicyError);
    assert_eq!(
        p.place().as_deref(),
        Some("fixtures/policies/cannot_run/checks.rego:6:1")
    );
    let (_, evaluation) = scan_with_user_policy("fixtures/policies/helper_library");
    assert!(evaluation.problems.is_empty(), "{:#?}", evaluation.problems);
}

#[test]
fn a_conftest_namespace_runs_that_package() {
    let mut catalog = Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    catalog.add_user(&UserPolicies {
        paths: vec![repo().join("fixtures/policies/cannot_run")],
        namespaces: vec!["acme.checks".to_owned()],
    });
    assert!(catalog.rejected.is_empty(), "{:?}", catalog.rejected);
    let rule = catalog.find("conftest/acme.checks/deny").unwrap();
    assert_eq!(rule.severity, posture::Severity::High);
}

#[test]
fn conftest_rules_see_each_object_and_merge_a_package_across_directories() {
    // One VM per rule serves many objects: nothing of one object may leak into the next.
    let mut catalog = Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    catalog.add_user(&UserPolicies {
        paths: vec![
            repo().join("fixtures/policies/conftest/v0"),
            repo().join("fixtures/policies/conftest/v1"),
        ],
        ..UserPolicies::default()
    });
    let evaluator = Evaluator::with_limits(&catalog, tiny_limits()).unwrap();
    let collected = posture::collect::manifests::collect(
        &[repo().join("fixtures/policies/conftest/deployments.yaml")],
        &crate::common::render_options(),
    );
    let evaluation = evaluator.evaluate(&collected.resources);
    assert!(evaluation.problems.is_empty(), "{:#?}", evaluation.problems);
    let owned: Vec<(&str, &str, String)> = evaluation
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("conftest/"))
        .map(|f| {
            (
                f.rule_id.as_str(),
                f.object.name.as_str(),
                f.message.to_string(),
            )
        })
        .collect();
    let user: Vec<(&str, &str, &str)> =
        owned.iter().map(|(r, o, m)| (*r, *o, m.as_str())).collect();
    // v0 and v1 define the same messages in one package `main`: a set, so each once.
    assert_eq!(
        user,
        vec![
            (
                "conftest/main/deny",
                "unlabelled",
                "Deployment unlabelled has no team label"
            ),
            (
                "conftest/main/warn",
                "unlabelled",
                "Deployment unlabelled does not set replicas"
            ),
        ]
    );
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

/// Each `deny` entry is read on its own: a well-formed one is a finding, one without a string
/// `msg` is a problem, and one whose `path` is no list of keys and indices is a problem and a
/// finding at the object.
#[test]
fn malformed_deny_entries_are_problems_and_well_formed_ones_findings() {
    let (_, evaluation) = scan_with_user_policy("fixtures/policies/malformed");
    let mut found: Vec<(String, String)> = evaluation
        .findings
        .iter()
        .filter(|f| f.rule_id == "ACME-0900")
        .map(|f| (f.message.to_string(), f.path.to_string()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("path is a string".to_owned(), String::new()),
            ("well formed".to_owned(), "spec.replicas".to_owned())
        ]
    );
    let problems: Vec<&str> = evaluation
        .problems
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(problems
        .iter()
        .any(|p| p.contains("has no string `msg`") && p.contains("no msg key")));
    assert!(problems
        .iter()
        .any(|p| p.contains("`path` must be an array of keys and indices, got \"spec.replicas\"")));
}
