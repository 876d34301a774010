//! `posture diff OLD NEW`: what changed between two scans (JSON reports or SARIF logs) or two
//! cluster snapshots, which are scanned first and also compared object by object.

use super::exit;
use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use comfy_table::{Cell, Table};
use posture::baseline::{self, PriorFinding, PriorScan};
use posture::diff::{self, Drift, FindingsDiff};
use posture::engine::Evaluator;
use posture::report::Style;
use posture::resource::ObjectRef;
use posture::resource::SourcePath;
use posture::scan::{load_catalog, scan_snapshot, ScanRequest};
use posture::snapshot::Snapshot;
use posture::Severity;
use serde::Serialize;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bump the major number on any change that can break a reader.
pub const DIFF_SCHEMA_VERSION: &str = "1.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
}

/// Compares two scan results (`--format json` or `sarif`) or two snapshots.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier scan result or snapshot.
    pub old: PathBuf,
    /// The later scan result or snapshot.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Write the comparison to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when an introduced finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = |s: &str| s.parse::<Severity>())]
    pub fail_on: Option<Severity>,
    /// Extra Rego rules for scanning snapshots.
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
}

/// One side of the comparison.
enum Side {
    Scan(PriorScan),
    Snapshot(Box<Snapshot>),
}

fn read(path: &Path) -> anyhow::Result<Side> {
    let shown = SourcePath::new(path).to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{shown} is not JSON"))?;
    if Snapshot::is_snapshot(&value) {
        let snapshot =
            Snapshot::from_value(value).with_context(|| format!("cannot use {shown}"))?;
        return Ok(Side::Snapshot(Box::new(snapshot)));
    }
    Ok(Side::Scan(baseline::from_value(&value, &shown)?))
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    schema_version: &'static str,
    old: String,
    new: String,
    summary: Summary,
    findings: &'a FindingsDiff,
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<&'a Drift>,
}

#[derive(Serialize)]
struct Summary {
    introduced: usize,
    fixed: usize,
    unchanged: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_added: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_removed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_changed: Option<usize>,
}

pub fn run(args: DiffArgs) -> anyhow::Result<u8> {
    let (old, new) = (read(&args.old)?, read(&args.new)?);
    let (old_scan, new_scan, drift) = match (old, new) {
        (Side::Scan(a), Side::Scan(b)) => (a, b, None),
        (Side::Snapshot(a), Side::Snapshot(b)) => {
            let catalog = load_catalog(&args.policies).context("cannot load the rules")?;
            let evaluator = Evaluator::new(&catalog).context("cannot load the rules")?;
            let drift = diff::drift(
                &posture::collect::Collected::from_snapshot(a.as_ref().clone()).resources,
                &posture::collect::Collected::from_snapshot(b.as_ref().clone()).resources,
            );
            let scan = |s: Snapshot, path: &Path| {
                let report = scan_snapshot(&evaluator, s, &ScanRequest::default());
                PriorScan {
                    source: SourcePath::new(path).to_string(),
                    findings: report.findings.iter().map(PriorFinding::of).collect(),
                }
            };
            (scan(*a, &args.old), scan(*b, &args.new), Some(drift))
        }
        _ => bail!("compare like with like: two scan results (JSON or SARIF) or two snapshots"),
    };
    let findings = diff::findings(&old_scan, &new_scan);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format {
        DiffFormat::Json => {
            let doc = JsonDiff {
                schema_version: DIFF_SCHEMA_VERSION,
                old: old_scan.source.clone(),
                new: new_scan.source.clone(),
                summary: Summary {
                    introduced: findings.introduced.len(),
                    fixed: findings.fixed.len(),
                    unchanged: findings.unchanged.len(),
                    objects_added: drift.as_ref().map(|d| d.added.len()),
                    objects_removed: drift.as_ref().map(|d| d.removed.len()),
                    objects_changed: drift.as_ref().map(|d| d.changed.len()),
                },
                findings: &findings,
                drift: drift.as_ref(),
            };
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        DiffFormat::Table => table(&old_scan, &new_scan, &findings, drift.as_ref(), &mut out)?,
    }
    out.flush()?;
    let fails = args.fail_on.is_some_and(|t| {
        findings
            .introduced
            .iter()
            .any(|f| f.severity.is_some_and(|s| s >= t))
    });
    Ok(if fails { exit::FINDINGS } else { exit::CLEAN })
}

fn new_table() -> Table {
    posture::report::table::new_table(Style {
        width: 140,
        ..Style::default()
    })
}

fn findings_table(
    title: &str,
    findings: &[PriorFinding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "{title} ({})", findings.len())?;
    if findings.is_empty() {
        return writeln!(out);
    }
    let mut t = new_table();
    t.set_header(vec!["Severity", "Rule", "Object", "Location", "Finding"]);
    for f in findings {
        t.add_row(vec![
            Cell::new(f.severity.map(|s| s.as_str()).unwrap_or("-")),
            Cell::new(&f.rule_id),
            Cell::new(&f.object),
            Cell::new(&f.location),
            Cell::new(&f.message),
        ]);
    }
    writeln!(out, "{t}\n")
}

fn object_name(o: &ObjectRef) -> String {
    baseline::object_label(&o.kind, o.namespace.as_deref(), &o.name)
}

fn table(
    old: &PriorScan,
    new: &PriorScan,
    findings: &FindingsDiff,
    drift: Option<&Drift>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "Comparing {} with {}\n", old.source, new.source)?;
    findings_table("INTRODUCED", &findings.introduced, out)?;
    findings_table("FIXED", &findings.fixed, out)?;
    writeln!(out, "UNCHANGED ({})\n", findings.unchanged.len())?;
    if let Some(d) = drift {
        writeln!(
            out,
            "DRIFT: {} added, {} removed, {} changed",
            d.added.len(),
            d.removed.len(),
            d.changed.len()
        )?;
        if !d.is_empty() {
            let mut t = new_table();
            t.set_header(vec!["Change", "Object", "Fields"]);
            for o in &d.added {
                t.add_row(vec![
                    Cell::new("added"),
                    Cell::new(object_name(o)),
                    Cell::new(""),
                ]);
            }
            for o in &d.removed {
                t.add_row(vec![
                    Cell::new("removed"),
                    Cell::new(object_name(o)),
                    Cell::new(""),
                ]);
            }
            for c in &d.changed {
                // A long list helps nobody in a table; JSON has them all.
                const SHOWN: usize = 8;
                let mut fields = c.fields.iter().take(SHOWN).cloned().collect::<Vec<_>>();
                if c.fields.len() > SHOWN {
                    fields.push(format!("... {} more", c.fields.len() - SHOWN));
                }
                t.add_row(vec![
                    Cell::new("changed"),
                    Cell::new(object_name(&c.object)),
                    Cell::new(fields.join("\n")),
                ]);
            }
            writeln!(out, "{t}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} introduced, {} fixed, {} unchanged",
        findings.introduced.len(),
        findings.fixed.len(),
        findings.unchanged.len()
    )
}
