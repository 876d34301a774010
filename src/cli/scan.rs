//! `posture scan`.

use super::cluster::{self, ClusterArgs};
use super::exit;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use posture::collect;
use posture::engine::Evaluator;
use posture::exceptions;
use posture::report::{self, Format, Style};
use posture::scan::{
    evaluate_with, load_catalog, scan_snapshot, BenchmarkChoice, NeededTypes, ScanReport,
    ScanRequest,
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
    /// Output formats: one (`table`, `json`, `sarif`, `junit`, `markdown`, `html`), or several
    /// from one scan as
    /// `FORMAT=FILE` entries separated by commas (`table,sarif=posture.sarif,json=posture.json`);
    /// an entry without a file goes to standard output (or `-o`).
    #[arg(long, value_name = "FORMAT[=FILE],...", default_value = "table", value_parser = parse_outputs)]
    pub format: Outputs,
    /// Write the report to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_json: Option<PathBuf>,
    /// Also write the SARIF log to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_sarif: Option<PathBuf>,
    /// Also write the table to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_table: Option<PathBuf>,
    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_junit: Option<PathBuf>,
    /// Also write the Markdown review to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_markdown: Option<PathBuf>,
    /// Also write the HTML review to FILE.
    #[arg(long, value_name = "FILE")]
    pub output_html: Option<PathBuf>,
    /// Exit 1 when any finding that counts is at or above this severity (with `--baseline`,
    /// only new findings count; suppressed ones never do).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// An earlier JSON report or SARIF log: findings it has are `unchanged`, the others `new`,
    /// and `--fail-on` counts only new ones.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The config file with exceptions; by default `.posture.yaml` in a scanned directory, else
    /// in the working directory.
    #[arg(long = "config", value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore `.posture.yaml` files (annotations on objects still apply).
    #[arg(long)]
    pub no_config: bool,
    /// List the suppressed findings in the table, with their reasons.
    #[arg(long)]
    pub show_suppressed: bool,
    /// List every exception in the table with how many findings it suppressed.
    #[arg(long)]
    pub audit_exceptions: bool,
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

/// The reports to write: formats, each to a file or (at most one) to standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs(Vec<(Format, Option<PathBuf>)>);

fn parse_outputs(s: &str) -> Result<Outputs, String> {
    let mut outputs = Vec::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, file) = match entry.split_once('=') {
            Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
            Some((name, _)) => return Err(format!("'{name}=' names no file")),
            None => (entry, None),
        };
        let format = Format::from_str(name, true).map_err(|_| {
            let names: Vec<String> = Format::value_variants()
                .iter()
                .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_owned()))
                .collect();
            format!("unknown format '{name}': use {}", names.join(", "))
        })?;
        outputs.push((format, file));
    }
    if outputs.is_empty() {
        return Err("no format given".to_owned());
    }
    if outputs.iter().filter(|(_, f)| f.is_none()).count() > 1 {
        return Err(
            "only one format can go to standard output; give the others a file (json=FILE)"
                .to_owned(),
        );
    }
    Ok(Outputs(outputs))
}

impl ScanArgs {
    /// Every report to write: `--format` entries (the one without a file goes to `-o` or
    /// stdout), then `--output-<format>` files.
    fn outputs(&self) -> Vec<(Format, Option<PathBuf>)> {
        let mut all: Vec<(Format, Option<PathBuf>)> = self
            .format
            .0
            .iter()
            .map(|(f, file)| (*f, file.clone().or_else(|| self.output.clone())))
            .collect();
        for (format, file) in [
            (Format::Json, &self.output_json),
            (Format::Sarif, &self.output_sarif),
            (Format::Table, &self.output_table),
            (Format::Junit, &self.output_junit),
            (Format::Markdown, &self.output_markdown),
            (Format::Html, &self.output_html),
        ] {
            if let Some(file) = file {
                all.push((format, Some(file.clone())));
            }
        }
        all
    }
}

fn parse_benchmark(s: &str) -> Result<BenchmarkChoice, String> {
    let names = posture::benchmark::Registry::builtin().names();
    match s {
        "auto" => Ok(BenchmarkChoice::Auto),
        "none" => Ok(BenchmarkChoice::Off),
        name if names.contains(&name) => Ok(BenchmarkChoice::Named(name.to_owned())),
        other => Err(format!(
            "unknown benchmark '{other}': use auto, none, or one of {}",
            names.join(", ")
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
    // Read before the scan: a baseline that cannot be read must stop a gate, not let it pass.
    let baseline = args
        .baseline
        .as_deref()
        .map(posture::baseline::read)
        .transpose()?;
    let catalog = load_catalog(&args.policies).context("cannot load the rules")?;
    let evaluator = Evaluator::new(&catalog).context("cannot load the rules")?;
    let (node_facts, mut early_problems) = collect::node::read_facts(&args.node_facts);
    let config_files = match (&args.config, args.no_config) {
        (Some(file), _) => {
            if !file.is_file() {
                bail!("the config file {} does not exist", file.display());
            }
            vec![file.clone()]
        }
        (None, true) => Vec::new(),
        (None, false) => exceptions::config::discover(&args.files),
    };
    let mut config_exceptions = Vec::new();
    for file in &config_files {
        let (found, problems) = exceptions::config::load(file);
        config_exceptions.extend(found);
        early_problems.extend(problems);
    }
    let request = ScanRequest {
        benchmark: args.benchmark.clone(),
        node_facts,
        exceptions: config_exceptions,
        today: None,
    };
    let finish = |mut report: ScanReport| {
        report.problems.extend(early_problems.iter().cloned());
        report.problems.sort();
        if let Some(previous) = baseline.clone() {
            report.compare_with(previous);
        }
        report
    };
    if !args.files.is_empty() {
        let collected = collect::manifests::collect(&args.files, &args.render.options());
        return Ok(finish(evaluate_with(
            &evaluator,
            collected,
            &request,
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
    Ok(finish(scan_snapshot(&evaluator, snapshot, &request)))
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let outputs = args.outputs();
    if args.output.is_some()
        && outputs
            .iter()
            .all(|(_, f)| f.as_ref() != args.output.as_ref())
    {
        bail!("-o names a file, but every --format entry has its own; drop -o");
    }
    let report = report(&args)?;
    let stdout = std::io::stdout();
    let to_stdout = outputs.iter().any(|(_, file)| file.is_none());
    let on_terminal = to_stdout && stdout.is_terminal();
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
        show_suppressed: args.show_suppressed,
        audit_exceptions: args.audit_exceptions,
    };
    // Streamed through a buffer rather than rendered whole first: a large scan's JSON is tens of
    // megabytes, which would otherwise sit in memory twice.
    for (format, file) in &outputs {
        match file {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
                // Colour codes belong on a terminal, never in a file.
                let style = Style {
                    color: color && args.color == ColorChoice::Always,
                    ..style
                };
                report::write(*format, &report, style, &mut out)
                    .and_then(|()| out.flush())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            None => {
                let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
                report::write(*format, &report, style, &mut out)?;
                out.flush()?;
            }
        }
    }
    // Unless a table goes to the terminal (it lists them), problems also go to stderr so a CI
    // log shows them.
    let table_on_stdout = outputs
        .iter()
        .any(|(f, file)| *f == Format::Table && file.is_none());
    if !table_on_stdout {
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
