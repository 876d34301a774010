//! Runs policies/benchmark/settings.rego, the one rule that judges every flag and configuration
//! check, on one component run at a time, and decodes its verdicts.

use super::subjects::Run;
use crate::benchmark::{Check, Test};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const PATH: &str = "benchmark/settings.rego";
const SOURCE: &str = include_str!("../../policies/benchmark/settings.rego");
const RESULTS: &str = "data.posture.benchmark.settings.results";

/// The settings rule compiled once.
pub struct SettingsRule {
    engine: regorus::Engine,
}

/// The rule failed to load or to evaluate: a bug in posture, reported as a problem.
#[derive(Debug, thiserror::Error)]
#[error("{PATH}: {message}")]
pub struct SettingsError {
    message: String,
}

/// The verdict on one check for one run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub items: Vec<ItemVerdict>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    /// The value is in a configuration file that was not read.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ItemVerdict {
    /// The flag or configuration field, as the message names it.
    pub setting: String,
    /// `--profiling is not set, so the default true applies`.
    pub observed: String,
    /// `flag`, `config`, `default`, `absent` or `unread`.
    pub source: String,
    pub requirement: String,
    pub outcome: Outcome,
}

impl Verdict {
    /// What failed, in words: the observations of the failing items and what each requires.
    /// An `any` test lists its alternatives: "…; it must be 127.0.0.1 or it must not be set".
    pub fn explain(&self, test: &Test) -> String {
        let failing: Vec<&ItemVerdict> = self
            .items
            .iter()
            .filter(|i| i.outcome != Outcome::Pass)
            .collect();
        match test {
            Test::All(_) => failing
                .iter()
                .map(|i| format!("{}; {}", i.observed, i.requirement))
                .collect::<Vec<_>>()
                .join("; "),
            Test::Any(_) => {
                let mut observed: Vec<&str> = Vec::new();
                for i in &failing {
                    if !observed.contains(&i.observed.as_str()) {
                        observed.push(&i.observed);
                    }
                }
                let required: Vec<&str> = failing.iter().map(|i| i.requirement.as_str()).collect();
                format!("{}; {}", observed.join(", "), required.join(" or "))
            }
        }
    }

    /// Whether a component default (not an explicit setting) decided a failure.
    pub fn decided_by_default(&self) -> bool {
        self.items
            .iter()
            .any(|i| i.outcome == Outcome::Fail && i.source == "default")
    }
}

impl SettingsRule {
    pub fn new() -> Result<SettingsRule, SettingsError> {
        let mut engine = regorus::Engine::new();
        engine.set_strict_builtin_errors(true);
        engine
            .add_policy(PATH.to_owned(), SOURCE.to_owned())
            .map_err(|e| SettingsError {
                message: e.to_string(),
            })?;
        Ok(SettingsRule { engine })
    }

    /// Judges `checks` (all with a `test`) against one run.
    pub fn judge(
        &self,
        run: &Run<'_>,
        checks: &[&Check],
    ) -> Result<BTreeMap<String, Verdict>, SettingsError> {
        let mut flags = Map::new();
        for (name, value) in run.flags.flags() {
            let entry = flags
                .entry(name.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(values) = entry {
                values.push(json!(value.unwrap_or("true")));
            }
        }
        let checks: Vec<Value> = checks
            .iter()
            .filter_map(|c| {
                let test = c.test.as_ref()?;
                let items: Vec<Value> = test
                    .items()
                    .iter()
                    .map(|i| {
                        json!({
                            "flag": i.flag, "config_path": i.config_path, "op": i.op.as_str(),
                            "value": i.value, "default": i.default, "cli_default": i.cli_default,
                        })
                    })
                    .collect();
                Some(json!({"id": c.id, "combinator": test.combinator(), "items": items}))
            })
            .collect();
        let input = json!({
            "flags": flags,
            "config": run.config,
            "config_known": run.config_known,
            "config_unread": run.config_unread.is_some(),
            "checks": checks,
        });
        let mut engine = self.engine.clone();
        let error = |e: anyhow::Error| SettingsError {
            message: e.to_string(),
        };
        engine.set_input(regorus::Value::from_json_str(&input.to_string()).map_err(error)?);
        let value = engine.eval_rule(RESULTS.to_owned()).map_err(error)?;
        if value == regorus::Value::Undefined {
            return Ok(BTreeMap::new());
        }
        let json = value.to_json_str().map_err(error)?;
        serde_json::from_str(&json).map_err(|e| SettingsError {
            message: format!("unexpected output: {e}"),
        })
    }
}
