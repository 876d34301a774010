//! One scan from end to end: collect, evaluate, and hand reporters a [`ScanReport`].

use crate::collect::{self, Collected};
use crate::engine::{CompileError, Evaluator};
use crate::finding::Finding;
use crate::policy::{Catalog, PolicyError, Rule};
use crate::problem::Problem;
use crate::severity::Severity;
use std::path::PathBuf;

/// What to scan and with which rules.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Manifest files or directories; `-` is stdin.
    pub inputs: Vec<PathBuf>,
    /// Extra rule directories (`--policy`).
    pub policy_dirs: Vec<PathBuf>,
}

/// Errors that stop a scan before it starts: the rules themselves do not load.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("a policy does not compile: {0}")]
    Compile(#[from] CompileError),
}

/// Everything a reporter needs.
#[derive(Debug, Clone)]
pub struct ScanReport {
    /// The rules that ran, in catalog order.
    pub rules: Vec<Rule>,
    /// Sorted findings.
    pub findings: Vec<Finding>,
    /// Sorted problems.
    pub problems: Vec<Problem>,
    /// How many objects were evaluated.
    pub objects: usize,
}

impl ScanReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// Whether any finding is at or above `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Loads the built-in rules plus those in `policy_dirs`.
pub fn load_catalog(policy_dirs: &[PathBuf]) -> Result<Catalog, PolicyError> {
    let mut catalog = Catalog::builtin()?;
    for dir in policy_dirs {
        catalog.add_user_dir(dir)?;
    }
    Ok(catalog)
}

/// Scans the manifests named in `options`.
pub fn scan(options: &ScanOptions) -> Result<ScanReport, ScanError> {
    let catalog = load_catalog(&options.policy_dirs)?;
    let evaluator = Evaluator::new(&catalog)?;
    let collected = collect::manifests::collect(&options.inputs);
    Ok(evaluate(&evaluator, collected))
}

/// Evaluates already-collected objects.
pub fn evaluate(evaluator: &Evaluator, collected: Collected) -> ScanReport {
    let evaluation = evaluator.evaluate(&collected.resources);
    let mut problems = collected.problems;
    problems.extend(evaluation.problems);
    problems.sort();
    ScanReport {
        rules: evaluator.rules().to_vec(),
        findings: evaluation.findings,
        problems,
        objects: collected.resources.len(),
    }
}
