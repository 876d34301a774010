//! The `posture` binary: parse arguments, run, map the outcome to an exit code
//! (0 clean, 1 findings at or above --fail-on, 2 errors).

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    cli::run(cli::Cli::parse())
}
