//! Attack paths: from the scanned objects and the findings of a scan, the routes an attacker
//! could take from an entry point to a crown jewel, each scored (exposure × impact) and
//! explained step by step (docs/attack-paths.md).
//!
//! The graph: entry points (Ingress rules, LoadBalancer/NodePort/externalIPs Services,
//! hostNetwork/hostPort pods, RBAC bindings of anonymous or all authenticated users,
//! long-lived ServiceAccount token Secrets) → Services → the workloads whose pods they select
//! (one hop further to a Service a reached workload names in its environment or arguments) →
//! the weaknesses the findings name on those workloads → their ServiceAccount when its token
//! is mounted → what RBAC lets that account do (reading Secrets goes on through the long-lived
//! tokens it can read to what their accounts may do) → crown jewels (cluster-admin, every
//! Secret, the nodes). NetworkPolicies, Cilium's and Calico's policies cut edges to workloads
//! they isolate (`network.rs`).
//!
//! Pure: no I/O, no printing; reporters render [`AttackPath`]s.

mod best;
mod labels;
mod network;
mod rbac;

use crate::finding::Finding;
use crate::resource::{FieldPath, ObjectRef, Origin, Position, Resource, Segment, Written};
use crate::shared_text::SharedText;
use best::{Best, FoldOrdered};
use labels::Labels;
use network::{Policies, Source};
use rayon::prelude::*;
use rbac::{Power, Rbac, Subject};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

/// What an attacker gains at the end of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Jewel {
    /// Full control of the cluster.
    ClusterAdmin,
    /// The nodes, and with them every pod and credential on them.
    Nodes,
    /// Every Secret of the cluster.
    AllSecrets,
    /// The Secrets (or everything) of one namespace.
    NamespaceSecrets,
    /// Running code in other pods, or creating them, within a namespace.
    WorkloadControl,
    /// Credentials a workload holds in its environment.
    Credentials,
}

impl Jewel {
    /// How much is lost, 1 to 5.
    pub fn impact(self) -> u8 {
        match self {
            Jewel::ClusterAdmin | Jewel::Nodes => 5,
            Jewel::AllSecrets => 4,
            Jewel::NamespaceSecrets | Jewel::WorkloadControl | Jewel::Credentials => 3,
        }
    }

    /// In words, for titles and reasons.
    pub fn describe(self) -> &'static str {
        match self {
            Jewel::ClusterAdmin => "cluster-admin",
            Jewel::Nodes => "the nodes",
            Jewel::AllSecrets => "every Secret in the cluster",
            Jewel::NamespaceSecrets => "the Secrets of a namespace",
            Jewel::WorkloadControl => "code execution in other pods",
            Jewel::Credentials => "credentials",
        }
    }
}

/// How a step is reached from the one before it (the first step's edge says how it is entered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    /// The entry point, reachable from outside the cluster.
    Exposes,
    /// A binding grants anonymous or every authenticated user its role.
    GrantsEveryone,
    /// A binding grants named users or groups its role: entered with one of their
    /// credentials.
    GrantsSubject,
    /// A token that never expires authenticates as its ServiceAccount.
    LeaksToken,
    /// A foothold: code running in the workload (a compromised image or dependency).
    Foothold,
    /// An Ingress or Service sends traffic to a Service.
    RoutesTo,
    /// A Service's selector picks the workload's pods.
    Selects,
    /// The workload names a Service it talks to.
    Calls,
    /// The workload holds credentials in its environment.
    HoldsCredentials,
    /// The workload can break out to its node.
    EscapesToNode,
    /// The workload's pods run with the ServiceAccount's token mounted.
    RunsAs,
    /// A binding grants the identity its power.
    GrantedBy,
}

/// Why a step holds: a finding, or a field of the object. Evidence of a finding shares the
/// finding's rule id and title rather than copying them: a large input's candidate paths hold
/// hundreds of thousands of pieces of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<SharedText>,
    /// The finding's fingerprint, to find it among the report's findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<crate::fingerprint::Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub note: SharedText,
}

impl Evidence {
    fn finding(f: &Finding) -> Evidence {
        Evidence {
            rule_id: Some(f.rule_id.clone()),
            fingerprint: Some(f.fingerprint),
            field: (!f.path.is_empty()).then(|| f.path.to_string()),
            note: f.rule_title.clone(),
        }
    }

    fn field(field: &str, note: String) -> Evidence {
        Evidence {
            rule_id: None,
            fingerprint: None,
            field: Some(field.to_owned()),
            note: note.into(),
        }
    }
}

/// One step of a path: an object, how it is reached, why, and the sentence that says so.
#[derive(Debug, Clone)]
pub struct Step {
    pub object: ObjectRef,
    pub origin: Origin,
    /// Where the step is written: the object, or the field a finding names.
    pub position: Option<Position>,
    /// For an object a tool rendered: where that place is written in the repository.
    pub written: Option<Written>,
    pub edge: Edge,
    pub evidence: Vec<Evidence>,
    pub explanation: String,
}

/// Exposure × impact, with the reasons for each factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    /// 1 (needs a foothold inside) to 3 (reachable from the internet).
    pub exposure: u8,
    /// 1 to 5 ([`Jewel::impact`]).
    pub impact: u8,
    /// exposure × impact, 1 to 15.
    pub value: u8,
    pub reasons: Vec<String>,
}

/// One route from an entry point to a crown jewel.
#[derive(Debug, Clone)]
pub struct AttackPath {
    /// Stable across runs of the same input: a hash of the steps' objects and edges.
    pub id: String,
    pub title: String,
    pub jewel: Jewel,
    /// The jewel in words, naming its namespace or holder where it has one.
    pub target: String,
    pub score: Score,
    pub steps: Vec<Step>,
}

impl AttackPath {
    /// The object of the step at which the path enters.
    pub fn entry(&self) -> &ObjectRef {
        &self.steps[0].object
    }
}

/// The key of an attack path's id among SARIF `partialFingerprints`, which `--baseline` and
/// `posture diff` skip.
pub const PATH_FINGERPRINT_KEY: &str = "postureAttackPath/v1";

/// Most paths kept, best first: beyond them a reviewer reads the findings.
pub const MAX_PATHS: usize = 50;

/// Namespaces of the platform itself: their system pods (static control-plane pods, CNI and
/// CSI agents) are privileged by design, so they are not footholds or host-network entries of
/// a path; they stay on paths that start from outside the cluster.
const PLATFORM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Rules whose finding on a workload lets its code reach the node.
const ESCAPE_RULES: &[&str] = &[
    "PST-0001", // hostProcess
    "PST-0002", // hostPID
    "PST-0003", // privileged
    "PST-0006", // capabilities beyond the baseline (SYS_ADMIN, ...)
    "PST-0007", // hostPath volumes
];

/// Rules whose finding on a workload means it holds credentials in its environment.
const CREDENTIAL_RULES: &[&str] = &["PST-0300", "PST-0310"];

/// Rules that make a foothold in the workload easier to widen: said in the explanation.
const AMPLIFIER_RULES: &[&str] = &[
    "PST-0021", "PST-0022", "PST-0023", "PST-0203", "PST-0043", TOKEN_RULE,
];

const TOKEN_RULE: &str = "PST-0106";

/// The least impact of a path that starts from a foothold (docs/attack-paths.md): the nodes,
/// every Secret or cluster-admin. Every workload could be a foothold, so paths to less would
/// bury the rest.
const FOOTHOLD_IMPACT: u8 = 4;

/// Finds the attack paths through `resources` given the `findings` that count. Pass the
/// objects the rules were evaluated on: Pods and ReplicaSets a controller owns carry its
/// template, and the controller stands for them here as it does in the findings.
pub fn find(resources: &[Resource], findings: &[Finding]) -> Vec<AttackPath> {
    let (by_name, services) = by_name(resources);
    let pods = pod_facts(resources, &services);
    let graph = Graph::new(resources, &pods, findings, by_name, services);
    let mut paths = Best::default();
    graph.network_paths(&mut paths);
    graph.rbac_paths(&mut paths);
    graph.token_secret_paths(&mut paths);
    graph.subject_token_paths(&mut paths);
    graph.foothold_paths(&mut paths);
    paths.finish()
}

/// A path's id: the first 48 bits of a digest of its steps and jewel, shown as `AP-` and 12
/// hexadecimal digits. Ordered as the text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct PathId(u64);

impl PathId {
    const BITS: u32 = 48;

    fn of(steps: &[Step], jewel: Jewel) -> PathId {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for s in steps {
            h.update(s.object.address());
            h.update(format!("{:?}", s.edge));
            h.update([0]);
        }
        h.update(format!("{jewel:?}"));
        let digest = h.finalize();
        PathId(digest[..6].iter().fold(0, |id, b| id << 8 | u64::from(*b)))
    }
}

impl std::fmt::Display for PathId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AP-{:012x}", self.0)
    }
}

/// A workload: an object with a pod template (or a Pod), and what the paths read of its pods.
struct Workload<'a> {
    r: &'a Resource,
    pod: &'a PodFacts<'a>,
}

/// What the paths read of a workload's pods, drawn from its object once: a large scan keeps
/// its reduced workloads packed (`Resource::pack`), and each is unpacked only for as long as
/// this takes rather than all of them for as long as the paths are searched. Of an object
/// that is not packed, it borrows the texts and the account; the labels are always its own,
/// compact ([`Labels`]).
struct PodFacts<'a> {
    /// The pod template's labels (a Pod's own).
    labels: Labels,
    /// `serviceAccountName` (or, without it, the older `serviceAccount`) unless empty.
    service_account: Option<Cow<'a, str>>,
    automount_token: Option<bool>,
    host_network: bool,
    /// The first container port with a `hostPort`.
    host_port: Option<u64>,
    /// Texts that may name a Service the pods call, with where each is written:
    /// `env NAME` for an environment value, `container N args` or `command` for an argument.
    /// Only those that name a Service of the input ([`may_name_service`]): most name none,
    /// and a million objects' workloads held some 100 MB of them.
    texts: Vec<(String, Cow<'a, str>)>,
}

/// Whether `r` is a workload, whose [`PodFacts`] the paths draw from it.
fn is_workload(r: &Resource) -> bool {
    r.input == crate::resource::InputType::Kubernetes && template_path(&r.id.kind).is_some()
}

/// Where a workload of `kind` keeps its pod template (`[]`: a Pod is its own): the path to
/// its pod spec (`resource::pod_spec_path`) but the last step. A PodTemplate is not a
/// workload: nothing runs it.
fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    if kind == "PodTemplate" {
        return None;
    }
    let (_spec, template) = crate::resource::pod_spec_path(kind)?.split_last()?;
    Some(template)
}

impl<'a> PodFacts<'a> {
    fn of(r: &'a Resource, services: &ServicesByName<'_>) -> Option<PodFacts<'a>> {
        let path = template_path(&r.id.kind)?;
        match r.read_object() {
            Cow::Borrowed(object) => PodFacts::draw(object, path, services),
            Cow::Owned(object) => PodFacts::draw(&object, path, services).map(PodFacts::into_owned),
        }
    }

    fn draw(
        object: &'a Value,
        template_path: &[&str],
        services: &ServicesByName<'_>,
    ) -> Option<PodFacts<'a>> {
        let template = template_path.iter().fold(object, |v, k| &v[*k]);
        let pod = template.get("spec")?;
        let containers = || {
            ["containers", "initContainers"]
                .into_iter()
                .flat_map(|k| pod[k].as_array().into_iter().flatten())
        };
        let mut texts = Vec::new();
        for (ci, c) in containers().enumerate() {
            for e in c["env"].as_array().into_iter().flatten() {
                if let (Some(name), Some(v)) = (e["name"].as_str(), e["value"].as_str()) {
                    if may_name_service(v, services) {
                        texts.push((format!("env {name}"), Cow::Borrowed(v)));
                    }
                }
            }
            for key in ["args", "command"] {
                for a in c[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|a| may_name_service(a, services))
                {
                    texts.push((format!("container {ci} {key}"), Cow::Borrowed(a)));
                }
            }
        }
        Some(PodFacts {
            labels: template["metadata"]["labels"]
                .as_object()
                .map(Labels::of)
                .unwrap_or_default(),
            service_account: pod["serviceAccountName"]
                .as_str()
                .or_else(|| pod["serviceAccount"].as_str())
                .filter(|s| !s.is_empty())
                .map(Cow::Borrowed),
            automount_token: pod["automountServiceAccountToken"].as_bool(),
            host_network: pod["hostNetwork"] == true,
            host_port: containers()
                .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                .find_map(|p| p["hostPort"].as_u64().filter(|n| *n > 0)),
            texts,
        })
    }

    fn into_owned<'b>(self) -> PodFacts<'b> {
        PodFacts {
            labels: self.labels,
            service_account: self.service_account.map(|s| Cow::Owned(s.into_owned())),
            automount_token: self.automount_token,
            host_network: self.host_network,
            host_port: self.host_port,
            texts: self
                .texts
                .into_iter()
                .map(|(at, text)| (at, Cow::Owned(text.into_owned())))
                .collect(),
        }
    }
}

/// The facts of every workload among `resources` (in their order, with their indices), on
/// every core.
fn pod_facts<'a>(
    resources: &'a [Resource],
    services: &ServicesByName<'_>,
) -> Vec<(usize, PodFacts<'a>)> {
    resources
        .par_iter()
        .enumerate()
        .filter(|(_, r)| is_workload(r))
        .filter_map(|(i, r)| Some((i, PodFacts::of(r, services)?)))
        .collect()
}

/// The hosts written in `text`, as [`Graph::calls`] and [`names_service`] read them.
fn hosts(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
}

/// Whether `text` may name one of `services`: whether a host in it starts with a Service's
/// name followed by a dot or the end. Any text that [`Graph::calls`] finds a Service in, or
/// that [`names_service`] matches, does.
fn may_name_service(text: &str, services: &ServicesByName<'_>) -> bool {
    // A host's first label (what `calls` looks up) is one of these prefixes too: the part
    // before its first dot, or the whole host once trailing dots are trimmed.
    hosts(text).any(|host| {
        let host = host.trim_end_matches('.');
        host.match_indices('.')
            .map(|(i, _)| &host[..i])
            .chain(std::iter::once(host))
            .any(|prefix| services.contains_key(prefix))
    })
}

impl<'a> Workload<'a> {
    /// Its pods' labels.
    fn labels(&self) -> &'a Labels {
        &self.pod.labels
    }

    fn namespace(&self) -> Option<&'a str> {
        self.r.id.namespace.as_deref()
    }

    fn service_account(&self) -> &'a str {
        self.pod.service_account.as_deref().unwrap_or("default")
    }

    fn host_entry(&self) -> Option<(String, &'static str)> {
        if self.pod.host_network {
            return Some((
                "its pods share the node's network (hostNetwork), so whatever they listen on is \
                 reachable at the node's addresses"
                    .to_owned(),
                "spec.hostNetwork",
            ));
        }
        self.pod.host_port.map(|port| {
            (
                format!("a container listens on the node's port {port} (hostPort)"),
                "ports[].hostPort",
            )
        })
    }
}

/// The workloads a Service selects ([`Graph::selected`]), and its selector as text.
struct Selected<'g, 'a> {
    workloads: Vec<&'g Workload<'a>>,
    selector: String,
}

/// An entry point from outside: a Service exposed on its own, or an Ingress backend.
struct NetworkEntry<'a> {
    /// The object that takes requests from outside.
    entry: &'a Resource,
    /// The Service they reach (`entry` itself for an exposed Service).
    service: &'a Resource,
    through: Through,
}

enum Through {
    /// An Ingress backend: where it is written, the Service it names, the rule's host.
    Ingress {
        field: String,
        service: String,
        host: Option<String>,
    },
    /// A Service exposed by its type or external IPs.
    Service {
        exposure: u8,
        field: &'static str,
        how: &'static str,
    },
}

struct Graph<'a> {
    resources: &'a [Resource],
    workloads: Vec<Workload<'a>>,
    findings: foldhash::HashMap<&'a ObjectRef, Vec<&'a Finding>>,
    policies: Policies<'a>,
    rbac: Rbac<'a>,
    /// Lookups that keep the graph linear in the objects: by (kind, namespace, name), the
    /// workloads by a label they carry (namespace, key, value), the Services by name.
    by_name: ByName<'a>,
    by_label: ByLabel<'a>,
    services: ServicesByName<'a>,
    /// Long-lived ServiceAccount token Secrets, with the account they authenticate as.
    tokens: Vec<(&'a Resource, String)>,
}

fn ns_eq(a: Option<&str>, b: Option<&str>) -> bool {
    a == b
}

fn position(r: &Resource) -> Option<Position> {
    r.spans.as_ref().map(|s| s.position())
}

/// Where a rendered object is written in the repository: its name's line in the template.
fn written(r: &Resource) -> Option<Written> {
    let map = r.source_map.as_ref()?;
    let name = FieldPath(vec![Segment::key("metadata"), Segment::key("name")]);
    map.written(&r.object, &name)
}

fn step(r: &Resource, edge: Edge, evidence: Vec<Evidence>, explanation: String) -> Step {
    Step {
        object: (*r.id).clone(),
        origin: (*r.origin).clone(),
        position: position(r),
        written: written(r),
        edge,
        evidence,
        explanation,
    }
}

/// Each object's findings, in the order they come.
fn by_object(findings: &[Finding]) -> foldhash::HashMap<&ObjectRef, Vec<&Finding>> {
    // Grouped by their `Arc` first: the findings of one evaluated object share one, and
    // telling pointers apart reads no identities (half a million findings at 100,000 objects:
    // 56-68 ms on one thread, against 190 ms keyed by identity). An identity that several
    // `Arc`s hold (the benchmark's findings each have their own) is merged after.
    let mut by_arc: foldhash::HashMap<*const ObjectRef, Vec<&Finding>> = Default::default();
    for f in findings {
        by_arc.entry(Arc::as_ptr(&f.object)).or_default().push(f);
    }
    let mut by_object: foldhash::HashMap<&ObjectRef, Vec<&Finding>> =
        foldhash::HashMapExt::with_capacity(by_arc.len());
    let mut merged = Vec::new();
    for group in by_arc.into_values() {
        match by_object.entry(&group[0].object) {
            Entry::Vacant(e) => {
                e.insert(group);
            }
            Entry::Occupied(mut e) => {
                e.get_mut().extend(group);
                merged.push(*e.key());
            }
        }
    }
    merged.sort_unstable_by_key(|id| std::ptr::from_ref::<ObjectRef>(id));
    merged.dedup_by_key(|id| std::ptr::from_ref::<ObjectRef>(id));
    for id in merged {
        if let Some(group) = by_object.get_mut(id) {
            // Back in the order of `findings`, one slice.
            group.sort_unstable_by_key(|f| std::ptr::from_ref::<Finding>(f));
        }
    }
    by_object
}

/// The core Services (their indices among the resources) by name, in input order.
type ServicesByName<'a> = HashMap<&'a str, Vec<usize>>;

/// Objects of the kinds in [`FOUND_BY_NAME`] by (kind, namespace, name).
type ByName<'a> = HashMap<(&'a str, Option<&'a str>, &'a str), &'a Resource>;

/// The kinds the paths look up by name ([`Graph::find`]): an Ingress names its backend
/// Services, a workload its ServiceAccount. Only these are indexed: every object was, and at
/// a million objects the index took some 130 MB while the paths were searched.
const FOUND_BY_NAME: [&str; 2] = ["Service", "ServiceAccount"];

/// The objects of the kinds in [`FOUND_BY_NAME`] by (kind, namespace, name), the first of a
/// name winning as a search in input order found it; and the Services by name.
fn by_name(resources: &[Resource]) -> (ByName<'_>, ServicesByName<'_>) {
    let mut by_name = HashMap::new();
    let mut services = ServicesByName::new();
    for (i, r) in resources.iter().enumerate() {
        if !FOUND_BY_NAME.contains(&r.id.kind.as_str()) {
            continue;
        }
        by_name
            .entry((
                r.id.kind.as_str(),
                r.id.namespace.as_deref(),
                r.id.name.as_str(),
            ))
            .or_insert(r);
        if r.id.group().is_empty() && r.id.kind == "Service" {
            services.entry(r.id.name.as_str()).or_default().push(i);
        }
    }
    (by_name, services)
}

/// Workloads (their indices) by a label they carry: (namespace, key, value).
type ByLabel<'a> = HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>;

/// The workloads, in input order, and which of them carry a label.
fn workloads<'a>(
    resources: &'a [Resource],
    pods: &'a [(usize, PodFacts<'a>)],
) -> (Vec<Workload<'a>>, ByLabel<'a>) {
    let workloads: Vec<Workload> = pods
        .iter()
        .map(|(i, pod)| Workload {
            r: &resources[*i],
            pod,
        })
        .collect();
    let mut by_label: ByLabel = HashMap::new();
    for (i, w) in workloads.iter().enumerate() {
        for (k, v) in w.labels().iter() {
            by_label.entry((w.namespace(), k, v)).or_default().push(i);
        }
    }
    (workloads, by_label)
}

/// Long-lived ServiceAccount token Secrets, with the account each authenticates as.
fn tokens(resources: &[Resource]) -> Vec<(&Resource, String)> {
    resources
        .iter()
        .filter(|r| r.id.group().is_empty() && r.id.kind == "Secret")
        .filter_map(|r| {
            let object = r.read_object();
            // Cluster Secrets are collected metadata-only and carry no type; there the
            // annotation marks a token Secret, as in `policies/lib/rbac.rego`.
            let token = match object.get("type") {
                Some(t) => t == "kubernetes.io/service-account-token",
                None => true,
            };
            let account =
                object["metadata"]["annotations"]["kubernetes.io/service-account.name"].as_str();
            Some((r, account.filter(|_| token)?.to_owned()))
        })
        .collect()
}

/// A path under construction: its steps and exposure so far.
#[derive(Clone)]
struct Partial {
    steps: Vec<Step>,
    exposure: u8,
    exposure_reason: String,
}

impl<'a> Graph<'a> {
    fn new(
        resources: &'a [Resource],
        pods: &'a [(usize, PodFacts<'a>)],
        findings: &'a [Finding],
        by_name: ByName<'a>,
        services: ServicesByName<'a>,
    ) -> Graph<'a> {
        // Its parts are independent: built in two halves side by side, since this runs on one
        // thread between steps that use every core.
        let ((findings, tokens), ((workloads, by_label), policies, rbac)) = rayon::join(
            || (by_object(findings), tokens(resources)),
            || {
                (
                    workloads(resources, pods),
                    Policies::new(resources),
                    Rbac::new(resources),
                )
            },
        );
        Graph {
            resources,
            tokens,
            workloads,
            findings,
            policies,
            rbac,
            by_name,
            by_label,
            services,
        }
    }

    fn findings_of(&self, r: &Resource, rules: &[&str]) -> Vec<&'a Finding> {
        self.findings
            .get(&*r.id)
            .into_iter()
            .flatten()
            .filter(|f| rules.contains(&f.rule_id.as_str()))
            .copied()
            .collect()
    }

    fn all_findings_of(&self, r: &Resource) -> Vec<Evidence> {
        self.findings
            .get(&*r.id)
            .into_iter()
            .flatten()
            .map(|f| Evidence::finding(f))
            .collect()
    }

    fn find(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&'a Resource> {
        debug_assert!(
            FOUND_BY_NAME.contains(&kind),
            "{kind} is not indexed by name: add it to FOUND_BY_NAME"
        );
        self.by_name.get(&(kind, namespace, name)).copied()
    }

    /// The workloads a Service selects, in its namespace, with its selector as the steps onto
    /// them show it (`key=value,...`). The Service is read once, for the moment: a large scan
    /// keeps it packed, as it does the Ingresses and Secrets read below.
    fn selected(&self, service: &Resource) -> Selected<'_, 'a> {
        let object = service.read_object();
        let none = Selected {
            workloads: Vec::new(),
            selector: String::new(),
        };
        let Some(selector) = object["spec"]["selector"]
            .as_object()
            .filter(|s| !s.is_empty())
        else {
            return none;
        };
        // Candidates carry the selector's first label; all of it is checked below.
        let Some((k, v)) = selector.iter().next() else {
            return none;
        };
        let Some(v) = v.as_str() else {
            return none;
        };
        let namespace = service.id.namespace.as_deref();
        let workloads: Vec<&Workload<'a>> = self
            .by_label
            .get(&(namespace, k.as_str(), v))
            .into_iter()
            .flatten()
            .map(|&i| &self.workloads[i])
            .filter(|w| {
                selector
                    .iter()
                    .all(|(k, v)| v.as_str().is_some_and(|v| w.labels().get(k) == Some(v)))
            })
            .collect();
        if workloads.is_empty() {
            return none;
        }
        let selector = selector
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(",");
        Selected {
            workloads,
            selector,
        }
    }

    /// Entry points from outside and the Services they reach, in input order. Only what
    /// names them: each entry's partial path (its steps, their evidence and explanations) is
    /// made by [`Graph::entry_path`] when the entry is followed, and only if its Service
    /// selects a workload. Made up front, every exposed Service's and Ingress backend's partial
    /// path was held for as long as the paths were searched, whether it led anywhere or not.
    fn network_entries(&self) -> Vec<NetworkEntry<'a>> {
        let mut out = Vec::new();
        for r in self.resources {
            match (r.id.group(), r.id.kind.as_str()) {
                ("networking.k8s.io" | "extensions", "Ingress") => {
                    for (field, service, host) in ingress_backends(&r.read_object()) {
                        let Some(svc) = self.find("Service", r.id.namespace.as_deref(), &service)
                        else {
                            continue;
                        };
                        out.push(NetworkEntry {
                            entry: r,
                            service: svc,
                            through: Through::Ingress {
                                field,
                                service,
                                host,
                            },
                        });
                    }
                }
                ("", "Service") => {
                    let object = r.read_object();
                    let spec = &object["spec"];
                    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
                    let external_ips = spec["externalIPs"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty());
                    let (exposure, field, how) = match kind {
                        "LoadBalancer" => {
                            (3, "spec.type", "a cloud load balancer (type LoadBalancer)")
                        }
                        _ if external_ips => (3, "spec.externalIPs", "external IPs"),
                        "NodePort" => (2, "spec.type", "a port on every node (type NodePort)"),
                        _ => continue,
                    };
                    out.push(NetworkEntry {
                        entry: r,
                        service: r,
                        through: Through::Service {
                            exposure,
                            field,
                            how,
                        },
                    });
                }
                _ => {}
            }
        }
        out
    }

    /// The partial path of an entry from outside, ending at its Service.
    fn entry_path(&self, e: &NetworkEntry<'a>) -> Partial {
        let r = e.entry;
        match &e.through {
            Through::Ingress {
                field,
                service,
                host,
            } => {
                let host_text = host
                    .as_deref()
                    .map_or("any host".to_owned(), |h| format!("host {h}"));
                let entry = self.exposes_step(
                    r,
                    Evidence::field(
                        field,
                        format!("backend Service '{service}' for {host_text}"),
                    ),
                    format!(
                        "{} takes requests from outside the cluster for {host_text}.",
                        r.id.display_name()
                    ),
                );
                let route = step(
                    e.service,
                    Edge::RoutesTo,
                    vec![Evidence::field(field, format!("names Service '{service}'"))],
                    format!("It sends them to {}.", e.service.id.display_name()),
                );
                Partial {
                    steps: vec![entry, route],
                    exposure: 3,
                    exposure_reason: format!(
                        "reachable from the internet through {}",
                        r.id.display_name()
                    ),
                }
            }
            &Through::Service {
                exposure,
                field,
                how,
            } => {
                let entry = self.exposes_step(
                    r,
                    Evidence::field(field, format!("exposed on {how}")),
                    format!(
                        "{} is reachable from outside the cluster on {how}.",
                        r.id.display_name()
                    ),
                );
                Partial {
                    steps: vec![entry],
                    exposure,
                    exposure_reason: format!(
                        "reachable from outside the cluster through {} ({how})",
                        r.id.display_name()
                    ),
                }
            }
        }
    }

    /// The first step of an entry from outside: `r` takes requests, as `how` shows, and its
    /// findings are evidence.
    fn exposes_step(&self, r: &Resource, how: Evidence, explanation: String) -> Step {
        let mut evidence = vec![how];
        evidence.extend(self.all_findings_of(r));
        step(r, Edge::Exposes, evidence, explanation)
    }

    /// The step onto a workload a Service selects (`selector`, as [`Graph::selected`] shows
    /// it), or the NetworkPolicy that cuts it.
    fn select_step(
        &self,
        service: &Resource,
        selector: &str,
        w: &Workload<'a>,
        source: &Source<'_>,
    ) -> Result<Step, &'a Resource> {
        if let Some(policy) = self.policies.cut(w.namespace(), w.labels(), source) {
            return Err(policy);
        }
        let guarded = if self.policies.any_selects(w.namespace(), w.labels()) {
            "a NetworkPolicy selects its pods but admits this traffic"
        } else {
            "no NetworkPolicy isolates its pods"
        };
        Ok(step(
            w.r,
            Edge::Selects,
            vec![Evidence::field(
                "spec.selector",
                format!("{} selects {selector}", service.id.display_name()),
            )],
            format!(
                "{} sends traffic to the pods of {} ({selector}); {guarded}.",
                service.id.display_name(),
                w.r.id.display_name()
            ),
        ))
    }

    fn network_paths(&self, out: &mut Best) {
        let entries = self.network_entries();
        entries.par_iter().fold_ordered(out, |out, e| {
            let service = e.service;
            let selected = self.selected(service);
            if selected.workloads.is_empty() {
                return;
            }
            let partial = self.entry_path(e);
            for w in selected.workloads {
                let Ok(sel) = self.select_step(service, &selected.selector, w, &Source::External)
                else {
                    continue;
                };
                let mut reached = partial.clone();
                reached.steps.push(sel);
                self.impacts(w, &reached, 0, out);
                // One hop further: a Service the workload names.
                for (svc2, call) in self.calls(w) {
                    let selected2 = self.selected(svc2);
                    for w2 in selected2.workloads {
                        if std::ptr::eq(w2.r, w.r) {
                            continue;
                        }
                        let source = Source::Pod {
                            namespace: w.namespace(),
                            labels: w.labels(),
                        };
                        let Ok(sel2) = self.select_step(svc2, &selected2.selector, w2, &source)
                        else {
                            continue;
                        };
                        let mut next = reached.clone();
                        next.steps.push(call.clone());
                        next.steps.push(sel2);
                        self.impacts(w2, &next, 0, out);
                    }
                }
            }
        });
        self.workloads.par_iter().fold_ordered(out, |out, w| {
            if w.namespace()
                .is_some_and(|n| PLATFORM_NAMESPACES.contains(&n))
            {
                return;
            }
            let Some((how, field)) = w.host_entry() else {
                return;
            };
            let entry = step(
                w.r,
                Edge::Exposes,
                vec![Evidence::field(field, how.clone())],
                format!(
                    "{}: {how}; NetworkPolicies do not apply to the node's network.",
                    w.r.id.display_name()
                ),
            );
            let partial = Partial {
                steps: vec![entry],
                exposure: 2,
                exposure_reason: format!("reachable at the node's addresses: {how}"),
            };
            self.impacts(w, &partial, 0, out);
        });
    }

    /// Services the workload names in its environment, arguments or command.
    fn calls(&self, w: &Workload<'a>) -> Vec<(&'a Resource, Step)> {
        let texts = &w.pod.texts;
        // Only Services named by a host in the texts can be called: a host's first label is the
        // Service's name. Kept in input order, as a walk over every Service would give them.
        let mut candidates: Vec<usize> = texts
            .iter()
            .flat_map(|(_, text)| hosts(text).filter_map(|host| host.split('.').next()))
            .filter_map(|name| self.services.get(name))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut out = Vec::new();
        for svc in candidates.into_iter().map(|i| &self.resources[i]) {
            let named = texts.iter().find(|(_, text)| {
                names_service(
                    text,
                    &svc.id.name,
                    svc.id.namespace.as_deref(),
                    w.namespace(),
                )
            });
            if let Some((source, _)) = named {
                let call = step(
                    svc,
                    Edge::Calls,
                    vec![Evidence::field(
                        source,
                        format!("names Service '{}'", svc.id.name),
                    )],
                    format!(
                        "From there it talks to {} (its {source} names it).",
                        svc.id.display_name()
                    ),
                );
                out.push((svc, call));
            }
        }
        out
    }

    /// Every jewel of impact `least` or more reachable from a workload the partial path has
    /// reached.
    fn impacts(&self, w: &Workload<'a>, partial: &Partial, least: u8, out: &mut Best) {
        let mut out = |p: AttackPath| {
            if p.jewel.impact() >= least {
                out.push(p);
            }
        };
        let amplifiers = self.findings_of(w.r, AMPLIFIER_RULES);
        let amplify = |steps: &mut Vec<Step>| {
            if let Some(last) = steps.last_mut() {
                if last.object == *w.r.id && !amplifiers.is_empty() {
                    let mut rules: Vec<&str> =
                        amplifiers.iter().map(|f| f.rule_id.as_str()).collect();
                    rules.sort();
                    rules.dedup();
                    last.explanation.push_str(&format!(
                        " Code that runs there has room to move: {} ({}).",
                        amplifier_words(&amplifiers),
                        rules.join(", ")
                    ));
                    last.evidence
                        .extend(amplifiers.iter().map(|f| Evidence::finding(f)));
                }
            }
        };
        let mut base = partial.steps.clone();
        amplify(&mut base);
        let escape = self.findings_of(w.r, ESCAPE_RULES);
        if let Some(first) = escape.first() {
            let mut steps = base.clone();
            let mut rules: Vec<&str> = escape.iter().map(|f| f.rule_id.as_str()).collect();
            rules.dedup();
            steps.push(Step {
                object: (*w.r.id).clone(),
                origin: (*w.r.origin).clone(),
                position: first.position.or_else(|| position(w.r)),
                written: first.written.as_deref().cloned().or_else(|| written(w.r)),
                edge: Edge::EscapesToNode,
                evidence: escape.iter().map(|f| Evidence::finding(f)).collect(),
                explanation: format!(
                    "{} can reach its node: {} ({}). From the node, every pod on it and the \
                     kubelet's credentials are within reach.",
                    w.r.id.display_name(),
                    escape_words(&escape),
                    rules.join(", ")
                ),
            });
            out(path(partial, steps, Jewel::Nodes, None));
        }
        let creds = self.findings_of(w.r, CREDENTIAL_RULES);
        if let Some(first) = creds.first() {
            let mut steps = base.clone();
            steps.push(Step {
                object: (*w.r.id).clone(),
                origin: (*w.r.origin).clone(),
                position: first.position.or_else(|| position(w.r)),
                written: first.written.as_deref().cloned().or_else(|| written(w.r)),
                edge: Edge::HoldsCredentials,
                evidence: creds.iter().map(|f| Evidence::finding(f)).collect(),
                explanation: format!(
                    "{} holds credentials in its environment, where any code in the container \
                     (or a crash dump, or /proc) can read them: {}.",
                    w.r.id.display_name(),
                    creds
                        .iter()
                        .map(|f| f.message.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            });
            out(path(partial, steps, Jewel::Credentials, None));
        }
        if let Some(runs_as) = self.token_step(w) {
            let sa = w.service_account();
            let powers = self.rbac.powers(Subject::ServiceAccount {
                namespace: w.namespace().unwrap_or("default"),
                name: sa,
            });
            let holder = (w.namespace().unwrap_or("default"), sa);
            for power in best_powers(powers) {
                let mut steps = base.clone();
                steps.push(runs_as.clone());
                steps.push(grant_step(&power));
                for (chain, further) in self.token_chains(&power, Some(holder)) {
                    let mut longer = steps.clone();
                    longer.extend(chain);
                    out(path(
                        partial,
                        longer,
                        further.jewel,
                        further.namespace.as_deref(),
                    ));
                }
                out(path(
                    partial,
                    steps,
                    power.jewel,
                    power.namespace.as_deref(),
                ));
            }
        }
    }

    /// The step onto the workload's ServiceAccount, when its token is mounted in the pods.
    fn token_step(&self, w: &Workload<'a>) -> Option<Step> {
        let sa_name = w.service_account();
        let sa = self.find("ServiceAccount", w.namespace(), sa_name);
        let mounted = match w.pod.automount_token {
            Some(b) => b,
            // Read a moment at a time: a large scan keeps ServiceAccounts packed.
            None => sa
                .and_then(|s| s.read_object()["automountServiceAccountToken"].as_bool())
                .unwrap_or(true),
        };
        if !mounted {
            return None;
        }
        let mut evidence: Vec<Evidence> = self
            .findings_of(w.r, &[TOKEN_RULE])
            .iter()
            .map(|f| Evidence::finding(f))
            .collect();
        if evidence.is_empty() {
            evidence.push(Evidence::field(
                "spec.automountServiceAccountToken",
                "not set to false".to_owned(),
            ));
        }
        let explanation = format!(
            "Its pods mount the API token of ServiceAccount '{sa_name}', so code there can call \
             the API server as that account."
        );
        Some(match sa {
            Some(sa) => step(sa, Edge::RunsAs, evidence, explanation),
            None => Step {
                object: ObjectRef {
                    api_version: "v1".to_owned(),
                    kind: "ServiceAccount".to_owned(),
                    namespace: w.r.id.namespace.clone(),
                    name: sa_name.to_owned(),
                },
                origin: (*w.r.origin).clone(),
                position: position(w.r),
                written: written(w.r),
                edge: Edge::RunsAs,
                evidence,
                explanation,
            },
        })
    }

    /// Anonymous and all-authenticated bindings that grant a power.
    fn rbac_paths(&self, out: &mut Best) {
        let groups = [
            (
                "system:anonymous",
                3,
                "anyone who can reach the API server, without credentials",
            ),
            (
                "system:unauthenticated",
                3,
                "anyone who can reach the API server, without credentials",
            ),
            (
                "system:authenticated",
                2,
                "every authenticated identity, every ServiceAccount included",
            ),
        ];
        for (name, exposure, who) in groups {
            for (facts, _) in self.rbac.bindings_of_groups(&[name]) {
                let binding = facts.resource;
                for power in best_powers(self.rbac.binding_powers(facts)) {
                    let mut evidence = vec![Evidence::field("subjects", format!("names {name}"))];
                    evidence.extend(self.all_findings_of(binding));
                    let entry = step(
                        binding,
                        Edge::GrantsEveryone,
                        evidence,
                        format!(
                            "{} grants {} ({name}) {}.",
                            binding.id.display_name(),
                            who,
                            power.grant
                        ),
                    );
                    let partial = Partial {
                        steps: Vec::new(),
                        exposure,
                        exposure_reason: format!("open to {who}"),
                    };
                    for (chain, further) in self.token_chains(&power, None) {
                        let mut steps = vec![entry.clone()];
                        steps.extend(chain);
                        out.push(path(
                            &partial,
                            steps,
                            further.jewel,
                            further.namespace.as_deref(),
                        ));
                    }
                    out.push(path(
                        &partial,
                        vec![entry],
                        power.jewel,
                        power.namespace.as_deref(),
                    ));
                }
            }
        }
    }

    /// Long-lived ServiceAccount token Secrets of accounts with a power that counts, entered
    /// by whoever holds a copy of the token; the readers of the namespace's Secrets are named
    /// (the paths through the workloads among them are found from those workloads).
    fn token_secret_paths(&self, out: &mut Best) {
        for (secret, sa_name) in &self.tokens {
            let ns = secret.id.namespace.as_deref();
            let powers = self.rbac.powers(Subject::ServiceAccount {
                namespace: ns.unwrap_or("default"),
                name: sa_name,
            });
            for power in best_powers(powers) {
                if power.jewel.impact() < 4 {
                    continue;
                }
                let readers = self.rbac.secret_readers(ns.unwrap_or("default"));
                let who = if readers.is_empty() {
                    "anyone who can read Secrets in its namespace".to_owned()
                } else {
                    let shown: Vec<&str> = readers.iter().take(5).map(String::as_str).collect();
                    let more = readers.len().saturating_sub(shown.len());
                    let tail = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    format!(
                        "anyone who can read Secrets in its namespace: {}{tail}",
                        shown.join(", ")
                    )
                };
                let entry = step(
                    secret,
                    Edge::LeaksToken,
                    self.all_findings_of(secret),
                    format!(
                        "{} holds a token of ServiceAccount '{sa_name}' that never expires: \
                         whoever reads or copies it ({who}; a backup, a CI log) authenticates \
                         as that account.",
                        secret.id.display_name()
                    ),
                );
                let partial = Partial {
                    steps: Vec::new(),
                    exposure: 1,
                    exposure_reason: "needs a copy of a token that never expires".to_owned(),
                };
                out.push(path(
                    &partial,
                    vec![entry, grant_step(&power)],
                    power.jewel,
                    power.namespace.as_deref(),
                ));
            }
        }
    }

    /// Users and groups that may read Secrets where a long-lived token of a more powerful
    /// account is kept: the binding that grants them reading is the entry, with their
    /// credentials (the everyone-groups have paths of their own, `system:masters` is
    /// cluster-admin already).
    fn subject_token_paths(&self, out: &mut Best) {
        if self.tokens.is_empty() {
            return;
        }
        const SKIPPED: &[&str] = &[
            "system:anonymous",
            "system:unauthenticated",
            "system:authenticated",
            "system:masters",
        ];
        for facts in self.rbac.bindings() {
            let binding = facts.resource;
            let named: Vec<String> = facts
                .subjects
                .iter()
                .filter(|s| {
                    matches!(&*s.kind, "User" | "Group")
                        && !SKIPPED.contains(&&*s.name)
                        && !control_plane_identity(&s.kind, &s.name)
                })
                .map(|s| format!("{} '{}'", s.kind, s.name))
                .collect();
            if named.is_empty() {
                continue;
            }
            for power in best_powers(self.rbac.binding_powers(facts)) {
                let chains = self.token_chains(&power, None);
                if chains.is_empty() {
                    continue;
                }
                let mut evidence = vec![Evidence::field(
                    "subjects",
                    format!("names {}", named.join(", ")),
                )];
                evidence.extend(self.all_findings_of(binding));
                let scope = match &power.namespace {
                    None => "cluster-wide".to_owned(),
                    Some(ns) => format!("in namespace '{ns}'"),
                };
                let entry = step(
                    binding,
                    Edge::GrantsSubject,
                    evidence,
                    format!(
                        "{} grants {} {} {scope}.",
                        binding.id.display_name(),
                        named.join(", "),
                        power.grant
                    ),
                );
                let partial = Partial {
                    steps: Vec::new(),
                    exposure: 1,
                    exposure_reason: format!("needs the credentials of {}", named.join(" or ")),
                };
                for (chain, further) in chains {
                    let mut steps = vec![entry.clone()];
                    steps.extend(chain);
                    out.push(path(
                        &partial,
                        steps,
                        further.jewel,
                        further.namespace.as_deref(),
                    ));
                }
            }
        }
    }

    /// Where reading Secrets leads further: the long-lived tokens `power` lets its holder read
    /// (in its namespace, or all), of accounts that can do more than read them (a jewel of
    /// greater impact) — each as the steps from the token to that jewel, and the power at the
    /// end. `holder` is the account that reads them, whose own token gains it nothing.
    fn token_chains(
        &self,
        power: &Power<'a>,
        holder: Option<(&str, &str)>,
    ) -> Vec<(Vec<Step>, Power<'a>)> {
        let scope = match power.jewel {
            Jewel::AllSecrets => None,
            Jewel::NamespaceSecrets => Some(power.namespace.as_deref().unwrap_or_default()),
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        for (secret, sa_name) in &self.tokens {
            let ns = secret.id.namespace.as_deref().unwrap_or("default");
            if scope.is_some_and(|s| s != ns) || holder == Some((ns, sa_name.as_str())) {
                continue;
            }
            let powers = self.rbac.powers(Subject::ServiceAccount {
                namespace: ns,
                name: sa_name,
            });
            for further in best_powers(powers) {
                if further.jewel.impact() <= power.jewel.impact() {
                    continue;
                }
                let read = step(
                    secret,
                    Edge::LeaksToken,
                    self.all_findings_of(secret),
                    format!(
                        "Reading Secrets there gives {}, a token of ServiceAccount \
                         '{sa_name}' that never expires: with it, anyone authenticates as \
                         that account.",
                        secret.id.display_name()
                    ),
                );
                out.push((vec![read, grant_step(&further)], further));
            }
        }
        out
    }

    /// Workloads whose compromise alone reaches the nodes or cluster-wide powers.
    fn foothold_paths(&self, out: &mut Best) {
        self.workloads.par_iter().fold_ordered(out, |out, w| {
            if w.namespace()
                .is_some_and(|n| PLATFORM_NAMESPACES.contains(&n))
            {
                return;
            }
            let entry = step(
                w.r,
                Edge::Foothold,
                Vec::new(),
                format!(
                    "An attacker runs code in {} (a compromised image or dependency, or \
                     someone allowed to exec into it).",
                    w.r.id.display_name()
                ),
            );
            let partial = Partial {
                steps: vec![entry],
                exposure: 1,
                exposure_reason: "needs code execution in the workload first".to_owned(),
            };
            self.impacts(w, &partial, FOOTHOLD_IMPACT, out);
        });
    }
}

/// Identities of Kubernetes' own components (the controller manager, the scheduler, kubelets,
/// bootstrap tokens): their credentials are the control plane's, so reading Secrets through
/// them is no route a reviewer can close. ServiceAccounts named as users are not among them.
fn control_plane_identity(kind: &str, name: &str) -> bool {
    match kind {
        "User" => name.starts_with("system:") && !name.starts_with("system:serviceaccount:"),
        "Group" => name == "system:nodes" || name.starts_with("system:bootstrappers"),
        _ => false,
    }
}

/// One grant per jewel, without the jewels a stronger one includes: cluster-admin includes
/// everything, every Secret those of a namespace, the nodes code execution in pods.
fn best_powers(powers: Vec<Power<'_>>) -> Vec<Power<'_>> {
    let mut out: Vec<Power<'_>> = Vec::new();
    for p in powers {
        if !out.iter().any(|o| o.jewel == p.jewel) {
            out.push(p);
        }
    }
    let has = |j: Jewel| out.iter().any(|p| p.jewel == j);
    let admin = has(Jewel::ClusterAdmin);
    let all_secrets = has(Jewel::AllSecrets);
    let nodes = has(Jewel::Nodes);
    out.retain(|p| match p.jewel {
        Jewel::ClusterAdmin => true,
        _ if admin => false,
        Jewel::NamespaceSecrets => !all_secrets,
        Jewel::WorkloadControl => !nodes,
        _ => true,
    });
    out
}

fn grant_step(power: &Power<'_>) -> Step {
    let scope = match &power.namespace {
        None => "cluster-wide".to_owned(),
        Some(ns) => format!("in namespace '{ns}'"),
    };
    step(
        power.binding,
        Edge::GrantedBy,
        vec![Evidence::field("roleRef", power.grant.clone())],
        format!(
            "{} grants it {} {scope}, which gives {}.",
            power.binding.id.display_name(),
            power.grant,
            power.jewel.describe()
        ),
    )
}

fn path(partial: &Partial, steps: Vec<Step>, jewel: Jewel, scope: Option<&str>) -> AttackPath {
    let impact = jewel.impact();
    let exposure = partial.exposure;
    let entry = steps[0].object.display_name();
    let last = &steps[steps.len() - 1].object;
    let target = match (jewel, scope) {
        (Jewel::Credentials, _) => format!("the credentials held by {}", last.display_name()),
        (Jewel::NamespaceSecrets, Some(ns)) => format!("the Secrets of namespace '{ns}'"),
        (Jewel::WorkloadControl, Some(ns)) => {
            format!("code execution in other pods of namespace '{ns}'")
        }
        _ => jewel.describe().to_owned(),
    };
    AttackPath {
        id: String::new(),
        title: format!("{entry} → {target}"),
        jewel,
        target,
        score: Score {
            exposure,
            impact,
            value: exposure * impact,
            reasons: vec![
                format!("exposure {exposure}: {}", partial.exposure_reason),
                format!("impact {impact}: {}", impact_reason(jewel)),
            ],
        },
        steps,
    }
}

fn impact_reason(jewel: Jewel) -> &'static str {
    match jewel {
        Jewel::ClusterAdmin => "full control of the cluster",
        Jewel::Nodes => "the nodes, and every pod and credential on them",
        Jewel::AllSecrets => "every Secret in the cluster, the tokens of other accounts included",
        Jewel::NamespaceSecrets => "the Secrets of a namespace",
        Jewel::WorkloadControl => "running code in other pods of a namespace",
        Jewel::Credentials => "credentials to another system (a database, an API)",
    }
}

fn escape_words(findings: &[&Finding]) -> String {
    let mut words: Vec<&str> = findings
        .iter()
        .map(|f| match f.rule_id.as_str() {
            "PST-0001" => "it runs as a Windows host process",
            "PST-0002" => "it shares the host's process namespace",
            "PST-0003" => "a container is privileged",
            "PST-0006" => "a container adds capabilities beyond the baseline",
            _ => "it mounts a directory of the host",
        })
        .collect();
    words.dedup();
    words.join(", ")
}

fn amplifier_words(findings: &[&Finding]) -> String {
    let mut words: Vec<&str> = findings
        .iter()
        .map(|f| match f.rule_id.as_str() {
            "PST-0021" => "privilege escalation is allowed",
            "PST-0022" | "PST-0023" => "it may run as root",
            "PST-0043" => "its version has a known remote exploit",
            TOKEN_RULE => "its ServiceAccount token is mounted",
            _ => "its root filesystem is writable",
        })
        .collect();
    words.sort();
    words.dedup();
    words.join(", ")
}

/// Whether `text` names Service `name` of `svc_ns` as a host, from a pod in `from_ns`:
/// `name` alone from the same namespace, or `name.<ns>`, `name.<ns>.svc[.cluster.local]`.
fn names_service(text: &str, name: &str, svc_ns: Option<&str>, from_ns: Option<&str>) -> bool {
    hosts(text).any(|host| {
        let host = host.trim_end_matches('.');
        if host == name {
            return ns_eq(svc_ns, from_ns);
        }
        match (
            host.strip_prefix(name).and_then(|r| r.strip_prefix('.')),
            svc_ns,
        ) {
            (Some(rest), Some(ns)) => {
                let rest = rest.strip_suffix(".cluster.local").unwrap_or(rest);
                let rest = rest.strip_suffix(".svc").unwrap_or(rest);
                rest == ns
            }
            _ => false,
        }
    })
}

/// Every backend Service of an Ingress: (field, Service name, host).
fn ingress_backends(o: &Value) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    let service_of = |b: &Value| {
        b["service"]["name"]
            .as_str()
            .or_else(|| b["serviceName"].as_str())
            .map(str::to_owned)
    };
    let spec = &o["spec"];
    for key in ["defaultBackend", "backend"] {
        if let Some(s) = service_of(&spec[key]) {
            out.push((format!("spec.{key}"), s, None));
        }
    }
    for (i, rule) in spec["rules"].as_array().into_iter().flatten().enumerate() {
        let host = rule["host"].as_str().map(str::to_owned);
        for (j, p) in rule["http"]["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = service_of(&p["backend"]) {
                out.push((
                    format!("spec.rules[{i}].http.paths[{j}].backend"),
                    s,
                    host.clone(),
                ));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out.dedup_by(|a, b| a.1 == b.1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::severity::Severity;

    fn finding(rule: &str, object: &Arc<ObjectRef>) -> Finding {
        let origin = Origin::Cluster {
            cluster: "lab".into(),
        };
        let path = FieldPath::default();
        Finding {
            fingerprint: Finding::fingerprint_of(rule, object, &origin, &path, None),
            rule_id: rule.into(),
            rule_title: rule.into(),
            severity: Severity::High,
            message: rule.into(),
            object: Arc::clone(object),
            origin: origin.into(),
            path: path.into(),
            position: None,
            written: None,
        }
    }

    fn pod(name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some("web".into()),
            name: name.into(),
        }
    }

    /// Findings of one object come together in their order, whether they share its `Arc` or
    /// each has its own (as the benchmark's do).
    #[test]
    fn an_objects_findings_are_its_own_in_their_order() {
        let a = Arc::new(pod("a"));
        let b = Arc::new(pod("b"));
        let findings = vec![
            finding("R1", &a),
            finding("R1", &Arc::new(pod("b"))),
            finding("R2", &a),
            finding("R2", &b),
            finding("R3", &Arc::new(pod("a"))),
            finding("R4", &b),
            finding("R5", &Arc::new(pod("a"))),
            finding("R6", &a),
        ];
        let by = by_object(&findings);
        let rules = |name: &str| -> Vec<&str> {
            by[&pod(name)].iter().map(|f| f.rule_id.as_str()).collect()
        };
        assert_eq!(by.len(), 2);
        assert_eq!(rules("a"), ["R1", "R2", "R3", "R5", "R6"]);
        assert_eq!(rules("b"), ["R1", "R2", "R4"]);
    }

    /// A text is kept for the calls only if a host in it may be a Service's: every text in
    /// which `calls` finds a candidate or `names_service` a match is kept.
    #[test]
    fn only_texts_that_may_name_a_service_are_kept() {
        let services: ServicesByName = [("ratings-api", vec![0]), ("a.b", vec![1])]
            .into_iter()
            .collect();
        let kept = |text: &str| may_name_service(text, &services);
        for text in [
            "http://ratings-api:3000",
            "ratings-api",
            "ratings-api.ratings",
            "ratings-api.ratings.svc.cluster.local.",
            "mongodb://user@ratings-api.ratings:27017/db?x=1",
            "--upstream=ratings-api.",
        ] {
            assert!(kept(text), "{text}");
            assert!(names_service(
                text,
                "ratings-api",
                Some("ratings"),
                Some("ratings")
            ));
        }
        // A name with a dot, as a broken manifest may have: found by the whole host.
        for text in ["a.b", "a.b.ratings.svc"] {
            assert!(kept(text), "{text}");
            assert!(names_service(text, "a.b", Some("ratings"), Some("ratings")));
        }
        for text in [
            "info",
            "http://ratings-web:8080",
            "ratings-apis",
            "xratings-api",
            "a",
            "a.bc",
            "",
        ] {
            assert!(!kept(text), "{text}");
            assert!(!names_service(
                text,
                "ratings-api",
                Some("ratings"),
                Some("ratings")
            ));
            assert!(!names_service(
                text,
                "a.b",
                Some("ratings"),
                Some("ratings")
            ));
        }
    }
}
