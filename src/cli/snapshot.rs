//! `posture snapshot`: collect a cluster once and save it, to scan later or elsewhere.

use super::args::{OutputFile, PolicyArgs};
use super::cluster::{self, ClusterArgs};
use super::exit;
use anyhow::Context;
use clap::Args;
use posture::snapshot::KubeletConfig;
use std::io::Write;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub output: OutputFile,
    /// Also collect the types these rules select.
    #[command(flatten)]
    pub policy: PolicyArgs,
}

pub fn run(args: SnapshotArgs) -> anyhow::Result<u8> {
    let mut spilled = {
        let bar = cluster::Bar::new();
        let spilled = posture::scan::snapshot_cluster(
            &args.cluster.options()?,
            &args.policy.user_policies(),
            &bar,
        );
        bar.finish();
        spilled?
    };
    // Opened only now: a collection that fails leaves no file behind.
    match &args.output.output {
        Some(path) => {
            let mut write = || -> std::io::Result<()> {
                let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
                spilled.write(&mut file)?;
                file.flush()
            };
            write().with_context(|| format!("cannot write {}", path.display()))?
        }
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            spilled.write(&mut out)?;
            out.flush()?
        }
    }
    let objects = spilled.objects();
    let snapshot = spilled.snapshot;
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
        objects,
        snapshot.resource_types.len(),
        snapshot.nodes.len(),
        snapshot.cluster.name,
        snapshot.cluster.platform.kind.as_str(),
        snapshot.cluster.server_version.git_version
    )?;
    Ok(exit::CLEAN)
}
