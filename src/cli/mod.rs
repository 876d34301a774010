//! Command-line interface: clap argument types and one function per subcommand. The only place
//! that uses `anyhow` and decides exit codes.

mod args;
mod cluster;
mod completions;
mod diff;
mod fix;
mod node_collect;
mod render;
mod rules;
mod scan;
mod snapshot;
mod watch;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsStr;
use std::path::Path;
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
    /// Compare two scan results or two cluster snapshots: findings introduced and fixed, and
    /// for snapshots the objects added, removed and changed.
    Diff(diff::DiffArgs),
    /// Collect a cluster into a snapshot file to scan later.
    Snapshot(snapshot::SnapshotArgs),
    /// On a node: record modes and owners of the benchmark's files and the Kubernetes processes.
    NodeCollect(node_collect::NodeCollectArgs),
    /// List the rule catalog.
    Rules(rules::RulesArgs),
    /// Show a rule's description and remediation.
    Explain(rules::ExplainArgs),
    /// Show (or, with --write, make) the changes to manifests that resolve findings where a
    /// safe change exists; objects rendered from charts and kustomizations get patches.
    Fix(fix::FixArgs),
    /// Watch a cluster: drift events (findings opened and resolved, objects added, removed and
    /// changed) as JSON lines, and with --listen metrics, health and the current findings.
    Watch(Box<watch::WatchArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Run a user's rules for a posture parent process (`--rego-memory`): a request on stdin,
    /// results on stdout. Not for people.
    #[command(name = posture::engine::isolation::CHILD_COMMAND, hide = true)]
    RunUserRules,
}

/// Whether the binary runs as a kubectl plugin: `kubectl posture` executes `kubectl-posture`
/// from PATH (a copy, a symlink, or krew's symlink), and argv[0] is that name.
fn is_kubectl_plugin(argv0: &OsStr) -> bool {
    Path::new(argv0).file_stem() == Some(OsStr::new("kubectl-posture"))
}

/// Parses the process's arguments like `Cli::parse`, but shows usage as `kubectl posture ...`
/// when run as a kubectl plugin, since that is what the user typed. Exits with clap's message
/// (and code 2) on bad arguments.
pub fn parse() -> Cli {
    let mut command = Cli::command();
    if std::env::args_os()
        .next()
        .is_some_and(|a| is_kubectl_plugin(&a))
    {
        command = command.bin_name("kubectl posture");
    }
    let mut matches = command.get_matches_mut();
    Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.format(&mut command).exit())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

impl Cli {
    /// Whether the command runs until stopped (`posture watch`) rather than once.
    pub fn runs_long(&self) -> bool {
        matches!(self.command, Command::Watch(_))
    }
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Diff(args) => diff::run(args),
        Command::Snapshot(args) => snapshot::run(args),
        Command::NodeCollect(args) => node_collect::run(args),
        Command::Rules(args) => rules::list(args),
        Command::Explain(args) => rules::explain(args),
        Command::Fix(args) => fix::run(args),
        Command::Watch(args) => watch::run(*args),
        Command::Completions(args) => completions::run(args),
        Command::RunUserRules => {
            posture::engine::isolation::serve(std::io::stdin().lock(), std::io::stdout().lock())
                .map(|()| exit::CLEAN)
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A reader that stopped reading (`posture rules | head`) is no error to report.
        Err(err) if is_broken_pipe(&err) => ExitCode::from(exit::ERRORS),
        Err(err) => {
            eprintln!("error: {}", posture::problem::error_chain(err.as_ref()));
            ExitCode::from(exit::ERRORS)
        }
    }
}
