//! The paths found so far, the best per (entry, last object, jewel), and of those the
//! [`MAX_PATHS`] reported.
//!
//! A large input finds tens of thousands of candidates (measured at 100,000 objects: 18,800
//! kept, some 100 MB whole; at 1,000,000 objects, 1.4 GB), of which 50 are reported. So a
//! candidate is kept whole only while it may still be among them: once [`MAX_PATHS`] paths
//! that stay to the end stand strictly before it, only what decides the best of its key is
//! kept (its score, length and id).
//!
//! Footholds covered by a path from outside are not reported ([`Best::finish`]), and a
//! candidate set aside no longer covers any. That changes nothing: candidates are set aside
//! only once [`MAX_PATHS`] paths from outside are found, and any path from outside scores more
//! than any foothold (exposure 2 or 3 times an impact of 3 or more, against 1 times at most
//! 5), so no foothold is reported then.

use super::{AttackPath, Edge, Jewel, PathId, MAX_PATHS};
use crate::resource::ObjectRef;
use std::cmp::Reverse;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Whole candidates held before the first pruning: pruning costs a pass over the candidates,
/// so it runs when their number has doubled since the last. Tests prune early and often, so
/// that the bar is as close to the reported paths as it gets.
const PRUNE_FROM: usize = if cfg!(test) { 64 } else { 1024 };

/// The best per (entry, last object, jewel): the first found of the highest score and then
/// fewest steps. Kept as they are found rather than collected first, most candidates being
/// repeats of a key.
#[derive(Default)]
pub(super) struct Best {
    by_key: BTreeMap<Key, Candidate>,
    /// How many candidates hold their path whole.
    whole: usize,
    /// Pruned when `whole` reaches it.
    prune_at: usize,
    /// A candidate standing after this is not reported: [`MAX_PATHS`] that stay to the end
    /// stand before it (see [`Candidate::entered_from_outside`]). Shared by the bests that
    /// threads keep of one search, so that each sets aside what another has seen beaten.
    bar: Arc<Bar>,
}

/// The entry, the last object, the jewel. The two objects are kept as a digest of their
/// identities rather than as copies: every key found is held to the end, set aside or not
/// (tens of thousands at 100,000 objects), and the copies were most of what a candidate set
/// aside held. The digest is SHA-256's (128 bits of it), so that no input can make two keys
/// one and hide a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    ends: [u8; 16],
    jewel: Jewel,
}

impl Key {
    fn of(entry: &ObjectRef, last: &ObjectRef, jewel: Jewel) -> Key {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for object in [entry, last] {
            let ObjectRef {
                api_version,
                kind,
                namespace,
                name,
            } = object;
            h.update([u8::from(namespace.is_some())]);
            for part in [api_version, kind, namespace.as_deref().unwrap_or(""), name] {
                // Each part's length first, so that no two identities read the same.
                h.update(part.len().to_le_bytes());
                h.update(part.as_bytes());
            }
        }
        let mut ends = [0; 16];
        ends.copy_from_slice(&h.finalize()[..16]);
        Key { ends, jewel }
    }
}

/// Where a path stands among those reported, best first: the highest score, then the jewel,
/// then the fewest steps, then the id; in one number, so that threads can share the [`Bar`].
/// The number of steps is counted up to 255 and the id by its first 40 bits, so two paths may
/// share a standing that the report tells apart, but a path that stands after another is
/// reported after it. The id counts: in a large input most candidates tie with the last
/// reported path but for it, and without it each of them was held whole to the end (at a
/// million objects, some 200 MB while the paths were searched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Standing(u64);

impl Standing {
    fn of(score: u8, jewel: Jewel, steps: usize, id: PathId) -> Standing {
        let steps = u64::try_from(steps.min(usize::from(u8::MAX))).unwrap_or(u64::MAX);
        Standing(
            u64::from(u8::MAX - score) << 56
                | (jewel as u64) << 48
                | steps << 40
                | id.0 >> (PathId::BITS - 40),
        )
    }
}

/// The [`Standing`] behind which no candidate is reported; none until enough are found.
struct Bar(AtomicU64);

impl Default for Bar {
    fn default() -> Self {
        Bar(AtomicU64::new(u64::MAX))
    }
}

impl Bar {
    fn passes(&self, standing: Standing) -> bool {
        standing.0 <= self.0.load(Ordering::Relaxed)
    }

    fn lower(&self, to: Standing) {
        self.0.fetch_min(to.0, Ordering::Relaxed);
    }
}

struct Candidate {
    score: u8,
    exposure: u8,
    steps: usize,
    id: PathId,
    /// `None` once the path cannot be reported.
    path: Option<AttackPath>,
}

impl Candidate {
    /// Names the path: its id is part of where it stands.
    fn new(mut path: AttackPath) -> Candidate {
        let id = PathId::of(&path.steps, path.jewel);
        path.id = id.to_string();
        Candidate {
            score: path.score.value,
            exposure: path.score.exposure,
            steps: path.steps.len(),
            id,
            path: Some(path),
        }
    }

    /// Entered from outside the cluster: as the best of its key it is reported unless others
    /// stand before it. It is never dropped as a foothold, and any later best of its key
    /// scores as much, so is entered from outside too (a foothold's exposure is 1).
    fn entered_from_outside(&self) -> bool {
        self.exposure > 1
    }

    fn standing(&self, jewel: Jewel) -> Standing {
        Standing::of(self.score, jewel, self.steps, self.id)
    }

    /// Whether it is better than `other` of the same key: the first found stays on a tie.
    fn beats(&self, other: &Candidate) -> bool {
        (self.score, Reverse(self.steps)) > (other.score, Reverse(other.steps))
    }

    /// Keeps only what decides the best of its key.
    fn set_aside(&mut self) {
        self.path = None;
    }
}

impl Best {
    pub(super) fn push(&mut self, p: AttackPath) {
        debug_assert!(
            p.steps[0].edge != Edge::Foothold || p.score.exposure == 1,
            "a foothold is entered from inside: Candidate::entered_from_outside counts on it"
        );
        let last = p.steps.last().map_or_else(|| p.entry(), |s| &s.object);
        let key = Key::of(p.entry(), last, p.jewel);
        self.take(key, Candidate::new(p));
    }

    fn take(&mut self, key: Key, mut candidate: Candidate) {
        if !self.bar.passes(candidate.standing(key.jewel)) {
            candidate.set_aside();
        }
        let whole = candidate.path.is_some();
        match self.by_key.entry(key) {
            Entry::Occupied(mut held) => {
                if !candidate.beats(held.get()) {
                    return;
                }
                if held.get().path.is_some() {
                    self.whole -= 1;
                }
                held.insert(candidate);
            }
            Entry::Vacant(free) => {
                free.insert(candidate);
            }
        }
        if whole {
            self.whole += 1;
            if self.whole >= self.prune_at.max(PRUNE_FROM) {
                self.prune();
            }
        }
    }

    /// Sets aside every candidate that [`MAX_PATHS`] candidates from outside stand strictly
    /// before. Those stay to the end, each the best of its key or bettered by a later best, so
    /// they stand before it in the report whatever the ids.
    fn prune(&mut self) {
        let mut staying: Vec<Standing> = self
            .by_key
            .iter()
            .filter(|(_, c)| c.entered_from_outside())
            .map(|(k, c)| c.standing(k.jewel))
            .collect();
        if staying.len() >= MAX_PATHS {
            self.bar
                .lower(*staying.select_nth_unstable(MAX_PATHS - 1).1);
            for (key, c) in &mut self.by_key {
                if c.path.is_some() && !self.bar.passes(c.standing(key.jewel)) {
                    c.set_aside();
                    self.whole -= 1;
                }
            }
        }
        self.prune_at = self.whole * 2;
    }

    /// Adds the best of `found`, which holds paths found after those here: keeping the first
    /// best of a key is associative, so this keeps what pushing them here would. A candidate
    /// set aside there stays aside: what stood before it there stands before it here.
    pub(super) fn extend_from(&mut self, found: Best) {
        for (key, candidate) in found.by_key {
            self.take(key, candidate);
        }
    }

    /// The paths reported, best first and named: footholds already covered by a path from
    /// outside to the same object and jewel add nothing.
    pub(super) fn finish(self) -> Vec<AttackPath> {
        // A set: a large input has tens of thousands of each, and looking each foothold up in
        // a list made this step quadratic.
        let exposed: HashSet<(&ObjectRef, Jewel)> = self
            .by_key
            .values()
            .filter(|c| c.entered_from_outside())
            .filter_map(|c| c.path.as_ref())
            .flat_map(|p| p.steps.iter().map(move |s| (&s.object, p.jewel)))
            .collect();
        let covered: Vec<bool> = self
            .by_key
            .values()
            .filter_map(|c| c.path.as_ref())
            .map(|p| p.steps[0].edge == Edge::Foothold && exposed.contains(&(p.entry(), p.jewel)))
            .collect();
        drop(exposed);
        let mut out: Vec<AttackPath> = self
            .by_key
            .into_values()
            .filter_map(|c| c.path)
            .zip(covered)
            .filter_map(|(p, covered)| (!covered).then_some(p))
            .collect();
        // Named already (`Candidate::new`).
        out.sort_by(|a, b| {
            b.score
                .value
                .cmp(&a.score.value)
                .then(a.jewel.cmp(&b.jewel))
                .then(a.steps.len().cmp(&b.steps.len()))
                .then(a.id.cmp(&b.id))
        });
        out.truncate(MAX_PATHS);
        out
    }
}

/// Finding paths from many starting points on every core, each thread keeping its own best
/// (sharing one [`Bar`]); since keeping the best is associative, joining them in the starting
/// points' order keeps what one pass in that order would.
pub(super) trait FoldOrdered<'t, T: 't> {
    /// Adds to `into` the paths `find` finds from each item.
    fn fold_ordered(self, into: &mut Best, find: impl Fn(&mut Best, &'t T) + Sync + Send);
}

impl<'t, T: Sync + 't> FoldOrdered<'t, T> for rayon::slice::Iter<'t, T> {
    fn fold_ordered(self, into: &mut Best, find: impl Fn(&mut Best, &'t T) + Sync + Send) {
        use rayon::prelude::*;
        let sharing = || Best {
            bar: Arc::clone(&into.bar),
            ..Best::default()
        };
        let found = self
            .fold(sharing, |mut best, item| {
                find(&mut best, item);
                best
            })
            .reduce(sharing, |mut first, then| {
                first.extend_from(then);
                first
            });
        into.extend_from(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::{Score, Step};
    use crate::resource::Origin;

    fn object(i: usize) -> ObjectRef {
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: format!("o{i}"),
        }
    }

    fn step(object: ObjectRef, edge: Edge) -> Step {
        Step {
            object,
            origin: Origin::Cluster {
                cluster: "test".into(),
            },
            position: None,
            written: None,
            edge,
            evidence: Vec::new(),
            explanation: String::new(),
        }
    }

    const JEWELS: [Jewel; 6] = [
        Jewel::ClusterAdmin,
        Jewel::Nodes,
        Jewel::AllSecrets,
        Jewel::NamespaceSecrets,
        Jewel::WorkloadControl,
        Jewel::Credentials,
    ];

    /// Paths over a few objects, so that keys repeat and scores tie.
    fn candidates(seed: u64, n: usize) -> Vec<AttackPath> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n)
            .map(|_| {
                let exposure = rng.u8(1..=3);
                let first = match (exposure, rng.bool()) {
                    (1, true) => Edge::Foothold,
                    (1, false) => Edge::GrantsSubject,
                    _ => Edge::Exposes,
                };
                let mut steps = vec![step(object(rng.usize(0..200)), first)];
                // Lengths spread, so that the reported paths stand at several places.
                for _ in 0..rng.usize(0..16) {
                    steps.push(step(object(rng.usize(0..200)), Edge::Selects));
                }
                let jewel = JEWELS[rng.usize(0..JEWELS.len())];
                AttackPath {
                    id: String::new(),
                    title: String::new(),
                    jewel,
                    target: String::new(),
                    score: Score {
                        exposure,
                        impact: jewel.impact(),
                        value: exposure * jewel.impact(),
                        reasons: Vec::new(),
                    },
                    steps,
                }
            })
            .collect()
    }

    /// What is reported when every candidate is kept whole to the end.
    fn kept_whole(paths: Vec<AttackPath>) -> Vec<String> {
        // Keyed by the identities themselves: what the digests in `Key` stand for.
        let mut best: BTreeMap<(ObjectRef, ObjectRef, Jewel), AttackPath> = BTreeMap::new();
        for p in paths {
            let key = (
                p.entry().clone(),
                p.steps[p.steps.len() - 1].object.clone(),
                p.jewel,
            );
            match best.get(&key) {
                Some(b)
                    if (b.score.value, Reverse(b.steps.len()))
                        >= (p.score.value, Reverse(p.steps.len())) => {}
                _ => {
                    best.insert(key, p);
                }
            }
        }
        let exposed: HashSet<(ObjectRef, Jewel)> = best
            .values()
            .filter(|p| p.score.exposure > 1)
            .flat_map(|p| p.steps.iter().map(|s| (s.object.clone(), p.jewel)))
            .collect();
        let mut out: Vec<AttackPath> = best
            .into_values()
            .filter(|p| {
                p.steps[0].edge != Edge::Foothold
                    || !exposed.contains(&(p.entry().clone(), p.jewel))
            })
            .collect();
        for p in &mut out {
            p.id = PathId::of(&p.steps, p.jewel).to_string();
        }
        out.sort_by(|a, b| {
            (Reverse(a.score.value), a.jewel, a.steps.len(), &a.id).cmp(&(
                Reverse(b.score.value),
                b.jewel,
                b.steps.len(),
                &b.id,
            ))
        });
        out.truncate(MAX_PATHS);
        out.into_iter().map(|p| p.id).collect()
    }

    fn ids(best: Best) -> Vec<String> {
        best.finish().into_iter().map(|p| p.id).collect()
    }

    /// Setting candidates aside reports what keeping them whole does, in one pass and split
    /// among bests that share a bar and are joined in order, as threads do.
    #[test]
    fn candidates_set_aside_change_nothing_reported() {
        for seed in 0..16 {
            let paths = candidates(seed, 4000);
            let expected = kept_whole(paths.clone());
            assert_eq!(expected.len(), MAX_PATHS);

            let mut one = Best::default();
            for p in paths.clone() {
                one.push(p);
            }
            // Pruned once more, as the last candidate might have made it: the bar is then the
            // tightest it gets.
            one.prune();
            assert!(
                one.whole < one.by_key.len() / 2,
                "most candidates are set aside: {} of {} whole",
                one.whole,
                one.by_key.len()
            );
            assert_eq!(ids(one), expected, "seed {seed}, one pass");

            let mut joined = Best::default();
            for part in paths.chunks(700) {
                let mut found = Best {
                    bar: Arc::clone(&joined.bar),
                    ..Best::default()
                };
                for p in part {
                    found.push(p.clone());
                }
                joined.extend_from(found);
            }
            assert_eq!(ids(joined), expected, "seed {seed}, in parts");
        }
    }

    /// Candidates that tie but for their ids are set aside too, once enough stand before
    /// them, and those reported are the ties of the smallest ids (a large input's candidates
    /// mostly tie: each was held whole to the end before the id counted).
    #[test]
    fn ties_but_for_the_id_are_set_aside() {
        let tied: Vec<AttackPath> = (0..2000)
            .map(|i| AttackPath {
                id: String::new(),
                title: String::new(),
                jewel: Jewel::Nodes,
                target: String::new(),
                score: Score {
                    exposure: 3,
                    impact: Jewel::Nodes.impact(),
                    value: 3 * Jewel::Nodes.impact(),
                    reasons: Vec::new(),
                },
                steps: vec![
                    step(object(i), Edge::Exposes),
                    step(object(i + 5000), Edge::Selects),
                ],
            })
            .collect();
        let expected = kept_whole(tied.clone());
        let mut best = Best::default();
        for p in tied {
            best.push(p);
        }
        best.prune();
        assert!(
            best.whole <= MAX_PATHS,
            "{} of {} tied candidates held whole",
            best.whole,
            best.by_key.len()
        );
        assert_eq!(ids(best), expected);
    }

    /// What lets a candidate set aside no longer cover footholds (the module's doc).
    #[test]
    fn any_path_from_outside_scores_more_than_any_foothold() {
        for outside in JEWELS {
            for foothold in JEWELS {
                assert!(
                    2 * outside.impact() > foothold.impact(),
                    "{outside:?} {foothold:?}"
                );
            }
        }
    }

    /// Keys tell identities apart wherever their parts differ, however the text of the parts
    /// is split among them, and a cluster-scoped object from one in the namespace "".
    #[test]
    fn keys_tell_identities_apart() {
        let id = |ns: Option<&str>, kind: &str, name: &str| ObjectRef {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        };
        let a = id(Some("shop"), "Pod", "api");
        let jewel = Jewel::Nodes;
        let same = Key::of(&a, &a.clone(), jewel);
        assert_eq!(same, Key::of(&id(Some("shop"), "Pod", "api"), &a, jewel));
        for other in [
            id(None, "Pod", "api"),
            id(Some(""), "Pod", "api"),
            id(Some("shopP"), "od", "api"),
            id(Some("shop"), "Pod", "apI"),
            id(Some("shop"), "Poda", "pi"),
        ] {
            assert_ne!(same, Key::of(&other, &a, jewel), "{other:?}");
            assert_ne!(same, Key::of(&a, &other, jewel), "{other:?}");
        }
        assert_ne!(
            Key::of(&id(None, "Pod", "a"), &id(Some(""), "Pod", "a"), jewel),
            Key::of(&id(Some(""), "Pod", "a"), &id(None, "Pod", "a"), jewel)
        );
        assert_ne!(same, Key::of(&a, &a, Jewel::ClusterAdmin));
    }
}
