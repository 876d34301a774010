//! Conformance over ../shared/corpus: real manifests by other people, some deliberately broken.
//! Every file is accounted for, every well-formed object is scanned, and every broken file is a
//! problem with a line. Required when CI=true; skipped with a printed reason elsewhere.

use crate::common::{repo, scan_paths};
use posture::problem::{Code, Level};
use posture::resource::Origin;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files that are not valid Kubernetes YAML/JSON, and why.
const BROKEN: &[(&str, &str)] = &[
    (
        "apps/kubernetes-examples/_archived/newrelic/newrelic-config-template.yaml",
        "{{ }} placeholder as a value",
    ),
    (
        "apps/kubernetes-examples/_archived/newrelic-infrastructure/newrelic-config-template.yaml",
        "{{ }} placeholder as a value",
    ),
    (
        "apps/kubernetes-examples/_archived/openshift-origin/secret.json",
        "empty file",
    ),
    (
        "apps/kubernetes-examples/_archived/storage/vitess/etcd-controller-template.yaml",
        "{{ }} placeholder as a value",
    ),
    (
        "apps/kubernetes-examples/_archived/storage/vitess/etcd-service-template.yaml",
        "{{ }} placeholder as a value",
    ),
    (
        "apps/kubernetes-examples/_archived/storage/vitess/vtgate-controller-template.yaml",
        "{{ }} placeholder as a value",
    ),
];

pub fn corpus_dir() -> Option<PathBuf> {
    let dir = repo().join("../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but {} is missing: the corpus conformance test must run in CI",
        dir.display()
    );
    eprintln!("skipping corpus conformance: {} not found", dir.display());
    None
}

fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .map(|e| e.into_path())
        .collect()
}

/// Objects in a file counted without our parser: top-level `kind:` lines, with `*List` wrappers
/// replaced by their items (the corpus writes list items as `- apiVersion:`).
fn independent_count(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|x| x == "json") {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let is_list = v["kind"].as_str().is_some_and(|k| k.ends_with("List"));
        return if is_list {
            v["items"].as_array().map_or(0, Vec::len)
        } else {
            1
        };
    }
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("kind:"))
        .map(|k| k.trim().trim_matches(['"', '\'']))
        .filter(|k| !k.is_empty())
        .collect();
    let lists = kinds.iter().filter(|k| k.ends_with("List")).count();
    let items = if lists > 0 {
        text.lines()
            .filter(|l| l.starts_with("- apiVersion:") || l.starts_with("  - apiVersion:"))
            .count()
    } else {
        0
    };
    kinds.len() - lists + items
}

#[test]
fn every_corpus_file_is_scanned_or_reported() {
    let Some(dir) = corpus_dir() else { return };
    let files = manifest_files(&dir);
    assert!(
        files.len() > 300,
        "corpus looks incomplete: {} files",
        files.len()
    );
    let report = scan_paths(&[&dir]);

    let mut objects: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for r in report.findings.iter().map(|f| &f.origin) {
        let Origin::File { path, .. } = r else {
            panic!("a manifest finding has a file origin: {r:?}");
        };
        assert!(path.starts_with(&dir));
    }
    let collected = posture::collect::manifests::collect(std::slice::from_ref(&dir));
    for r in &collected.resources {
        let Origin::File { path, .. } = &r.origin else {
            panic!("a manifest has a file origin: {:?}", r.origin);
        };
        *objects.entry(path.clone()).or_default() += 1;
    }
    let mut with_problem: BTreeSet<PathBuf> = BTreeSet::new();
    let mut errors: BTreeSet<String> = BTreeSet::new();
    for p in &report.problems {
        assert_ne!(
            p.code,
            Code::EvalError,
            "a rule failed on corpus input: {p}"
        );
        let file = p.file.clone().expect("file problems name their file");
        assert!(
            p.position.is_some_and(|pos| pos.line >= 1),
            "problem without a line: {p}"
        );
        if p.level == Level::Error {
            errors.insert(
                file.strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
        with_problem.insert(file);
    }
    let expected: BTreeSet<String> = BROKEN.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        errors, expected,
        "files reported as broken differ from the known broken files"
    );

    for file in &files {
        let n = objects.get(file).copied().unwrap_or(0);
        assert!(
            n > 0 || with_problem.contains(file),
            "{} vanished: no object and no problem",
            file.display()
        );
        let rel = file
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if !expected.contains(&rel) {
            assert_eq!(n, independent_count(file), "object count of {rel}");
        }
    }
    assert_eq!(report.objects, collected.resources.len());
    assert!(
        report.objects > 800,
        "only {} objects scanned",
        report.objects
    );
}

#[test]
fn crd_with_bare_equals_enum_loads() {
    // Checkov drops this 5 MB file over `enum: ['!=', =, =~, '!~']`; we must read all of it.
    let Some(dir) = corpus_dir() else { return };
    let file = dir.join("helm-crds/kube-prometheus-stack-with-crds.yaml");
    let collected = posture::collect::manifests::collect(std::slice::from_ref(&file));
    assert!(
        collected.problems.iter().all(|p| !p.is_error()),
        "{:?}",
        collected.problems
    );
    let crds = collected
        .resources
        .iter()
        .filter(|r| r.id.kind == "CustomResourceDefinition")
        .count();
    assert_eq!(crds, 10);
    assert_eq!(collected.resources.len(), independent_count(&file));
}
