//! Helpers shared by the integration tests.

use posture::engine::Evaluator;
use posture::scan::{self, ScanReport};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built-in catalog compiled once for the whole test binary.
pub fn evaluator() -> &'static Evaluator {
    static EVALUATOR: OnceLock<Evaluator> = OnceLock::new();
    EVALUATOR.get_or_init(|| {
        // Read from disk, so that editing a rule or fixture needs no rebuild;
        // `embedded_catalog_matches_policies_dir` checks the binary ships the same files.
        let catalog = posture::policy::Catalog::builtin_from_dir(&repo().join("policies"))
            .unwrap_or_else(|e| panic!("built-in rules load: {e}"));
        Evaluator::new(&catalog).unwrap_or_else(|e| panic!("built-in rules compile: {e}"))
    })
}

/// Scans `paths` with the built-in rules.
pub fn scan_paths(paths: &[&Path]) -> ScanReport {
    let inputs: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    let collected = posture::collect::manifests::collect(&inputs);
    scan::evaluate(evaluator(), collected)
}

/// The posture binary, run from the repository in a fixed environment: no colour, no terminal
/// width, and no kubeconfig or home directory of the machine's user.
pub fn posture_command(args: &[&str]) -> Command {
    program_command(Path::new(env!("CARGO_BIN_EXE_posture")), args)
}

/// Another program (the binary under another name, or a tool that runs it) in the environment of
/// [`posture_command`].
pub fn program_command(program: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .env_remove("KUBECONFIG")
        .env("HOME", repo().join("target/no-home"));
    command
}

/// Runs [`posture_command`] to the end.
pub fn posture(args: &[&str]) -> Output {
    posture_command(args).output().expect("posture runs")
}

/// Asserts the exit code, showing stderr when it differs.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
