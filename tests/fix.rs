//! `posture fix`: the changes it makes resolve the findings it claims, add none, keep the
//! files' formatting, and it refuses what it cannot prove safe.

use crate::common::{copy_fixture, have_kubectl, posture_command};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

type Key = (String, String, String);

/// (rule, object, field) of every finding of a JSON scan of `dir`.
fn findings(dir: &Path) -> BTreeSet<Key> {
    let out = posture_command(&["scan", dir.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_owned(),
                format!(
                    "{} {}/{}",
                    f["object"]["kind"].as_str().unwrap(),
                    f["object"]["namespace"].as_str().unwrap_or(""),
                    f["object"]["name"].as_str().unwrap()
                ),
                f["location"]["path"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// `(rule, object)` of each line `posture fix` says it fixed ("… fixed in …" or "… patch …").
fn claimed(log: &str) -> BTreeSet<(String, String)> {
    log.lines()
        .filter(|l| l.contains(": fixed in ") || l.contains(": patch "))
        .map(|l| {
            let (rule, rest) = l.split_once(' ').unwrap();
            let object = rest.split('\'').nth(1).unwrap();
            let kind = rest.split(' ').next().unwrap();
            (rule.to_owned(), format!("{kind} {object}"))
        })
        .collect()
}

fn object_of(key: &Key) -> (String, String) {
    let (kind, rest) = key.1.split_once(' ').unwrap();
    let name = rest.trim_start_matches('/');
    (key.0.clone(), format!("{kind} {name}"))
}

#[test]
fn fix_write_on_ratings_removes_every_finding_it_claims_and_adds_none() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("fixtures/ratings", dir.path());
    let before = findings(dir.path());
    let out = posture_command(&["fix", dir.path().to_str().unwrap(), "--write"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8(out.stdout).unwrap();
    let fixed = claimed(&log);
    assert!(fixed.len() >= 10, "the ratings app has safe fixes: {log}");
    let after = findings(dir.path());
    let new: Vec<&Key> = after.difference(&before).collect();
    assert!(new.is_empty(), "the fixes added findings: {new:?}");
    let left: BTreeSet<(String, String)> = after.iter().map(object_of).collect();
    let still: Vec<&(String, String)> = fixed.intersection(&left).collect();
    assert!(still.is_empty(), "claimed fixed but still found: {still:?}");
    // Running again finds nothing more to do for what it fixed.
    let again = posture_command(&["fix", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        again.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn fix_prints_a_diff_keeps_formatting_and_leaves_files_alone_without_write() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("fixtures/fix", dir.path());
    let file = dir.path().join("formatted.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    let out = posture_command(&["fix", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let diff = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "no --write, no change"
    );
    assert!(diff.contains("+++ b/"), "{diff}");
    assert!(
        diff.contains(
            "-      securityContext: {}\n+      securityContext:\n+        runAsNonRoot: true\n"
        ),
        "{diff}"
    );
    assert!(
        diff.contains("-              drop: [NET_RAW]\n+              drop: [NET_RAW, ALL]\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+            allowPrivilegeEscalation: false\n"),
        "{diff}"
    );
    // Only additions and the two rewritten lines: comments, quotes and order stay.
    let removed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    assert_eq!(removed.len(), 2, "{diff}");
    posture_command(&["fix", dir.path().to_str().unwrap(), "--write"])
        .output()
        .unwrap();
    let fixed = std::fs::read_to_string(&file).unwrap();
    for line in original
        .lines()
        .filter(|l| l.trim_start().starts_with('#') || l.contains('"'))
    {
        assert!(fixed.contains(line), "{line:?} kept");
    }
}

#[test]
fn fix_refuses_what_it_cannot_prove_safe_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("fixtures/fix", dir.path());
    let out = posture_command(&["fix", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let log = String::from_utf8(out.stderr).unwrap();
    let says = |rule: &str, object: &str, why: &str| {
        assert!(
            log.lines()
                .any(|l| l.starts_with(rule) && l.contains(object) && l.contains(why)),
            "{rule} on {object}: {why}\n{log}"
        );
    };
    says(
        "PST-0003",
        "ops/agent",
        "not fixed: a privileged container may need it",
    );
    says(
        "PST-0021",
        "ops/agent",
        "not fixed: the container is privileged",
    );
    says(
        "PST-0022",
        "ops/agent",
        "not fixed: the user the image runs as is not known",
    );
    says("PST-0013", "ops/agent", "not fixed");
    says("PST-0106", "ops/agent", "ServiceAccount 'agent'");
    says("PST-0025", "shop/debug", "written in flow style");
    // The Unconfined profile someone chose stays.
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(!diff.contains("-              type: Unconfined"), "{diff}");
}

#[test]
fn fix_of_a_kustomization_writes_a_patch_that_resolves_its_findings() {
    if !have_kubectl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_fixture("fixtures/kustomize", dir.path());
    let overlay = dir.path().join("overlay");
    let patches = dir.path().join("fixed/patches");
    let out = posture_command(&[
        "fix",
        overlay.to_str().unwrap(),
        "--patch-dir",
        patches.to_str().unwrap(),
        "--write",
    ])
    .output()
    .unwrap();
    let log = String::from_utf8(out.stdout).unwrap();
    let fixed = claimed(&log);
    assert!(!fixed.is_empty(), "{log}");
    let patch: Vec<_> = std::fs::read_dir(&patches).unwrap().collect();
    assert_eq!(patch.len(), 1, "one patch for the one Deployment");
    let name = patch[0].as_ref().unwrap().file_name();
    std::fs::write(
        dir.path().join("fixed/kustomization.yaml"),
        format!(
            "resources:\n  - ../overlay\npatches:\n  - path: patches/{}\n",
            name.to_str().unwrap()
        ),
    )
    .unwrap();
    let before = findings(&overlay);
    let after = findings(&dir.path().join("fixed"));
    let left: BTreeSet<(String, String)> = after.iter().map(object_of).collect();
    let still: Vec<&(String, String)> = fixed.intersection(&left).collect();
    assert!(still.is_empty(), "patched but still found: {still:?}");
    let before_rules: BTreeSet<&String> = before.iter().map(|k| &k.0).collect();
    for k in &after {
        assert!(before_rules.contains(&k.0), "the patch added {k:?}");
    }
}
