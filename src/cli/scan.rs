//! `posture scan`.

use super::cluster::{self, ClusterArgs};
use super::exit;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use posture::benchmark::BUILTIN_NAMES;
use posture::collect;
use posture::engine::Evaluator;
use posture::report::{self, Format, Style};
use posture::scan::{
    evaluate_with, load_catalog, scan_snapshot, BenchmarkChoice, BenchmarkRequest, NeededTypes,
    ScanReport,
};
use posture::snapshot::Snapshot;
use posture::Severity;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Scans manifests (`-f`), a saved cluster snapshot (`--snapshot`), or, with neither, the
/// cluster of the kubeconfig's current (or `--context`) context.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Manifest files or directories to scan (*.yaml, *.yml, *.json, recursively); `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "PATH", num_args = 1.., conflicts_with = "snapshot")]
    pub files: Vec<PathBuf>,
    /// Scan a cluster snapshot written by `posture snapshot` instead of a live cluster.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Exit 2 when any part of the cluster could not be collected.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when any finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Extra Rego rules (a directory or file), under the same contract as the built-in rules.
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// CIS benchmark to apply: `auto` picks the platform's (AKS, EKS, else CIS Kubernetes 1.12)
    /// for a cluster, and CIS Kubernetes 1.12 for manifests that hold control-plane, kubelet or
    /// kube-proxy settings; `none` reports the rules' findings only.
    #[arg(long, value_name = "NAME", default_value = "auto", value_parser = parse_benchmark)]
    pub benchmark: BenchmarkChoice,
    /// Node facts from `posture node-collect` (files, or directories of *.json), for the
    /// benchmark's file checks and the command lines of node processes.
    #[arg(long = "node-facts", value_name = "PATH", num_args = 1..)]
    pub node_facts: Vec<PathBuf>,
    /// When to colour the table; `auto` means on a terminal and NO_COLOR unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub render: super::render::RenderArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_benchmark(s: &str) -> Result<BenchmarkChoice, String> {
    match s {
        "auto" => Ok(BenchmarkChoice::Auto),
        "none" => Ok(BenchmarkChoice::Off),
        name if BUILTIN_NAMES.contains(&name) => Ok(BenchmarkChoice::Named(name.to_owned())),
        other => Err(format!(
            "unknown benchmark '{other}': use auto, none, or one of {}",
            BUILTIN_NAMES.join(", ")
        )),
    }
}

/// Width to wrap the table to: the terminal's, else $COLUMNS, else a width that reads well in
/// CI logs.
fn width(on_terminal: bool) -> u16 {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let terminal = on_terminal
        .then(|| comfy_table::Table::new().width())
        .flatten();
    terminal.or(from_env).unwrap_or(140).clamp(60, 400)
}

/// Whether any cluster option was given, which makes no sense with files or a snapshot.
fn names_a_cluster(c: &ClusterArgs) -> bool {
    c.kubeconfig.is_some()
        || c.context.is_some()
        || !c.namespaces.is_empty()
        || c.all_namespaces
        || !c.exclude_namespaces.is_empty()
}

fn report(args: &ScanArgs) -> anyhow::Result<ScanReport> {
    if names_a_cluster(&args.cluster) && (!args.files.is_empty() || args.snapshot.is_some()) {
        bail!(
            "cluster options (--context, --kubeconfig, --namespace, ...) apply to live scans; \
             drop them to scan files or a snapshot"
        );
    }
    let catalog = load_catalog(&args.policies).context("cannot load the rules")?;
    let evaluator = Evaluator::new(&catalog).context("cannot load the rules")?;
    let (node_facts, facts_problems) = collect::node::read_facts(&args.node_facts);
    let benchmark = BenchmarkRequest {
        choice: args.benchmark.clone(),
        node_facts,
    };
    let with_facts_problems = |mut report: ScanReport| {
        report.problems.extend(facts_problems.iter().cloned());
        report.problems.sort();
        report
    };
    if !args.files.is_empty() {
        let collected = collect::manifests::collect(&args.files, &args.render.options());
        return Ok(with_facts_problems(evaluate_with(
            &evaluator,
            collected,
            &benchmark,
            Default::default(),
        )));
    }
    let snapshot = match &args.snapshot {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            Snapshot::read(file).with_context(|| format!("cannot use {}", path.display()))?
        }
        None => cluster::collect(&args.cluster, &NeededTypes::of(&catalog))?,
    };
    Ok(with_facts_problems(scan_snapshot(
        &evaluator, snapshot, &benchmark,
    )))
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let report = report(&args)?;
    let stdout = std::io::stdout();
    let on_terminal = args.output.is_none() && stdout.is_terminal();
    // comfy-table ignores NO_COLOR, so it is honoured here (https://no-color.org).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => on_terminal && !no_color,
    };
    let style = Style {
        color,
        width: width(on_terminal),
    };
    // Streamed through a buffer rather than rendered whole first: a large scan's JSON is tens of
    // megabytes, which would otherwise sit in memory twice.
    match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
            report::write(args.format, &report, style, &mut out)
                .and_then(|()| out.flush())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
            report::write(args.format, &report, style, &mut out)?;
            out.flush()?;
        }
    }
    // Machine formats go to stdout or a file; problems also go to stderr so a CI log shows them.
    if args.format != Format::Table || args.output.is_some() {
        let mut err = std::io::stderr().lock();
        for p in &report.problems {
            writeln!(err, "{p}")?;
        }
    }
    let incomplete = args.strict
        && report
            .problems
            .iter()
            .any(|p| p.code == posture::problem::Code::NotCollected);
    Ok(if report.has_errors() || incomplete {
        exit::ERRORS
    } else if args.fail_on.is_some_and(|t| report.fails(t)) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
