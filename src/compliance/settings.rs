//! Runs policies/benchmark/settings.rego, the one rule that judges every flag and configuration
//! check, on one component run at a time, and decodes its verdicts.

use super::subjects::Run;
use crate::benchmark::Test;
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
    /// `flag`, `config`, `default`, `absent`, `unread` or `unseen` (a flag-only setting of a
    /// component whose command line was not collected).
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
                let observed = distinct_observations(failing.iter().copied());
                let required: Vec<&str> = failing.iter().map(|i| i.requirement.as_str()).collect();
                format!("{}; {}", observed.join(", "), required.join(" or "))
            }
        }
    }

    /// What each item saw, once each: an `any` test often reads one setting twice
    /// (`--bind-address eq 127.0.0.1` or `--bind-address unset`).
    pub fn observations(&self) -> String {
        distinct_observations(self.items.iter()).join(", ")
    }

    /// Whether a component default (not an explicit setting) decided a failure.
    pub fn decided_by_default(&self) -> bool {
        self.items
            .iter()
            .any(|i| i.outcome == Outcome::Fail && i.source == "default")
    }
}

fn distinct_observations<'a>(items: impl Iterator<Item = &'a ItemVerdict>) -> Vec<&'a str> {
    let mut observed: Vec<&str> = Vec::new();
    for item in items {
        if !observed.contains(&item.observed.as_str()) {
            observed.push(&item.observed);
        }
    }
    observed
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
        // One evaluation prepares the engine (analysis, scheduling); clones of a prepared
        // engine share that work, so `judge` does not redo it per run.
        engine.set_input(regorus::Value::new_object());
        engine
            .eval_rule(RESULTS.to_owned())
            .map_err(|e| SettingsError {
                message: e.to_string(),
            })?;
        Ok(SettingsRule { engine })
    }

    /// The rule compiled once per process: `posture watch` assesses the benchmark again and
    /// again, and every assessment would otherwise parse and prepare it anew.
    pub fn shared() -> Result<&'static SettingsRule, SettingsError> {
        static SHARED: std::sync::OnceLock<Result<SettingsRule, String>> =
            std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| SettingsRule::new().map_err(|e| e.message))
            .as_ref()
            .map_err(|message| SettingsError {
                message: message.clone(),
            })
    }

    /// Judges `checks` (id and test) against one run.
    pub fn judge(
        &self,
        run: &Run<'_>,
        checks: &[(&str, &Test)],
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
            .map(|(id, test)| {
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
                json!({"id": id, "combinator": test.combinator(), "items": items})
            })
            .collect();
        let input = json!({
            "flags": flags,
            "config": run.config,
            "config_known": run.config_known,
            "config_unread": run.config_unread.is_some(),
            // A configuration object alone (a /configz, a KubeletConfiguration file, a
            // kube-proxy ConfigMap) says nothing of the command line it runs with.
            "flags_known": !(matches!(run.anchor, super::subjects::Anchor::Config { .. })
                && run.flags.flags().next().is_none()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::{Benchmark, Component, Judgement};
    use crate::compliance::subjects::Anchor;
    use crate::resource::{CommandLine, Origin};

    /// A one-check catalog whose single item is `item` (YAML, indented for a test list).
    fn judge(flags: &[&str], config: &[(&str, &str)], item: &str) -> (Outcome, String) {
        let text = format!(
            "benchmark: t\ntitle: T\nversion: \"1\"\nsections:\n  - id: \"1\"\n    title: S\n\
             checks:\n  - id: \"1.1\"\n    title: C\n    assessment: automated\n    scored: true\n\
             \x20   severity: low\n    target: node\n    evidence: kubelet-config\n\
             \x20   component: kubelet\n    test:\n      all:\n{item}    remediation: R\n"
        );
        let benchmark = Benchmark::parse("t.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
        let mut args = vec!["kubelet"];
        args.extend(flags);
        let run = Run {
            component: Component::Kubelet,
            node: None,
            label: "kubelet".to_owned(),
            flags: CommandLine::parse(&args),
            config: config
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            config_known: !config.is_empty(),
            config_unread: None,
            anchor: Anchor::Node {
                name: "n".to_owned(),
                origin: Origin::Cluster {
                    cluster: "c".to_owned(),
                },
            },
        };
        let Judgement::Settings { test, .. } = &benchmark.checks[0].judgement else {
            panic!("the check has a test");
        };
        let rule = SettingsRule::new().unwrap();
        let verdict = rule
            .judge(&run, &[("1.1", test)])
            .unwrap()
            .remove("1.1")
            .expect("a verdict for the check");
        (verdict.outcome, verdict.explain(test))
    }

    fn item(flag: &str, op: &str, value: Option<&str>, default: &str) -> String {
        let value = value.map_or(String::new(), |v| format!("          value: \"{v}\"\n"));
        format!(
            "        - flag: \"{flag}\"\n          op: {op}\n{value}          default: {default}\n"
        )
    }

    #[test]
    fn every_operator_passes_and_fails() {
        let cases: &[(&str, Option<&str>, &str, &str, Outcome)] = &[
            ("eq", Some("false"), "--x=false", "null", Outcome::Pass),
            ("eq", Some("false"), "--x=true", "null", Outcome::Fail),
            ("eq", Some("0"), "--x=0s", "null", Outcome::Pass),
            ("noteq", Some("0"), "--x=4h0m0s", "null", Outcome::Pass),
            ("noteq", Some("0"), "--x=0s", "null", Outcome::Fail),
            ("gt", Some("10"), "--x=11", "null", Outcome::Pass),
            ("gt", Some("10"), "--x=10", "null", Outcome::Fail),
            ("gte", Some("30"), "--x=30", "null", Outcome::Pass),
            ("gte", Some("5m"), "--x=2m", "null", Outcome::Fail),
            ("lt", Some("5"), "--x=4", "null", Outcome::Pass),
            ("lte", Some("5"), "--x=6", "null", Outcome::Fail),
            ("has", Some("RBAC"), "--x=Node,RBAC", "null", Outcome::Pass),
            (
                "has",
                Some("RBAC"),
                "--x=Node,RBACish",
                "null",
                Outcome::Fail,
            ),
            (
                "has",
                Some("127.0.0.1"),
                "--x=127.0.0.1:10249",
                "null",
                Outcome::Pass,
            ),
            (
                "nothave",
                Some("AlwaysAdmit"),
                "--x=NodeRestriction",
                "null",
                Outcome::Pass,
            ),
            (
                "nothave",
                Some("AlwaysAdmit"),
                "--x=AlwaysAdmit",
                "null",
                Outcome::Fail,
            ),
            (
                "valid_elements",
                Some("A,B,C"),
                "--x=A,C",
                "null",
                Outcome::Pass,
            ),
            (
                "valid_elements",
                Some("A,B,C"),
                "--x=A,D",
                "null",
                Outcome::Fail,
            ),
            ("bitmask", Some("600"), "--x=400", "null", Outcome::Pass),
            ("bitmask", Some("600"), "--x=440", "null", Outcome::Fail),
            (
                "regex",
                Some("^TLS1[23]$"),
                "--x=TLS13",
                "null",
                Outcome::Pass,
            ),
            (
                "regex",
                Some("^TLS1[23]$"),
                "--x=TLS10",
                "null",
                Outcome::Fail,
            ),
            ("set", None, "--x=a", "null", Outcome::Pass),
            ("set", None, "--y=a", "null", Outcome::Fail),
            ("unset", None, "--y=a", "\"true\"", Outcome::Pass),
            ("unset", None, "--x", "null", Outcome::Fail),
            // An empty value leaves a path flag at its empty default: not set.
            ("set", None, "--x=", "null", Outcome::Fail),
            ("unset", None, "--x=", "null", Outcome::Pass),
            ("eq", Some("false"), "--x=", "\"false\"", Outcome::Fail),
            // Absent: the default decides a comparison.
            ("eq", Some("false"), "--y", "\"true\"", Outcome::Fail),
            ("eq", Some("true"), "--y", "\"true\"", Outcome::Pass),
            ("eq", Some("true"), "--y", "null", Outcome::Fail),
        ];
        for (op, value, flag, default, want) in cases {
            let (got, why) = judge(&[flag], &[], &item("--x", op, *value, default));
            assert_eq!(
                got, *want,
                "{op} {value:?} on {flag} (default {default}): {why}"
            );
        }
    }

    #[test]
    fn an_empty_flag_value_is_named_as_empty() {
        let (got, why) = judge(
            &["--client-ca-file="],
            &[],
            &item("--client-ca-file", "set", None, "null"),
        );
        assert_eq!(
            (got, why.as_str()),
            (
                Outcome::Fail,
                "--client-ca-file is given an empty value; it must be set"
            )
        );
        let config = "        - flag: \"--client-ca-file\"\n          config_path: \"authentication.x509.clientCAFile\"\n\
                      \x20         op: set\n          default: null\n";
        let (got, _) = judge(&[], &[("authentication.x509.clientCAFile", "")], config);
        assert_eq!(got, Outcome::Fail);
    }

    #[test]
    fn repeated_flags_last_wins_but_lists_append() {
        let (got, _) = judge(
            &["--x=true", "--x=false"],
            &[],
            &item("--x", "eq", Some("false"), "null"),
        );
        assert_eq!(got, Outcome::Pass);
        let (got, _) = judge(
            &["--x=A", "--x=B"],
            &[],
            &item("--x", "has", Some("A"), "null"),
        );
        assert_eq!(got, Outcome::Pass);
    }

    #[test]
    fn flags_override_configuration_and_defaults_are_named() {
        let item =
            "        - flag: \"--read-only-port\"\n          config_path: \"readOnlyPort\"\n\
                    \x20         op: eq\n          value: \"0\"\n          default: \"0\"\n\
                    \x20         cli_default: \"10255\"\n";
        let (got, why) = judge(&["--read-only-port=10255"], &[("readOnlyPort", "0")], item);
        assert_eq!(
            (got, why.as_str()),
            (Outcome::Fail, "--read-only-port is 10255; it must be 0")
        );
        let (got, _) = judge(&[], &[("readOnlyPort", "0")], item);
        assert_eq!(got, Outcome::Pass);
        // No configuration file at all: the command line's default.
        let (got, why) = judge(&[], &[], item);
        assert_eq!(got, Outcome::Fail);
        assert!(why.contains("default 10255"), "{why}");
    }
}
