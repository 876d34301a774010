//! Command-line interface: clap argument types and one function per subcommand. The only place
//! that uses `anyhow` and decides exit codes.

mod cluster;
mod node_collect;
mod render;
mod rules;
mod scan;
mod snapshot;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 errors.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const ERRORS: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "posture",
    version,
    about = "Container-security posture scanner for Kubernetes",
    long_about = "Scans Kubernetes manifests (helm template / kustomize build output, plain YAML \
                  and JSON), Helm charts and kustomizations (rendered with helm and kubectl) \
                  or a live cluster against Pod Security Standards, the CIS Kubernetes Benchmark and \
                  workload hygiene rules, and reports as a table, JSON or SARIF."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan manifests, a live cluster or a cluster snapshot, and report findings.
    // Boxed: the scan's options are several times the size of the other subcommands'.
    Scan(Box<scan::ScanArgs>),
    /// Collect a cluster into a snapshot file to scan later.
    Snapshot(snapshot::SnapshotArgs),
    /// On a node: record modes and owners of the benchmark's files and the Kubernetes processes.
    NodeCollect(node_collect::NodeCollectArgs),
    /// List the rule catalog.
    Rules(rules::RulesArgs),
    /// Show a rule's description and remediation.
    Explain(rules::ExplainArgs),
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::NodeCollect(args) => node_collect::run(args),
        Command::Rules(args) => rules::list(args),
        Command::Explain(args) => rules::explain(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {}", posture::problem::error_chain(err.as_ref()));
            ExitCode::from(exit::ERRORS)
        }
    }
}
