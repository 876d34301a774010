//! The CIS benchmarks as data: every recommendation of each benchmark in `benchmarks/` (CIS
//! Kubernetes, AKS, EKS, GKE), with the facts needed to judge it (component, flag or
//! configuration field, operator, expected value, built-in default; file paths, mode and owner;
//! the Rego rules that cover it) and posture's own titles, remediation and manual steps.
//!
//! The YAML lives in `benchmarks/` and is embedded in the binary; its schema is
//! docs/benchmarks.md. A file is read into an unvalidated serde struct and validated into a
//! [`Benchmark`] whose checks each carry one [`Judgement`]; the [`Registry`] holds the built-in
//! ones. No I/O, no evaluation, and no dependency on the policy engine (rule ids to check
//! against are passed in).

mod catalog;
mod registry;
mod unvalidated;

pub use catalog::{
    node_role, AdmissionControl, Assessment, Benchmark, BenchmarkError, Check, Component, Evidence,
    FileKind, FileSpec, Judgement, Op, PssLevel, Section, Target, Test, TestItem, Violation,
};
pub use registry::Registry;
pub use unvalidated::{UnvalidatedBenchmark, UnvalidatedCheck};
