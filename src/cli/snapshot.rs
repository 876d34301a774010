//! `posture snapshot`: collect a cluster once and save it, to scan later or elsewhere.

use super::cluster::{self, ClusterArgs};
use super::exit;
use anyhow::Context;
use clap::Args;
use posture::scan::{load_catalog, NeededTypes};
use posture::snapshot::KubeletConfig;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Write the snapshot to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also collect the types these Rego rules select.
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<u8> {
    let catalog = load_catalog(&args.policies).context("cannot load the rules")?;
    let snapshot = cluster::collect(&args.cluster, &NeededTypes::of(&catalog))?;
    let mut buffer = Vec::new();
    snapshot.write(&mut buffer)?;
    match &args.output {
        Some(path) => std::fs::write(path, &buffer)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(&buffer)?,
    }
    let mut err = std::io::stderr().lock();
    for missing in snapshot.missing() {
        writeln!(err, "{}", missing.problem())?;
    }
    let kubelets = snapshot
        .nodes
        .iter()
        .filter(|n| matches!(n.kubelet_config, KubeletConfig::Collected { .. }))
        .count();
    writeln!(
        err,
        "collected {} objects of {} types and {kubelets} of {} kubelet configurations from \
         cluster {} ({}, {})",
        snapshot.objects.len(),
        snapshot.resource_types.len(),
        snapshot.nodes.len(),
        snapshot.cluster.name,
        snapshot.cluster.platform.kind.as_str(),
        snapshot.cluster.server_version.git_version
    )?;
    Ok(exit::CLEAN)
}
