//! posture: a container-security posture scanner for Kubernetes.
//!
//! The pipeline runs one way: `collect` reads manifests, or a live cluster through a
//! [`snapshot::Snapshot`], into [`Resource`]s, `engine` evaluates
//! the Rego rules of the `policy` catalog on them in parallel and yields [`Finding`]s, and
//! `compliance` applies a CIS benchmark to the scan (flags, kubelet configuration, node files and
//! the rules' findings), and `report` renders a [`ScanReport`] as a table, JSON, SARIF, JUnit,
//! or a markdown or HTML review. Problems (a malformed file, a
//! failing rule) never abort a scan; they travel with the report.

pub mod baseline;
pub mod benchmark;
pub mod collect;
pub mod compliance;
pub mod diff;
pub mod engine;
pub mod exceptions;
pub mod finding;
pub mod fingerprint;
pub mod fix;
pub mod location;
pub mod message;
pub mod paths;
pub mod pattern;
pub mod policy;
mod pretty_json;
pub mod problem;
pub mod report;
pub mod resource;
pub mod scan;
pub mod severity;
pub mod shared_text;
pub mod snapshot;
pub mod watch;

pub use finding::Finding;
pub use location::Location;
pub use policy::RuleInfo;
pub use problem::Problem;
pub use resource::{ObjectRef, Origin, Resource};
pub use scan::{ScanReport, ScanRequest};
pub use severity::Severity;
