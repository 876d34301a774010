//! `posture completions SHELL`: prints a shell completion script. The script is generated from
//! the same clap definition the parser uses, so it cannot drift from the real subcommands and
//! flags.

use super::exit;
use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<u8> {
    // Always for `posture`, even when run as `kubectl-posture`: shells complete a command by its
    // own name, and kubectl completes plugins through a separate `kubectl_complete-<name>`
    // executable, not through these scripts.
    let mut command = super::Cli::command();
    // Into a buffer first: `generate` panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "posture", &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("cannot write the completion script")?;
    Ok(exit::CLEAN)
}
