//! A user's rules (`--policy`): compiled apart from the built-in rules, so that a broken file
//! is a problem in the report instead of a scan that does not start, and run each on its own
//! bytecode program under [`Limits`], so that an endless loop or endless recursion is a problem
//! instead of a hang or a stack overflow that aborts the process.
//!
//! Files parse as Rego v1 and, failing that, as Rego v0 (`deny[msg] { ... }`), as policies
//! written for conftest and older OPA releases are. A rule that reaches a recursive function is
//! not run (see [`recursion`]).

use super::limits::{timed_out, Limits};
use super::{decode, eval_problem, inventory, recursion, to_rego, Evaluation};
use crate::policy::{Catalog, Contract, Rule, Source};
use crate::problem::{Code, Level, Problem};
use crate::resource::{Position, Resource};
use rayon::prelude::*;
use regorus::rvm::vm::ExecutionMode;
use regorus::rvm::{Program, RegoVM};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// One user rule compiled to bytecode.
pub(super) struct Compiled {
    pub rule: Rule,
    policy: regorus::CompiledPolicy,
    program: Arc<Program>,
    entry: String,
}

/// What loading the user's policies gave: the rules that can run, and a problem for each file
/// or rule that cannot.
pub(super) struct Loaded {
    pub rules: Vec<Compiled>,
    pub problems: Vec<Problem>,
}

/// Compiles the user's files and rules of `catalog` (with the built-in helpers, which user
/// rules may import) and checks each rule on an empty input under `limits`.
pub(super) fn load(catalog: &Catalog, limits: &Limits) -> Loaded {
    let mut problems: Vec<Problem> = catalog.rejected.iter().map(rejected_problem).collect();
    let user_rules: Vec<&Rule> = catalog.rules.iter().filter(|r| !r.builtin).collect();
    if user_rules.is_empty() && catalog.user_libraries.is_empty() {
        return Loaded {
            rules: Vec::new(),
            problems,
        };
    }
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    for source in &catalog.libraries {
        if let Err(problem) = add_source(&mut engine, source) {
            problems.push(problem);
        }
    }
    let mut broken: HashSet<&str> = HashSet::new();
    let own_modules = user_rules
        .iter()
        .filter(|r| r.contract == Contract::Posture)
        .map(|r| &r.source);
    for source in catalog.user_libraries.iter().chain(own_modules) {
        if let Err(problem) = add_source(&mut engine, source) {
            problems.push(problem);
            broken.insert(&source.path);
        }
    }
    let empty = regorus::Value::from(inventory::build(&[]));
    let calls = engine
        .get_ast_as_json()
        .ok()
        .and_then(|ast| recursion::Graph::of(&ast));
    let mut rules = Vec::new();
    for rule in user_rules {
        // Its file's parse error is already reported.
        if broken.contains(rule.source.path.as_str()) {
            continue;
        }
        let entry = rule.entry_point();
        let node = entry.strip_prefix("data.").unwrap_or(&entry);
        if let Some(r) = calls.as_ref().and_then(|g| g.recursion_from(node)) {
            let names: Vec<&str> = r.cycle.iter().map(String::as_str).collect();
            problems.push(
                Problem::new(
                    Level::Error,
                    Code::PolicyError,
                    format!(
                        "rule {} was not run: function `{}` is recursive ({}), which Rego does \
                         not allow",
                        rule.id,
                        names.first().copied().unwrap_or_default(),
                        names.join(" → ")
                    ),
                )
                .in_file(
                    r.file.as_str(),
                    Some(Position {
                        line: r.line,
                        column: 1,
                    }),
                ),
            );
            continue;
        }
        let compiled = engine
            .compile_with_entrypoint(&entry.as_str().into())
            .and_then(|policy| {
                let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
                    &policy,
                    &[entry.as_str()],
                )?;
                Ok((policy, program))
            });
        let (policy, program) = match compiled {
            Ok(c) => c,
            Err(e) => {
                problems.push(source_problem(
                    &rule.source.path,
                    &format!("rule {} cannot be compiled", rule.id),
                    &e.to_string(),
                ));
                continue;
            }
        };
        let compiled = Compiled {
            rule: rule.clone(),
            policy,
            program,
            entry,
        };
        // As for built-in rules: reference and type errors surface at load time, with the
        // file; and a rule that loops or grows without bound on any input is stopped here once.
        let checked = compiled
            .vm(&empty, limits)
            .and_then(|mut vm| run(&mut vm, &compiled.entry, regorus::Value::new_object()));
        match checked {
            Ok(_) => rules.push(compiled),
            Err(e) => {
                let what = if timed_out(&e) {
                    format!(
                        "ran into {} on an empty input at load time, so it was not run",
                        limits.describe()
                    )
                } else {
                    format!("fails on an empty input at load time, so it was not run: {e}")
                };
                problems.push(
                    Problem::new(
                        Level::Error,
                        Code::PolicyError,
                        format!("rule {} {what}", rule.id),
                    )
                    .in_file(rule.source.path.as_str(), None),
                );
            }
        }
    }
    Loaded { rules, problems }
}

impl Compiled {
    /// A VM for this rule with `data`, in suspendable mode (Rego calls on a heap stack, so
    /// recursion cannot overflow the thread's stack) and under `limits`.
    fn vm(
        &self,
        data: &regorus::Value,
        limits: &Limits,
    ) -> Result<RegoVM, regorus::rvm::vm::VmError> {
        let mut vm = RegoVM::new_with_policy(self.policy.clone());
        vm.load_program(self.program.clone());
        vm.set_data(data.clone())?;
        vm.set_strict_builtin_errors(true);
        vm.set_execution_mode(ExecutionMode::Suspendable);
        vm.set_execution_timer_config(Some(limits.timer()));
        // The instruction count is no bound of ours: the timer is (the VM's default of 25,000
        // stops ordinary rules on large objects).
        vm.set_max_instructions(usize::MAX);
        Ok(vm)
    }
}

fn run(
    vm: &mut RegoVM,
    entry: &str,
    input: regorus::Value,
) -> Result<regorus::Value, regorus::rvm::vm::VmError> {
    vm.set_input(input);
    vm.execute_entry_point_by_name(entry)
}

/// Evaluates the user's rules on `resources`. A rule that runs out of time is stopped for
/// the rest of the scan and all its findings are left out, so that the report does not depend
/// on which objects happened to be evaluated before it was stopped; one problem names the
/// first object (in input order) it was stopped on and the limit.
pub(super) fn evaluate(
    rules: &[Compiled],
    resources: &[Resource],
    data: &regorus::Value,
    limits: &Limits,
) -> Evaluation {
    let stopped: Vec<AtomicBool> = rules.iter().map(|_| AtomicBool::new(false)).collect();
    let work: Vec<(usize, &Resource)> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| rules.iter().any(|c| c.rule.runs_on(r)))
        .collect();
    let chunk = work.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    // Per chunk: each rule's evaluation, and (rule, object) for each rule stopped on an object.
    type Chunk = (Vec<Evaluation>, Vec<(usize, usize)>);
    let results: Vec<Chunk> = work
        .par_chunks(chunk)
        .map(|chunk| {
            let mut vms: Vec<Option<RegoVM>> = rules.iter().map(|_| None).collect();
            let mut per_rule: Vec<Evaluation> =
                rules.iter().map(|_| Evaluation::default()).collect();
            let mut trips = Vec::new();
            for &(index, resource) in chunk {
                let input = to_rego(&resource.object);
                for (i, compiled) in rules.iter().enumerate() {
                    let rule = &compiled.rule;
                    if !rule.runs_on(resource) || stopped[i].load(Ordering::Relaxed) {
                        continue;
                    }
                    let out = &mut per_rule[i];
                    let vm = match &mut vms[i] {
                        Some(vm) => vm,
                        slot => match compiled.vm(data, limits) {
                            Ok(vm) => slot.insert(vm),
                            Err(e) => {
                                out.problems
                                    .push(eval_problem(rule, resource, &e.to_string()));
                                continue;
                            }
                        },
                    };
                    match run(vm, &compiled.entry, input.clone()) {
                        Ok(value) => decode(rule, resource, value, out),
                        Err(e) if timed_out(&e) => {
                            stopped[i].store(true, Ordering::Relaxed);
                            trips.push((i, index));
                            // A VM stopped mid-run is not reused.
                            vms[i] = None;
                        }
                        Err(e) => out
                            .problems
                            .push(eval_problem(rule, resource, &e.to_string())),
                    }
                }
            }
            (per_rule, trips)
        })
        .collect();
    let mut per_rule: Vec<Evaluation> = rules.iter().map(|_| Evaluation::default()).collect();
    let mut first_trip: Vec<Option<usize>> = rules.iter().map(|_| None).collect();
    for (evaluations, trips) in results {
        for (i, e) in evaluations.into_iter().enumerate() {
            per_rule[i].absorb(e);
        }
        for (i, index) in trips {
            if first_trip[i].is_none_or(|first| index < first) {
                first_trip[i] = Some(index);
            }
        }
    }
    let mut out = Evaluation::default();
    for ((compiled, evaluation), trip) in rules.iter().zip(per_rule).zip(first_trip) {
        match trip {
            Some(index) => out.problems.push(eval_problem(
                &compiled.rule,
                &resources[index],
                &format!(
                    "it ran into {}; it was stopped, and its findings are left out of this report",
                    limits.describe()
                ),
            )),
            None => out.absorb(evaluation),
        }
    }
    out
}

/// Adds a user file to `engine`: as Rego v1, else as Rego v0. When neither parses, the error
/// of the dialect that got further into the file is reported (a v0 file's real mistake, not
/// v1's complaint about its first `{`).
fn add_source(engine: &mut regorus::Engine, source: &Source) -> Result<(), Problem> {
    engine.set_rego_v0(false);
    let v1 = match engine.add_policy(source.path.clone(), source.text.clone()) {
        Ok(_) => return Ok(()),
        Err(e) => e.to_string(),
    };
    engine.set_rego_v0(true);
    let v0 = engine.add_policy(source.path.clone(), source.text.clone());
    engine.set_rego_v0(false);
    let v0 = match v0 {
        Ok(_) => return Ok(()),
        Err(e) => e.to_string(),
    };
    let line = |m: &str| regorus_place(m).map_or(0, |(_, p)| p.line);
    let message = if line(&v0) > line(&v1) { v0 } else { v1 };
    Err(source_problem(
        &source.path,
        "the policy does not compile",
        &message,
    ))
}

/// A policy-error problem from a regorus message, placed at the `--> file:line:col` it names.
fn source_problem(path: &str, what: &str, message: &str) -> Problem {
    let summary = summary(message);
    let problem = Problem::new(
        Level::Error,
        Code::PolicyError,
        format!("{what}: {summary}"),
    );
    match regorus_place(message) {
        Some((file, position)) => problem.in_file(file.as_str(), Some(position)),
        None => problem.in_file(path, None),
    }
}

/// The `--> file:line:col` of a regorus error message.
fn regorus_place(message: &str) -> Option<(String, Position)> {
    let rest = message.split("--> ").nth(1)?;
    let place = rest.lines().next()?.trim();
    let mut parts = place.rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?.to_owned();
    Some((file, Position { line, column }))
}

/// A regorus message without its source excerpt: the `error:` line, else the message.
fn summary(message: &str) -> String {
    message
        .lines()
        .find_map(|l| l.trim().strip_prefix("error:"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| message.trim().lines().next().unwrap_or_default().to_owned())
}

fn rejected_problem(error: &crate::policy::PolicyError) -> Problem {
    let (path, line) = error.place();
    let code = match error {
        crate::policy::PolicyError::Read { .. } => Code::ReadError,
        _ => Code::PolicyError,
    };
    // The problem carries the file and line; the message need not repeat them.
    let message = crate::problem::error_chain(error);
    let message = line
        .and_then(|l| message.strip_prefix(&format!("{path}:{l}: ")))
        .or_else(|| message.strip_prefix(&format!("{path}: ")))
        .unwrap_or(&message)
        .to_owned();
    Problem::new(Level::Error, code, message)
        .in_file(path.as_str(), line.map(|line| Position { line, column: 1 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regorus_messages_give_file_line_and_column() {
        let m = "\n--> fixtures/p.rego:3:11\n  |\n3 | deny[msg] {\n  |           ^\nerror: `if` keyword is required before rule body";
        let (file, p) = regorus_place(m).unwrap();
        assert_eq!(
            (file.as_str(), p.line, p.column),
            ("fixtures/p.rego", 3, 11)
        );
        assert_eq!(summary(m), "`if` keyword is required before rule body");
    }
}
