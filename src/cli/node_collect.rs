//! `posture node-collect`: gather one node's file and process facts (run on the node, or in the
//! DaemonSet of deploy/node-collector.yaml).

use super::args::OutputFile;
use super::exit;
use anyhow::Context;
use clap::Args;
use posture::collect::node::{self, NodeCollectOptions};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct NodeCollectArgs {
    /// The host's root filesystem, e.g. `/host` when it is mounted into a pod.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// The process table to read (`/proc` of a pod with `hostPID: true`).
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc")]
    pub proc_dir: PathBuf,
    /// The node's name (default: $NODE_NAME, else the host's /etc/hostname).
    #[arg(long, value_name = "NAME", env = "NODE_NAME")]
    pub node_name: Option<String>,
    #[command(flatten)]
    pub output: OutputFile,
    /// Keep running after writing, so a DaemonSet pod's log keeps the facts for collection.
    #[arg(long)]
    pub hold: bool,
}

pub fn run(args: NodeCollectArgs) -> anyhow::Result<u8> {
    let facts = node::collect(&NodeCollectOptions {
        root: args.root,
        proc_dir: args.proc_dir,
        node_name: args.node_name,
    });
    let mut text = serde_json::to_vec_pretty(&facts)?;
    text.push(b'\n');
    match &args.output.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&text)?;
            out.flush()?;
        }
    }
    let mut err = std::io::stderr().lock();
    for missing in &facts.not_collected {
        writeln!(err, "warning[not-collected]: {missing}")?;
    }
    drop(err);
    if args.hold {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    Ok(exit::CLEAN)
}
