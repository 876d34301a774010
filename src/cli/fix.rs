//! `posture fix`: scans manifests and shows (or, with `--write`, makes) the changes that
//! resolve findings where a safe change exists; rendered objects get a kustomize patch.

use super::args::SelectArgs;
use super::exit;
use anyhow::Context;
use clap::Args;
use posture::fix::{Applied, FileChange};
use posture::pattern::Pattern;
use posture::scan::{BenchmarkChoice, Input, ScanRequest};
use rayon::prelude::*;
use std::io::Write;
use std::path::PathBuf;

/// Files whose diffs are held at once before they are written.
const DIFFS_PER_BATCH: usize = 16;

#[derive(Debug, Args)]
pub struct FixArgs {
    /// Manifest files or directories to fix.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Manifest files or directories to fix, as with `scan -f`.
    #[arg(short = 'f', long = "file", value_name = "PATH", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Make the changes in the files (and write the patches) instead of printing a diff.
    #[arg(long)]
    pub write: bool,
    /// Where patches for objects a chart or kustomization renders go.
    #[arg(long, value_name = "DIR", default_value = "posture-patches")]
    pub patch_dir: PathBuf,
    /// Files and directories to leave out of a walk (as `scan --skip-path`).
    #[arg(long = "skip-path", value_name = "GLOB", value_delimiter = ',', value_parser = super::args::parse_pattern)]
    pub skip_paths: Vec<Pattern>,
    #[command(flatten)]
    pub select: SelectArgs,
}

pub fn run(args: FixArgs) -> anyhow::Result<u8> {
    let paths: Vec<PathBuf> = args.files.iter().chain(&args.paths).cloned().collect();
    if paths.is_empty() {
        anyhow::bail!("name the manifests to fix: `posture fix DIR` or `posture fix -f FILE`");
    }
    // Charts render with their own values: a patch fixes what the chart's defaults render.
    let render = posture::collect::render::RenderOptions::default();
    let request = ScanRequest {
        benchmark: BenchmarkChoice::Off,
        filter: args.select.filter(),
        // posture fix makes its own plan, of every finding.
        skip_fix_list: true,
        ..ScanRequest::new(Input::Manifests {
            paths: paths.clone(),
            render: render.clone(),
            skip_paths: args.skip_paths.clone(),
        })
    };
    let report = posture::scan::run(&request, &posture::collect::cluster::Silent)?;
    let collected = posture::collect::manifests::collect_with(
        &paths,
        &render,
        &posture::collect::manifests::ReadOptions {
            skip_paths: args.skip_paths.clone(),
            ..Default::default()
        },
    );
    let plan = posture::fix::plan(
        &report.findings,
        &collected.resources,
        &|path| std::fs::read_to_string(path.as_str()),
        &args.patch_dir,
    );
    let mut out = std::io::stdout().lock();
    if args.write {
        for change in &plan.changes {
            write_change(change)?;
        }
    } else {
        // Diffs are worked out on every core, a batch of files at a time.
        for batch in plan.changes.chunks(DIFFS_PER_BATCH) {
            let diffs: Vec<String> = batch.par_iter().map(|c| c.unified_diff()).collect();
            for diff in diffs {
                write!(out, "{diff}")?;
            }
        }
    }
    out.flush()?;
    let mut err = std::io::stderr().lock();
    let log: &mut dyn Write = if args.write { &mut out } else { &mut err };
    for o in &plan.outcomes {
        let what = match &o.result {
            Ok(Applied::Edited(file)) => format!("fixed in {file}"),
            Ok(Applied::Patch(file)) => format!("patch {file}"),
            Err(why) => format!("not fixed: {why}"),
        };
        writeln!(
            log,
            "{} {} {}: {}",
            o.rule_id,
            posture::report::terminal_safe(&o.object.display_name()),
            posture::report::terminal_safe(&o.location),
            posture::report::terminal_safe(&what)
        )?;
    }
    let verb = if args.write { "fixed" } else { "would fix" };
    writeln!(
        log,
        "{verb} {} of {} findings in {} files",
        plan.fixed(),
        plan.outcomes.len(),
        plan.changes.len()
    )?;
    Ok(if report.has_errors() {
        exit::ERRORS
    } else {
        exit::CLEAN
    })
}

fn write_change(change: &FileChange) -> anyhow::Result<()> {
    let path = PathBuf::from(&change.path);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, &change.after).with_context(|| format!("cannot write {}", path.display()))
}
