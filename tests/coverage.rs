//! The coverage table (docs/coverage.yaml): every check of kubescape, Trivy and Checkov with the
//! posture rules or benchmark checks that decide the same thing, or why posture does not. The
//! data names posture ids, so a rule or benchmark check that disappears fails here; and
//! docs/coverage.md is this file's rendering of the data, so it cannot drift either.

use crate::common::repo;
use posture::benchmark::Registry;
use posture::policy::Catalog;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt::Write;

const DATA: &str = "docs/coverage.yaml";
const DOC: &str = "docs/coverage.md";
const UPDATE: &str = "UPDATE_COVERAGE";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Coverage {
    peers: Vec<Peer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Peer {
    name: String,
    catalogue: String,
    checks: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    title: String,
    #[serde(default)]
    posture: Vec<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    gap: Option<String>,
    #[serde(default)]
    out_of_scope: Option<String>,
    /// The branch whose rules bring the posture ids named here; until they exist the test
    /// accepts them missing (see `awaits_is_removed_once_the_rules_exist`).
    #[serde(default)]
    awaits: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Covered,
    Partial,
    Gap,
    OutOfScope,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Covered => "covered",
            Status::Partial => "partial",
            Status::Gap => "gap",
            Status::OutOfScope => "out of scope",
        }
    }
}

/// "partial: …" in a note marks partial coverage; any other note explains a covered entry.
const PARTIAL: &str = "partial: ";

impl Entry {
    /// The entry's status, or why its shape is invalid.
    fn status(&self) -> Result<Status, String> {
        let reasons = [&self.gap, &self.out_of_scope]
            .iter()
            .filter(|r| r.is_some())
            .count();
        let blank = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim().is_empty());
        if blank(&self.gap) || blank(&self.out_of_scope) || blank(&self.note) {
            return Err("has an empty reason or note".to_owned());
        }
        if self.title.trim().is_empty() {
            return Err("has no title".to_owned());
        }
        match (self.posture.is_empty(), reasons) {
            (true, 0) => {
                Err("names no posture rule and gives no gap or out_of_scope reason".into())
            }
            (false, 0) => Ok(match &self.note {
                Some(n) if n.starts_with(PARTIAL) => Status::Partial,
                _ => Status::Covered,
            }),
            (true, 1) if self.note.is_some() => {
                Err("has a note but no posture ids; put the reason in gap or out_of_scope".into())
            }
            (true, 1) if self.awaits.is_some() => {
                Err("awaits a branch but names no posture ids".into())
            }
            (true, 1) if self.gap.is_some() => Ok(Status::Gap),
            (true, 1) => Ok(Status::OutOfScope),
            _ => Err("must be exactly one of: posture ids, gap, out_of_scope".into()),
        }
    }
}

fn load() -> Coverage {
    let path = repo().join(DATA);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{DATA}: {e}"));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{DATA}: {e}"))
}

/// Every id a coverage entry may name: built-in rule ids and `<benchmark>/<check>`.
fn known_ids() -> BTreeSet<String> {
    let catalog = Catalog::builtin_from_dir(&repo().join("policies"))
        .unwrap_or_else(|e| panic!("built-in rules load: {e}"));
    let mut ids: BTreeSet<String> = catalog.rules.iter().map(|r| r.id.to_string()).collect();
    for benchmark in Registry::builtin().benchmarks() {
        for check in &benchmark.checks {
            ids.insert(format!("{}/{}", benchmark.benchmark, check.id));
        }
    }
    ids
}

/// Markdown table cells cannot hold a bare `|` or a line break.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn render(coverage: &Coverage) -> String {
    let mut out = String::new();
    out.push_str(
        "# What posture covers of kubescape, Trivy and Checkov\n\n\
         <!-- Generated from docs/coverage.yaml by tests/coverage.rs; do not edit.\n     \
         Regenerate with `UPDATE_COVERAGE=1 cargo test coverage`. -->\n\n\
         Moving from another scanner? Each table lists every check of that scanner's Kubernetes \
         catalogue with the posture rules (`posture explain ID`) or CIS benchmark checks \
         (`posture rules --benchmark NAME`) that decide the same thing.\n\n\
         - **covered**: posture decides the same thing (a note may say how it differs in detail);\n\
         - **partial**: posture decides part of it; the note says what is missing;\n\
         - **gap**: posture could decide it from what it reads, but has no rule for it yet;\n\
         - **out of scope**: posture's inputs cannot decide it (it needs image vulnerability \
         scanning, the cloud provider's API, a connection to the running service), or the \
         feature it checks no longer exists.\n\n\
         The data is [coverage.yaml](coverage.yaml); the test suite fails when a rule or \
         benchmark check named there disappears, or when this page differs from the data.\n\n\
         ## Summary\n\n\
         | Scanner | Checks | Covered | Partial | Gap | Out of scope |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for peer in &coverage.peers {
        let count = |s: Status| {
            peer.checks
                .iter()
                .filter(|e| e.status().ok() == Some(s))
                .count()
        };
        writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} | {} | {} |",
            peer.name,
            peer.name.to_lowercase(),
            peer.checks.len(),
            count(Status::Covered),
            count(Status::Partial),
            count(Status::Gap),
            count(Status::OutOfScope),
        )
        .unwrap();
    }
    for peer in &coverage.peers {
        writeln!(out, "\n## {}\n\n{}\n", peer.name, cell(&peer.catalogue)).unwrap();
        out.push_str("| Check | What it looks for | posture | Status | Notes |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for entry in &peer.checks {
            let status = entry.status().unwrap_or(Status::Gap);
            let ids = entry
                .posture
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let notes = match status {
                Status::Covered => entry.note.clone().unwrap_or_default(),
                Status::Partial => entry
                    .note
                    .as_deref()
                    .unwrap_or_default()
                    .trim_start_matches(PARTIAL)
                    .to_owned(),
                Status::Gap => entry.gap.clone().unwrap_or_default(),
                Status::OutOfScope => entry.out_of_scope.clone().unwrap_or_default(),
            };
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&entry.id),
                cell(&entry.title),
                if ids.is_empty() {
                    "—".to_owned()
                } else {
                    ids
                },
                status.label(),
                cell(&notes),
            )
            .unwrap();
        }
    }
    out
}

/// Each entry is mapped or says why not, and ids are unique within a scanner.
#[test]
fn coverage_entries_are_mapped_or_explained() {
    let coverage = load();
    assert_eq!(
        coverage
            .peers
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["kubescape", "Trivy", "Checkov"],
        "{DATA} lists the three scanners the issue names, in this order"
    );
    let mut problems = Vec::new();
    for peer in &coverage.peers {
        if peer.catalogue.trim().is_empty() {
            problems.push(format!("{}: no catalogue version", peer.name));
        }
        let mut seen = BTreeSet::new();
        for entry in &peer.checks {
            if !seen.insert(entry.id.as_str()) {
                problems.push(format!("{} {}: listed twice", peer.name, entry.id));
            }
            if let Err(why) = entry.status() {
                problems.push(format!("{} {}: {why}", peer.name, entry.id));
            }
        }
    }
    assert!(problems.is_empty(), "{DATA}:\n{}", problems.join("\n"));
}

/// A rule or benchmark check that disappears (or is renamed) fails here.
#[test]
fn coverage_names_existing_rules_and_checks() {
    let known = known_ids();
    let mut missing = Vec::new();
    for peer in load().peers {
        for entry in &peer.checks {
            if entry.awaits.is_some() {
                continue;
            }
            for id in &entry.posture {
                if !known.contains(id) {
                    missing.push(format!("{} {} names {id}", peer.name, entry.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{DATA} names posture ids that do not exist (`posture rules` lists rule ids, \
         `posture rules --benchmark NAME` a benchmark's checks, written `NAME/ID`):\n{}",
        missing.join("\n")
    );
}

/// `awaits` only bridges the time until another branch's rules are merged: once every id of
/// the entry exists, the flag must go, so that the ids are checked like the others.
#[test]
fn awaits_is_removed_once_the_rules_exist() {
    let known = known_ids();
    let mut stale = Vec::new();
    for peer in load().peers {
        for entry in &peer.checks {
            if let Some(branch) = &entry.awaits {
                if entry.posture.iter().all(|id| known.contains(id)) {
                    stale.push(format!(
                        "{} {}: its rules ({}) exist now; remove `awaits: {branch}`",
                        peer.name,
                        entry.id,
                        entry.posture.join(", ")
                    ));
                }
            }
        }
    }
    assert!(stale.is_empty(), "{DATA}:\n{}", stale.join("\n"));
}

/// The committed page is the rendering of the committed data.
#[test]
fn coverage_doc_is_current() {
    let fresh = render(&load());
    let path = repo().join(DOC);
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(&path, &fresh).unwrap_or_else(|e| panic!("{DOC}: {e}"));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{DOC} is stale; run `{UPDATE}=1 cargo test coverage` to regenerate it from {DATA}"
    );
}
