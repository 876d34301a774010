//! Helpers shared by the integration tests.

use posture::collect::render::RenderOptions;
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
    let collected = posture::collect::manifests::collect(&inputs, &render_options());
    scan::evaluate(evaluator(), collected)
}

/// Where `scripts/test.sh` installs helm (it is not on PATH when cargo test runs alone).
pub fn installed_helm() -> Option<PathBuf> {
    let helm = repo().join("target/tools/bin/helm");
    helm.is_file().then_some(helm)
}

/// Default rendering, with the helm `scripts/test.sh` installed when it is there.
pub fn render_options() -> RenderOptions {
    RenderOptions {
        helm: installed_helm(),
        ..RenderOptions::default()
    }
}

/// Whether helm can run for a test: the installed one, `POSTURE_HELM`, or PATH. When it cannot,
/// the test fails under CI=true (CI must run every test) and elsewhere prints why, so the
/// caller returns early.
pub fn have_helm() -> bool {
    let found = installed_helm().is_some()
        || std::env::var_os("POSTURE_HELM").is_some_and(|p| Path::new(&p).is_file())
        || on_path("helm");
    found
        || skip(
            "helm",
            "run scripts/test.sh, which installs it under target/tools/bin",
        )
}

/// Whether kubectl (or kustomize) can run for a test; as [`have_helm`].
pub fn have_kubectl() -> bool {
    let found = std::env::var_os("POSTURE_KUBECTL").is_some_and(|p| Path::new(&p).is_file())
        || on_path("kubectl")
        || on_path("kustomize");
    found
        || skip(
            "kubectl",
            "install kubectl (https://kubernetes.io/docs/tasks/tools/)",
        )
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).is_file()))
}

/// `../shared/<rel>` beside the repository (reference data, the lab recording), when it is
/// there. When it is not, the test fails under CI=true and elsewhere prints why, so the caller
/// returns early.
pub fn shared_dir(rel: &str) -> Option<PathBuf> {
    let dir = crate::lab::shared_root().join(rel);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but {} is missing",
        dir.display()
    );
    eprintln!("skipping: {} not found", dir.display());
    None
}

fn skip(tool: &str, advice: &str) -> bool {
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but {tool} is not installed: {advice}"
    );
    eprintln!("skipping: {tool} is not installed; {advice}");
    false
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
    if let Some(helm) = installed_helm() {
        command.env("POSTURE_HELM", helm);
    }
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

/// Copies the files of a fixture directory (not recursively) into `to`, which is created: a
/// repository a test may change.
pub fn copy_fixture(fixture: &str, to: &Path) {
    copy_dir(&repo().join(fixture), to);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// `posture scan -f PATH --format FORMAT`, which must exit 0 or 1 and show none of
/// `credentials` on standard output or standard error: (stdout, stderr).
pub fn scan_showing_none_of(path: &str, format: &str, credentials: &[&str]) -> (String, String) {
    let out = posture_command(&["scan", "-f", path, "--format", format])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{path} {format}: {stderr}"
    );
    for secret in credentials {
        assert!(
            !stdout.contains(secret),
            "{path} {format} shows a credential"
        );
        assert!(
            !stderr.contains(secret),
            "{path} {format} stderr shows a credential"
        );
    }
    (stdout, stderr)
}
