//! A manifest scan whose memory does not grow with whole objects: the rules are evaluated in
//! chunks of objects with one prepared evaluation, and after its chunk each object is reduced
//! to what the later steps of the scan read of it ([`reduce`]).
//!
//! Files are read once, in parallel, as before. The objects of the files met before
//! [`Streaming::whole_bytes`] stay whole until their chunk is evaluated; the objects of later
//! files are reduced as soon as their file is decoded (the inventory, the owner references
//! and the problems of reading come from that first reading) and their file is read again,
//! chunk by chunk, to evaluate them. A small scan therefore parses each file once; a large one
//! parses the files beyond the budget twice and holds, besides the findings and the
//! inventory, whole objects for the budget and one chunk. When every file fits the budget,
//! the objects are evaluated at once and kept whole, as before streaming: they are bounded by
//! the budget already.
//!
//! Not streamed: scans with user rules (`--policy`), which are judged over all objects at once
//! (a user rule that is stopped loses all its findings), scans that make the review's fix list
//! (markdown and HTML: it edits files and checks every other object of an edited file is
//! unchanged), and snapshots, which arrive whole. Clusters are evaluated as they are listed
//! (`super::cluster`).

use super::request::Streaming;
use crate::collect::manifests::{Deferred, Streamed};
use crate::compliance;
use crate::engine::{inventory, Evaluation, Evaluator};
use crate::problem::{Code, Level, Problem};
use crate::resource::{InputType, Origin, Resource, SpanTree};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What evaluation left for the later steps of a scan.
pub(super) struct Evaluated {
    /// The objects read, owned ones included.
    pub objects: usize,
    /// The objects the rules judged (those whose controller is not in the input), whole or
    /// reduced.
    pub targets: Vec<Resource>,
    pub evaluation: Evaluation,
    /// Problems met reading the input.
    pub read_problems: Vec<Problem>,
}

/// Evaluates `streamed` chunk by chunk (see the module's doc).
pub(super) fn evaluate(
    evaluator: &Evaluator,
    streamed: Streamed,
    streaming: &Streaming,
    max_input_bytes: u64,
) -> Evaluated {
    let Streamed {
        collected,
        reread,
        deferred,
    } = streamed;
    if deferred.is_empty() {
        // Every file fitted the budget: the whole objects are bounded by it already, and
        // evaluating them at once, as before streaming, is the cheapest (measured at 10,000
        // objects, chunks and reducing cost a few percent more memory and lowered no peak).
        return super::evaluate_whole(evaluator, collected);
    }
    let objects = collected.resources.len();
    let owned = super::owned_by_present(&collected.resources.iter().collect::<Vec<_>>());
    // Made to their size: held to the end of the scan, 100,000 of them take some 35 MB.
    let judged = owned.iter().filter(|o| !**o).count();
    let mut targets = Vec::with_capacity(judged);
    let mut again = Vec::with_capacity(judged);
    for ((r, f), owned) in collected.resources.into_iter().zip(reread).zip(owned) {
        if !owned {
            targets.push(r);
            again.push(f);
        }
    }
    let reread = again;
    let prepared = evaluator.prepare(&targets.iter().collect::<Vec<_>>());
    // The inventory is built and the owners are known: what was read for them stays packed
    // from here on (RBAC, NetworkPolicies and ServiceAccounts are about a quarter of the
    // generated mix).
    targets
        .par_iter_mut()
        .zip(&reread)
        .filter(|(_, again)| again.is_some())
        .for_each(|(t, _)| pack_read(t));
    let mut evaluation = Evaluation::default();
    let mut changed: Vec<usize> = Vec::new();
    for range in chunks(&reread, streaming.chunk_objects.max(1)) {
        let range_end = range.end;
        // Each file of the chunk read again once, in parallel.
        let mut files: Vec<usize> = reread[range.clone()].iter().flatten().copied().collect();
        files.dedup();
        let again: Vec<HashMap<(usize, Option<usize>), Resource>> = files
            .par_iter()
            .map(|&f| by_place(deferred[f].read_again(max_input_bytes)))
            .collect();
        let mut again: HashMap<usize, HashMap<(usize, Option<usize>), Resource>> =
            files.into_iter().zip(again).collect();
        let whole: Vec<Option<Resource>> = range
            .clone()
            .map(|i| {
                let file = reread[i]?;
                let first = &targets[i];
                let found = again
                    .get_mut(&file)
                    .and_then(|objects| objects.remove(&place(&first.origin)?))
                    .filter(|r| r.id == first.id && r.origin == first.origin)
                    // Its findings share the identity and origin the reduced object keeps to
                    // the end, instead of holding their own copy (some 400 bytes an object).
                    .map(|r| Resource {
                        id: Arc::clone(&first.id),
                        origin: Arc::clone(&first.origin),
                        ..r
                    });
                if found.is_none() && !changed.contains(&file) {
                    changed.push(file);
                }
                found
            })
            .collect();
        drop(again);
        let chunk: Vec<&Resource> = range
            .clone()
            .zip(&whole)
            .filter_map(|(i, w)| match (reread[i], w) {
                (None, _) => Some(&targets[i]),
                (Some(_), w) => w.as_ref(),
            })
            .collect();
        let out = prepared.evaluate(&chunk);
        drop(chunk);
        // Freed on this thread, though the other core waits: freed on every core, they took
        // some 0.2 s less of a 100,000-object scan but raised its peak by 8 MB (mimalloc
        // reuses memory freed by another thread later).
        drop(whole);
        // Reduced now, after their chunk; those read again were reduced when first read.
        targets[range.clone()]
            .par_iter_mut()
            .zip(&reread[range])
            .filter(|(t, again)| again.is_none() && reducible(t))
            .for_each(|(t, _)| {
                reduce(t);
                pack_read(t);
            });
        reserve_findings(
            &mut evaluation.findings,
            out.findings.len(),
            range_end,
            targets.len(),
        );
        evaluation.absorb(out);
    }
    evaluation.problems.extend(prepared.problems());
    // The prepared engine (the inventory as data, a VM per thread: some 400 MB at 1,000,000
    // objects) is the largest thing left besides the findings and the objects: gone before
    // the steps after evaluation.
    drop(prepared);
    evaluation
        .problems
        .extend(changed.into_iter().map(|f| changed_problem(&deferred[f])));
    crate::finding::sort(&mut evaluation.findings);
    evaluation.problems.sort();
    Evaluated {
        objects,
        targets,
        evaluation,
        read_problems: collected.problems,
    }
}

/// Makes room for `more` findings in `findings`, which holds those of the first `done` of
/// `total` objects, for as many as the rest are likely to bring at that rate. Grown by
/// doubling, the list held up to twice its findings (120 bytes each, 5.2 million at 1,000,000
/// objects), and while it grew its largest copy and the next together; gathered from the
/// chunks' lists at the end, the freed chunks stayed in the process for a while (some 400 MB
/// more at 1,000,000 objects). On an even mix the first estimate holds to the end; on an
/// uneven one (every workload in the last files) the list still grows by half at least.
fn reserve_findings<T>(findings: &mut Vec<T>, more: usize, done: usize, total: usize) {
    let needed = findings.len() + more;
    if needed <= findings.capacity() {
        return;
    }
    let expected = needed.saturating_mul(total.max(done)) / done.max(1);
    let room = (expected + expected / 16).max(needed + needed / 2);
    findings.reserve_exact(room - findings.len());
}

/// Consecutive ranges of about `size` objects; a range ends only where the file to read again
/// changes, so that each file is read again once.
fn chunks(reread: &[Option<usize>], size: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=reread.len() {
        let full = i - start >= size;
        let splits = i == reread.len() || reread[i].is_none() || reread[i] != reread[i - 1];
        if i == reread.len() || (full && splits) {
            out.push(start..i);
            start = i;
        }
    }
    out
}

/// Where in its file an object is: document, and item of a `kind: List`.
fn place(origin: &Origin) -> Option<(usize, Option<usize>)> {
    match origin {
        Origin::File { document, item, .. } => Some((*document, *item)),
        Origin::Rendered { .. } | Origin::Cluster { .. } => None,
    }
}

fn by_place(resources: Vec<Resource>) -> HashMap<(usize, Option<usize>), Resource> {
    resources
        .into_iter()
        .filter_map(|r| Some((place(&r.origin)?, r)))
        .collect()
}

fn changed_problem(file: &Deferred) -> Problem {
    Problem::new(
        Level::Error,
        Code::ReadError,
        "the file changed while it was being scanned: objects that are no longer where the \
         first reading found them were not evaluated",
    )
    .in_file(file.path(), None)
}

/// For [`crate::collect::manifests::collect_streaming`]: reduces `r` if it may be, and says
/// whether it did (its file must then be read again to evaluate it).
pub(super) fn reduce_if_reducible(r: &mut Resource) -> bool {
    let reducible = reducible(r);
    if reducible {
        reduce(r);
    }
    reducible
}

/// Whether the later steps read nothing of `r` but what [`reduce`] keeps. Kept whole:
/// - objects of other input types and rendered objects (Compose's and ECS's inline exceptions
///   and a rendered object's source map read any field and its position);
/// - objects with a `posture.io/` annotation (an inline exception names the annotation's line);
/// - objects that show a component's settings to the benchmark (control-plane and kube-proxy
///   containers, kubelet and kube-proxy configurations: its findings point into them);
/// - Kyverno and Gatekeeper policies, whose specs say what admission rejects.
pub(super) fn reducible(r: &Resource) -> bool {
    r.input == InputType::Kubernetes
        && matches!(*r.origin, Origin::File { .. } | Origin::Cluster { .. })
        && r.source_map.is_none()
        && !matches!(r.id.group(), "kyverno.io" | "constraints.gatekeeper.sh")
        && !r.object["metadata"]["annotations"]
            .as_object()
            .is_some_and(|a| a.keys().any(|k| k.starts_with("posture.io/")))
        && compliance::component_runs(std::slice::from_ref(r), &compliance::Context::default())
            .is_empty()
}

/// A field kept by [`reduce`]: all of it, some of its fields (a value that is not a mapping is
/// kept as it is, so that reading it gives what it gave), or each item of a list so.
enum Keep {
    All,
    Fields(&'static [(&'static str, Keep)]),
    Each(&'static Keep),
    /// Every field, but those named only as said.
    AllBut(&'static [(&'static str, Keep)]),
}

use Keep::{All, AllBut, Each, Fields};

/// Of `metadata`: the labels (exception selectors, and a Pod's are its pods' labels) and the
/// owner references (which objects the rules judge). The identity is the resource's own
/// (`Resource::id`); annotations are read only for inline exceptions (an object with one is
/// kept whole) and of Secrets.
const METADATA: (&str, Keep) = (
    "metadata",
    Fields(&[("labels", All), ("ownerReferences", All)]),
);

/// What attack paths read of a container: host ports (an entry from the node's network),
/// and the environment values, arguments and command that name the Services it calls. Every
/// container and port is kept, so that their indices stay, but of a port only `hostPort`.
const CONTAINER: Keep = Fields(&[
    ("ports", Each(&Fields(&[("hostPort", All)]))),
    ("env", Each(&Fields(&[("name", All), ("value", All)]))),
    ("args", All),
    ("command", All),
]);

/// What attack paths read of a pod spec: the ServiceAccount it runs as and whether its token
/// is mounted, the node's network, and the containers.
const POD_SPEC: Keep = Fields(&[
    ("serviceAccountName", All),
    ("serviceAccount", All),
    ("automountServiceAccountToken", All),
    ("hostNetwork", All),
    ("containers", Each(&CONTAINER)),
    ("initContainers", Each(&CONTAINER)),
]);

/// A pod template: the labels Services and NetworkPolicies select, and the pod spec.
const TEMPLATE: Keep = Fields(&[("metadata", Fields(&[("labels", All)])), ("spec", POD_SPEC)]);

const POD: Keep = Fields(&[METADATA, ("spec", POD_SPEC)]);
const CONTROLLER: Keep = Fields(&[METADATA, ("spec", Fields(&[("template", TEMPLATE)]))]);
const CRON_JOB: Keep = Fields(&[
    METADATA,
    (
        "spec",
        Fields(&[(
            "jobTemplate",
            Fields(&[("spec", Fields(&[("template", TEMPLATE)]))]),
        )]),
    ),
]);
/// Which pods it selects, and how it is exposed.
const SERVICE: Keep = Fields(&[
    METADATA,
    (
        "spec",
        Fields(&[("selector", All), ("type", All), ("externalIPs", All)]),
    ),
]);
/// [`METADATA`] and the annotations.
const ANNOTATED: (&str, Keep) = (
    "metadata",
    Fields(&[
        ("labels", All),
        ("ownerReferences", All),
        ("annotations", All),
    ]),
);
/// A ServiceAccount token Secret is known by its type and an annotation that names the
/// account.
const SECRET: Keep = Fields(&[ANNOTATED, ("type", All)]);
/// Read by the benchmark only when it holds kube-proxy's configuration, which is kept whole.
const CONFIG_MAP: Keep = Fields(&[METADATA]);
/// An Ingress's backend Service, in `networking.k8s.io/v1`'s shape or the older one.
const BACKEND: Keep = Fields(&[("service", Fields(&[("name", All)])), ("serviceName", All)]);
/// The Services an Ingress routes to, and for which hosts (attack paths' entries from
/// outside); every rule and path is kept, so that their indices stay.
const INGRESS: Keep = Fields(&[
    METADATA,
    (
        "spec",
        Fields(&[
            ("defaultBackend", BACKEND),
            ("backend", BACKEND),
            (
                "rules",
                Each(&Fields(&[
                    ("host", All),
                    (
                        "http",
                        Fields(&[("paths", Each(&Fields(&[("backend", BACKEND)])))]),
                    ),
                ])),
            ),
        ]),
    ),
]);

/// Any other kind (RBAC, ServiceAccounts, NetworkPolicies of every flavour and the rest, which
/// the inventory and the attack paths read): all of it but its metadata, of which the labels,
/// owner references and annotations (the inventory tells the API server's own bindings by
/// one). Nothing reads another kind's name or namespace from its object: the identity is the
/// resource's own.
const OTHER: Keep = AllBut(&[ANNOTATED]);

/// What later steps read of an object of its kind; `None`: all of it (Namespaces, whose
/// labels and annotations say how admission judges their pods, and which are few).
fn kept(r: &Resource) -> Option<&'static Keep> {
    let core = r.id.group().is_empty();
    // Workloads and Services by kind alone, as attack paths find them.
    Some(match r.id.kind.as_str() {
        "Pod" => &POD,
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => &CONTROLLER,
        "CronJob" => &CRON_JOB,
        "Service" => &SERVICE,
        "Secret" if core => &SECRET,
        "ConfigMap" if core => &CONFIG_MAP,
        "Ingress" if matches!(r.id.group(), "networking.k8s.io" | "extensions") => &INGRESS,
        "Namespace" if core => return None,
        _ => &OTHER,
    })
}

/// Reduces `r` (one [`reducible`]) to what the later steps of a scan read: its identity,
/// input type and origin, the position where it starts (attack path steps point at it), and
/// of its object what [`kept`] says. Those steps are the inventory's (built from the objects
/// of files beyond the budget once they are reduced), the benchmark's (object identities,
/// which the reduced object keeps), the exceptions' (labels, annotations), the attack paths'
/// and the list of evaluated objects (identity and origin).
///
/// What is kept is then packed as text ([`Resource::pack`]) to the end of the scan, unless
/// something reads the object before evaluation: the inventory (the types it reads facts of)
/// and the check of which objects a controller in the input owns (objects with a controller
/// among their owner references); those are packed once both are done ([`pack_read`]).
/// `super::evaluate_for` says how the steps after evaluation read a packed object.
pub(super) fn reduce(r: &mut Resource) {
    r.spans = r.spans.as_ref().map(|s| SpanTree::leaf(s.position()));
    if let Some(keep) = kept(r) {
        r.object = project(std::mem::take(&mut r.object), keep);
    }
    let read_before = inventory::reads(r.id.group(), &r.id.kind) == inventory::Reads::Facts
        || super::controllers(r).next().is_some();
    if !read_before {
        r.pack();
    }
}

/// Packs a reduced object that [`reduce`] left unpacked because the inventory or the check of
/// owners reads it before evaluation, once both are done: after evaluation the attack paths
/// read RBAC objects, NetworkPolicies and ServiceAccounts a moment at a time
/// (`Resource::read_object`). Namespaces stay whole: they are few, and the paths borrow their
/// labels. (A cluster scan keeps the inventory's objects whole: it evaluates them last.)
fn pack_read(r: &mut Resource) {
    let namespace = r.id.group().is_empty() && r.id.kind == "Namespace";
    if r.packed.is_none() && !namespace {
        r.pack();
    }
}

/// What `keep` keeps of `value`, in maps, lists and strings made to their size: parsing grows
/// them by doubling, and a reduced object is held to the end of the scan. A value that is not
/// what `keep` expects (a list where it names fields) is kept whole, so that reading it gives
/// what it gave.
fn project(value: Value, keep: &Keep) -> Value {
    match value {
        Value::Object(map) => {
            let named = |fields: &'static [(&str, Keep)], k: &str| {
                fields
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, keep)| keep)
            };
            let field = |k: &str| match keep {
                All | Each(_) => Some(&All),
                Fields(fields) => named(fields, k),
                AllBut(fields) => named(fields, k).or(Some(&All)),
            };
            let mut out = Map::with_capacity(map.keys().filter(|k| field(k).is_some()).count());
            for (k, v) in map {
                if let Some(keep) = field(&k) {
                    out.insert(fitted_string(k), project(v, keep));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let each = match keep {
                Each(each) => *each,
                All | Fields(_) | AllBut(_) => &All,
            };
            // Collected in place, into the list's own allocation.
            let mut items: Vec<Value> = items.into_iter().map(|v| project(v, each)).collect();
            items.shrink_to_fit();
            Value::Array(items)
        }
        Value::String(s) => Value::String(fitted_string(s)),
        v => v,
    }
}

fn fitted_string(mut s: String) -> String {
    s.shrink_to_fit();
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_given_room_for_the_rest_at_the_rate_so_far() {
        // An even mix: 5 findings an object, 1,000 objects in chunks of 100. Room for all of
        // them is made once, at the first chunk, with a sixteenth to spare.
        let mut findings: Vec<u8> = Vec::new();
        let mut grown = 0;
        for chunk in 1..=10 {
            let before = findings.capacity();
            reserve_findings(&mut findings, 500, chunk * 100, 1_000);
            grown += usize::from(findings.capacity() != before);
            findings.extend(std::iter::repeat_n(0, 500));
        }
        assert_eq!(grown, 1);
        assert!((5_000..=5_000 + 5_000 / 16).contains(&findings.capacity()));

        // Uneven: no findings until the last chunk, which brings them all. The list is made
        // to what it must hold, not a hundred times it.
        let mut findings: Vec<u8> = vec![0; 10];
        reserve_findings(&mut findings, 1_000, 1_000, 1_000);
        assert!((1_010..=1_600).contains(&findings.capacity()));

        // Estimates that fall short still grow it by half at least: no list grows one chunk
        // at a time.
        let mut findings: Vec<u8> = vec![0; 100];
        findings.shrink_to_fit();
        reserve_findings(&mut findings, 1, 999, 1_000);
        assert!(findings.capacity() >= 151);
    }

    fn resource(yaml_as_json: &str) -> Resource {
        let origin = Origin::Cluster {
            cluster: "c".to_owned(),
        };
        Resource::from_object(serde_json::from_str(yaml_as_json).unwrap(), origin, None).unwrap()
    }

    /// Every list under `value` holds no room beyond its items.
    fn spare_room(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Array(items) => {
                if items.capacity() != items.len() {
                    out.push(format!("{at}: {} of {}", items.len(), items.capacity()));
                }
                for (i, v) in items.iter().enumerate() {
                    spare_room(v, &format!("{at}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    spare_room(v, &format!("{at}/{k}"), out);
                }
            }
            _ => {}
        }
    }

    /// A parser grows lists by doubling (serde_json's: 4 places for one item); what a reduced
    /// object keeps is held to the end of a scan, so it is packed unless something reads it
    /// before evaluation ends, and made to its size if it is not; either way it reads as the
    /// object did.
    #[test]
    fn a_reduced_object_is_made_to_its_size_and_keeps_what_it_kept() {
        const DEPLOYMENT: &str = r#"{"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "d"}},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "c", "image": "i", "args": ["--a"],
                 "env": [{"name": "E", "value": "v"}], "ports": [{"hostPort": 80}]}]}}}}"#;
        const KEPT: &[&str] = &[
            "/metadata/labels",
            "/spec/template/spec/containers/0/args",
            "/spec/template/spec/containers/0/env",
            "/spec/template/spec/containers/0/ports/0/hostPort",
        ];
        let owned_by = |controller: bool| {
            DEPLOYMENT.replace(
                r#""labels": {"app": "d"}"#,
                &format!(
                    r#""labels": {{"app": "d"}},
                       "ownerReferences": [{{"kind": "X", "name": "x", "controller": {controller}}}]"#
                ),
            )
        };
        let (controlled, referenced) = (owned_by(true), owned_by(false));
        // (object, what is read of it, whether it waits packed)
        let cases: [(&str, &[&str], bool); 4] = [
            // Kept all but its metadata; the inventory reads it before evaluation.
            (
                r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": {"name": "r", "namespace": "n", "labels": {"a": "b"}},
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}"#,
                &["/rules", "/metadata/labels"],
                false,
            ),
            // Kept field by field.
            (DEPLOYMENT, KEPT, true),
            // Which controller owns it is read before evaluation.
            (&controlled, &["/metadata/ownerReferences"], false),
            // An owner that is not its controller is not.
            (&referenced, &["/metadata/ownerReferences"], true),
        ];
        for (text, read, packs) in cases {
            let mut reduced = resource(text);
            let mut before = Vec::new();
            spare_room(&reduced.object, "", &mut before);
            assert!(!before.is_empty(), "the parsed object has room to spare");
            // A clone is made to its size: the object itself is reduced.
            let whole = reduced.object.clone();
            reduce(&mut reduced);
            assert_eq!(reduced.packed.is_some(), packs, "{text}");
            assert_eq!(reduced.object.is_null(), packs, "{text}");
            let mut after = Vec::new();
            spare_room(&reduced.object, "", &mut after);
            assert!(after.is_empty(), "room to spare after reducing: {after:?}");
            let object = reduced.read_object();
            for pointer in read {
                assert!(whole.pointer(pointer).is_some(), "{pointer}");
                assert_eq!(object.pointer(pointer), whole.pointer(pointer));
            }
            assert_ne!(*object, whole, "something was left out");
        }
    }

    /// Once the inventory is built, what `reduce` left unpacked for it is packed, but a
    /// Namespace, whose labels the attack paths borrow; it reads as it did.
    #[test]
    fn the_inventorys_objects_are_packed_once_it_is_built_but_namespaces() {
        let role = r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "r", "namespace": "n"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}"#;
        let namespace = r#"{"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "n", "labels": {"team": "a"}}}"#;
        for (text, packs) in [(role, true), (namespace, false)] {
            let mut r = resource(text);
            reduce(&mut r);
            assert!(
                r.packed.is_none(),
                "the inventory reads it before evaluation"
            );
            let before = r.object.clone();
            pack_read(&mut r);
            assert_eq!(r.packed.is_some(), packs, "{text}");
            assert_eq!(*r.read_object(), before);
            // Packing again changes nothing.
            pack_read(&mut r);
            assert_eq!(*r.read_object(), before);
        }
    }
}
