//! `posture scan`: maps its arguments to one [`ScanRequest`], runs it, renders the report.

use super::args::{InputLimitArgs, OutputArgs, PolicyArgs, SelectArgs};
use super::cluster::{self, ClusterArgs};
use super::exit;
use anyhow::bail;
use clap::Args;
use posture::pattern::Pattern;
use posture::report::{self, Style};
use posture::scan::fleet::MemberRequest;
use posture::scan::{BenchmarkChoice, ExceptionSource, Input, Namespaces, ScanRequest};
use std::io::Write;
use std::path::PathBuf;

/// Scans manifests (`-f`), a saved cluster snapshot (`--snapshot`), or, with neither, the
/// cluster of the kubeconfig's current (or `--context`) context.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Manifest files or directories to scan, as with `-f`.
    #[arg(value_name = "PATH", conflicts_with_all = ["snapshot", "all_contexts"])]
    pub paths: Vec<PathBuf>,
    /// Manifest files or directories to scan (*.yaml, *.yml, *.json, recursively); `-` reads stdin.
    #[arg(short = 'f', long = "file", value_name = "PATH", num_args = 1.., conflicts_with_all = ["snapshot", "all_contexts"])]
    pub files: Vec<PathBuf>,
    /// Files and directories to leave out of a walk: globs on the path (`charts/**/tests/**`),
    /// or on any one part of it when there is no `/` (`_archived`, `*.tmpl.yaml`).
    #[arg(long = "skip-path", value_name = "GLOB", value_delimiter = ',', value_parser = super::args::parse_pattern)]
    pub skip_paths: Vec<Pattern>,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Scan a cluster snapshot written by `posture snapshot` instead of a live cluster; repeat
    /// to scan several into one report.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Vec<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Scan the cluster of every context of the kubeconfig, in parallel, into one report.
    #[arg(long, conflicts_with_all = ["context", "snapshot"])]
    pub all_contexts: bool,
    /// Clusters or snapshots scanned at once in a fleet scan.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub fleet_concurrency: u16,
    /// Exit 2 when any part of the cluster could not be collected.
    #[arg(long)]
    pub strict: bool,
    /// Exit 0 when the inputs hold no object at all; without it, nothing scanned is an error
    /// (exit 2), so that a failed step before the scan cannot pass a gate.
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub out: OutputArgs,
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
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub pod_security: super::args::PodSecurityArgs,
    /// CIS benchmark to apply: `auto` picks the platform's (AKS, EKS, GKE, else CIS Kubernetes
    /// 1.12) for a cluster, and CIS Kubernetes 1.12 for manifests that hold control-plane,
    /// kubelet or kube-proxy settings; `none` reports the rules' findings only.
    #[arg(long, value_name = "NAME", default_value = "auto", value_parser = parse_benchmark)]
    pub benchmark: BenchmarkChoice,
    /// Limit the benchmark to one CIS profile: 1 (Level 1) or 2 (Level 2, which includes
    /// Level 1). Recommendations whose level no published source states are left out, with a
    /// warning.
    #[arg(long, value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub cis_level: Option<u8>,
    /// Node facts from `posture node-collect` (files, or directories of *.json), for the
    /// benchmark's file checks and the command lines of node processes.
    #[arg(long = "node-facts", value_name = "PATH", num_args = 1..)]
    pub node_facts: Vec<PathBuf>,
    #[command(flatten)]
    pub render: super::render::RenderArgs,
    #[command(flatten)]
    pub limits: InputLimitArgs,
}

pub(super) fn parse_benchmark(s: &str) -> Result<BenchmarkChoice, String> {
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

/// Whether an option that only a live cluster has was given, which makes no sense with files
/// or a snapshot (namespaces also select from a snapshot).
fn names_a_cluster(c: &ClusterArgs) -> bool {
    c.kubeconfig.is_some() || !c.context.is_empty()
}

fn names_namespaces(c: &ClusterArgs) -> bool {
    !c.namespaces.is_empty() || c.all_namespaces || !c.exclude_namespaces.is_empty()
}

/// The scans these arguments ask for: one, or a fleet of several.
enum Plan {
    One(Box<ScanRequest>),
    Fleet(Vec<MemberRequest>),
}

fn plan(args: &ScanArgs) -> anyhow::Result<Plan> {
    let contexts = if args.all_contexts {
        let names = posture::collect::cluster::context_names(args.cluster.kubeconfig.as_deref())?;
        if names.is_empty() {
            bail!("--all-contexts: the kubeconfig has no contexts");
        }
        names
    } else {
        args.cluster.context.clone()
    };
    if contexts.len() > 1 {
        let members = contexts
            .iter()
            .map(|context| {
                let input = Input::Cluster(args.cluster.options_for(Some(context)));
                Ok(MemberRequest {
                    name: context.clone(),
                    request: request(args, input)?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        return Ok(Plan::Fleet(members));
    }
    if args.snapshot.len() > 1 {
        let members = args
            .snapshot
            .iter()
            .map(|path| {
                Ok(MemberRequest {
                    name: path.display().to_string(),
                    request: request(args, snapshot_input(args, path))?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        return Ok(Plan::Fleet(members));
    }
    let files: Vec<PathBuf> = args.files.iter().chain(&args.paths).cloned().collect();
    let input = match args.snapshot.first() {
        _ if !files.is_empty() => Input::Manifests {
            paths: files,
            render: args.render.options(),
            skip_paths: args.skip_paths.clone(),
        },
        Some(snapshot) => snapshot_input(args, snapshot),
        None => Input::Cluster(
            args.cluster
                .options_for(contexts.first().map(String::as_str)),
        ),
    };
    Ok(Plan::One(Box::new(request(args, input)?)))
}

fn snapshot_input(args: &ScanArgs, path: &std::path::Path) -> Input {
    Input::Snapshot {
        path: path.to_path_buf(),
        namespaces: Namespaces {
            only: (!args.cluster.namespaces.is_empty()).then(|| args.cluster.namespaces.clone()),
            exclude: args.cluster.exclude_namespaces.clone(),
        },
    }
}

/// The library's scan request for these arguments and `input`: the only decisions the CLI
/// makes.
fn request(args: &ScanArgs, input: Input) -> anyhow::Result<ScanRequest> {
    let files: Vec<PathBuf> = args.files.iter().chain(&args.paths).cloned().collect();
    if names_a_cluster(&args.cluster) && (!files.is_empty() || !args.snapshot.is_empty()) {
        bail!(
            "--context and --kubeconfig apply to live scans; drop them to scan files or a \
             snapshot"
        );
    }
    if names_namespaces(&args.cluster) && !files.is_empty() {
        bail!(
            "--namespace and --exclude-namespaces select from a cluster or a snapshot; to leave \
             files out of a scan, use --skip-path"
        );
    }
    let exceptions = match (&args.config, args.no_config) {
        (Some(file), _) => ExceptionSource::File(file.clone()),
        (None, true) => ExceptionSource::None,
        (None, false) => ExceptionSource::Discover,
    };
    Ok(ScanRequest {
        policies: args.policy.user_policies(),
        limits: args.policy.limits(),
        benchmark: args.benchmark.clone(),
        cis_level: args.cis_level,
        exceptions,
        node_facts: args.node_facts.clone(),
        baseline: args.baseline.clone(),
        allow_empty: args.allow_empty,
        max_input_bytes: args.limits.max_input_bytes,
        filter: args.select.filter(),
        pss_version: args.pod_security.pss_version,
        ..ScanRequest::new(input)
    })
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let outputs = args.out.outputs()?;
    // Only the reviews show the fix list; other formats spare the scan making it.
    let skip_fix_list = !outputs
        .iter()
        .any(|(format, _)| matches!(format, report::Format::Markdown | report::Format::Html));
    let request = match plan(&args)? {
        Plan::One(request) => ScanRequest {
            skip_fix_list,
            ..*request
        },
        Plan::Fleet(mut members) => {
            for member in &mut members {
                member.request.skip_fix_list = skip_fix_list;
            }
            return run_fleet(&args, &outputs, members);
        }
    };
    let report = {
        let bar = cluster::Bar::new();
        let report = posture::scan::run(&request, &bar);
        bar.finish();
        report?
    };
    let style = Style {
        show_suppressed: args.show_suppressed,
        audit_exceptions: args.audit_exceptions,
        ..Style::default()
    };
    let table_on_stdout = args.out.write(&outputs, style, |format, style, out| {
        report::write(format, &report, style, out)
    })?;
    // Unless a table goes to the terminal (it lists them), problems also go to stderr so a CI
    // log shows them.
    if !table_on_stdout {
        let mut err = std::io::stderr().lock();
        for p in &report.problems {
            writeln!(err, "{}", report::terminal_safe(&p.to_string()))?;
        }
    }
    let incomplete = args.strict
        && report
            .problems
            .iter()
            .any(|p| p.code == posture::problem::Code::NotCollected);
    let code = if report.has_errors() || incomplete {
        exit::ERRORS
    } else if args.out.fail_on.is_some_and(|t| report.fails(t)) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    // The process ends next and the OS takes its memory back at once; freeing the report
    // piece by piece (half a million findings at 100,000 objects) took one thread 0.1 s.
    std::mem::forget(report);
    Ok(code)
}

fn run_fleet(
    args: &ScanArgs,
    outputs: &[(report::Format, Option<PathBuf>)],
    members: Vec<MemberRequest>,
) -> anyhow::Result<u8> {
    let fleet = {
        let bar = cluster::Bar::new();
        let concurrency = std::num::NonZeroUsize::new(usize::from(args.fleet_concurrency))
            .unwrap_or(std::num::NonZeroUsize::MIN);
        let fleet = posture::scan::fleet::run_fleet(members, concurrency, &bar);
        bar.finish();
        fleet
    };
    let style = Style {
        show_suppressed: args.show_suppressed,
        audit_exceptions: args.audit_exceptions,
        ..Style::default()
    };
    let table_on_stdout = args.out.write(outputs, style, |format, style, out| {
        report::write_document(format, report::Document::Fleet(&fleet), style, out)
    })?;
    if !table_on_stdout {
        let mut err = std::io::stderr().lock();
        for m in &fleet.members {
            match &m.outcome {
                Ok(report) => {
                    for p in &report.problems {
                        writeln!(err, "{}: {}", m.name, report::terminal_safe(&p.to_string()))?;
                    }
                }
                Err(e) => writeln!(
                    err,
                    "{}: not scanned: {}",
                    m.name,
                    report::terminal_safe(&posture::problem::error_chain(e))
                )?,
            }
        }
    }
    let incomplete = args.strict
        && fleet.scanned().any(|(_, r)| {
            r.problems
                .iter()
                .any(|p| p.code == posture::problem::Code::NotCollected)
        });
    Ok(if fleet.has_errors() || incomplete {
        exit::ERRORS
    } else if args.out.fail_on.is_some_and(|t| fleet.fails(t)) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}
