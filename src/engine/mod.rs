//! Evaluation: one prepared regorus engine, cloned per rayon worker, run over every object with
//! only the rules whose kinds match it; rule output is decoded into [`Finding`]s.
//!
//! No I/O and no reporting here; a rule that fails on an object becomes a [`Problem`].

mod inventory;

use crate::finding::{self, Finding};
use crate::policy::{Catalog, Rule};
use crate::problem::{Code, Level, Problem};
use crate::resource::{FieldPath, Resource};
use rayon::prelude::*;
use std::collections::HashMap;

/// Rego that failed to compile; the message from regorus names the file, line and column.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct CompileError {
    pub path: String,
    pub message: String,
}

/// A catalog compiled into a ready-to-clone engine.
pub struct Evaluator {
    engine: regorus::Engine,
    rules: Vec<Rule>,
    entry_points: Vec<String>,
}

/// What evaluation produced.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
}

impl Evaluator {
    /// Compiles the libraries and rules of `catalog`.
    pub fn new(catalog: &Catalog) -> Result<Self, CompileError> {
        let mut engine = regorus::Engine::new();
        // A rule that calls a builtin wrongly should fail loudly, not quietly yield nothing.
        engine.set_strict_builtin_errors(true);
        for source in catalog
            .libraries
            .iter()
            .chain(catalog.rules.iter().map(|r| &r.source))
        {
            engine
                .add_policy(source.path.clone(), source.text.clone())
                .map_err(|e| CompileError {
                    path: source.path.clone(),
                    message: e.to_string(),
                })?;
        }
        let entry_points = catalog.rules.iter().map(Rule::entry_point).collect();
        let evaluator = Evaluator {
            engine,
            rules: catalog.rules.clone(),
            entry_points,
        };
        evaluator.check_compiles()?;
        Ok(evaluator)
    }

    /// regorus resolves rules lazily; evaluating each entry point once on an empty input
    /// surfaces type and reference errors at load time, with the file and line.
    fn check_compiles(&self) -> Result<(), CompileError> {
        let mut engine = self.engine.clone();
        engine
            .add_data(regorus::Value::from(inventory::build(&[])))
            .map_err(|e| CompileError {
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

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Evaluates every applicable rule on every resource, in parallel.
    pub fn evaluate(&self, resources: &[Resource]) -> Evaluation {
        let mut engine = self.engine.clone();
        let data = regorus::Value::from(inventory::build(resources));
        if let Err(e) = engine.add_data(data) {
            return Evaluation {
                findings: vec![],
                problems: vec![Problem::new(
                    Level::Error,
                    Code::EvalError,
                    format!("cannot load the inventory into the engine: {e}"),
                )],
            };
        }
        let mut applicable: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let plan: Vec<Vec<usize>> = resources
            .iter()
            .map(|r| {
                applicable
                    .entry((r.id.api_version.as_str(), r.id.kind.as_str()))
                    .or_insert_with(|| {
                        (0..self.rules.len())
                            .filter(|&i| self.rules[i].kinds.matches(&r.id))
                            .collect()
                    })
                    .clone()
            })
            .collect();
        let results: Vec<Evaluation> = resources
            .par_iter()
            .zip(plan.par_iter())
            .filter(|(_, rules)| !rules.is_empty())
            .map_init(
                || engine.clone(),
                |engine, (resource, rules)| self.evaluate_one(engine, resource, rules),
            )
            .collect();
        let mut out = Evaluation::default();
        for r in results {
            out.findings.extend(r.findings);
            out.problems.extend(r.problems);
        }
        finding::sort(&mut out.findings);
        out.problems.sort();
        out
    }

    fn evaluate_one(
        &self,
        engine: &mut regorus::Engine,
        resource: &Resource,
        rules: &[usize],
    ) -> Evaluation {
        let mut out = Evaluation::default();
        engine.set_input(regorus::Value::from(resource.object.clone()));
        for &i in rules {
            let rule = &self.rules[i];
            match engine.eval_rule(self.entry_points[i].clone()) {
                Ok(value) => decode(rule, resource, value, &mut out),
                Err(e) => out
                    .problems
                    .push(eval_problem(rule, resource, &e.to_string())),
            }
        }
        out
    }
}

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
    match &resource.origin {
        crate::resource::Origin::File { path, .. } => p.in_file(path.clone(), resource.start()),
    }
}

/// Turns a rule's `deny` set into findings; malformed entries are problems, not panics.
fn decode(rule: &Rule, resource: &Resource, value: regorus::Value, out: &mut Evaluation) {
    let items = match value {
        regorus::Value::Undefined => return,
        regorus::Value::Set(set) => set.iter().cloned().collect::<Vec<_>>(),
        regorus::Value::Array(a) => a.iter().cloned().collect(),
        other => {
            out.problems.push(eval_problem(
                rule,
                resource,
                &format!("`deny` must be a set of {{\"msg\", \"path\"}} objects, got {other}"),
            ));
            return;
        }
    };
    for item in items {
        let json: serde_json::Value = match serde_json::to_value(&item) {
            Ok(j) => j,
            Err(e) => {
                out.problems
                    .push(eval_problem(rule, resource, &e.to_string()));
                continue;
            }
        };
        let Some(msg) = json.get("msg").and_then(|m| m.as_str()) else {
            out.problems.push(eval_problem(
                rule,
                resource,
                &format!("a `deny` entry has no string `msg`: {json}"),
            ));
            continue;
        };
        let path = match json.get("path") {
            None | Some(serde_json::Value::Null) => FieldPath::default(),
            Some(p) => match FieldPath::from_json(p) {
                Some(p) => p,
                None => {
                    out.problems.push(eval_problem(
                        rule,
                        resource,
                        &format!("`path` must be an array of keys and indices, got {p}"),
                    ));
                    FieldPath::default()
                }
            },
        };
        let position = resource.position_of(&path);
        out.findings.push(Finding {
            fingerprint: Finding::fingerprint_of(&rule.id, &resource.id, &resource.origin, &path),
            rule_id: rule.id.clone(),
            rule_title: rule.title.clone(),
            severity: rule.severity,
            message: msg.to_owned(),
            object: resource.id.clone(),
            origin: resource.origin.clone(),
            path,
            position,
        });
    }
}
