//! `posture watch`'s state: the cluster's current objects (cleaned to what rules read), the
//! findings of each, and the drift events a batch of [`Change`]s makes. No I/O: the watch
//! streams are `collect::cluster::watch`'s, the HTTP endpoints `watch::http`'s, the
//! PolicyReports and Events `watch::publish`'s, and the CLI writes the events.
//!
//! On a change only what it can affect is evaluated again: the object itself; when the change
//! alters what the object puts in the inventory (`engine::inventory`) — so a Pod whose spec
//! changed but whose namespace entry did not is evaluated alone — the readers of that part:
//! for a part keyed by namespace (NetworkPolicies, LimitRanges, ResourceQuotas,
//! ServiceAccounts, the workloads a namespace runs) the objects of that namespace and the
//! Namespace itself; for the parts keyed otherwise (roles, bindings, ServiceAccount bindings,
//! cluster-wide network policies, namespace labels, which network rules read across
//! namespaces) every object. That last choice is the simplest that is correct: those
//! objects change rarely, and a full evaluation of 10,000 objects takes about a second.
//! Objects whose controller appears or goes are evaluated again too (a scan reports a
//! Deployment's Pods through the Deployment).
//!
//! Findings are judged as a scan judges them ([`Judging`]): exceptions (config and annotations)
//! suppress findings before they open, and the benchmark is assessed again
//! ([`WatchState::assess_benchmark`], spaced out by the caller) when its evidence changes — a kubelet configuration, a Node, Namespace or ConfigMap, a policy-engine object,
//! a workload that runs a control-plane component, or a finding of a rule one of its checks
//! reads.

pub mod events;
pub mod http;
pub mod metrics;
pub mod policy_report;
pub mod publish;

use crate::collect::cluster::watch::{Change, WatchedStream};
use crate::compliance::Compliance;
use crate::engine::{inventory, Evaluator};
use crate::exceptions::Suppressed;
use crate::finding::Finding;
use crate::fingerprint::Fingerprint;
use crate::policy::RuleInfo;
use crate::problem::Problem;
use crate::resource::{FieldPath, ObjectRef, Origin, Resource};
use crate::scan::{BenchmarkChoice, EvaluatedObject, Judging, ScanReport, Target};
use crate::severity::Severity;
use crate::snapshot::{ClusterInfo, KubeletConfig, ServerVersion};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// (before, after) of every object a batch touched. The objects are shared with the store, not
/// copied: a first list of 10,000 objects would otherwise be held twice.
type Touched = BTreeMap<ObjectRef, (Option<Arc<Resource>>, Option<Arc<Resource>>)>;

/// Inventory parts whose keys are namespaces: a change there concerns that namespace only.
const NAMESPACED_PARTS: &[&str] = &[
    "network_policies",
    "limit_ranges",
    "resource_quotas",
    "service_accounts",
];

/// Evaluation times held for the metrics between two scrapes at most.
const EVALUATIONS_KEPT: usize = 4096;

/// Objects evaluated at once when many are (the first evaluation, a role's change): their
/// findings and events are handed on before the next chunk, so that a 10,000-object cluster's
/// ~145,000 first findings never exist twice, or as events, all at once. Each chunk builds the
/// inventory again (tens of ms for 10,000 objects), so chunks are not made smaller than this.
const CHUNK: usize = 1000;

/// One drift event, written as a JSON line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftEvent {
    pub event: EventKind,
    /// RFC 3339.
    pub time: String,
    pub cluster: String,
    pub object: ObjectRef,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub finding: Option<FindingFields>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    FindingOpened,
    FindingResolved,
    ObjectAdded,
    ObjectRemoved,
    ObjectChanged,
}

/// What a finding event says of the finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingFields {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    pub message: String,
    pub path: FieldPath,
    pub fingerprint: Fingerprint,
}

impl FindingFields {
    fn of(f: &Finding) -> FindingFields {
        FindingFields {
            rule: f.rule_id.to_string(),
            title: f.rule_title.to_string(),
            severity: f.severity,
            message: f.message.to_string(),
            path: FieldPath::clone(&f.path),
            fingerprint: f.fingerprint,
        }
    }
}

struct Entry {
    /// Shared with the benchmark's snapshots, which are assessed outside the lock.
    resource: Arc<Resource>,
    /// The watch stream it came from; `None` for a kubelet configuration.
    stream: Option<usize>,
}

/// The benchmark's last assessment.
#[derive(Default)]
struct Bench {
    compliance: Option<Compliance>,
    /// Failing checks as findings, exceptions applied.
    findings: Vec<Finding>,
    suppressed: Vec<Suppressed>,
    rules: Vec<RuleInfo>,
    problems: Vec<Problem>,
    /// The rules whose findings the checks read: a change in them is a change in evidence.
    reads: HashSet<String>,
}

/// What an assessment of the benchmark reads, taken under the lock
/// ([`WatchState::benchmark_snapshot`]) so that the assessment, which reads every object, runs
/// outside it and a change's evaluation never waits for it. The objects are shared, not copied.
pub struct BenchSnapshot {
    seq: u64,
    /// `None` with `--benchmark none`.
    inputs: Option<BenchInputs>,
}

struct BenchInputs {
    judging: Arc<Judging>,
    targets: Vec<Arc<Resource>>,
    context: crate::compliance::Context,
    /// The rules, as a scan hands them over; its findings are filled in by `assess`.
    shell: ScanReport,
    /// Every object's findings, shared with the state.
    findings: Vec<Arc<[Finding]>>,
    suppressed: Vec<Arc<[Suppressed]>>,
    kube_context: Option<String>,
    today: jiff::civil::Date,
}

/// An assessment, for [`WatchState::apply_benchmark`].
pub struct BenchAssessed {
    seq: u64,
    bench: Bench,
    seconds: f64,
}

impl BenchSnapshot {
    /// Assesses the benchmark as a scan does, from every target, the rules' findings and what
    /// is known of the nodes. No lock is needed: the snapshot owns (or shares) all it reads.
    pub fn assess(self) -> BenchAssessed {
        let started = Instant::now();
        let mut bench = Bench::default();
        if let Some(mut i) = self.inputs {
            // Only the findings of rules a benchmark check reads: the others are not evidence,
            // and a large cluster has many. Of those the checks read the rule and the object
            // (`compliance`: by_rules, by_admission, manual); the message, path and fingerprint
            // are left out of the copy, which at 10,000 objects is ~70,000 findings every
            // assessment (`benchmark_evidence_is_judged_the_same_from_thin_findings` holds it).
            let reads = benchmark_rules();
            let mut findings: Vec<Finding> = i
                .findings
                .iter()
                .flat_map(|list| list.iter())
                .chain(
                    i.suppressed
                        .iter()
                        .flat_map(|list| list.iter())
                        .map(|s| &s.finding),
                )
                .filter(|f| reads.contains(f.rule_id.as_str()))
                .map(evidence)
                .collect();
            crate::finding::sort(&mut findings);
            i.shell.findings = findings;
            let runs = crate::compliance::component_runs(&i.targets, &i.context);
            if let Some((name, selection)) =
                crate::scan::choose(&i.judging.benchmark, &i.context, &runs)
            {
                match crate::scan::apply(
                    &name,
                    selection,
                    i.judging.cis_level,
                    &i.targets,
                    &runs,
                    &i.shell,
                    &i.context,
                ) {
                    Ok(assessed) => {
                        let applied = crate::exceptions::apply(
                            assessed.findings,
                            &i.judging.exceptions,
                            &i.targets,
                            i.kube_context.as_deref(),
                            i.today,
                        );
                        bench.reads = assessed
                            .compliance
                            .checks
                            .iter()
                            .flat_map(|c| c.rules.iter().cloned())
                            .collect();
                        bench.compliance = Some(assessed.compliance);
                        bench.findings = applied.findings;
                        bench.suppressed = applied.suppressed;
                        bench.rules = assessed.rules;
                        bench.problems = assessed.problems;
                    }
                    Err(message) => bench.problems.push(Problem::new(
                        crate::problem::Level::Error,
                        crate::problem::Code::EvalError,
                        message,
                    )),
                }
            }
        }
        BenchAssessed {
            seq: self.seq,
            bench,
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// A finding as the benchmark's checks read it: its rule and object, without what they do not
/// read (message, path and fingerprint are left empty rather than copied).
fn evidence(f: &Finding) -> Finding {
    Finding {
        rule_id: f.rule_id.clone(),
        rule_title: f.rule_title.clone(),
        severity: f.severity,
        message: Default::default(),
        object: Arc::clone(&f.object),
        origin: Arc::clone(&f.origin),
        path: crate::finding::empty_path(),
        position: f.position,
        written: f.written.clone(),
        fingerprint: Fingerprint::default(),
    }
}

/// Every rule a built-in benchmark check reads the findings of.
fn benchmark_rules() -> &'static HashSet<String> {
    static RULES: OnceLock<HashSet<String>> = OnceLock::new();
    RULES.get_or_init(|| {
        crate::benchmark::Benchmark::all()
            .iter()
            .flat_map(|b| &b.checks)
            .flat_map(|c| match &c.judgement {
                crate::benchmark::Judgement::Rules { rules }
                | crate::benchmark::Judgement::Admission { rules, .. }
                | crate::benchmark::Judgement::Manual { rules, .. } => rules.as_slice(),
                _ => &[],
            })
            .cloned()
            .collect()
    })
}

/// Per-stream bookkeeping, read by the metrics.
#[derive(Debug, Clone, Default)]
pub struct StreamStats {
    /// Full lists after the first one (410 Gone, errors, resyncs).
    pub restarts: u64,
    pub errors: u64,
    /// Whether its first list completed (or failed: a type that cannot be read must not keep
    /// the watch unready forever).
    pub settled: bool,
    listed_once: bool,
    /// Objects seen since the current list began, while one is under way.
    relisting: Option<HashSet<ObjectRef>>,
    /// The last error, for the report's problems.
    pub last_error: Option<String>,
}

/// Which objects a change concerns.
#[derive(Default)]
struct Affected {
    all: bool,
    objects: HashSet<ObjectRef>,
    namespaces: HashSet<String>,
}

/// The watched cluster's objects and findings.
pub struct WatchState {
    /// Shared, so that one prepared evaluation can be read while the findings change.
    evaluator: Arc<Evaluator>,
    cluster: String,
    context: Option<String>,
    version: ServerVersion,
    streams: Vec<WatchedStream>,
    pub stats: Vec<StreamStats>,
    objects: BTreeMap<ObjectRef, Entry>,
    /// The objects the rules judge (those whose controller is not watched too).
    targets: HashSet<ObjectRef>,
    /// Each object's open findings, sorted; shared by pointer with the benchmark's snapshots,
    /// so taking one under the lock copies no finding.
    findings: HashMap<ObjectRef, Arc<[Finding]>>,
    /// Findings an exception covers, per object.
    suppressed: HashMap<ObjectRef, Arc<[Suppressed]>>,
    /// The day exceptions were last judged on: when the date moves on, an exception that
    /// expired stops applying then, not at its object's next change ([`WatchState::new_day`]).
    judged_on: Option<jiff::civil::Date>,
    judging: Arc<Judging>,
    /// Each node's kubelet configuration state: `None` read, `Some(reason)` not collected.
    kubelets: BTreeMap<String, Option<String>>,
    bench: Bench,
    /// The benchmark's evidence changed since its last assessment.
    bench_due: bool,
    /// The number of the last benchmark snapshot taken, and of the last one whose assessment
    /// was applied: an older assessment never replaces a newer one.
    bench_taken: u64,
    bench_applied: u64,
    ready: bool,
    /// Seconds each evaluation took, drained by the metrics.
    pub evaluations: Vec<f64>,
}

impl WatchState {
    pub fn new(
        evaluator: Evaluator,
        cluster: String,
        context: Option<String>,
        version: ServerVersion,
        streams: Vec<WatchedStream>,
    ) -> WatchState {
        let stats = vec![StreamStats::default(); streams.len()];
        let ready = streams.is_empty();
        WatchState {
            evaluator: Arc::new(evaluator),
            cluster,
            context,
            version,
            streams,
            stats,
            objects: BTreeMap::new(),
            targets: HashSet::new(),
            findings: HashMap::new(),
            suppressed: HashMap::new(),
            judged_on: None,
            judging: Arc::new(Judging::rules_only()),
            kubelets: BTreeMap::new(),
            bench: Bench::default(),
            bench_due: false,
            bench_taken: 0,
            bench_applied: 0,
            ready,
            evaluations: Vec::new(),
        }
    }

    /// Judges as a scan with this benchmark and these exceptions would (rules only until set).
    pub fn set_judging(&mut self, judging: Judging) {
        self.judging = Arc::new(judging);
    }

    /// The benchmark's last assessment, if one applies.
    pub fn compliance(&self) -> Option<&Compliance> {
        self.bench.compliance.as_ref()
    }

    /// Whether every stream's first list is done, and the first evaluation with it.
    pub fn ready(&self) -> bool {
        self.ready
    }

    pub fn streams(&self) -> &[WatchedStream] {
        &self.streams
    }

    /// Objects held per stream.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.streams.len()];
        for e in self.objects.values() {
            if let Some(stream) = e.stream {
                counts[stream] += 1;
            }
        }
        counts
    }

    /// The rules the watch evaluates.
    pub fn rules(&self) -> &[crate::policy::Rule] {
        self.evaluator.rules()
    }

    /// The uid of an object held, for references to it (PolicyReport results, Events).
    pub fn uid(&self, id: &ObjectRef) -> Option<&str> {
        self.objects.get(id)?.resource.object["metadata"]["uid"].as_str()
    }

    /// Every open finding, the benchmark's included, sorted as reports sort them.
    pub fn open_findings(&self) -> Vec<&Finding> {
        let mut all: Vec<&Finding> = self.open().collect();
        all.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        all
    }

    /// Applies a batch of changes and returns the events it makes, in order: object events,
    /// then resolved, then opened findings. Before the watch is ready objects are only stored;
    /// the first evaluation opens every finding the cluster has, without object events.
    pub fn apply(&mut self, changes: Vec<Change>, time: &str) -> Vec<DriftEvent> {
        let mut all = Vec::new();
        self.apply_each(changes, time, &mut |events| all.extend(events));
        all
    }

    /// As [`WatchState::apply`], but hands the events to `emit` as they are made: when many
    /// objects are evaluated (the first evaluation, a role's change) a chunk of [`CHUNK`]
    /// objects at a time, in that chunk's order (resolved, then opened), so that the caller
    /// writes and drops each before the next is made. `emit` is not called without events.
    pub fn apply_each(
        &mut self,
        changes: Vec<Change>,
        time: &str,
        emit: &mut dyn FnMut(Vec<DriftEvent>),
    ) {
        let mut events = Vec::new();
        // (before, after) of every object the batch touched.
        let mut touched = Touched::new();
        let mut kubelets_changed = false;
        for change in changes {
            match change {
                Change::Relisting { stream } => {
                    let s = &mut self.stats[stream];
                    if s.listed_once {
                        s.restarts += 1;
                    }
                    s.relisting = Some(HashSet::new());
                }
                Change::Applied { stream, object } => {
                    self.upsert(stream, object, &mut touched);
                }
                Change::Deleted { stream: _, object } => {
                    if let Some(id) = identity(&object) {
                        self.remove(&id, &mut touched);
                    }
                }
                Change::Listed { stream } => {
                    let s = &mut self.stats[stream];
                    s.listed_once = true;
                    s.settled = true;
                    if let Some(seen) = s.relisting.take() {
                        let gone: Vec<ObjectRef> = self
                            .objects
                            .iter()
                            .filter(|(id, e)| e.stream == Some(stream) && !seen.contains(*id))
                            .map(|(id, _)| id.clone())
                            .collect();
                        for id in gone {
                            self.remove(&id, &mut touched);
                        }
                    }
                }
                Change::Failed { stream, reason } => {
                    let s = &mut self.stats[stream];
                    s.errors += 1;
                    s.settled = true;
                    s.last_error = Some(reason);
                }
                Change::Kubelet { node, config } => {
                    kubelets_changed |= self.kubelet(&node, config, &mut touched);
                }
            }
        }
        // A node that is gone takes its kubelet configuration with it.
        let gone_nodes: Vec<String> = touched
            .iter()
            .filter(|(id, (_, after))| is_node(id) && after.is_none())
            .map(|(id, _)| id.name.clone())
            .collect();
        for node in gone_nodes {
            kubelets_changed |= self.kubelets.remove(&node).is_some();
            self.remove(&kubelet_ref(&node), &mut touched);
        }
        if !self.ready {
            if self.stats.iter().all(|s| s.settled) {
                self.ready = true;
                let everything = Affected {
                    all: true,
                    ..Affected::default()
                };
                self.judged_on = Some(self.today());
                self.evaluate(&everything, true, time, &mut events, emit);
                // The first evaluation: ready means the benchmark is known too.
                self.assess(time, &mut events);
            }
            if !events.is_empty() {
                emit(events);
            }
            return;
        }
        let mut affected = Affected::default();
        let mut evidence = kubelets_changed;
        for (id, (before, after)) in &touched {
            let (before, after) = (before.as_deref(), after.as_deref());
            if before.map(|r| &r.object) == after.map(|r| &r.object) {
                continue;
            }
            evidence = evidence || is_evidence(id, before) || is_evidence(id, after);
            let kind = match (before, after) {
                (None, Some(_)) => EventKind::ObjectAdded,
                (Some(_), None) => EventKind::ObjectRemoved,
                _ => EventKind::ObjectChanged,
            };
            events.push(self.object_event(kind, id, time));
            affected.objects.insert(id.clone());
            spread(before, after, &mut affected);
        }
        if !affected.objects.is_empty() || evidence {
            self.evaluate(&affected, evidence, time, &mut events, emit);
        }
        if !events.is_empty() {
            emit(events);
        }
    }

    /// Stores a node's kubelet configuration as an object (as a scan makes it one); whether
    /// what the benchmark knows of the node changed.
    fn kubelet(&mut self, node: &str, config: KubeletConfig, touched: &mut Touched) -> bool {
        let reason = match config {
            KubeletConfig::Collected { source, config } => {
                let object = crate::snapshot::kubelet_object(node, &source, config);
                self.insert(None, object, touched);
                None
            }
            KubeletConfig::NotCollected { reason } => {
                self.remove(&kubelet_ref(node), touched);
                Some(reason)
            }
        };
        self.kubelets.insert(node.to_owned(), reason.clone()) != Some(reason)
    }

    fn upsert(&mut self, stream: usize, object: Value, touched: &mut Touched) {
        self.insert(Some(stream), object, touched);
    }

    fn insert(&mut self, stream: Option<usize>, object: Value, touched: &mut Touched) {
        let origin = Origin::Cluster {
            cluster: self.cluster.clone(),
        };
        let Some(resource) = Resource::from_object(object, origin, None) else {
            return;
        };
        let id = ObjectRef::clone(&resource.id);
        if let Some(seen) = stream.and_then(|s| self.stats[s].relisting.as_mut()) {
            seen.insert(id.clone());
        }
        let resource = Arc::new(resource);
        let after = Arc::clone(&resource);
        let before = self
            .objects
            .insert(id.clone(), Entry { resource, stream })
            .map(|e| e.resource);
        touched
            .entry(id)
            .and_modify(|t| t.1 = Some(after.clone()))
            .or_insert((before, Some(after)));
    }

    fn remove(&mut self, id: &ObjectRef, touched: &mut Touched) {
        if let Some(e) = self.objects.remove(id) {
            touched
                .entry(id.clone())
                .and_modify(|t| t.1 = None)
                .or_insert((Some(e.resource), None));
        }
    }

    /// Evaluates the affected targets again and turns the difference into events, handed to
    /// `emit` after each chunk of [`CHUNK`] objects (with the events before them); marks the
    /// benchmark due when `evidence` says its evidence changed (or a finding it reads did).
    fn evaluate(
        &mut self,
        affected: &Affected,
        evidence: bool,
        time: &str,
        events: &mut Vec<DriftEvent>,
        emit: &mut dyn FnMut(Vec<DriftEvent>),
    ) {
        // Shared, so that the findings can be replaced while the objects are read.
        let held: Vec<Arc<Resource>> = self
            .objects
            .values()
            .map(|e| Arc::clone(&e.resource))
            .collect();
        let all: Vec<&Resource> = held.iter().map(|r| &**r).collect();
        let owned = crate::scan::owned_by_present(&all);
        let targets: HashSet<ObjectRef> = all
            .iter()
            .zip(&owned)
            .filter(|(_, owned)| !**owned)
            .map(|(r, _)| ObjectRef::clone(&r.id))
            .collect();
        // Objects whose controller came or went are judged anew (or no longer).
        let flipped: HashSet<ObjectRef> = targets
            .symmetric_difference(&self.targets)
            .cloned()
            .collect();
        let concerns = |id: &ObjectRef| {
            affected.all
                || affected.objects.contains(id)
                || flipped.contains(id)
                || id
                    .namespace
                    .as_ref()
                    .is_some_and(|ns| affected.namespaces.contains(ns))
                || (id.kind == "Namespace"
                    && id.api_version == "v1"
                    && affected.namespaces.contains(&id.name))
        };
        let judged: Vec<&Resource> = all
            .iter()
            .zip(&owned)
            .filter(|(r, owned)| !**owned && concerns(&r.id))
            .map(|(r, _)| *r)
            .collect();
        let inventory: Vec<&Resource> = all
            .iter()
            .zip(&owned)
            .filter(|(_, owned)| !**owned)
            .map(|(r, _)| *r)
            .collect();
        let today = self.today();
        let mut moved: HashSet<String> = HashSet::new();
        let mut seconds = 0.0;

        // The findings of objects gone or no longer judged (their controller appeared) resolve.
        let gone: BTreeSet<ObjectRef> = self
            .findings
            .keys()
            .chain(self.suppressed.keys())
            .filter(|id| !targets.contains(*id))
            .cloned()
            .collect();
        let mut resolved: Vec<Arc<[Finding]>> = Vec::new();
        for id in &gone {
            resolved.extend(self.findings.remove(id));
            self.suppressed.remove(id);
        }
        drift(
            &self.cluster,
            resolved.iter().flat_map(|list| list.iter()),
            [],
            time,
            events,
            |f| {
                moved.insert(f.rule_id.to_string());
            },
        );

        let started = Instant::now();
        let evaluator = Arc::clone(&self.evaluator);
        let among = evaluator.prepare_among(inventory.iter().copied(), &judged);
        seconds += started.elapsed().as_secs_f64();
        for chunk in judged.chunks(CHUNK) {
            let started = Instant::now();
            let evaluation = among.evaluate(chunk);
            // Exceptions as a scan applies them: they read the objects' annotations (and labels,
            // for selectors).
            let with_exceptions: Vec<&Resource> = chunk
                .iter()
                .filter(|r| {
                    !self.judging.exceptions.is_empty()
                        || r.object["metadata"]["annotations"]
                            .as_object()
                            .is_some_and(|a| !a.is_empty())
                })
                .copied()
                .collect();
            let applied = crate::exceptions::apply(
                evaluation.findings,
                &self.judging.exceptions,
                &with_exceptions,
                self.context.as_deref(),
                today,
            );
            seconds += started.elapsed().as_secs_f64();
            let ids = chunk.iter().map(|r| ObjectRef::clone(&r.id));
            let judgement = Judgement::of(applied.findings, applied.suppressed, ids);
            self.replace(judgement, time, events, &mut moved);
            emit(std::mem::take(events));
        }
        self.record(seconds);
        self.targets = targets;
        if evidence || moved.iter().any(|rule| self.bench.reads.contains(rule)) {
            self.bench_due = true;
        }
    }

    /// Replaces the findings of the objects judged with their new ones, and adds the events of
    /// the difference: resolved, then opened, each in fingerprint order.
    fn replace(
        &mut self,
        judgement: Judgement,
        time: &str,
        events: &mut Vec<DriftEvent>,
        moved: &mut HashSet<String>,
    ) {
        let mut old: Vec<Arc<[Finding]>> = Vec::new();
        for id in judgement.findings.keys() {
            old.extend(self.findings.remove(id));
            self.suppressed.remove(id);
        }
        drift(
            &self.cluster,
            old.iter().flat_map(|list| list.iter()),
            judgement.findings.values().flatten(),
            time,
            events,
            |f| {
                moved.insert(f.rule_id.to_string());
            },
        );
        for (id, list) in judgement.findings {
            if !list.is_empty() {
                self.findings.insert(id, list.into());
            }
        }
        for (id, list) in judgement.suppressed {
            self.suppressed.insert(id, list.into());
        }
    }

    /// Judges every open and suppressed finding again on `today`, when the date moved on since
    /// they were last judged: an exception that expired today stops applying now, not when its
    /// object next changes. Only the exceptions are applied again (the rules' findings hold);
    /// the benchmark's failing checks, which exceptions cover too, are assessed again. The
    /// caller asks at least once a minute; `today` is a parameter so tests can move the date.
    pub fn new_day(
        &mut self,
        today: jiff::civil::Date,
        time: &str,
        emit: &mut dyn FnMut(Vec<DriftEvent>),
    ) {
        if !self.ready || self.judging.today.is_some() || self.judged_on == Some(today) {
            return;
        }
        self.judged_on = Some(today);
        let mut ids: Vec<ObjectRef> = self
            .findings
            .keys()
            .chain(self.suppressed.keys())
            .cloned()
            .collect::<BTreeSet<ObjectRef>>()
            .into_iter()
            .collect();
        // Only objects held can carry annotations; the others' findings resolve on their own.
        ids.retain(|id| self.objects.contains_key(id));
        let mut moved = HashSet::new();
        let mut events = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut raw: Vec<Finding> = Vec::new();
            for id in chunk {
                raw.extend(
                    self.findings
                        .get(id)
                        .into_iter()
                        .flat_map(|l| l.iter())
                        .cloned(),
                );
                raw.extend(
                    self.suppressed
                        .get(id)
                        .into_iter()
                        .flat_map(|l| l.iter())
                        .map(|s| s.finding.clone()),
                );
            }
            crate::finding::sort(&mut raw);
            let objects: Vec<&Resource> = chunk
                .iter()
                .filter_map(|id| self.objects.get(id))
                .map(|e| &*e.resource)
                .collect();
            let applied = crate::exceptions::apply(
                raw,
                &self.judging.exceptions,
                &objects,
                self.context.as_deref(),
                today,
            );
            drop(objects);
            let judgement =
                Judgement::of(applied.findings, applied.suppressed, chunk.iter().cloned());
            self.replace(judgement, time, &mut events, &mut moved);
            if !events.is_empty() {
                emit(std::mem::take(&mut events));
            }
        }
        // The benchmark's findings are judged with exceptions on the day of its assessment.
        self.bench_due = true;
    }

    /// Records an evaluation's time for the metrics, which take them when scraped; without
    /// scrapes (no `--listen`) only the latest [`EVALUATIONS_KEPT`] are kept, so a watch that
    /// runs for months does not grow by them.
    fn record(&mut self, seconds: f64) {
        if self.evaluations.len() >= EVALUATIONS_KEPT {
            self.evaluations.drain(..EVALUATIONS_KEPT / 2);
        }
        self.evaluations.push(seconds);
    }

    /// Whether the benchmark's evidence changed since it was last assessed.
    pub fn benchmark_due(&self) -> bool {
        self.bench_due
    }

    /// Assesses the benchmark again if its evidence changed, and returns the events of its
    /// failing checks. Separate from [`WatchState::apply`] because an assessment reads every
    /// object: the caller spaces assessments out so that a stream of changes does not wait on
    /// them (the rules' findings of a change are never delayed by the benchmark).
    pub fn assess_benchmark(&mut self, time: &str) -> Vec<DriftEvent> {
        match self.benchmark_snapshot() {
            Some(snapshot) => self.apply_benchmark(snapshot.assess(), time),
            None => Vec::new(),
        }
    }

    /// When the benchmark's evidence changed, what an assessment reads, taken now (under the
    /// caller's lock) so that [`BenchSnapshot::assess`] runs without it; the evidence counts as
    /// assessed from here on.
    pub fn benchmark_snapshot(&mut self) -> Option<BenchSnapshot> {
        self.bench_due.then(|| self.snapshot())
    }

    fn snapshot(&mut self) -> BenchSnapshot {
        self.bench_due = false;
        self.bench_taken += 1;
        let seq = self.bench_taken;
        if self.judging.benchmark == BenchmarkChoice::Off {
            return BenchSnapshot { seq, inputs: None };
        }
        let nodes = self
            .objects
            .values()
            .filter(|e| is_node(&e.resource.id))
            .map(|e| {
                let name = e.resource.id.name.clone();
                let reason = match self.kubelets.get(&name) {
                    Some(reason) => reason.clone(),
                    None => Some("the kubelet configuration was not read yet".to_owned()),
                };
                (name, reason)
            })
            .collect();
        let context = crate::compliance::Context {
            cluster: Some(self.cluster.clone()),
            platform: Some(self.platform().kind),
            nodes,
            missing_types: self
                .not_collected()
                .into_iter()
                .map(|m| (m.target, m.reason))
                .collect(),
            node_facts: self.judging.node_facts.clone(),
        };
        // The findings are shared, not copied: copying those the checks read took ~160 ms of
        // the lock at 10,000 objects. `assess` picks them out.
        let shell = ScanReport {
            rules: self.kubernetes_rules(),
            ..self.empty_report(String::new())
        };
        let findings = self.findings.values().cloned().collect();
        let suppressed = self.suppressed.values().cloned().collect();
        BenchSnapshot {
            seq,
            inputs: Some(BenchInputs {
                judging: Arc::clone(&self.judging),
                targets: self.target_resources(),
                context,
                shell,
                findings,
                suppressed,
                kube_context: self.context.clone(),
                today: self.today(),
            }),
        }
    }

    /// Applies an assessment made from [`WatchState::benchmark_snapshot`] and returns the
    /// events of the change in its failing checks; nothing when a newer one was applied.
    pub fn apply_benchmark(&mut self, assessed: BenchAssessed, time: &str) -> Vec<DriftEvent> {
        let mut events = Vec::new();
        if assessed.seq <= self.bench_applied {
            return events;
        }
        self.bench_applied = assessed.seq;
        let bench = assessed.bench;
        drift(
            &self.cluster,
            &self.bench.findings,
            &bench.findings,
            time,
            &mut events,
            |_| {},
        );
        self.bench = bench;
        self.record(assessed.seconds);
        events
    }

    /// The day exceptions are judged on: the request's, else the one [`WatchState::new_day`]
    /// last moved to, else today (UTC).
    fn today(&self) -> jiff::civil::Date {
        self.judging
            .today
            .or(self.judged_on)
            .unwrap_or_else(crate::exceptions::today)
    }

    /// The objects the rules judge, shared (the benchmark and `/findings` read them as a slice).
    fn target_resources(&self) -> Vec<Arc<Resource>> {
        self.objects
            .values()
            .filter(|e| self.targets.contains(&e.resource.id))
            .map(|e| Arc::clone(&e.resource))
            .collect()
    }

    /// The rules' findings before exceptions, as a scan hands them to the benchmark.
    fn rule_findings(&self) -> Vec<Finding> {
        let mut all: Vec<Finding> = self
            .findings
            .values()
            .flat_map(|list| list.iter())
            .cloned()
            .chain(
                self.suppressed
                    .values()
                    .flat_map(|list| list.iter())
                    .map(|s| s.finding.clone()),
            )
            .collect();
        crate::finding::sort(&mut all);
        all
    }

    fn platform(&self) -> crate::snapshot::Platform {
        let values: Vec<&Value> = self.objects.values().map(|e| &e.resource.object).collect();
        let of_kind = |kind: &str| {
            values
                .iter()
                .copied()
                .filter(|o| o["apiVersion"] == "v1" && o["kind"] == kind)
                .collect::<Vec<&Value>>()
        };
        crate::snapshot::detect_platform(
            &self.version.git_version,
            &of_kind("Node"),
            &of_kind("Pod"),
        )
    }

    /// Types whose first list failed, as a scan reports them.
    fn not_collected(&self) -> Vec<crate::snapshot::NotCollected> {
        self.streams
            .iter()
            .zip(&self.stats)
            .filter(|(_, s)| !s.listed_once)
            .filter_map(|(t, s)| {
                s.last_error
                    .as_ref()
                    .map(|reason| crate::snapshot::NotCollected {
                        target: t.type_name.clone(),
                        reason: reason.clone(),
                    })
            })
            .collect()
    }

    /// Assesses the benchmark now (the first evaluation: ready means it is known too).
    fn assess(&mut self, time: &str, events: &mut Vec<DriftEvent>) {
        let assessed = self.snapshot().assess();
        events.extend(self.apply_benchmark(assessed, time));
    }

    fn kubernetes_rules(&self) -> Vec<RuleInfo> {
        self.evaluator
            .rules()
            .iter()
            .filter(|r| r.input == crate::resource::InputType::Kubernetes)
            .map(crate::policy::Rule::info)
            .collect()
    }

    /// A report of this cluster with nothing in it yet.
    fn empty_report(&self, collected_at: String) -> ScanReport {
        ScanReport {
            target: Target::Cluster {
                info: ClusterInfo {
                    name: self.cluster.clone(),
                    context: self.context.clone(),
                    server_version: self.version.clone(),
                    platform: self.platform(),
                },
                collected_at,
            },
            rules: Vec::new(),
            findings: Vec::new(),
            attack_paths: Vec::new(),
            // The fix list is the review's; /findings is JSON, which has none.
            fixes: Vec::new(),
            suppressed: Vec::new(),
            exceptions: Vec::new(),
            baseline: None,
            problems: Vec::new(),
            objects: self.objects.len(),
            evaluated: Vec::new(),
            compliance: None,
        }
    }

    fn object_event(&self, event: EventKind, id: &ObjectRef, time: &str) -> DriftEvent {
        DriftEvent {
            event,
            time: time.to_owned(),
            cluster: self.cluster.clone(),
            object: id.clone(),
            finding: None,
        }
    }

    /// The current findings as a scan report (`/findings`, same schema as `scan --format json`):
    /// exceptions applied once more over everything, as a scan applies them, for their usage.
    pub fn report(&self, collected_at: &str) -> ScanReport {
        let targets = self.target_resources();
        let mut evaluated: Vec<EvaluatedObject> = targets
            .iter()
            .map(|r| EvaluatedObject {
                input: r.input,
                object: Arc::clone(&r.id),
                origin: Arc::clone(&r.origin),
            })
            .collect();
        evaluated.sort_by(|a, b| {
            let key = |e: &EvaluatedObject| {
                (
                    e.object.namespace.clone(),
                    e.object.kind.clone(),
                    e.object.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        let mut problems: Vec<Problem> = self
            .not_collected()
            .iter()
            .map(crate::snapshot::NotCollected::problem)
            .collect();
        problems.extend(self.bench.problems.iter().cloned());
        let mut raw = self.rule_findings();
        raw.extend(self.bench.findings.iter().cloned());
        raw.extend(self.bench.suppressed.iter().map(|s| s.finding.clone()));
        crate::finding::sort(&mut raw);
        let applied = crate::exceptions::apply(
            raw,
            &self.judging.exceptions,
            &targets,
            self.context.as_deref(),
            self.today(),
        );
        problems.extend(applied.problems);
        problems.sort();
        let owned: Vec<Resource> = targets.iter().map(|r| Resource::clone(r)).collect();
        let attack_paths = crate::paths::find(&owned, &applied.findings);
        let mut rules = self.kubernetes_rules();
        rules.extend(self.bench.rules.iter().cloned());
        ScanReport {
            rules,
            findings: applied.findings,
            attack_paths,
            suppressed: applied.suppressed,
            exceptions: applied.usage,
            problems,
            evaluated,
            compliance: self.bench.compliance.clone(),
            ..self.empty_report(collected_at.to_owned())
        }
    }

    /// Every open finding: the rules' and the benchmark's.
    fn open(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .values()
            .flat_map(|list| list.iter())
            .chain(self.bench.findings.iter())
    }

    /// Open findings counted by (severity, rule, namespace), for the metrics.
    pub fn open_counts(&self) -> BTreeMap<(Severity, String, String), u64> {
        // Counted by borrowed keys: a scrape under the lock copies one key per label set, not
        // one per finding.
        let mut counts: HashMap<(Severity, &str, &str), u64> = HashMap::new();
        for f in self.open() {
            let key = (
                f.severity,
                f.rule_id.as_str(),
                f.object.namespace.as_deref().unwrap_or_default(),
            );
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
            .into_iter()
            .map(|((severity, rule, namespace), n)| {
                ((severity, rule.to_owned(), namespace.to_owned()), n)
            })
            .collect()
    }

    /// Every fingerprint open now.
    pub fn fingerprints(&self) -> BTreeSet<Fingerprint> {
        self.open().map(|f| f.fingerprint).collect()
    }
}

/// Adds to `affected` the readers of what the object changed in the inventory.
fn spread(before: Option<&Resource>, after: Option<&Resource>, affected: &mut Affected) {
    let part = |resource: Option<&Resource>| inventory::build(resource)["inventory"].clone();
    let (before, after) = (part(before), part(after));
    if before == after {
        return;
    }
    // The inventory's parts, and the keys (namespaces, roles) of each, as text.
    let keys = |v: &regorus::Value| -> Vec<String> {
        v.as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|k| k.as_string().ok().map(|k| k.to_string()))
            .collect()
    };
    for name in keys(&before).into_iter().chain(keys(&after)) {
        let (b, a) = (&before[name.as_str()], &after[name.as_str()]);
        if b == a {
            continue;
        }
        let changed_keys = || [b, a].into_iter().flat_map(keys).collect::<Vec<String>>();
        if name == "workload_namespaces" {
            // Read by the rules on Namespace objects only.
            for ns in changed_keys() {
                affected.objects.insert(namespace_ref(&ns));
            }
        } else if NAMESPACED_PARTS.contains(&name.as_str()) {
            affected.namespaces.extend(changed_keys());
        } else {
            affected.all = true;
        }
    }
}

/// Adds the events between the findings `before` and `after`, told apart by fingerprint:
/// resolved, then opened, each in fingerprint order; `moved` hears of each finding that did.
fn drift<'a>(
    cluster: &str,
    before: impl IntoIterator<Item = &'a Finding>,
    after: impl IntoIterator<Item = &'a Finding>,
    time: &str,
    events: &mut Vec<DriftEvent>,
    mut moved: impl FnMut(&Finding),
) {
    fn by_fingerprint<'a>(
        findings: impl IntoIterator<Item = &'a Finding>,
    ) -> BTreeMap<Fingerprint, &'a Finding> {
        findings.into_iter().map(|f| (f.fingerprint, f)).collect()
    }
    let (before, after) = (by_fingerprint(before), by_fingerprint(after));
    for (kind, from, to) in [
        (EventKind::FindingResolved, &before, &after),
        (EventKind::FindingOpened, &after, &before),
    ] {
        for (fingerprint, f) in from {
            if !to.contains_key(fingerprint) {
                moved(f);
                events.push(finding_event(cluster, kind, f, time));
            }
        }
    }
}

fn finding_event(cluster: &str, event: EventKind, f: &Finding, time: &str) -> DriftEvent {
    DriftEvent {
        event,
        time: time.to_owned(),
        cluster: cluster.to_owned(),
        object: (*f.object).clone(),
        finding: Some(FindingFields::of(f)),
    }
}

/// The new findings of a chunk of objects judged, by object: every object judged has an entry,
/// empty when nothing fails on it, so that its old findings are replaced.
struct Judgement {
    findings: BTreeMap<ObjectRef, Vec<Finding>>,
    suppressed: HashMap<ObjectRef, Vec<Suppressed>>,
}

impl Judgement {
    fn of(
        findings: Vec<Finding>,
        suppressed: Vec<Suppressed>,
        judged: impl Iterator<Item = ObjectRef>,
    ) -> Judgement {
        let mut by_object: BTreeMap<ObjectRef, Vec<Finding>> =
            judged.map(|id| (id, Vec::new())).collect();
        for f in findings {
            by_object.entry((*f.object).clone()).or_default().push(f);
        }
        for list in by_object.values_mut() {
            crate::finding::sort(list);
        }
        let mut covered: HashMap<ObjectRef, Vec<Suppressed>> = HashMap::new();
        for s in suppressed {
            covered
                .entry((*s.finding.object).clone())
                .or_default()
                .push(s);
        }
        Judgement {
            findings: by_object,
            suppressed: covered,
        }
    }
}

fn is_node(id: &ObjectRef) -> bool {
    id.kind == "Node" && id.api_version == "v1"
}

/// The object a node's kubelet configuration becomes (`snapshot::kubelet_object`).
fn kubelet_ref(node: &str) -> ObjectRef {
    ObjectRef {
        api_version: crate::snapshot::KUBELET_CONFIG_API_VERSION.to_owned(),
        kind: crate::snapshot::KUBELET_CONFIG_KIND.to_owned(),
        namespace: None,
        name: node.to_owned(),
    }
}

/// Whether the benchmark reads this object beyond the rules' findings: kubelet and node
/// evidence, namespaces (Pod Security labels), ConfigMaps (kube-proxy, kubeadm), the policies of
/// admission engines, and workloads whose containers run a cluster component.
fn is_evidence(id: &ObjectRef, resource: Option<&Resource>) -> bool {
    let Some(resource) = resource else {
        return false;
    };
    let group = id.api_version.split_once('/').map_or("", |(g, _)| g);
    if matches!(
        (group, id.kind.as_str()),
        ("", "Node" | "Namespace" | "ConfigMap")
            | ("kyverno.io", _)
            | ("constraints.gatekeeper.sh", _)
    ) || id.kind == crate::snapshot::KUBELET_CONFIG_KIND
    {
        return true;
    }
    !crate::compliance::component_runs(
        std::slice::from_ref(resource),
        &crate::compliance::Context::default(),
    )
    .is_empty()
}

fn namespace_ref(name: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_owned(),
        kind: "Namespace".to_owned(),
        namespace: None,
        name: name.to_owned(),
    }
}

/// The identity of a deleted object, as `Resource::from_object` names it.
fn identity(object: &Value) -> Option<ObjectRef> {
    Resource::from_object(
        object.clone(),
        Origin::Cluster {
            cluster: String::new(),
        },
        None,
    )
    .map(|r| Arc::unwrap_or_clone(r.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> WatchState {
        let catalog = crate::policy::Catalog::builtin().expect("the built-in rules load");
        let evaluator = Evaluator::new(&catalog).expect("the built-in rules compile");
        let pods = WatchedStream {
            api_version: "v1".into(),
            kind: "Pod".into(),
            type_name: "pods".into(),
            namespace: None,
        };
        WatchState::new(
            evaluator,
            "lab".into(),
            None,
            ServerVersion::default(),
            vec![pods],
        )
    }

    fn pod(name: &str, privileged: bool) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "web"},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                "securityContext": {"privileged": privileged}}]}})
    }

    fn kinds(events: &[DriftEvent]) -> Vec<(EventKind, String)> {
        events
            .iter()
            .map(|e| {
                let rule = e.finding.as_ref().map(|f| f.rule.clone());
                (e.event, rule.unwrap_or_default())
            })
            .collect()
    }

    #[test]
    fn a_privileged_pod_opens_a_finding_and_its_deletion_resolves_it() {
        let mut s = state();
        let first = s.apply(
            vec![
                Change::Relisting { stream: 0 },
                Change::Applied {
                    stream: 0,
                    object: pod("quiet", false),
                },
                Change::Listed { stream: 0 },
            ],
            "t0",
        );
        assert!(s.ready());
        // The first evaluation opens what the cluster has, without object events.
        assert!(first
            .iter()
            .all(|e| e.event == EventKind::FindingOpened && e.object.name == "quiet"));
        let open_before = s.fingerprints().len();

        let added = s.apply(
            vec![Change::Applied {
                stream: 0,
                object: pod("loud", true),
            }],
            "t1",
        );
        let k = kinds(&added);
        assert_eq!(k[0], (EventKind::ObjectAdded, String::new()));
        assert!(
            k.contains(&(EventKind::FindingOpened, "PST-0003".into())),
            "{k:?}"
        );
        // Only the new object was judged: nothing about the quiet one.
        assert!(added.iter().all(|e| e.object.name == "loud"));

        // A re-list of the same objects opens and resolves nothing.
        let relisted = s.apply(
            vec![
                Change::Relisting { stream: 0 },
                Change::Applied {
                    stream: 0,
                    object: pod("quiet", false),
                },
                Change::Applied {
                    stream: 0,
                    object: pod("loud", true),
                },
                Change::Listed { stream: 0 },
            ],
            "t2",
        );
        assert_eq!(relisted, vec![]);
        assert_eq!(s.stats[0].restarts, 1);

        // Deleted by a re-list that no longer holds it.
        let gone = s.apply(
            vec![
                Change::Relisting { stream: 0 },
                Change::Applied {
                    stream: 0,
                    object: pod("quiet", false),
                },
                Change::Listed { stream: 0 },
            ],
            "t3",
        );
        let k = kinds(&gone);
        assert_eq!(k[0], (EventKind::ObjectRemoved, String::new()));
        assert!(k.contains(&(EventKind::FindingResolved, "PST-0003".into())));
        assert!(!k.iter().any(|(e, _)| *e == EventKind::FindingOpened));
        assert_eq!(s.fingerprints().len(), open_before);
    }

    #[test]
    fn events_are_json_lines_with_the_contract_names() {
        let mut s = state();
        s.apply(
            vec![
                Change::Relisting { stream: 0 },
                Change::Listed { stream: 0 },
            ],
            "t0",
        );
        let events = s.apply(
            vec![Change::Applied {
                stream: 0,
                object: pod("loud", true),
            }],
            "2025-01-01T00:00:00Z",
        );
        let opened = events
            .iter()
            .find(|e| e.event == EventKind::FindingOpened)
            .expect("a finding opened");
        let line = serde_json::to_value(opened).unwrap();
        for key in [
            "event",
            "time",
            "cluster",
            "object",
            "rule",
            "severity",
            "path",
            "fingerprint",
        ] {
            assert!(line.get(key).is_some(), "{key} missing: {line}");
        }
        assert_eq!(line["event"], "finding_opened");
        assert_eq!(line["cluster"], "lab");
    }

    #[test]
    fn an_exception_that_expires_stops_applying_when_the_date_moves_on() {
        let mut s = state();
        let day = |d: &str| d.parse::<jiff::civil::Date>().expect("a date");
        let mut excepted = pod("excepted", true);
        excepted["metadata"]["annotations"] = json!({
            "posture.io/ignore": "PST-0003",
            "posture.io/ignore-reason": "Runs the node's storage driver.",
            "posture.io/ignore-until": "2030-01-31"});
        // Before the first list there is nothing to judge again.
        s.new_day(day("2030-01-30"), "t0", &mut |_| {
            panic!("nothing is judged yet")
        });
        let first = s.apply(
            vec![
                Change::Relisting { stream: 0 },
                Change::Applied {
                    stream: 0,
                    object: excepted,
                },
                Change::Listed { stream: 0 },
            ],
            "t0",
        );
        let privileged = |events: &[DriftEvent], kind: EventKind| {
            events
                .iter()
                .filter(|e| e.event == kind)
                .filter(|e| e.finding.as_ref().is_some_and(|f| f.rule == "PST-0003"))
                .count()
        };
        // Judged on the first evaluation's day (today, in the tests' run), long before expiry.
        assert_eq!(privileged(&first, EventKind::FindingOpened), 0);

        let mut later = Vec::new();
        // The last day it applies: nothing moves.
        s.new_day(day("2030-01-31"), "t1", &mut |e| later.extend(e));
        assert_eq!(later, vec![]);
        // The day after, without any change to the pod, the finding opens; the same day asked
        // again does nothing more.
        s.new_day(day("2030-02-01"), "t2", &mut |e| later.extend(e));
        s.new_day(day("2030-02-01"), "t3", &mut |e| later.extend(e));
        assert_eq!(privileged(&later, EventKind::FindingOpened), 1, "{later:?}");
        assert_eq!(
            later.len(),
            1,
            "only the expired exception's finding: {later:?}"
        );
        assert!(
            s.benchmark_due(),
            "the benchmark's findings are judged again too"
        );
        // A later change of the pod judges it on the new day too: nothing reopens.
        let mut changed = pod("excepted", true);
        changed["metadata"]["annotations"] = json!({
            "posture.io/ignore": "PST-0003",
            "posture.io/ignore-reason": "Runs the node's storage driver.",
            "posture.io/ignore-until": "2030-01-31",
            "team": "storage"});
        let events = s.apply(
            vec![Change::Applied {
                stream: 0,
                object: changed,
            }],
            "t4",
        );
        assert_eq!(
            privileged(&events, EventKind::FindingOpened),
            0,
            "{events:?}"
        );
        assert_eq!(
            privileged(&events, EventKind::FindingResolved),
            0,
            "{events:?}"
        );
    }

    #[test]
    fn the_first_evaluation_hands_its_events_on_a_chunk_at_a_time() {
        let mut s = state();
        let mut changes = vec![Change::Relisting { stream: 0 }];
        for i in 0..CHUNK + 10 {
            changes.push(Change::Applied {
                stream: 0,
                object: pod(&format!("p-{i:05}"), i % 2 == 0),
            });
        }
        changes.push(Change::Listed { stream: 0 });
        let mut chunks = Vec::new();
        s.apply_each(changes, "t0", &mut |events| chunks.push(events));
        assert_eq!(chunks.len(), 2, "one call per chunk of objects");
        // Every object's findings open in the chunk that judged it, and each opens once.
        let names = |chunk: &[DriftEvent]| {
            chunk
                .iter()
                .map(|e| e.object.name.clone())
                .collect::<BTreeSet<String>>()
        };
        assert!(names(&chunks[0]).is_disjoint(&names(&chunks[1])));
        let opened: Vec<Option<Fingerprint>> = chunks
            .iter()
            .flatten()
            .map(|e| e.finding.as_ref().map(|f| f.fingerprint))
            .collect();
        assert_eq!(opened.len(), s.fingerprints().len());
        assert_eq!(
            names(&chunks[0]).len() + names(&chunks[1]).len(),
            CHUNK + 10
        );
    }

    #[test]
    fn benchmark_evidence_is_judged_the_same_from_thin_findings() {
        let mut s = state();
        s.set_judging(Judging {
            benchmark: BenchmarkChoice::Auto,
            ..Judging::default()
        });
        let mut changes = vec![Change::Relisting { stream: 0 }];
        for (i, privileged) in [true, false, true].into_iter().enumerate() {
            let mut p = pod(&format!("p-{i}"), privileged);
            p["spec"]["hostPID"] = json!(privileged);
            p["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] =
                json!(!privileged);
            changes.push(Change::Applied {
                stream: 0,
                object: p,
            });
        }
        changes.push(Change::Listed { stream: 0 });
        s.apply(changes, "t0");
        let snapshot = s.snapshot();
        let i = snapshot.inputs.as_ref().expect("a benchmark applies");
        let reads = benchmark_rules();
        let mut full: Vec<Finding> = i
            .findings
            .iter()
            .flat_map(|list| list.iter())
            .filter(|f| reads.contains(f.rule_id.as_str()))
            .cloned()
            .collect();
        assert!(full.len() > 3, "the checks have evidence to read");
        crate::finding::sort(&mut full);
        let shell = ScanReport {
            findings: full,
            rules: s.kubernetes_rules(),
            ..s.empty_report(String::new())
        };
        let runs = crate::compliance::component_runs(&i.targets, &i.context);
        let (name, selection) =
            crate::scan::choose(&i.judging.benchmark, &i.context, &runs).expect("chosen");
        let expected = crate::scan::apply(
            &name, selection, None, &i.targets, &runs, &shell, &i.context,
        )
        .expect("assessed")
        .compliance;
        let thin = snapshot.assess().bench.compliance.expect("assessed");
        assert_eq!(
            serde_json::to_value(&thin).unwrap(),
            serde_json::to_value(&expected).unwrap()
        );
    }

    #[test]
    fn a_status_only_update_is_no_change() {
        let mut s = state();
        s.apply(
            vec![
                Change::Relisting { stream: 0 },
                Change::Applied {
                    stream: 0,
                    object: pod("quiet", false),
                },
                Change::Listed { stream: 0 },
            ],
            "t0",
        );
        let mut updated = pod("quiet", false);
        crate::collect::cluster::watch::strip(&mut updated);
        assert_eq!(
            s.apply(
                vec![Change::Applied {
                    stream: 0,
                    object: updated
                }],
                "t1"
            ),
            vec![]
        );
    }
}
