//! A job: user rules' bytecode programs run over inputs, rule after rule, each rule's results
//! told as [`Event`]s in input order. The same job runs inside posture or in the child process
//! of [`super::isolation`]; the events are what crosses the pipe, so both give the same report.
//!
//! No findings are made here (that is `user`, which knows the rules and resources); a job sees
//! only programs, values and indices.

use super::limits::{timed_out, Limits};
use rayon::prelude::*;
use regorus::rvm::vm::ExecutionMode;
use regorus::rvm::{Program, RegoVM};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a VM needs to run one rule.
#[derive(Clone)]
pub(super) struct RuleProgram {
    pub policy: regorus::CompiledPolicy,
    pub program: Arc<Program>,
    pub entry: String,
}

impl RuleProgram {
    /// Compiles the rule at `entry` of the modules in `engine`.
    pub fn compile(engine: &mut regorus::Engine, entry: &str) -> anyhow::Result<RuleProgram> {
        let policy = engine.compile_with_entrypoint(&entry.into())?;
        let program =
            regorus::languages::rego::compiler::Compiler::compile_from_policy(&policy, &[entry])?;
        Ok(RuleProgram {
            policy,
            program,
            entry: entry.to_owned(),
        })
    }

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

/// Rules to run and what to run them on.
pub(super) struct Job<'a> {
    pub programs: &'a [RuleProgram],
    /// Every input any rule reads, each converted once.
    pub inputs: &'a [regorus::Value],
    /// Per rule, the indices into `inputs` it runs on, in order.
    pub work: &'a [Vec<usize>],
    pub data: &'a regorus::Value,
    pub limits: &'a Limits,
    /// The number of `programs[0]` among the rules, which events carry: a job resumed after a
    /// rule was stopped holds only the rules past it.
    pub first: usize,
}

/// One step of a job. A rule's events are `Begin`, then its results (or one `TimedOut`), then
/// `Done`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) enum Event {
    Begin {
        rule: usize,
    },
    /// The rule's value on an input; `None` when undefined.
    Value {
        rule: usize,
        input: usize,
        value: Option<regorus::Value>,
    },
    Error {
        rule: usize,
        input: usize,
        message: String,
    },
    /// The rule ran out of time on this input (the first such input in order); it was stopped
    /// and none of its results are told.
    TimedOut {
        rule: usize,
        input: usize,
    },
    Done {
        rule: usize,
    },
}

enum Outcome {
    Value(Option<regorus::Value>),
    Error(String),
    TimedOut,
}

/// Runs the job, telling each step to `emit`; stops early only when `emit` fails.
pub(super) fn run<E>(job: &Job, emit: &mut dyn FnMut(Event) -> Result<(), E>) -> Result<(), E> {
    for i in 0..job.programs.len() {
        let rule = job.first + i;
        emit(Event::Begin { rule })?;
        for event in run_rule(job, i) {
            emit(event)?;
        }
        emit(Event::Done { rule })?;
    }
    Ok(())
}

fn run_rule(job: &Job, i: usize) -> Vec<Event> {
    let rule = job.first + i;
    let program = &job.programs[i];
    let work = &job.work[i];
    if work.is_empty() {
        return Vec::new();
    }
    let chunk = work.len().div_ceil(rayon::current_num_threads() * 4).max(1);
    // Once the rule has run out of time anywhere its results are all left out, so the other
    // threads stop too instead of spending the time limit on each of their inputs.
    let stopped = AtomicBool::new(false);
    let outcomes: Vec<(usize, Outcome)> = work
        .par_chunks(chunk)
        .flat_map_iter(|chunk| {
            let mut vm = None;
            let mut out = Vec::with_capacity(chunk.len());
            for &input in chunk {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let vm = match &mut vm {
                    Some(vm) => vm,
                    slot => match program.vm(job.data, job.limits) {
                        Ok(vm) => slot.insert(vm),
                        Err(e) => {
                            out.push((input, Outcome::Error(e.to_string())));
                            continue;
                        }
                    },
                };
                vm.set_input(job.inputs[input].clone());
                let outcome = match vm.execute_entry_point_by_name(&program.entry) {
                    Ok(regorus::Value::Undefined) => Outcome::Value(None),
                    Ok(value) => Outcome::Value(Some(value)),
                    Err(e) if timed_out(&e) => Outcome::TimedOut,
                    Err(e) => Outcome::Error(e.to_string()),
                };
                let stop = matches!(outcome, Outcome::TimedOut);
                out.push((input, outcome));
                if stop {
                    stopped.store(true, Ordering::Relaxed);
                    break;
                }
            }
            out
        })
        .collect();
    let timed_out = outcomes
        .iter()
        .find(|(_, o)| matches!(o, Outcome::TimedOut))
        .map(|(input, _)| *input);
    if let Some(input) = timed_out {
        return vec![Event::TimedOut { rule, input }];
    }
    outcomes
        .into_iter()
        .map(|(input, outcome)| match outcome {
            Outcome::Value(value) => Event::Value { rule, input, value },
            Outcome::Error(message) => Event::Error {
                rule,
                input,
                message,
            },
            Outcome::TimedOut => unreachable!("a timed-out rule returned above"),
        })
        .collect()
}
