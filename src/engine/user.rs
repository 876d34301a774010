//! A user's rules (`--policy`): compiled apart from the built-in rules, so that a broken file
//! is a problem in the report instead of a scan that does not start, and run each on its own
//! bytecode program under [`Limits`], so that an endless loop, endless recursion or endless
//! allocation is a problem instead of a hang, a stack overflow that aborts the process, or the
//! machine's memory gone (the rules then run in a child process, [`isolation`]).
//!
//! Files parse as Rego v1 and, failing that, as Rego v0 (`deny[msg] { ... }`), as policies
//! written for conftest and older OPA releases are. A rule that reaches a recursive function is
//! not run (see [`recursion`]).

use super::isolation::{self, Step};
use super::limits::Limits;
use super::rule_job::{self, Event, Job, RuleProgram};
use super::{decode, eval_problem, inventory, recursion, to_rego, Evaluation};
use crate::policy::{Catalog, Contract, Rule, Source};
use crate::problem::{Code, Level, Problem};
use crate::resource::{Position, Resource};
use rayon::prelude::*;
use std::collections::HashSet;

/// The user's rules compiled to bytecode, with the modules they were compiled from (which the
/// child process of [`isolation`] compiles again).
#[derive(Default)]
pub(super) struct UserRules {
    pub rules: Vec<Rule>,
    programs: Vec<RuleProgram>,
    modules: Vec<Source>,
}

/// What loading the user's policies gave: the rules that can run, and a problem for each file
/// or rule that cannot.
pub(super) struct Loaded {
    pub rules: UserRules,
    pub problems: Vec<Problem>,
}

/// Compiles the user's files and rules of `catalog` (with the built-in helpers, which user
/// rules may import) and checks each rule on an empty input under `limits`.
pub(super) fn load(catalog: &Catalog, limits: &Limits) -> Loaded {
    let mut problems: Vec<Problem> = catalog.rejected.iter().map(rejected_problem).collect();
    let user_rules: Vec<&Rule> = catalog.rules.iter().filter(|r| !r.builtin).collect();
    if user_rules.is_empty() && catalog.user_libraries.is_empty() {
        return Loaded {
            rules: UserRules::default(),
            problems,
        };
    }
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    let mut modules = Vec::new();
    for source in &catalog.libraries {
        match add_source(&mut engine, source) {
            Ok(()) => modules.push(source.clone()),
            Err(problem) => problems.push(problem),
        }
    }
    let mut broken: HashSet<&str> = HashSet::new();
    let own_modules = user_rules
        .iter()
        .filter(|r| r.contract == Contract::Posture)
        .map(|r| &r.source);
    for source in catalog.user_libraries.iter().chain(own_modules) {
        match add_source(&mut engine, source) {
            Ok(()) => modules.push(source.clone()),
            Err(problem) => {
                problems.push(problem);
                broken.insert(&source.path);
            }
        }
    }
    let calls = engine
        .get_ast_as_json()
        .ok()
        .and_then(|ast| recursion::Graph::of(&ast));
    let mut compiled = UserRules {
        modules,
        ..UserRules::default()
    };
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
        match RuleProgram::compile(&mut engine, &entry) {
            Ok(program) => {
                compiled.rules.push(rule.clone());
                compiled.programs.push(program);
            }
            Err(e) => problems.push(source_problem(
                &rule.source.path,
                &format!("rule {} cannot be compiled", rule.id),
                &e.to_string(),
            )),
        }
    }
    // As for built-in rules: reference and type errors surface at load time, with the file;
    // and a rule that loops or grows without bound on any input is stopped here once.
    let empty = [regorus::Value::new_object()];
    let work: Vec<Vec<usize>> = compiled.programs.iter().map(|_| vec![0]).collect();
    let data = inventory::build(&[]);
    let mut failed: Vec<Option<String>> = compiled.rules.iter().map(|_| None).collect();
    let job = Job {
        programs: &compiled.programs,
        inputs: &empty,
        work: &work,
        data: &data,
        limits,
        first: 0,
    };
    execute(&job, &compiled.modules, limits, &mut |step| {
        let (rule, why) = match step {
            Step::Event(Event::Error { rule, message, .. }) => (
                rule,
                format!("fails on an empty input at load time, so it was not run: {message}"),
            ),
            Step::Event(Event::TimedOut { rule, .. }) => (
                rule,
                format!(
                    "ran into {} on an empty input at load time, so it was not run",
                    limits.describe()
                ),
            ),
            Step::Interrupted { rule, why } => (
                rule,
                format!("{why} on an empty input at load time, so it was not run"),
            ),
            Step::Event(_) => return,
        };
        failed[rule].get_or_insert(why);
    });
    let mut rules = UserRules {
        modules: compiled.modules,
        ..UserRules::default()
    };
    for ((rule, program), failed) in compiled
        .rules
        .into_iter()
        .zip(compiled.programs)
        .zip(failed)
    {
        match failed {
            None => {
                rules.rules.push(rule);
                rules.programs.push(program);
            }
            Some(why) => problems.push(
                Problem::new(
                    Level::Error,
                    Code::PolicyError,
                    format!("rule {} {why}", rule.id),
                )
                .in_file(rule.source.path.as_str(), None),
            ),
        }
    }
    Loaded { rules, problems }
}

/// Runs `job` in a child process under the memory bound when there is one, else here.
fn execute(job: &Job, modules: &[Source], limits: &Limits, on: &mut dyn FnMut(Step)) {
    match &limits.memory {
        Some(bound) => isolation::run(job, modules, bound, on),
        None => {
            let _ = rule_job::run(job, &mut |event| {
                on(Step::Event(event));
                Ok::<(), std::convert::Infallible>(())
            });
        }
    }
}

/// Evaluates the user's rules on `resources`. A rule that runs out of time or memory is
/// stopped for the rest of the scan and all its findings are left out, so that the report does
/// not depend on which objects happened to be evaluated before it was stopped; one problem
/// names the bound (and, for time, the first object in input order it was stopped on).
pub(super) fn evaluate(
    user: &UserRules,
    resources: &[Resource],
    data: &regorus::Value,
    limits: &Limits,
) -> Evaluation {
    // Every object some rule reads, converted once; `work` holds indices into it.
    let read: Vec<usize> = (0..resources.len())
        .filter(|&i| {
            let r = &resources[i];
            user.rules.iter().any(|rule| rule.runs_on(r))
        })
        .collect();
    let inputs: Vec<regorus::Value> = read
        .par_iter()
        .map(|&i| to_rego(&resources[i].object))
        .collect();
    let work: Vec<Vec<usize>> = user
        .rules
        .iter()
        .map(|rule| {
            (0..read.len())
                .filter(|&k| rule.runs_on(&resources[read[k]]))
                .collect()
        })
        .collect();
    let job = Job {
        programs: &user.programs,
        inputs: &inputs,
        work: &work,
        data,
        limits,
        first: 0,
    };
    let mut per_rule: Vec<Evaluation> = user.rules.iter().map(|_| Evaluation::default()).collect();
    let mut stopped: Vec<Option<Problem>> = user.rules.iter().map(|_| None).collect();
    let mut sharing = super::Sharing::default();
    execute(&job, &user.modules, limits, &mut |step| match step {
        Step::Event(Event::Value { rule, input, value }) => {
            if let Some(value) = value {
                decode(
                    &user.rules[rule],
                    &super::Subject::new(&resources[read[input]]),
                    value,
                    &mut sharing,
                    &mut per_rule[rule],
                );
            }
        }
        Step::Event(Event::Error {
            rule,
            input,
            message,
        }) => per_rule[rule].problems.push(eval_problem(
            &user.rules[rule],
            &resources[read[input]],
            &message,
        )),
        Step::Event(Event::TimedOut { rule, input }) => {
            stopped[rule] = Some(eval_problem(
                &user.rules[rule],
                &resources[read[input]],
                &format!(
                    "it ran into {}; it was stopped, and its findings are left out of this report",
                    limits.describe()
                ),
            ));
        }
        Step::Interrupted { rule, why } => {
            stopped[rule] = Some(rule_problem(
                &user.rules[rule],
                &format!("{why}; it was stopped, and its findings are left out of this report"),
            ));
        }
        Step::Event(Event::Begin { .. } | Event::Done { .. }) => {}
    });
    let mut out = Evaluation::default();
    for (evaluation, stopped) in per_rule.into_iter().zip(stopped) {
        match stopped {
            Some(problem) => out.problems.push(problem),
            None => out.absorb(evaluation),
        }
    }
    out
}

/// A problem with a whole rule (not one object), placed at its file.
fn rule_problem(rule: &Rule, message: &str) -> Problem {
    Problem::new(
        Level::Error,
        Code::EvalError,
        format!("rule {} failed: {message}", rule.id),
    )
    .in_file(rule.source.path.as_str(), None)
}

/// Adds a user file to `engine`: as Rego v1, else as Rego v0. When neither parses, the error
/// of the dialect that got further into the file is reported (a v0 file's real mistake, not
/// v1's complaint about its first `{`).
pub(super) fn add_source(engine: &mut regorus::Engine, source: &Source) -> Result<(), Problem> {
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
