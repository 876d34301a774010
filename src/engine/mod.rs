//! Evaluation: one prepared regorus engine, cloned per rayon worker, run over every object with
//! only the built-in rules whose kinds match it; then a user's rules (`--policy`), compiled and
//! run apart under [`Limits`] (see [`user`]); rule output is decoded into [`Finding`]s.
//!
//! No I/O and no reporting here (but for running user rules in a child process under a memory
//! bound, [`isolation`]); a rule that fails on an object becomes a [`Problem`], and so does a
//! user policy that cannot be loaded.

pub mod inventory;
pub mod isolation;
pub mod limits;
pub mod network_policy;
pub mod pod_security;
mod recursion;
mod rule_job;
pub mod settings;
mod sharing;
mod user;

pub use limits::Limits;
pub use pod_security::PssVersion;
pub use settings::RuleSettings;
mod shape;
use sharing::Sharing;

use crate::finding::{self, Finding};
use crate::policy::{Catalog, Rule};
use crate::problem::{Code, Level, Problem};
use crate::resource::{FieldPath, InputType, OriginKind, Resource, Segment};
use crate::shared_text::SharedText;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Rego that failed to compile; the message from regorus names the file, line and column.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CompileError {
    pub path: String,
    pub message: String,
}

/// A catalog compiled into a ready-to-clone engine.
pub struct Evaluator {
    /// The built-in rules' engine.
    engine: regorus::Engine,
    /// The built-in rules, then the user rules that loaded.
    rules: Vec<Rule>,
    /// Entry points of the built-in rules.
    entry_points: Vec<String>,
    backend: Backend,
    user: user::UserRules,
    limits: Limits,
    /// User policies that could not be loaded; every evaluation reports them.
    load_problems: Vec<Problem>,
    /// The Pod Security policy version the Pod Security rules judge by.
    pss_version: PssVersion,
    /// What the project's config tells the rules (`data.settings`).
    settings: RuleSettings,
}

/// How rules are run. Both give the same findings (a test checks it on every fixture and
/// the corpus); bytecode is several times faster, the interpreter is the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// regorus's bytecode VM (RVM); an object it cannot evaluate goes to the interpreter.
    Bytecode,
    /// regorus's tree-walking interpreter.
    Interpreter,
}

/// What evaluation produced.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    /// Objects the bytecode VM could not evaluate, which the interpreter evaluated instead.
    pub interpreted: usize,
}

impl Evaluation {
    pub fn absorb(&mut self, other: Evaluation) {
        self.findings.extend(other.findings);
        self.problems.extend(other.problems);
        self.interpreted += other.interpreted;
    }
}

impl Evaluator {
    /// Compiles the libraries and rules of `catalog`, user rules under the default [`Limits`].
    pub fn new(catalog: &Catalog) -> Result<Self, CompileError> {
        Evaluator::with_limits(catalog, Limits::default())
    }

    /// Compiles the libraries and rules of `catalog`. Built-in rules that do not compile are an
    /// error; user policies that do not are problems that every evaluation reports.
    pub fn with_limits(catalog: &Catalog, limits: Limits) -> Result<Self, CompileError> {
        let builtin: Vec<Rule> = catalog
            .rules
            .iter()
            .filter(|r| r.builtin)
            .cloned()
            .collect();
        let mut engine = regorus::Engine::new();
        // A rule that calls a builtin wrongly should fail loudly, not quietly yield nothing.
        engine.set_strict_builtin_errors(true);
        for source in catalog
            .libraries
            .iter()
            .chain(builtin.iter().map(|r| &r.source))
        {
            engine
                .add_policy(source.path.clone(), source.text.clone())
                .map_err(|e| CompileError {
                    path: source.path.clone(),
                    message: e.to_string(),
                })?;
        }
        let entry_points = builtin.iter().map(Rule::entry_point).collect();
        let mut evaluator = Evaluator {
            engine,
            rules: builtin,
            entry_points,
            backend: Backend::Bytecode,
            user: user::UserRules::default(),
            limits,
            load_problems: Vec::new(),
            pss_version: PssVersion::default(),
            settings: RuleSettings::default(),
        };
        evaluator.check_compiles()?;
        let loaded = user::load(catalog, &evaluator.limits);
        evaluator.rules.extend(loaded.rules.rules.iter().cloned());
        evaluator.user = loaded.rules;
        evaluator.load_problems = loaded.problems;
        Ok(evaluator)
    }

    /// Problems loading the user's policies (also in every [`Evaluation`]).
    pub fn load_problems(&self) -> &[Problem] {
        &self.load_problems
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Sets what rules read as `data.settings` (from `.posture.yaml`) for later evaluations.
    pub fn set_settings(&mut self, settings: RuleSettings) {
        self.settings = settings;
    }

    /// regorus resolves rules lazily; evaluating each entry point once on an empty input
    /// surfaces type and reference errors at load time, with the file and line.
    fn check_compiles(&self) -> Result<(), CompileError> {
        let mut engine = self.engine.clone();
        engine.add_data(self.data(&[])).map_err(|e| CompileError {
            path: "inventory".into(),
            message: e.to_string(),
        })?;
        engine.set_input(regorus::Value::new_object());
        for (rule, entry) in self.rules.iter().zip(&self.entry_points) {
            engine.eval_rule(entry.clone()).map_err(|e| CompileError {
                path: rule.source.path.clone(),
                message: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// The rules that run: the built-in ones, then the user's that loaded.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn set_backend(&mut self, backend: Backend) {
        self.backend = backend;
    }

    /// Which Pod Security policy version the Pod Security rules judge by (latest by default).
    pub fn set_pss_version(&mut self, version: PssVersion) {
        self.pss_version = version;
    }

    pub fn pss_version(&self) -> PssVersion {
        self.pss_version
    }

    /// What rules read besides their input: the inventory of `resources`, what the project's
    /// config tells them (`data.settings`), and the Pod Security version as
    /// `data.pod_security.version` (the minor number).
    fn data<'a>(&self, resources: impl IntoIterator<Item = &'a Resource>) -> regorus::Value {
        let mut data = inventory::build(resources);
        if let Ok(fields) = data.as_object_mut() {
            fields.insert("settings".into(), to_rego(&self.settings.to_data()));
            fields.insert(
                "pod_security".into(),
                to_rego(&serde_json::json!({ "version": self.pss_version.minor() })),
            );
        }
        data
    }

    /// Evaluates every applicable rule on every resource, in parallel: the built-in rules, then
    /// the user's under their limits.
    pub fn evaluate(&self, resources: &[Resource]) -> Evaluation {
        let targets: Vec<&Resource> = resources.iter().collect();
        let data = self.data(resources);
        let mut out = self.evaluate_builtin(&targets, data.clone());
        out.problems.extend(self.load_problems.iter().cloned());
        out.problems.extend(shape::problems(resources));
        if !self.user.rules.is_empty() {
            out.absorb(user::evaluate(&self.user, resources, &data, &self.limits));
        }
        finding::sort(&mut out.findings);
        out.problems.sort();
        out
    }

    /// Prepares the evaluation of `targets` only, with the inventory of `all` (which holds
    /// them): what `posture watch` re-evaluates after a change, a chunk at a time
    /// ([`Among::evaluate`]). The inventory is built and the engine prepared once for every
    /// chunk, as a scan does.
    pub fn prepare_among<'a>(
        &self,
        all: impl IntoIterator<Item = &'a Resource>,
        targets: &[&Resource],
    ) -> Among<'_> {
        let data = self.data(all);
        Among {
            prepared: Prepared {
                evaluator: self,
                builtin: self.prepare_builtin(targets.iter().copied(), data.clone()),
            },
            data,
        }
    }

    fn evaluate_builtin(&self, resources: &[&Resource], data: regorus::Value) -> Evaluation {
        match self.prepare_builtin(resources.iter().copied(), data) {
            Ok(builtin) => builtin.run(self, resources),
            Err(problem) => Evaluation {
                problems: vec![problem],
                ..Evaluation::default()
            },
        }
    }

    /// Whether the user's rules (`--policy`) run too. A [`Prepared`] evaluation runs the
    /// built-in rules only: a user rule that is stopped loses all its findings, which needs
    /// every object evaluated in one go.
    pub fn has_user_rules(&self) -> bool {
        !self.user.rules.is_empty()
    }

    /// Prepares one evaluation of the built-in rules for `all` (the inventory is built from
    /// them, and the dispatch rules and bytecode cover their types), to run over them chunk by
    /// chunk with [`Prepared::evaluate`]: the engine is analysed, compiled and copied into
    /// each thread's VM once, not once per chunk.
    pub fn prepare(&self, all: &[&Resource]) -> Prepared<'_> {
        self.prepare_for(all, all.iter().copied())
    }

    /// [`prepare`](Self::prepare) for objects of the types of `types` (one object of each
    /// type is enough: rules go by type), with the inventory of `inventory`; what a cluster
    /// scan does before it has listed everything.
    pub fn prepare_for<'a>(
        &self,
        types: &[&Resource],
        inventory: impl IntoIterator<Item = &'a Resource>,
    ) -> Prepared<'_> {
        let data = self.data(inventory);
        Prepared {
            evaluator: self,
            builtin: self.prepare_builtin(types.iter().copied(), data),
        }
    }

    fn prepare_builtin<'a>(
        &self,
        resources: impl Iterator<Item = &'a Resource>,
        data: regorus::Value,
    ) -> Result<Builtin, Problem> {
        // Which rules apply to which object: those of its input type whose kinds (and origins,
        // when a rule names them) match it. Objects of one input type, origin kind and
        // apiVersion/kind share a plan.
        let mut plans: Vec<Vec<usize>> = Vec::new();
        let mut plan_of: PlanIndex = HashMap::new();
        for r in resources {
            if plan_lookup(&plan_of, r).is_some() {
                continue;
            }
            let rules: Vec<usize> = (0..self.entry_points.len())
                .filter(|&i| self.rules[i].runs_on(r))
                .collect();
            let plan = match plans.iter().position(|p| *p == rules) {
                Some(i) => i,
                None => {
                    plans.push(rules);
                    plans.len() - 1
                }
            };
            plan_of
                .entry((r.input, r.origin.kind()))
                .or_default()
                .entry(r.id.api_version.clone())
                .or_default()
                .insert(r.id.kind.clone(), plan);
        }
        let mut engine = self.engine.clone();
        let prepared = engine
            .add_policy(DISPATCH_FILE.to_owned(), self.dispatch_module(&plans))
            .map(|_| ())
            .and_then(|_| engine.add_data(data.clone()));
        // Analysing the modules happens on the first evaluation and is costly (tens of ms);
        // do it once here so that every worker's clone starts prepared.
        let prepared = prepared.and_then(|_| {
            engine.set_input(regorus::Value::new_object());
            engine
                .eval_rule("data.posture.dispatch.warm_up".to_owned())
                .map(|_| ())
        });
        if let Err(e) = prepared {
            return Err(Problem::new(
                Level::Error,
                Code::EvalError,
                format!("cannot prepare the engine for this input: {e}"),
            ));
        }
        let bytecode = match self.backend {
            Backend::Interpreter => None,
            Backend::Bytecode => Bytecode::compile(&mut engine, plans.len()).ok(),
        };
        // One worker per thread, made by the thread's first chunk and kept for every later
        // one: a worker's VM holds its own copy of the program and the inventory (see
        // `Bytecode::vm`), which is worth making once per thread. A chunk runs start to end on
        // one thread, so the lock is never contended.
        let workers = (0..rayon::current_num_threads())
            .map(|_| std::sync::Mutex::new(None))
            .collect();
        Ok(Builtin {
            engine,
            plans,
            plan_of,
            bytecode,
            data,
            workers,
        })
    }

    /// One Rego rule per plan that gathers the `deny` sets of all its rules, so an object is
    /// evaluated in one call and shared helpers (`k8s.containers`, ...) are computed once.
    fn dispatch_module(&self, plans: &[Vec<usize>]) -> String {
        let mut rego =
            String::from("package posture.dispatch\n\nimport rego.v1\n\nwarm_up := true\n\n");
        for (p, rules) in plans.iter().enumerate() {
            // One entry a line: regorus rejects lines over 1,024 columns.
            let entries: Vec<String> = rules
                .iter()
                .map(|&i| format!("\t\"{i}\": {},\n", self.entry_points[i]))
                .collect();
            rego.push_str(&format!("plan_{p} := {{\n{}}}\n\n", entries.concat()));
        }
        rego
    }

    fn evaluate_one(
        &self,
        worker: &mut Worker,
        resource: &Resource,
        plan: usize,
        rules: &[usize],
    ) -> Evaluation {
        let mut out = Evaluation::default();
        let subject = Subject::new(resource);
        let input = to_rego(&resource.object);
        let entry = plan_entry(plan);
        let result = match worker.vm.as_mut() {
            Some(vm) => {
                vm.set_input(input.clone());
                vm.execute_entry_point_by_name(&entry).ok()
            }
            None => None,
        };
        let engine = &mut worker.engine;
        let result = match result {
            Some(v) => Ok(v),
            // The interpreter is the reference; it also says which rule failed.
            None => {
                out.interpreted += usize::from(self.backend == Backend::Bytecode);
                engine.set_input(input);
                engine.eval_rule(entry)
            }
        };
        match result {
            Ok(regorus::Value::Object(by_rule)) => {
                for (key, value) in by_rule.iter() {
                    let rule = key
                        .as_string()
                        .ok()
                        .and_then(|k| k.parse::<usize>().ok())
                        .and_then(|i| self.rules.get(i));
                    if let Some(rule) = rule {
                        decode(rule, &subject, value.clone(), &mut worker.sharing, &mut out);
                    }
                }
            }
            // A failing rule fails the whole plan; evaluate one by one to say which rule failed.
            _ => {
                for &i in rules {
                    let rule = &self.rules[i];
                    match engine.eval_rule(self.entry_points[i].clone()) {
                        Ok(value) => decode(rule, &subject, value, &mut worker.sharing, &mut out),
                        Err(e) => out
                            .problems
                            .push(eval_problem(rule, resource, &e.to_string())),
                    }
                }
            }
        }
        out
    }
}

/// Converts without the deep clone that `regorus::Value::from(serde_json::Value)` needs, and
/// without going through serde (a third slower when the inventory was converted whole: 6 ms
/// against 4 ms at 10,000 objects, on one thread), to the same value.
fn to_rego(value: &serde_json::Value) -> regorus::Value {
    use serde_json::Value as J;
    match value {
        J::Null => regorus::Value::Null,
        J::Bool(b) => regorus::Value::from(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                regorus::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                regorus::Value::from(u)
            } else {
                regorus::Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(s) => regorus::Value::from(s.as_str()),
        J::Array(items) => regorus::Value::from(items.iter().map(to_rego).collect::<Vec<_>>()),
        J::Object(map) => regorus::Value::from(
            map.iter()
                .map(|(k, v)| (regorus::Value::from(k.as_str()), to_rego(v)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
    }
}

/// A rayon worker's own evaluators: the interpreter, and the bytecode VM when it compiled.
struct Worker {
    engine: regorus::Engine,
    vm: Option<regorus::rvm::RegoVM>,
    /// What this worker's findings share, for the whole evaluation.
    sharing: Sharing,
}

/// Plans by input type and origin kind, then apiVersion, then kind: looked up with the
/// object's own strings, without making a key for each object.
type PlanIndex = HashMap<(InputType, OriginKind), HashMap<String, HashMap<String, usize>>>;

fn plan_lookup(index: &PlanIndex, r: &Resource) -> Option<usize> {
    index
        .get(&(r.input, r.origin.kind()))?
        .get(r.id.api_version.as_str())?
        .get(r.id.kind.as_str())
        .copied()
}

/// The built-in rules made ready for one set of objects: the dispatch rules of their plans,
/// the engine analysed with their inventory, the bytecode, and a worker per thread.
struct Builtin {
    engine: regorus::Engine,
    plans: Vec<Vec<usize>>,
    plan_of: PlanIndex,
    bytecode: Option<Bytecode>,
    data: regorus::Value,
    workers: Vec<std::sync::Mutex<Option<Worker>>>,
}

impl Builtin {
    /// Evaluates `resources` (objects of the types it was prepared for) in parallel.
    fn run(&self, evaluator: &Evaluator, resources: &[&Resource]) -> Evaluation {
        let mut out = Evaluation::default();
        let mut work: Vec<(&Resource, usize)> = Vec::with_capacity(resources.len());
        for &r in resources {
            match plan_lookup(&self.plan_of, r) {
                Some(p) if self.plans[p].is_empty() => {}
                Some(p) => work.push((r, p)),
                // Only a caller that hands over objects it did not prepare for gets here.
                None => out.problems.push(Problem::new(
                    Level::Error,
                    Code::EvalError,
                    format!(
                        "{} was not evaluated: the evaluation was not prepared for its type",
                        r.id.display_name()
                    ),
                )),
            }
        }
        // Several chunks per thread even out uneven objects; each thread's worker serves all
        // of its chunks.
        let chunk = work.len().div_ceil(rayon::current_num_threads() * 8).max(1);
        let results: Vec<Evaluation> = work
            .par_chunks(chunk)
            .map(|chunk| {
                let index = rayon::current_thread_index().unwrap_or(0) % self.workers.len();
                let mut slot = self.workers[index]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let worker = slot.get_or_insert_with(|| Worker {
                    engine: self.engine.clone(),
                    vm: self.bytecode.as_ref().and_then(|b| b.vm(&self.data)),
                    sharing: Sharing::default(),
                });
                let mut out = Evaluation::default();
                for &(resource, p) in chunk {
                    out.absorb(evaluator.evaluate_one(worker, resource, p, &self.plans[p]));
                }
                out
            })
            .collect();
        // Made to its size once: grown by doubling, the largest copy and the next would be
        // held together (hundreds of thousands of findings in a large scan).
        out.findings
            .reserve_exact(results.iter().map(|r| r.findings.len()).sum());
        for r in results {
            out.absorb(r);
        }
        out
    }
}

/// An evaluation of some objects among others ([`Evaluator::prepare_among`]).
pub struct Among<'e> {
    prepared: Prepared<'e>,
    /// The inventory, for user rules.
    data: regorus::Value,
}

impl Among<'_> {
    /// The findings of built-in and user rules on `chunk` (objects among the targets it was
    /// prepared for), as [`Evaluator::evaluate`] gives them, sorted, with the problems of
    /// evaluating them; load and shape problems are left to a full evaluation.
    pub fn evaluate(&self, chunk: &[&Resource]) -> Evaluation {
        let evaluator = self.prepared.evaluator;
        let mut out = self.prepared.run(chunk);
        if !evaluator.user.rules.is_empty() && !chunk.is_empty() {
            // User rules take owned resources; only the few re-evaluated ones are copied.
            let owned: Vec<Resource> = chunk.iter().map(|r| (*r).clone()).collect();
            out.absorb(user::evaluate(
                &evaluator.user,
                &owned,
                &self.data,
                &evaluator.limits,
            ));
        }
        finding::sort(&mut out.findings);
        out.problems.sort();
        out
    }
}

/// One evaluation of the built-in rules prepared for a scan's objects, run over them chunk
/// by chunk ([`Evaluator::prepare`]). A scan that evaluates a chunk and then reduces its
/// objects holds whole objects for one chunk at a time.
pub struct Prepared<'e> {
    evaluator: &'e Evaluator,
    /// The prepared rules, or why they could not be prepared (reported once, by
    /// [`Prepared::problems`]).
    builtin: Result<Builtin, Problem>,
}

impl Prepared<'_> {
    /// Evaluates the built-in rules on `chunk` (objects among those the evaluation was prepared
    /// for), with the shape problems of its workloads. Findings and problems come unsorted.
    pub fn evaluate(&self, chunk: &[&Resource]) -> Evaluation {
        let mut out = self.run(chunk);
        out.problems.extend(shape::problems(chunk));
        out
    }

    /// The built-in rules' findings on `chunk`, and the problems of evaluating them; nothing
    /// when the rules could not be prepared (reported once, by [`Prepared::problems`]).
    fn run(&self, chunk: &[&Resource]) -> Evaluation {
        match &self.builtin {
            Ok(builtin) => builtin.run(self.evaluator, chunk),
            Err(_) => Evaluation::default(),
        }
    }

    /// What the whole evaluation reports once, however many chunks: a preparation that failed,
    /// and the user policies that did not load.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems: Vec<Problem> = self.builtin.as_ref().err().cloned().into_iter().collect();
        problems.extend(self.evaluator.load_problems.iter().cloned());
        problems
    }
}

fn plan_entry(plan: usize) -> String {
    format!("data.posture.dispatch.plan_{plan}")
}

/// The dispatch rules compiled to regorus's bytecode VM (RVM), which evaluates the same Rego
/// several times faster than the tree-walking interpreter.
struct Bytecode {
    policy: regorus::CompiledPolicy,
    program: std::sync::Arc<regorus::rvm::Program>,
}

impl Bytecode {
    fn compile(engine: &mut regorus::Engine, plans: usize) -> anyhow::Result<Bytecode> {
        let policy = engine.compile_with_entrypoint(&"data.posture.dispatch.warm_up".into())?;
        let entries: Vec<String> = (0..plans).map(plan_entry).collect();
        let refs: Vec<&str> = entries.iter().map(String::as_str).collect();
        let program =
            regorus::languages::rego::compiler::Compiler::compile_from_policy(&policy, &refs)?;
        Ok(Bytecode { policy, program })
    }

    fn vm(&self, data: &regorus::Value) -> Option<regorus::rvm::RegoVM> {
        let mut vm = regorus::rvm::RegoVM::new_with_policy(self.policy.clone());
        // regorus's default of 25,000 instructions per evaluation is a guard for untrusted
        // policy; the built-in rules are ours, and an object that exceeds it is evaluated again
        // by the slower interpreter. A ServiceAccount bound to several roles of many rules
        // (judged rule by rule for what they grant) needs more.
        vm.set_max_instructions(BUILTIN_MAX_INSTRUCTIONS);
        // Each worker gets its own copy of the program and of the top of the data: the VM
        // clones and drops `Arc`s to them on every instruction, and two threads sharing one
        // reference count spend their time fighting over its cache line. Below the top, the
        // inventory's entries (a namespace's NetworkPolicies, a role's bindings) are shared:
        // each is read now and then, and whole copies took some 80 MB of a 100,000-object
        // scan's 620 MB peak.
        // The program's constants are copied whole: every rule that names a string loads it,
        // and a shared one's reference count sat beside its text, which the other thread was
        // comparing (10,000 objects on two threads: some 4 % of the CPU time).
        let mut program = regorus::rvm::Program::clone(&self.program);
        program.literals = program
            .literals
            .iter()
            .map(|v| copy_top(v, usize::MAX))
            .collect();
        program.rule_tree = copy_top(&program.rule_tree, usize::MAX);
        vm.load_program(std::sync::Arc::new(program));
        vm.set_data(copy_top(data, DATA_COPY_DEPTH)).ok()?;
        Some(vm)
    }
}

/// How deep a worker's copy of the data goes: the document, `inventory`, and each of its
/// tables (`network_policies`, ...), whose entries are shared.
const DATA_COPY_DEPTH: usize = 3;

/// A copy of `value` whose objects, arrays, sets and strings `depth` levels down (keys
/// included) share no reference count with it; what is below them is shared.
fn copy_top(value: &regorus::Value, depth: usize) -> regorus::Value {
    use regorus::Value as V;
    let Some(below) = depth.checked_sub(1) else {
        return value.clone();
    };
    match value {
        V::String(s) => V::from(s.as_ref()),
        V::Array(items) => V::from(items.iter().map(|v| copy_top(v, below)).collect::<Vec<_>>()),
        V::Set(items) => V::from(
            items
                .iter()
                .map(|v| copy_top(v, below))
                .collect::<std::collections::BTreeSet<_>>(),
        ),
        V::Object(map) => V::from(
            map.iter()
                .map(|(k, v)| (copy_top(k, depth), copy_top(v, below)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        ),
        other => other.clone(),
    }
}

/// The bytecode VM's instruction budget for one object under the built-in rules.
const BUILTIN_MAX_INSTRUCTIONS: usize = 1_000_000;

/// Name of the generated module that gathers each plan's rules.
const DISPATCH_FILE: &str = "posture-dispatch.rego";

fn eval_problem(rule: &Rule, resource: &Resource, message: &str) -> Problem {
    let p = Problem::new(
        Level::Error,
        Code::EvalError,
        format!(
            "rule {} failed on {}: {message}",
            rule.id,
            resource.id.display_name()
        ),
    );
    match &*resource.origin {
        crate::resource::Origin::File { path, .. } => p.in_file(path.clone(), resource.start()),
        // The start is a line of the tool's output, not of the file.
        crate::resource::Origin::Rendered { file, .. } => p.in_file(file.clone(), None),
        crate::resource::Origin::Cluster { .. } => p,
    }
}

/// The entries of a rule's set (or array) of results; any other value is handed back for the
/// caller's message.
fn results(value: regorus::Value) -> Result<Vec<regorus::Value>, regorus::Value> {
    match value {
        regorus::Value::Set(set) => Ok(set.iter().cloned().collect()),
        regorus::Value::Array(a) => Ok(a.iter().cloned().collect()),
        other => Err(other),
    }
}

/// Turns a rule's output into findings; malformed entries are problems, not panics.
/// Findings share their paths and the words of their messages through `sharing`.
fn decode(
    rule: &Rule,
    subject: &Subject,
    value: regorus::Value,
    sharing: &mut Sharing,
    out: &mut Evaluation,
) {
    let resource = subject.resource;
    if let crate::policy::Contract::Conftest { rule: name, .. } = &rule.contract {
        return decode_conftest(rule, name, subject, value, sharing, out);
    }
    let items = match value {
        regorus::Value::Undefined => return,
        other => match results(other) {
            Ok(items) => items,
            Err(other) => {
                out.problems.push(eval_problem(
                    rule,
                    resource,
                    &format!("`deny` must be a set of {{\"msg\", \"path\"}} objects, got {other}"),
                ));
                return;
            }
        },
    };
    let (msg_key, path_key) = (regorus::Value::from("msg"), regorus::Value::from("path"));
    for item in items {
        // Read straight from the rule's value: converting every entry to JSON first cost more
        // than the rest of decoding. JSON is made only for the messages of malformed entries.
        let (msg, path) = match &item {
            regorus::Value::Object(entry) => (
                entry.get(&msg_key).and_then(|m| m.as_string().ok()),
                entry.get(&path_key),
            ),
            _ => (None, None),
        };
        let Some(msg) = msg else {
            let json = serde_json::to_value(&item).unwrap_or_default();
            out.problems.push(eval_problem(
                rule,
                resource,
                &format!("a `deny` entry has no string `msg`: {json}"),
            ));
            continue;
        };
        let path = match path {
            None | Some(regorus::Value::Null) => FieldPath::default(),
            Some(p) => match field_path(p) {
                Some(p) => p,
                None => {
                    let json = serde_json::to_value(p).unwrap_or_default();
                    out.problems.push(eval_problem(
                        rule,
                        resource,
                        &format!("`path` must be an array of keys and indices, got {json}"),
                    ));
                    FieldPath::default()
                }
            },
        };
        let path = sharing.paths.share(path);
        push_finding(rule, subject, msg, path, sharing, out);
    }
}

/// Turns a conftest rule's results into findings: a set (or array) of messages, each a string
/// or an object with a string `msg` (other keys are allowed and ignored, as conftest keeps them
/// as metadata); `true` from a boolean rule is one finding named after the rule.
fn decode_conftest(
    rule: &Rule,
    name: &str,
    subject: &Subject,
    value: regorus::Value,
    sharing: &mut Sharing,
    out: &mut Evaluation,
) {
    let resource = subject.resource;
    let items = match value {
        regorus::Value::Undefined | regorus::Value::Bool(false) => return,
        regorus::Value::Bool(true) => {
            let msg = format!("`{}.{name}` is true", rule.package);
            return push_finding(rule, subject, &msg, finding::empty_path(), sharing, out);
        }
        other => match results(other) {
            Ok(items) => items,
            Err(other) => {
                out.problems.push(eval_problem(
                    rule,
                    resource,
                    &format!("`{name}` must be a set of messages (strings or objects with `msg`), got {other}"),
                ));
                return;
            }
        },
    };
    // A string and an object with the same `msg` are one finding: the finding is its message.
    let mut seen = std::collections::BTreeSet::new();
    for item in items {
        let msg = match &item {
            regorus::Value::String(s) => Some(s.to_string()),
            regorus::Value::Object(o) => o
                .get(&regorus::Value::from("msg"))
                .and_then(|m| m.as_string().ok())
                .map(|m| m.to_string()),
            _ => None,
        };
        match msg {
            Some(msg) if !seen.insert(msg.clone()) => {}
            Some(msg) => push_finding(rule, subject, &msg, finding::empty_path(), sharing, out),
            None => out.problems.push(eval_problem(
                rule,
                resource,
                &format!("a `{name}` result is neither a string nor an object with a string `msg`: {item}"),
            )),
        }
    }
}

/// A rule's `path` (`["spec", "containers", 0]`), read as [`FieldPath::from_json`] reads its
/// JSON form; the keys keep the rule's strings rather than copies of them.
fn field_path(value: &regorus::Value) -> Option<FieldPath> {
    let regorus::Value::Array(items) = value else {
        return None;
    };
    items
        .iter()
        .map(|v| match v {
            regorus::Value::String(s) => Some(Segment::Key(s.clone().into())),
            regorus::Value::Number(n) => n.as_u64().map(|i| Segment::Index(i as usize)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(FieldPath)
}

/// An object being judged. Its findings share its identity and origin (the resource's own) and
/// one copy of its name (for their messages), made at its first finding.
pub(crate) struct Subject<'a> {
    resource: &'a Resource,
    name: std::cell::OnceCell<SharedText>,
}

impl<'a> Subject<'a> {
    pub(crate) fn new(resource: &'a Resource) -> Subject<'a> {
        Subject {
            resource,
            name: std::cell::OnceCell::new(),
        }
    }

    fn name(&self) -> &SharedText {
        self.name
            .get_or_init(|| SharedText::from(self.resource.id.name.as_str()))
    }
}

fn push_finding(
    rule: &Rule,
    subject: &Subject,
    msg: &str,
    path: Arc<FieldPath>,
    sharing: &mut Sharing,
    out: &mut Evaluation,
) {
    let resource = subject.resource;
    let name = subject.name();
    let position = resource.position_of(&path);
    out.findings.push(Finding {
        fingerprint: Finding::fingerprint_of(
            &rule.id,
            &resource.id,
            &resource.origin,
            &path,
            Some(&resource.object),
        ),
        rule_id: rule.id.clone(),
        rule_title: rule.title.clone(),
        severity: rule.severity,
        message: sharing.messages.message(msg, name),
        object: Arc::clone(&resource.id),
        origin: Arc::clone(&resource.origin),
        written: resource.written_at(&path).map(Box::new),
        path,
        position,
    });
}
