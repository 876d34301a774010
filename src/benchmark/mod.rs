//! The CIS benchmark catalogs as data: every recommendation of CIS Kubernetes 1.12, CIS AKS 1.8
//! and CIS EKS 1.8, with the facts needed to judge it (component, flag or configuration field,
//! operator, expected value, built-in default; file paths, mode and owner; the Rego rule that
//! covers it) and posture's own titles, remediation and manual steps.
//!
//! The YAML lives in `benchmarks/` and is embedded in the binary; its schema is
//! docs/benchmarks.md. This module only loads and validates it: no I/O, no evaluation, and no
//! dependency on the policy engine (rule ids to check against are passed in).

mod catalog;

pub use catalog::{
    Assessment, Benchmark, BenchmarkError, Check, Component, Evidence, FileKind, FileSpec, Op,
    Section, Target, Test, TestItem, Violation, BUILTIN_NAMES,
};
