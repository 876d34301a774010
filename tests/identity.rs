//! Identity, RBAC and credential rules on a hardened application (fixtures/identity): the
//! application alone gives none of their findings; each situation added to it alone gives one on
//! the object it adds; and no planted credential value reaches any output format.

use crate::common::{repo, scan_paths};
use crate::report::render;
use posture::report::Format;
use posture::scan::ScanReport;

/// The rules of this area (issue 14, identity and credentials).
const RULES: &[&str] = &[
    "PST-0120", "PST-0121", "PST-0122", "PST-0123", "PST-0124", "PST-0125", "PST-0126", "PST-0310",
    "PST-0311", "PST-0312",
];

/// A finding a situation must cause: (rule, kind, name).
type Expected = (&'static str, &'static str, &'static str);

/// Each situation file, with the findings it must cause at least.
const SITUATIONS: &[(&str, &[Expected])] = &[
    (
        "anonymous_binding.yaml",
        &[("PST-0120", "ClusterRoleBinding", "anonymous-view")],
    ),
    (
        "authenticated_edit.yaml",
        &[("PST-0121", "RoleBinding", "everyone-edits-shop")],
    ),
    (
        "workload_patcher.yaml",
        &[("PST-0122", "Role", "image-bumper")],
    ),
    ("pod_exec.yaml", &[("PST-0123", "Role", "shell")]),
    ("token_secret.yaml", &[("PST-0124", "Secret", "web-token")]),
    (
        "admin_account.yaml",
        &[
            ("PST-0125", "Secret", "ci-deployer-token"),
            ("PST-0126", "ServiceAccount", "ci-deployer"),
        ],
    ),
    ("env_password.yaml", &[("PST-0310", "Job", "migrate")]),
    (
        "configmap_credentials.yaml",
        &[("PST-0311", "ConfigMap", "web-legacy")],
    ),
    ("committed_secret.yaml", &[("PST-0312", "Secret", "web-db")]),
];

/// Every credential value the situations plant (and the decoded form of the base64 one).
const PLANTED: &[&str] = &[
    "pl4nted-env-password",
    "pl4nted-url-password",
    "pl4ntedAwsSecretAccessKeyValue0123456789",
    "ghp_pl4ntedGithubTokenValue0123456789abc",
    "pl4nted-smtp-password",
    "pl4nted-stringdata-password",
    "cGw0bnRlZC1iYXNlNjQtdXNlcg==",
    "pl4nted-base64-user",
];

fn dir() -> std::path::PathBuf {
    repo().join("fixtures/identity")
}

fn ours(report: &ScanReport) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| RULES.contains(&f.rule_id.as_str()))
        .map(|f| {
            format!(
                "{} {} {}: {}",
                f.rule_id, f.object.kind, f.object.name, f.message
            )
        })
        .collect()
}

#[test]
fn the_hardened_application_gives_no_identity_or_credential_finding() {
    let report = scan_paths(&[&dir().join("hardened.yaml")]);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(ours(&report), Vec::<String>::new());
}

#[test]
fn each_situation_gives_a_finding_on_the_object_it_adds() {
    for (file, expected) in SITUATIONS {
        let situation = dir().join("situations").join(file);
        let report = scan_paths(&[&dir().join("hardened.yaml"), &situation]);
        let found = ours(&report);
        for (rule, kind, name) in *expected {
            assert!(
                report.findings.iter().any(|f| f.rule_id == *rule
                    && f.object.kind == *kind
                    && f.object.name == *name),
                "{file}: no {rule} on {kind} '{name}'; ours: {found:#?}"
            );
        }
        // Nothing of ours on the hardened objects themselves.
        let base = scan_paths(&[&dir().join("hardened.yaml")]);
        let base_objects: Vec<(&str, &str)> = base
            .findings
            .iter()
            .map(|f| (f.object.kind.as_str(), f.object.name.as_str()))
            .collect();
        for f in report
            .findings
            .iter()
            .filter(|f| RULES.contains(&f.rule_id.as_str()))
        {
            assert!(
                !base_objects.contains(&(f.object.kind.as_str(), f.object.name.as_str()))
                    || expected
                        .iter()
                        .any(|(_, k, n)| *k == f.object.kind && *n == f.object.name),
                "{file}: {} on a hardened object: {}",
                f.rule_id,
                f.message
            );
        }
    }
}

/// Messages, locations, SARIF regions and every other format say where a credential is and what
/// it looks like, never the value.
#[test]
fn no_planted_credential_reaches_any_output() {
    let situations: Vec<std::path::PathBuf> = SITUATIONS
        .iter()
        .map(|(file, _)| dir().join("situations").join(file))
        .collect();
    let text: String = situations
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    for value in PLANTED {
        let planted = text.contains(value)
            || *value == "pl4nted-base64-user" && text.contains("cGw0bnRlZC1iYXNlNjQtdXNlcg==");
        assert!(
            planted,
            "{value} is not planted in fixtures/identity/situations"
        );
    }
    let mut paths = vec![dir().join("hardened.yaml")];
    paths.extend(situations);
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let report = scan_paths(&refs);
    let rules: std::collections::BTreeSet<&str> =
        report.findings.iter().map(|f| f.rule_id.as_str()).collect();
    for rule in RULES {
        assert!(
            rules.contains(rule),
            "{rule} did not report on the combined situations"
        );
    }
    let mut outputs = vec![format!("{:?}", report.findings)];
    outputs.extend(
        <Format as clap::ValueEnum>::value_variants()
            .iter()
            .map(|f| render(*f, &report)),
    );
    for value in PLANTED {
        for (i, out) in outputs.iter().enumerate() {
            assert!(
                !out.contains(value),
                "output {i} contains a planted credential"
            );
        }
    }
}
