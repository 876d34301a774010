//! A cluster scan that evaluates objects as their pages arrive, instead of after every list:
//! evaluation overlaps listing, and the objects evaluated are reduced at once (see
//! [`stream::reduce`]), so the scan does not hold every object whole.
//!
//! An object can be evaluated once two things are known:
//! - the inventory's facts ([`Reads::Facts`]: NetworkPolicies, ServiceAccounts, RBAC,
//!   Namespaces, LimitRanges, ResourceQuotas), which collection lists first. The objects of
//!   those types are themselves evaluated last, with the whole inventory: the rules on
//!   Namespaces read which workloads run in them ([`Reads::Identity`]), which the rest of the
//!   objects do not;
//! - whether its controller is listed too (its owner references' kinds listed in full), as
//!   [`super::owned_by_present`] decides for a whole snapshot.
//!
//! Until then its page waits whole. A list that is not collected after all (or starts again
//! when its continue token expires) takes back what its pages gave: each list part keeps its
//! own objects and evaluation. The findings, problems and objects are those of a scan of the
//! same snapshot (`tests/cluster_stream.rs`).
//!
//! Not streamed: scans with user rules (`--policy`) and scans that make the review's fix list,
//! as for manifests (see [`stream`]).

use super::controllers;
use super::stream::{self, Evaluated};
use crate::collect::cluster::{
    self, ClusterError, ClusterOptions, Listed, ListedType, Progress, TypeFilter,
};
use crate::engine::inventory::{self, Reads};
use crate::engine::{Evaluation, Evaluator, Prepared};
use crate::resource::{Origin, Resource};
use crate::snapshot::Snapshot;
use rayon::prelude::*;
use std::collections::HashSet;

/// Objects evaluated at once, at most: bounds what one evaluation holds.
const CHUNK: usize = 4096;

/// Collects the cluster `options` point at and evaluates it as it is listed. Returns the
/// snapshot without its objects (what a report says of the cluster) and what evaluation left.
pub(super) fn evaluate(
    evaluator: &Evaluator,
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
) -> Result<(Snapshot, Evaluated), ClusterError> {
    let runtime = cluster::runtime()?;
    let (pages, mut listed) = tokio::sync::mpsc::channel(cluster::PAGES_IN_FLIGHT);
    std::thread::scope(|threads| {
        let collecting = threads
            .spawn(|| runtime.block_on(cluster::collect_into(options, filter, progress, pages)));
        let mut scan = Scan::new(evaluator);
        while let Some(event) = listed.blocking_recv() {
            scan.take(event);
        }
        let snapshot = match collecting.join() {
            Ok(collected) => collected?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Ok(scan.finish(snapshot))
    })
}

/// (kind, namespace, name): how a controller is looked up.
type Key = (String, Option<String>, String);

fn key(r: &Resource) -> Key {
    (r.id.kind.clone(), r.id.namespace.clone(), r.id.name.clone())
}

struct Scan<'e> {
    evaluator: &'e Evaluator,
    origin: Origin,
    types: Vec<Type>,
    /// The objects of the types listed in full: the controllers that are present.
    present: HashSet<Key>,
    /// Made once the inventory's facts are listed; evaluates the objects that are not facts.
    prepared: Option<Prepared<'e>>,
}

struct Type {
    listed: ListedType,
    reads: Reads,
    /// `None` while listing; then whether it was listed in full.
    done: Option<bool>,
    /// One per list (one per namespace with `--namespace`).
    parts: Vec<Part>,
}

#[derive(Default)]
struct Part {
    /// Read and not judged yet, with their place in the list.
    waiting: Vec<(usize, Resource)>,
    /// Judged, with their place and whether the rules evaluated them (`false`: their
    /// controller is listed too); reduced where they may be.
    judged: Vec<(usize, bool, Resource)>,
    evaluation: Evaluation,
    read: usize,
}

impl<'e> Scan<'e> {
    fn new(evaluator: &'e Evaluator) -> Scan<'e> {
        Scan {
            evaluator,
            origin: Origin::Cluster {
                cluster: String::new(),
            },
            types: Vec::new(),
            present: HashSet::new(),
            prepared: None,
        }
    }

    fn take(&mut self, event: Listed) {
        // Objects already waiting can only become ready when a list is done (or evaluation
        // is first prepared): a page has only its own objects judged.
        let mut fresh = None;
        match event {
            Listed::Start { cluster, types } => {
                self.origin = Origin::Cluster { cluster };
                self.types = types
                    .into_iter()
                    .map(|listed| Type {
                        reads: inventory::reads(&listed.group, &listed.kind),
                        listed,
                        done: None,
                        parts: Vec::new(),
                    })
                    .collect();
            }
            Listed::Page { ty, part, objects } => {
                let origin = &self.origin;
                let parts = &mut self.types[ty].parts;
                if parts.len() <= part {
                    parts.resize_with(part + 1, Part::default);
                }
                fresh = Some((ty, part, parts[part].waiting.len()));
                let part = &mut parts[part];
                for object in objects {
                    if let Some(r) = Resource::from_object(object, origin.clone(), None) {
                        part.waiting.push((part.read, r));
                        part.read += 1;
                    }
                }
            }
            Listed::Restart { ty, part } => {
                if let Some(part) = self.types[ty].parts.get_mut(part) {
                    *part = Part::default();
                }
            }
            Listed::Done { ty, complete } => {
                let t = &mut self.types[ty];
                t.done = Some(complete);
                if complete {
                    for part in &t.parts {
                        let judged = part.judged.iter().map(|(_, _, r)| r);
                        self.present
                            .extend(part.waiting.iter().map(|(_, r)| r).chain(judged).map(key));
                    }
                } else {
                    t.parts.clear();
                }
            }
        }
        self.advance(fresh);
    }

    /// Whether it is known if `r`'s controller is present: every listed type of its kind
    /// is done.
    fn decidable(&self, r: &Resource) -> bool {
        controllers(r).all(|(kind, _)| {
            self.types
                .iter()
                .all(|t| t.listed.kind != kind || t.done.is_some())
        })
    }

    fn owned(&self, r: &Resource) -> bool {
        let namespace = r.id.namespace.clone();
        controllers(r).any(|(kind, name)| {
            self.present
                .contains(&(kind.to_owned(), namespace.clone(), name.to_owned()))
                || self
                    .present
                    .contains(&(kind.to_owned(), None, name.to_owned()))
        })
    }

    /// Prepares the evaluation once the facts are in, then judges every waiting object whose
    /// controller is known.
    /// `fresh`: the list part and the first of the objects a page just added, when only
    /// they may have become ready.
    fn advance(&mut self, fresh: Option<(usize, usize, usize)>) {
        let mut fresh = fresh;
        if self.prepared.is_none() {
            if !self.facts_known() {
                return;
            }
            self.prepared = Some(self.prepare());
            fresh = None;
        }
        if let Some((ty, p, from)) = fresh {
            if self.types[ty].reads != Reads::Facts {
                self.judge(ty, p, from);
            }
            return;
        }
        for ty in 0..self.types.len() {
            if self.types[ty].reads == Reads::Facts {
                continue;
            }
            for p in 0..self.types[ty].parts.len() {
                self.judge(ty, p, 0);
            }
        }
    }

    /// Whether the facts' types are listed, and whether each fact is owned is known (an owned
    /// object is not in the inventory, as in a whole scan).
    fn facts_known(&self) -> bool {
        let facts = self.types.iter().filter(|t| t.reads == Reads::Facts);
        facts.clone().all(|t| t.done.is_some())
            && facts
                .flat_map(|t| &t.parts)
                .flat_map(|p| &p.waiting)
                .all(|(_, r)| self.decidable(r))
    }

    /// The evaluation of the objects that are not facts, with the inventory of the facts. One
    /// object of each type stands for it (rules go by type).
    fn prepare(&self) -> Prepared<'e> {
        let stand_ins: Vec<Resource> = self
            .types
            .iter()
            .filter(|t| t.reads != Reads::Facts)
            .filter_map(|t| {
                let object = serde_json::json!({
                    "apiVersion": t.listed.api_version,
                    "kind": t.listed.kind,
                    "metadata": {"name": ""},
                });
                Resource::from_object(object, self.origin.clone(), None)
            })
            .collect();
        let facts = self
            .types
            .iter()
            .filter(|t| t.reads == Reads::Facts)
            .flat_map(|t| &t.parts)
            .flat_map(|p| &p.waiting)
            .map(|(_, r)| r)
            .filter(|r| !self.owned(r));
        self.evaluator
            .prepare_for(&stand_ins.iter().collect::<Vec<_>>(), facts)
    }

    /// Judges the waiting objects of one list part (from `from` on) whose controller is
    /// known: evaluates those the rules judge, and reduces them all.
    fn judge(&mut self, ty: usize, p: usize, from: usize) {
        let Some(prepared) = &self.prepared else {
            return;
        };
        let candidates = self.types[ty].parts[p].waiting.split_off(from);
        let (ready, still): (Vec<_>, Vec<_>) =
            candidates.into_iter().partition(|(_, r)| self.decidable(r));
        self.types[ty].parts[p].waiting.extend(still);
        if ready.is_empty() {
            return;
        }
        let mut ready: Vec<(usize, bool, Resource)> = ready
            .into_iter()
            .map(|(i, r)| (i, !self.owned(&r), r))
            .collect();
        let part = &mut self.types[ty].parts[p];
        for chunk in ready.chunks_mut(CHUNK) {
            let targets: Vec<&Resource> = chunk
                .iter()
                .filter(|(_, target, _)| *target)
                .map(|(_, _, r)| r)
                .collect();
            part.evaluation.absorb(prepared.evaluate(&targets));
            chunk
                .par_iter_mut()
                .filter(|(_, _, r)| stream::reducible(r))
                .for_each(|(_, _, r)| stream::reduce(r));
        }
        part.judged.extend(ready);
    }

    /// Judges what is left, the facts and the nodes' kubelet configurations among it, with
    /// the whole inventory, and hands on what evaluation left for the rest of the scan.
    fn finish(mut self, snapshot: Snapshot) -> (Snapshot, Evaluated) {
        // The snapshot's objects are here already: what it adds are the nodes' kubelet
        // configurations and the problems of what was not collected.
        let crate::collect::Collected {
            resources: kubelets,
            problems: read_problems,
        } = crate::collect::Collected::from_snapshot(snapshot.clone());
        // Every list is done: each object's controller is known.
        let mut evaluation = Evaluation::default();
        let mut judged: Vec<((usize, usize, usize), bool, Resource)> = Vec::new();
        let mut left: Vec<((usize, usize, usize), Resource)> = Vec::new();
        for (ty, t) in std::mem::take(&mut self.types).into_iter().enumerate() {
            for (p, part) in t.parts.into_iter().enumerate() {
                evaluation.absorb(part.evaluation);
                judged.extend(
                    part.judged
                        .into_iter()
                        .map(|(i, target, r)| ((ty, p, i), target, r)),
                );
                left.extend(part.waiting.into_iter().map(|(i, r)| ((ty, p, i), r)));
            }
        }
        // After every listed type, as a snapshot's objects are turned into resources.
        left.extend(
            kubelets
                .into_iter()
                .enumerate()
                .map(|(i, r)| ((usize::MAX, 0, i), r)),
        );
        let objects = judged.len() + left.len();
        let left: Vec<((usize, usize, usize), Resource)> =
            left.into_iter().filter(|(_, r)| !self.owned(r)).collect();
        let mut targets: Vec<((usize, usize, usize), Resource)> = judged
            .into_iter()
            .filter(|(_, target, _)| *target)
            .map(|(at, _, r)| (at, r))
            .collect();
        // The first evaluation (its engine, a VM and the inventory a thread) goes before the
        // last is prepared.
        let earlier = self.prepared.take().map(|p| p.problems());
        {
            let left: Vec<&Resource> = left.iter().map(|(_, r)| r).collect();
            let whole = self.evaluator.prepare_for(
                &left,
                targets.iter().map(|(_, r)| r).chain(left.iter().copied()),
            );
            for chunk in left.chunks(CHUNK) {
                evaluation.absorb(whole.evaluate(chunk));
            }
            // Both preparations report the policies that did not load: once is enough.
            let mut problems = whole.problems();
            let more: Vec<_> = earlier
                .into_iter()
                .flatten()
                .filter(|p| !problems.contains(p))
                .collect();
            problems.extend(more);
            evaluation.problems.extend(problems);
        }
        targets.extend(left);
        // In the snapshot's order: types, list parts, then the objects as listed.
        targets.sort_by_key(|(at, _)| *at);
        crate::finding::sort(&mut evaluation.findings);
        evaluation.problems.sort();
        let evaluated = Evaluated {
            objects,
            targets: targets.into_iter().map(|(_, r)| r).collect(),
            evaluation,
            read_problems,
        };
        (snapshot, evaluated)
    }
}
