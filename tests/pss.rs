//! Pod Security at every policy version: `fixtures/pss/v1.<minor>/<level>/<pass|fail>/*.yaml`
//! are pods written from the Pod Security Standards and the admission checks, one or more at
//! each version where a check changed. Judged as Kubernetes' own admission test data is:
//! a baseline `fail` pod gets a finding of a baseline rule; a restricted `fail` pod one of a
//! baseline or restricted rule; a `pass` pod of a level none of a rule of that level or
//! below. The same pods, placed in a namespace that enforces that level and version, must be
//! rejected (PST-0030) exactly when they are labelled `fail`: the namespace judgement and the
//! per-control rules agree.
//!
//! `POSTURE_PSA_TESTDATA=<dir>` runs the same judgement over another tree of that layout
//! (`<level>/v1.<minor>/<pass|fail>/*.yaml`, as the admission controller's testdata is laid
//! out) and prints the agreement.

use crate::common::{render_options, repo};
use posture::engine::{Evaluator, PssVersion};
use posture::policy::{Catalog, PodSecurityLevel};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn evaluator_at(minor: u32) -> Evaluator {
    let catalog = Catalog::builtin_from_dir(&repo().join("policies")).expect("rules load");
    let mut evaluator = Evaluator::new(&catalog).expect("rules compile");
    evaluator.set_pss_version(PssVersion::Minor(minor));
    evaluator
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    files.sort();
    files
}

fn minor_of(dir: &Path) -> Option<u32> {
    dir.file_name()?.to_str()?.strip_prefix("v1.")?.parse().ok()
}

/// The Pod Security level of each rule id that has one.
fn levels(evaluator: &Evaluator) -> BTreeMap<String, PodSecurityLevel> {
    evaluator
        .rules()
        .iter()
        .filter_map(|r| r.frameworks.pod_security.map(|l| (r.id.to_string(), l)))
        .collect()
}

fn scan(evaluator: &Evaluator, files: &[PathBuf]) -> posture::scan::ScanReport {
    let collected = posture::collect::manifests::collect(files, &render_options());
    posture::scan::evaluate(evaluator, collected)
}

/// Whether `file`'s findings agree with its label; the disagreement otherwise.
fn judge(
    evaluator: &Evaluator,
    levels: &BTreeMap<String, PodSecurityLevel>,
    file: &Path,
    level: PodSecurityLevel,
    pass: bool,
) -> Result<(), String> {
    let report = scan(evaluator, &[file.to_path_buf()]);
    let counted: Vec<String> = report
        .findings
        .iter()
        .filter(|f| {
            levels.get(f.rule_id.as_str()).is_some_and(|l| {
                level == PodSecurityLevel::Restricted || *l == PodSecurityLevel::Baseline
            })
        })
        .map(|f| format!("{}: {}", f.rule_id, f.message))
        .collect();
    match (pass, counted.is_empty()) {
        (true, true) | (false, false) => Ok(()),
        (true, false) => Err(format!("expected to pass, got {}", counted.join(" | "))),
        (false, true) => Err("expected a finding, got none".to_owned()),
    }
}

/// The file's pod placed in a namespace enforcing level:v1.<minor>; whether PST-0030 agrees.
fn judge_namespace(
    evaluator: &Evaluator,
    file: &Path,
    level: PodSecurityLevel,
    minor: u32,
    pass: bool,
) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let level = match level {
        PodSecurityLevel::Baseline => "baseline",
        PodSecurityLevel::Restricted => "restricted",
    };
    let placed = text.replacen("metadata:\n", "metadata:\n  namespace: judged\n", 1);
    let namespace = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: judged\n  labels:\n    \
         pod-security.kubernetes.io/enforce: {level}\n    \
         pod-security.kubernetes.io/enforce-version: v1.{minor}\n---\n"
    );
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("placed.yaml");
    std::fs::write(&path, namespace + &placed).map_err(|e| e.to_string())?;
    let report = scan(evaluator, &[path]);
    let rejected = report.findings.iter().any(|f| f.rule_id == "PST-0030");
    match (pass, rejected) {
        (true, false) | (false, true) => Ok(()),
        (true, true) => Err("rejected by its namespace's enforce label".to_owned()),
        (false, false) => Err("not rejected by its namespace's enforce label".to_owned()),
    }
}

struct Tally {
    checked: usize,
    errors: Vec<String>,
}

/// Judges every `<minor dir>/<level>/<verdict>` (fixtures) or `<level>/<minor dir>/<verdict>`
/// (admission testdata) file under `root`.
fn run(root: &Path, level_first: bool, with_namespace: bool) -> Tally {
    let mut tally = Tally {
        checked: 0,
        errors: Vec::new(),
    };
    let mut by_minor: BTreeMap<u32, Vec<(PodSecurityLevel, bool, PathBuf)>> = BTreeMap::new();
    for (level_name, level) in [
        ("baseline", PodSecurityLevel::Baseline),
        ("restricted", PodSecurityLevel::Restricted),
    ] {
        let version_dirs: Vec<PathBuf> = if level_first {
            dirs(&root.join(level_name))
        } else {
            dirs(root).into_iter().map(|d| d.join(level_name)).collect()
        };
        for dir in version_dirs {
            let version_dir = if level_first {
                dir.clone()
            } else {
                dir.parent().unwrap().to_path_buf()
            };
            let Some(minor) = minor_of(&version_dir) else {
                continue;
            };
            for (verdict, pass) in [("pass", true), ("fail", false)] {
                for file in yaml_files(&dir.join(verdict)) {
                    by_minor.entry(minor).or_default().push((level, pass, file));
                }
            }
        }
    }
    for (minor, files) in by_minor {
        let evaluator = evaluator_at(minor);
        let levels = levels(&evaluator);
        for (level, pass, file) in files {
            tally.checked += 1;
            let shown = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .display()
                .to_string();
            if let Err(e) = judge(&evaluator, &levels, &file, level, pass) {
                tally.errors.push(format!("v1.{minor} {shown}: {e}"));
            }
            if with_namespace {
                if let Err(e) = judge_namespace(&evaluator, &file, level, minor, pass) {
                    tally.errors.push(format!("v1.{minor} {shown}: {e}"));
                }
            }
        }
    }
    tally
}

fn dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn pod_security_fixtures_agree_at_their_version() {
    let tally = run(&repo().join("fixtures/pss"), false, true);
    assert!(tally.checked > 50, "only {} fixtures found", tally.checked);
    assert!(tally.errors.is_empty(), "{}", tally.errors.join("\n"));
}

/// Runs only when POSTURE_PSA_TESTDATA names a tree laid out as the admission controller's
/// testdata; the data itself is not part of this repository.
#[test]
fn admission_testdata_agrees_when_given() {
    let Some(root) = std::env::var_os("POSTURE_PSA_TESTDATA") else {
        return;
    };
    let tally = run(Path::new(&root), true, true);
    println!(
        "admission testdata: {} files checked, {} disagreements",
        tally.checked,
        tally.errors.len()
    );
    assert!(tally.errors.is_empty(), "{}", tally.errors.join("\n"));
}

#[test]
fn versions_newer_than_known_judge_as_latest() {
    assert_eq!(
        PssVersion::Minor(99).minor(),
        PssVersion::Latest.minor(),
        "v1.99 is latest"
    );
    assert!("v0.9".parse::<PssVersion>().is_err());
}
