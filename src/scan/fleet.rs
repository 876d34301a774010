//! Several scans at once: the clusters of a fleet (`--context a,b,c`, `--all-contexts`) or
//! several snapshots, each its own [`ScanRequest`], run in parallel with bounded concurrency.
//! A member that cannot be scanned is recorded with its error; the others are reported as
//! usual ([`Fleet`]).

use super::{run, ScanError, ScanReport, ScanRequest};
use crate::collect::cluster::Progress;
use crate::finding::Finding;
use crate::resource::ObjectRef;
use crate::severity::Severity;
use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One member to scan: its name in reports (the context, or the snapshot's file) and its scan.
#[derive(Debug, Clone)]
pub struct MemberRequest {
    pub name: String,
    pub request: ScanRequest,
}

/// One member's outcome.
#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub outcome: Result<ScanReport, ScanError>,
}

/// Every member's outcome, in the order they were asked for.
#[derive(Debug)]
pub struct Fleet {
    pub members: Vec<Member>,
}

/// Members scanned at once by default: each holds its objects in memory and keeps its own
/// `--concurrency` requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Scans every member, at most `concurrency` at a time.
pub fn run_fleet(
    requests: Vec<MemberRequest>,
    concurrency: NonZeroUsize,
    progress: &dyn Progress,
) -> Fleet {
    let next = AtomicUsize::new(0);
    let outcomes: Vec<Mutex<Option<Result<ScanReport, ScanError>>>> =
        requests.iter().map(|_| Mutex::new(None)).collect();
    let workers = concurrency.get().min(requests.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(member) = requests.get(i) else {
                    return;
                };
                progress.phase(&format!("scanning {}", member.name));
                let outcome = run(&member.request, progress);
                progress.step(&member.name);
                if let Ok(mut slot) = outcomes[i].lock() {
                    *slot = Some(outcome);
                }
            });
        }
    });
    let members = requests
        .into_iter()
        .zip(outcomes)
        .map(|(request, outcome)| Member {
            name: request.name,
            outcome: outcome
                .into_inner()
                .ok()
                .flatten()
                .expect("every member is scanned once the workers are done"),
        })
        .collect();
    Fleet { members }
}

/// A finding seen in more than one member: the same rule on the same object and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shared<'a> {
    pub rule_id: &'a str,
    pub severity: Severity,
    pub object: &'a ObjectRef,
    pub path: String,
    /// The members it is in, in fleet order.
    pub members: Vec<&'a str>,
}

impl Fleet {
    /// The members' reports, with their names.
    pub fn scanned(&self) -> impl Iterator<Item = (&str, &ScanReport)> {
        self.members
            .iter()
            .filter_map(|m| m.outcome.as_ref().ok().map(|r| (m.name.as_str(), r)))
    }

    /// Whether a member could not be scanned or reported an error.
    pub fn has_errors(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.outcome.as_ref().map_or(true, ScanReport::has_errors))
    }

    /// Whether any member fails the gate at `threshold`.
    pub fn fails(&self, threshold: Severity) -> bool {
        self.scanned().any(|(_, r)| r.fails(threshold))
    }

    /// Findings present in two or more members, most members first, then by rule and object.
    pub fn shared_findings(&self) -> Vec<Shared<'_>> {
        type Key<'a> = (&'a str, &'a ObjectRef, String);
        let mut seen: BTreeMap<Key<'_>, (Severity, Vec<&str>)> = BTreeMap::new();
        for (name, report) in self.scanned() {
            for f in &report.findings {
                let entry = seen
                    .entry((f.rule_id.as_str(), &f.object, path_of(f)))
                    .or_insert_with(|| (f.severity, Vec::new()));
                if entry.1.last() != Some(&name) {
                    entry.1.push(name);
                }
            }
        }
        let mut shared: Vec<Shared<'_>> = seen
            .into_iter()
            .filter(|(_, (_, members))| members.len() > 1)
            .map(|((rule_id, object, path), (severity, members))| Shared {
                rule_id,
                severity,
                object,
                path,
                members,
            })
            .collect();
        // Stable: ties keep the key order (rule, object, path).
        shared.sort_by(|a, b| {
            b.members
                .len()
                .cmp(&a.members.len())
                .then(b.severity.cmp(&a.severity))
        });
        shared
    }
}

fn path_of(f: &Finding) -> String {
    f.path.to_string()
}
