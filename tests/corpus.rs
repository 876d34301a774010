//! Conformance over ../shared/corpus: real manifests by other people, some deliberately broken.
//! Every file is accounted for, every well-formed object is scanned, and every broken file is a
//! problem with a line. Kustomizations are built with kubectl, so their files are accounted for
//! by the build. Required when CI=true; skipped with a printed reason elsewhere.

use crate::common::{have_kubectl, render_options, scan_paths};
use posture::problem::{Code, Level};
use posture::resource::Origin;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files that are not valid Kubernetes YAML/JSON, and kustomizations that do not build, and why.
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
        "apps/argocd-example-apps/pre-post-sync",
        "a kustomization whose base ../kustomize-guestbook is not in the corpus",
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
    crate::common::shared_dir("corpus")
}

/// Directories kustomize builds, found without posture's own detection.
fn kustomization_dirs(dir: &Path) -> BTreeSet<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                    .contains(&e.file_name().to_string_lossy().as_ref())
        })
        .filter_map(|e| e.path().parent().map(Path::to_path_buf))
        .collect()
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
    if posture::collect::compose::is_compose_file_name(path) {
        return compose_service_count(&text);
    }
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

/// Services of a compose file counted without our parser: keys indented two spaces in the
/// top-level `services:` block.
fn compose_service_count(text: &str) -> usize {
    let mut in_services = false;
    let mut count = 0;
    for line in text.lines() {
        if !line.starts_with([' ', '#']) && !line.is_empty() {
            in_services = line.trim_end() == "services:";
        } else if in_services
            && line.starts_with("  ")
            && !line[2..].starts_with([' ', '#'])
            && line.trim_end().ends_with(':')
        {
            count += 1;
        }
    }
    count
}

#[test]
fn every_corpus_file_is_scanned_or_reported() {
    let Some(dir) = corpus_dir() else { return };
    if !have_kubectl() {
        return;
    }
    let files = manifest_files(&dir);
    assert!(
        files.len() > 300,
        "corpus looks incomplete: {} files",
        files.len()
    );
    let kustomizations = kustomization_dirs(&dir);
    assert!(!kustomizations.is_empty(), "the corpus has kustomizations");
    let report = scan_paths(&[&dir]);

    // Objects per file, and per kustomization for what its build produced.
    let mut objects: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let source = |origin: &Origin| match origin {
        Origin::File { path, .. } => path.to_path_buf(),
        Origin::Rendered { dir: built, .. } => {
            assert!(kustomizations.contains(built.as_path()), "{origin:?}");
            built.to_path_buf()
        }
        Origin::Cluster { .. } => panic!("a manifest has a file origin: {origin:?}"),
    };
    for f in &report.findings {
        assert!(source(&f.origin).starts_with(&dir));
    }
    let collected =
        posture::collect::manifests::collect(std::slice::from_ref(&dir), &render_options());
    for r in &collected.resources {
        *objects.entry(source(&r.origin)).or_default() += 1;
    }
    let mut with_problem: BTreeSet<PathBuf> = BTreeSet::new();
    let mut errors: BTreeSet<String> = BTreeSet::new();
    for p in &report.problems {
        assert_ne!(
            p.code,
            Code::EvalError,
            "a rule failed on corpus input: {p}"
        );
        let file = p
            .file
            .as_deref()
            .expect("file problems name their file")
            .to_path_buf();
        // A build's error or warnings concern the whole directory: there is no line to name.
        assert!(
            p.position.is_some_and(|pos| pos.line >= 1) || kustomizations.contains(&file),
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

    for built in &kustomizations {
        assert!(
            objects.get(built).is_some_and(|n| *n > 0) || with_problem.contains(built),
            "kustomization {} vanished: no object and no problem",
            built.display()
        );
    }
    for file in &files {
        if kustomizations.iter().any(|k| file.starts_with(k)) {
            continue;
        }
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
    let collected =
        posture::collect::manifests::collect(std::slice::from_ref(&file), &render_options());
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
