//! What reporters know about the rule behind a finding: a Rego rule of the catalog
//! ([`crate::policy::Rule::info`]) or a check the benchmark judges itself
//! (`crate::compliance`). Only the fields reporters read; nothing here loads or evaluates.

use super::{Frameworks, KindSelector, RelatedResource};
use crate::severity::Severity;

/// A rule as reporters describe it (SARIF rule descriptors, JSON frameworks, JUnit suites, the
/// review's fixes).
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// `PST-0003`, or a benchmark check's `cis-1.12/1.2.15`.
    pub id: String,
    /// `privileged_container`; for a benchmark check, its title in snake case.
    pub slug: String,
    /// The rule's folder under `policies/rules/`, or the benchmark's name.
    pub group: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub remediation: String,
    pub frameworks: Frameworks,
    /// The kinds the rule reads; none for a benchmark check.
    pub kinds: KindSelector,
    /// The input type the rule reads; benchmark checks read Kubernetes components.
    pub input: crate::resource::InputType,
    /// Links for further reading (SARIF `helpUri`, rule help).
    pub related: Vec<RelatedResource>,
}
