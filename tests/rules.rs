//! Rule fixtures: for every rule, each `pass_*` file yields none of its findings and each
//! `fail_*` file at least one; the findings are snapshotted. Also the catalog's contract.

use crate::common::{evaluator, repo, scan_paths};
use posture::resource::Origin;
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::PathBuf;

fn fixtures(slug: &str) -> Vec<PathBuf> {
    let dir = repo().join("fixtures/rules").join(slug);
    // A fixture folder's `.posture.yaml` configures the rule (see `settings_for`); it is no fixture.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| !posture::exceptions::config::is_config_file(p));
    files.sort();
    files
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn every_rule_has_pass_and_fail_fixtures() {
    let mut missing = Vec::new();
    for rule in evaluator().rules() {
        let names: Vec<String> = fixtures(&rule.slug).iter().map(|p| file_name(p)).collect();
        for prefix in ["pass_", "fail_"] {
            if !names.iter().any(|n| n.starts_with(prefix)) {
                missing.push(format!(
                    "{} ({}): no {prefix}* fixture in fixtures/rules/{}/",
                    rule.id, rule.slug, rule.slug
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn fixture_folders_belong_to_rules() {
    let slugs: BTreeSet<String> = evaluator().rules().iter().map(|r| r.slug.clone()).collect();
    let orphans: Vec<String> = std::fs::read_dir(repo().join("fixtures/rules"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !slugs.contains(n))
        .collect();
    assert!(
        orphans.is_empty(),
        "fixture folders without a rule: {orphans:?}"
    );
}

#[test]
fn rule_ids_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for rule in evaluator().rules() {
        assert!(seen.insert(rule.id.clone()), "duplicate id {}", rule.id);
        let digits = rule.id.strip_prefix("PST-").unwrap_or("");
        assert!(
            digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()),
            "id {} is not PST-NNNN",
            rule.id
        );
        assert!(
            !rule.remediation.is_empty() && !rule.description.is_empty(),
            "{} lacks text",
            rule.id
        );
    }
}

/// An evaluator with the settings of the fixture folder's `.posture.yaml`, for rules that
/// read one (the registry allow-list); `None` when the folder has none.
fn settings_for(slug: &str) -> Option<posture::engine::Evaluator> {
    let config = repo()
        .join("fixtures/rules")
        .join(slug)
        .join(".posture.yaml");
    if !config.is_file() {
        return None;
    }
    let loaded = posture::exceptions::config::load_file(&config);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let catalog = posture::policy::Catalog::builtin().expect("built-in rules load");
    let mut evaluator = posture::engine::Evaluator::new(&catalog).expect("built-in rules compile");
    evaluator.set_settings(loaded.settings);
    Some(evaluator)
}

/// POSTURE_RULE=slug limits this test to one rule while writing it.
#[test]
fn fixtures_pass_and_fail_as_named() {
    let only = std::env::var("POSTURE_RULE").ok();
    let mut errors = Vec::new();
    for rule in evaluator().rules() {
        if only.as_deref().is_some_and(|o| o != rule.slug) {
            continue;
        }
        let mut snapshot = String::new();
        let configured = settings_for(&rule.slug);
        for file in fixtures(&rule.slug) {
            let name = file_name(&file);
            let report = match &configured {
                Some(evaluator) => {
                    let collected = posture::collect::manifests::collect(
                        std::slice::from_ref(&file),
                        &crate::common::render_options(),
                    );
                    posture::scan::evaluate(evaluator, collected)
                }
                None => scan_paths(&[&file]),
            };
            // A compose fixture that shows `${VAR}` references gets the interpolation note.
            for p in report
                .problems
                .iter()
                .filter(|p| p.code != posture::problem::Code::Interpolation)
            {
                errors.push(format!("{}/{name}: unexpected problem: {p}", rule.slug));
            }
            let mine: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.rule_id == rule.id)
                .collect();
            if name.starts_with("pass_") && !mine.is_empty() {
                errors.push(format!(
                    "{}/{name}: expected no finding, got: {}",
                    rule.slug,
                    mine.iter()
                        .map(|f| f.message.to_string())
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
            if name.starts_with("fail_") && mine.is_empty() {
                errors.push(format!(
                    "{}/{name}: expected a finding, got none",
                    rule.slug
                ));
            }
            for f in mine {
                assert!(matches!(*f.origin, Origin::File { .. }), "{:?}", f.origin);
                let pos = f
                    .position
                    .map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default();
                writeln!(snapshot, "{name}:{pos} {}\n  {}", f.path, f.message).unwrap();
            }
        }
        insta::assert_snapshot!(format!("rule_{}", rule.slug), snapshot);
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn embedded_catalog_matches_policies_dir() {
    let embedded = posture::policy::Catalog::builtin().expect("embedded rules load");
    let disk = posture::policy::Catalog::builtin_from_dir(&repo().join("policies"))
        .expect("rules on disk load");
    let texts = |c: &posture::policy::Catalog| -> Vec<(String, String)> {
        c.libraries
            .iter()
            .chain(c.rules.iter().map(|r| &r.source))
            .map(|s| (s.path.clone(), s.text.clone()))
            .collect()
    };
    assert!(
        texts(&embedded) == texts(&disk),
        "the binary embeds stale policies: rebuild (build.rs watches policies/)"
    );
}
