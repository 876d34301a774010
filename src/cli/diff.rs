//! `posture diff OLD NEW`: what changed between two scans (JSON reports or SARIF logs) or two
//! cluster snapshots, which are scanned first and also compared object by object.

use super::args::{InputLimitArgs, OutputArgs, PolicyArgs};
use super::exit;
use anyhow::{bail, Context};
use clap::Args;
use posture::baseline::{self, PriorFinding, PriorScan};
use posture::collect::Collected;
use posture::diff::{self, DiffReport};
use posture::engine::Evaluator;
use posture::report::{self, Document, Style};
use posture::resource::SourcePath;
use posture::scan::{scan_snapshot, Judging};
use posture::snapshot::Snapshot;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Compares two scan results (`--format json` or `sarif`) or two snapshots.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier scan result or snapshot.
    pub old: PathBuf,
    /// The later scan result or snapshot.
    pub new: PathBuf,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Rules to scan snapshots with, besides the built-in ones.
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub limits: InputLimitArgs,
}

/// One side of the comparison.
enum Side {
    Scan(PriorScan),
    Snapshot(Box<Snapshot>),
}

fn read(path: &Path, max_input_bytes: u64) -> anyhow::Result<Side> {
    let shown = SourcePath::new(path).to_string();
    let text = posture::collect::input::read_text(path, max_input_bytes)
        .with_context(|| format!("cannot read {shown}"))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{shown} is not JSON"))?;
    if Snapshot::is_snapshot(&value) {
        let snapshot =
            Snapshot::from_value(value).with_context(|| format!("cannot use {shown}"))?;
        return Ok(Side::Snapshot(Box::new(snapshot)));
    }
    Ok(Side::Scan(baseline::from_value(&value, &shown)?))
}

pub fn run(args: DiffArgs) -> anyhow::Result<u8> {
    let outputs = args.out.outputs()?;
    if let Some((format, _)) = outputs.iter().find(|(f, _)| !f.renders_diffs()) {
        bail!(
            "posture diff writes table or json, not {}; scan to get the others",
            format.name()
        );
    }
    let limit = args.limits.max_input_bytes;
    let (old, new) = (read(&args.old, limit)?, read(&args.new, limit)?);
    let (old_scan, new_scan, drift) = match (old, new) {
        (Side::Scan(a), Side::Scan(b)) => (a, b, None),
        (Side::Snapshot(a), Side::Snapshot(b)) => {
            let catalog = args.policy.catalog()?;
            let evaluator = Evaluator::with_limits(&catalog, args.policy.limits())
                .context("cannot load the rules")?;
            let drift = diff::drift(
                &Collected::from_snapshot(a.as_ref().clone()).resources,
                &Collected::from_snapshot(b.as_ref().clone()).resources,
            );
            let scan = |s: Snapshot, path: &Path| {
                let report = scan_snapshot(&evaluator, s, &Judging::default());
                PriorScan {
                    source: SourcePath::new(path).to_string(),
                    findings: report.findings.iter().map(PriorFinding::of).collect(),
                }
            };
            (scan(*a, &args.old), scan(*b, &args.new), Some(drift))
        }
        _ => bail!("compare like with like: two scan results (JSON or SARIF) or two snapshots"),
    };
    let diff = DiffReport::new(&old_scan, &new_scan, drift);
    args.out
        .write(&outputs, Style::default(), |format, style, out| {
            report::write_document(format, Document::Diff(&diff), style, out)
        })?;
    let fails = args.out.fail_on.is_some_and(|t| diff.fails(t));
    Ok(if fails { exit::FINDINGS } else { exit::CLEAN })
}
