//! A finished scan ([`ScanReport`]): everything reporters read, and the questions the gate
//! asks of it.

use crate::baseline::Baseline;
use crate::compliance::Compliance;
use crate::exceptions::{self, Suppressed};
use crate::finding::Finding;
use crate::policy::RuleInfo;
use crate::problem::Problem;
use crate::resource::{ObjectRef, Origin};
use crate::severity::Severity;
use crate::snapshot::ClusterInfo;
use std::sync::Arc;

/// What was scanned, for report headers.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Manifest files.
    Manifests,
    /// A live cluster, directly or through a snapshot of it.
    Cluster {
        info: ClusterInfo,
        /// When the objects were collected (RFC 3339).
        collected_at: String,
    },
}

/// Everything a reporter needs.
#[derive(Debug, Clone)]
pub struct ScanReport {
    pub target: Target,
    /// The rules that ran, in catalog order.
    pub rules: Vec<RuleInfo>,
    /// Sorted findings that count: not covered by an exception.
    pub findings: Vec<Finding>,
    /// Sorted findings an exception covers: shown, but neither counted nor gated on.
    pub suppressed: Vec<Suppressed>,
    /// Every exception that was in force, with how often it applied.
    pub exceptions: Vec<exceptions::Usage>,
    /// The previous scan findings were compared with (`--baseline`).
    pub baseline: Option<Baseline>,
    /// Sorted problems.
    pub problems: Vec<Problem>,
    /// How many objects were read (owned Pods and ReplicaSets included).
    pub objects: usize,
    /// The objects the rules were evaluated on, sorted; objects reported through their
    /// controller are not among them. JUnit needs them to report what passed.
    pub evaluated: Vec<EvaluatedObject>,
    /// The benchmark's result, when one was applied.
    pub compliance: Option<Compliance>,
    /// Routes from entry points to crown jewels, best first (`paths::find`).
    pub attack_paths: Vec<crate::paths::AttackPath>,
    /// The review's fix list: one change per object, best first (`fix::proposal::propose`).
    pub fixes: Vec<crate::fix::proposal::Proposal>,
}

/// One object the rules were evaluated on: its identity and where it was read, without its
/// content, so that a 10,000-object scan keeps a few hundred bytes per object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedObject {
    /// Its input type: only rules of that type were evaluated on it.
    pub input: crate::resource::InputType,
    /// Shared with the object's findings.
    pub object: Arc<ObjectRef>,
    pub origin: Arc<Origin>,
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

    /// Whether any finding that counts is at or above `threshold`: with a baseline, only new
    /// findings count.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity >= threshold && self.is_new(f))
    }

    /// Whether `f` is absent from the baseline (every finding is, without one).
    pub fn is_new(&self, f: &Finding) -> bool {
        self.baseline.as_ref().is_none_or(|b| !b.knows(f))
    }

    /// How many findings that count are new (all of them, without a baseline).
    pub fn new_count(&self) -> usize {
        self.findings.iter().filter(|f| self.is_new(f)).count()
    }

    /// `f`'s state against the baseline, when there is one.
    pub fn baseline_state(&self, f: &Finding) -> Option<crate::baseline::State> {
        self.baseline.as_ref().map(|b| {
            if b.knows(f) {
                crate::baseline::State::Unchanged
            } else {
                crate::baseline::State::New
            }
        })
    }

    /// Compares this scan with an earlier one: findings become new or unchanged, and the
    /// earlier findings that are gone are recorded as fixed.
    pub fn compare_with(&mut self, previous: crate::baseline::PriorScan) {
        let present = self
            .findings
            .iter()
            .chain(self.suppressed.iter().map(|s| &s.finding));
        self.baseline = Some(Baseline::new(previous, present));
    }

    pub fn rule(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }
}
