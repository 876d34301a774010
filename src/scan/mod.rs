//! One scan from end to end: collect, evaluate, and hand reporters a [`ScanReport`].

mod cluster;
pub mod fleet;
mod report;
mod request;
mod stream;

pub use report::{EvaluatedObject, ScanReport, Target};
pub use request::{
    BenchmarkChoice, ExceptionSource, FindingFilter, Input, Judging, Namespaces, ScanRequest,
    Streaming,
};

use crate::benchmark::Benchmark;
use crate::collect::cluster::{ClusterOptions, Progress};
use crate::collect::{self, Collected};
use crate::compliance::{self, Selection};
use crate::engine::{CompileError, Evaluator};
use crate::exceptions;
use crate::policy::{Catalog, PolicyError, Rule, UserPolicies};
use crate::problem::Problem;
use crate::resource::Resource;
use crate::snapshot::Snapshot;
use rayon::prelude::*;
use std::path::PathBuf;

/// Errors that leave nothing to report: the built-in rules do not load, or the input, the
/// baseline or a named config file cannot be read at all. Anything narrower, a user policy
/// that does not load included, is a [`Problem`] in the report.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot load the rules")]
    Policy(#[from] PolicyError),
    #[error("cannot load the rules: a policy does not compile: {0}")]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Baseline(#[from] crate::baseline::BaselineError),
    #[error("the config file {} does not exist", .0.display())]
    NoConfig(PathBuf),
    #[error("snapshot {}", .path.display())]
    OpenSnapshot {
        path: PathBuf,
        #[source]
        source: collect::input::ReadError,
    },
    #[error("cannot use {}", .path.display())]
    Snapshot {
        path: PathBuf,
        #[source]
        source: crate::snapshot::SnapshotError,
    },
    #[error(transparent)]
    Cluster(#[from] crate::collect::cluster::ClusterError),
}

/// Kinds a cluster scan collects whatever the rules select: the inventory rules read
/// (bindings, service accounts, NetworkPolicies of every flavour, namespaces, LimitRanges and
/// ResourceQuotas; types the server does not serve, such as Cilium's or Calico's policies
/// without their CRDs, are simply not listed), node and control-plane evidence
/// (Nodes, mirror Pods, the kubeadm-config and kube-proxy ConfigMaps), and Secrets (metadata only).
const EVIDENCE: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "Pod"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "ServiceAccount"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("cilium.io", "CiliumNetworkPolicy"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("projectcalico.org", "NetworkPolicy"),
    ("projectcalico.org", "GlobalNetworkPolicy"),
    ("crd.projectcalico.org", "NetworkPolicy"),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
];

/// The resource types a cluster scan needs: every kind some rule selects, plus [`EVIDENCE`].
pub struct NeededTypes {
    selectors: Vec<crate::policy::kinds::KindSelector>,
}

impl NeededTypes {
    pub fn of(catalog: &Catalog) -> NeededTypes {
        NeededTypes {
            selectors: catalog.rules.iter().map(|r| r.kinds.clone()).collect(),
        }
    }
}

impl crate::collect::cluster::TypeFilter for NeededTypes {
    fn wants(&self, group: &str, kind: &str) -> bool {
        EVIDENCE.contains(&(group, kind))
            || admission_policy(group, kind)
            || self.selectors.iter().any(|s| s.matches_type(group, kind))
    }

    /// The inventory's facts: a scan evaluates the other objects once they are listed.
    fn first(&self, group: &str, kind: &str) -> bool {
        crate::engine::inventory::reads(group, kind) == crate::engine::inventory::Reads::Facts
    }
}

/// Policy-engine objects that say whether admission rejects pods (CIS 5.2): Kyverno's policies
/// and every Gatekeeper constraint (each constraint template makes a kind of its own).
fn admission_policy(group: &str, kind: &str) -> bool {
    (group == "kyverno.io" && matches!(kind, "ClusterPolicy" | "Policy"))
        || group == "constraints.gatekeeper.sh"
}

/// Loads the built-in rules plus those in `policy_dirs` (conftest namespace `main`); the first
/// user file that does not load is an error.
pub fn load_catalog(policy_dirs: &[PathBuf]) -> Result<Catalog, PolicyError> {
    load_policies(&UserPolicies {
        paths: policy_dirs.to_vec(),
        ..UserPolicies::default()
    })?
    .strict()
}

/// Loads the built-in rules plus the user's; user files that do not load are recorded in
/// [`Catalog::rejected`] (a scan reports them), so only the built-in rules can fail here.
pub fn load_policies(policies: &UserPolicies) -> Result<Catalog, PolicyError> {
    let mut catalog = Catalog::builtin()?;
    catalog.add_user(policies);
    Ok(catalog)
}

/// Runs one scan: reads the baseline (a gate must stop when it cannot), loads the rules,
/// node facts and exceptions, collects the input, evaluates, applies the benchmark and the
/// exceptions, and compares with the baseline. `progress` hears about a cluster collection.
pub fn run(request: &ScanRequest, progress: &dyn Progress) -> Result<ScanReport, ScanError> {
    let baseline = request
        .baseline
        .as_deref()
        .map(|path| crate::baseline::read(path, request.max_input_bytes))
        .transpose()?;
    // The rules compile (some 50 ms) while the manifests are read on the other cores.
    let (loaded, manifests) = rayon::join(
        || -> Result<_, ScanError> {
            let catalog = load_policies(&request.policies)?;
            let evaluator = Evaluator::with_limits(&catalog, request.limits.clone())?;
            Ok((catalog, evaluator))
        },
        || read_manifests(request),
    );
    let (catalog, mut evaluator) = loaded?;
    evaluator.set_pss_version(request.pss_version);
    let (node_facts, mut problems) =
        collect::node::read_facts(&request.node_facts, request.max_input_bytes);
    let config_files = match &request.exceptions {
        ExceptionSource::File(file) if !file.is_file() => {
            return Err(ScanError::NoConfig(file.clone()))
        }
        ExceptionSource::File(file) => vec![file.clone()],
        ExceptionSource::None => Vec::new(),
        ExceptionSource::Discover => match &request.input {
            Input::Manifests { paths, .. } => exceptions::config::discover(paths),
            Input::Snapshot { .. } | Input::Cluster(_) => exceptions::config::discover(&[]),
        },
    };
    let mut config_exceptions = Vec::new();
    let mut settings = crate::engine::RuleSettings::default();
    for file in &config_files {
        let loaded = exceptions::config::load_file(file);
        config_exceptions.extend(loaded.exceptions);
        settings.merge(loaded.settings);
        problems.extend(loaded.problems);
    }
    evaluator.set_settings(settings);
    let judging = Judging {
        benchmark: request.benchmark.clone(),
        cis_level: request.cis_level,
        node_facts,
        exceptions: config_exceptions,
        today: request.today,
        skip_fix_list: request.skip_fix_list,
        max_input_bytes: Some(request.max_input_bytes),
    };
    let mut report = match (&request.input, manifests) {
        (Input::Manifests { .. }, Some(streamed)) => {
            let evaluated = stream::evaluate(
                &evaluator,
                streamed,
                &request.streaming,
                request.max_input_bytes,
            );
            evaluate_for(
                &evaluator,
                evaluated,
                &judging,
                Scope::manifests(),
                problems,
            )
        }
        (Input::Manifests { .. }, None) => {
            unreachable!("read_manifests reads every manifest input")
        }
        (Input::Snapshot { path, namespaces }, _) => {
            let text =
                collect::input::read_text(path, request.max_input_bytes).map_err(|source| {
                    ScanError::OpenSnapshot {
                        path: path.clone(),
                        source,
                    }
                })?;
            let mut snapshot =
                Snapshot::read(text.as_bytes()).map_err(|source| ScanError::Snapshot {
                    path: path.clone(),
                    source,
                })?;
            if *namespaces != Namespaces::default() {
                snapshot
                    .objects
                    .retain(|o| namespaces.keeps(o["metadata"]["namespace"].as_str()));
            }
            evaluate_snapshot(&evaluator, snapshot, &judging, problems)
        }
        (Input::Cluster(options), _) => {
            let needed = NeededTypes::of(&catalog);
            // As for manifests (above): user rules and the fix list need every object whole.
            if evaluator.has_user_rules() || !judging.skip_fix_list {
                let snapshot = collect::cluster::collect_blocking(options, &needed, progress)?;
                evaluate_snapshot(&evaluator, snapshot, &judging, problems)
            } else {
                let (snapshot, evaluated) =
                    cluster::evaluate(&evaluator, options, &needed, progress)?;
                evaluate_for(
                    &evaluator,
                    evaluated,
                    &judging,
                    cluster_scope(&snapshot),
                    problems,
                )
            }
        }
    };
    if !request.filter.is_empty() {
        report.findings.retain(|f| request.filter.keeps(f));
        report
            .suppressed
            .retain(|s| request.filter.keeps(&s.finding));
    }
    if report.objects == 0 && !request.allow_empty {
        report.problems.push(Problem::new(
            crate::problem::Level::Error,
            crate::problem::Code::NothingScanned,
            format!(
                "nothing was scanned: {} held no Kubernetes objects; pass --allow-empty if \
                 that is expected",
                request.input.describe()
            ),
        ));
        report.problems.sort();
    }
    if let Some(mut previous) = baseline {
        // What the filter leaves out now was not fixed: leave it out of the earlier scan too.
        previous.findings.retain(|f| request.filter.keeps_prior(f));
        report.compare_with(previous);
    }
    Ok(report)
}

/// Reads a manifest scan's input; `None` for other inputs. The fix list edits files and checks
/// that every other object of an edited file is unchanged, which needs them whole; user rules
/// are judged over all objects at once. Either way every object is held whole, as before
/// streaming: user rules asked for hold them even when none loads, since the rules load at the
/// same time (the report is the same either way).
fn read_manifests(request: &ScanRequest) -> Option<collect::manifests::Streamed> {
    let Input::Manifests {
        paths,
        render,
        skip_paths,
    } = &request.input
    else {
        return None;
    };
    let read = collect::manifests::ReadOptions {
        max_input_bytes: request.max_input_bytes,
        skip_paths: skip_paths.clone(),
    };
    let whole_bytes = if !request.policies.paths.is_empty() || !request.skip_fix_list {
        u64::MAX
    } else {
        request.streaming.whole_bytes
    };
    Some(collect::manifests::collect_streaming(
        paths,
        render,
        &read,
        whole_bytes,
        &stream::reduce_if_reducible,
    ))
}

/// Collects a live cluster into a snapshot with every type the rules (built-in and
/// `policies`) read, as `posture snapshot` saves it; its objects wait in a temporary file.
pub fn snapshot_cluster(
    options: &ClusterOptions,
    policies: &UserPolicies,
    progress: &dyn Progress,
) -> Result<collect::cluster::Spilled, ScanError> {
    let catalog = load_policies(policies)?.strict()?;
    Ok(
        collect::cluster::runtime()?.block_on(collect::cluster::collect_spilled(
            options,
            &NeededTypes::of(&catalog),
            progress,
        ))?,
    )
}

/// Scans a cluster snapshot: the same findings whether it was just collected or read from a file.
pub fn scan_snapshot(evaluator: &Evaluator, snapshot: Snapshot, judging: &Judging) -> ScanReport {
    evaluate_snapshot(evaluator, snapshot, judging, Vec::new())
}

fn evaluate_snapshot(
    evaluator: &Evaluator,
    snapshot: Snapshot,
    judging: &Judging,
    problems: Vec<Problem>,
) -> ScanReport {
    let scope = cluster_scope(&snapshot);
    evaluate_for(
        evaluator,
        evaluate_whole(evaluator, Collected::from_snapshot(snapshot)),
        judging,
        scope,
        problems,
    )
}

/// What a report says of the cluster a snapshot is of, and what the benchmark knows of it.
fn cluster_scope(snapshot: &Snapshot) -> Scope {
    Scope {
        target: Target::Cluster {
            info: snapshot.cluster.clone(),
            collected_at: snapshot.collected_at.clone(),
        },
        context: compliance::Context {
            cluster: Some(snapshot.cluster.name.clone()),
            platform: Some(snapshot.cluster.platform.kind),
            nodes: snapshot
                .nodes
                .iter()
                .map(|n| {
                    let reason = match &n.kubelet_config {
                        crate::snapshot::KubeletConfig::Collected { .. } => None,
                        crate::snapshot::KubeletConfig::NotCollected { reason } => {
                            Some(reason.clone())
                        }
                    };
                    (n.name.clone(), reason)
                })
                .collect(),
            missing_types: snapshot
                .not_collected
                .iter()
                .map(|m| (m.target.clone(), m.reason.clone()))
                .collect(),
            node_facts: Vec::new(),
        },
        kube_context: snapshot.cluster.context.clone(),
    }
}

/// Evaluates already-collected objects with the rules only.
pub fn evaluate(evaluator: &Evaluator, collected: Collected) -> ScanReport {
    evaluate_manifests(evaluator, collected, &Judging::rules_only())
}

/// Evaluates already-collected manifests, then applies the requested benchmark and exceptions.
pub fn evaluate_manifests(
    evaluator: &Evaluator,
    collected: Collected,
    judging: &Judging,
) -> ScanReport {
    evaluate_for(
        evaluator,
        evaluate_whole(evaluator, collected),
        judging,
        Scope::manifests(),
        Vec::new(),
    )
}

/// What the objects are part of: manifests, or a cluster with what is known about it.
struct Scope {
    target: Target,
    context: compliance::Context,
    /// The kubeconfig context a cluster was read through, for exception selectors.
    kube_context: Option<String>,
}

impl Scope {
    fn manifests() -> Scope {
        Scope {
            target: Target::Manifests,
            context: compliance::Context::default(),
            kube_context: None,
        }
    }
}

/// Evaluates objects all at once and keeps them whole.
fn evaluate_whole(evaluator: &Evaluator, collected: Collected) -> stream::Evaluated {
    let objects = collected.resources.len();
    let targets = without_owned(collected.resources);
    let evaluation = evaluator.evaluate(&targets);
    stream::Evaluated {
        objects,
        targets,
        evaluation,
        read_problems: collected.problems,
    }
}

/// Applies the benchmark and the exceptions to what evaluation left, finds the attack paths
/// and the fix list, and merges `problems` (met before collection) with everything met since,
/// sorted once. `evaluated.targets` may be reduced objects (`stream::reduce`): what is read of
/// them here is what that keeps.
fn evaluate_for(
    evaluator: &Evaluator,
    evaluated: stream::Evaluated,
    judging: &Judging,
    scope: Scope,
    mut problems: Vec<Problem>,
) -> ScanReport {
    let Scope {
        target,
        mut context,
        kube_context,
    } = scope;
    let stream::Evaluated {
        objects,
        targets,
        evaluation,
        read_problems,
    } = evaluated;
    // Objects packed while they waited stay packed (unpacked, a million objects' Services,
    // Ingresses and Secrets took some 390 MB more). The steps from here read what a reduced
    // object keeps a moment at a time, through `Resource::read_object`: the attack paths a
    // workload's facts, a Service's selector and exposure, an Ingress's backends and a token
    // Secret's account, and once each the RBAC objects, NetworkPolicies and a ServiceAccount's
    // token setting; the exceptions its labels. What else they read is never packed: the
    // benchmark's components, Namespaces, objects with inline exceptions.
    problems.extend(read_problems);
    problems.extend(evaluation.problems);
    let mut report = ScanReport {
        target,
        // Kubernetes rules always, as before there were other sources; the rules of another
        // input type only when the scan read objects of it, so that a Kubernetes scan's reports
        // (SARIF rule indices, JUnit suites) do not list Compose rules.
        rules: evaluator
            .rules()
            .iter()
            .filter(|r| {
                r.input == crate::resource::InputType::Kubernetes
                    || targets.iter().any(|t| t.input == r.input)
            })
            .map(Rule::info)
            .collect(),
        findings: evaluation.findings,
        suppressed: Vec::new(),
        exceptions: Vec::new(),
        baseline: None,
        problems: Vec::new(),
        objects,
        evaluated: Vec::new(),
        compliance: None,
        attack_paths: Vec::new(),
        fixes: Vec::new(),
    };
    context.node_facts = judging.node_facts.clone();
    let runs = match judging.benchmark {
        BenchmarkChoice::Off => Vec::new(),
        _ => compliance::component_runs(&targets, &context),
    };
    if let Some((name, selection)) = choose(&judging.benchmark, &context, &runs) {
        match apply(
            &name,
            selection,
            judging.cis_level,
            &targets,
            &runs,
            &report,
            &context,
        ) {
            Ok(assessed) => {
                report.findings.extend(assessed.findings);
                crate::finding::sort(&mut report.findings);
                report.rules.extend(assessed.rules);
                report.compliance = Some(assessed.compliance);
                problems.extend(assessed.problems);
            }
            Err(message) => problems.push(Problem::new(
                crate::problem::Level::Error,
                crate::problem::Code::EvalError,
                message,
            )),
        }
    }
    let applied = exceptions::apply(
        std::mem::take(&mut report.findings),
        &judging.exceptions,
        &targets,
        kube_context.as_deref(),
        judging.today.unwrap_or_else(exceptions::today),
    );
    report.findings = applied.findings;
    report.suppressed = applied.suppressed;
    report.exceptions = applied.usage;
    problems.extend(applied.problems);
    problems.sort();
    report.problems = problems;
    // Here, while the objects are at hand: a path keeps only the identities and places of its
    // steps, so the objects can go once it is found.
    report.attack_paths = crate::paths::find(&targets, &report.findings);
    if !judging.skip_fix_list {
        // The fix list's changes are made on the files too, read again under the scan's bound.
        let bound = judging
            .max_input_bytes
            .unwrap_or(collect::input::DEFAULT_MAX_INPUT_BYTES);
        let read = |path: &crate::resource::SourcePath| {
            collect::input::read_text(std::path::Path::new(path.as_str()), bound)
                .map_err(std::io::Error::other)
        };
        report.fixes = crate::fix::proposal::propose(
            &targets,
            &report.findings,
            &report.attack_paths,
            &read,
            crate::fix::proposal::MAX_PROPOSALS,
        );
    }
    report.evaluated = evaluated_objects(targets);
    report
}

fn evaluated_key(e: &EvaluatedObject) -> impl Ord + '_ {
    let o = &e.object;
    let origin = crate::finding::origin_key(&e.origin);
    (
        o.namespace.as_deref(),
        o.kind.as_str(),
        o.name.as_str(),
        origin,
    )
}

/// The evaluated objects in the order findings use (namespace, kind, name, then source).
/// On every core: the rest of each object is freed here, which took one thread some 25 ms of a
/// 10,000-object scan.
fn evaluated_objects(targets: Vec<Resource>) -> Vec<EvaluatedObject> {
    let mut evaluated: Vec<EvaluatedObject> = targets
        .into_par_iter()
        .map(|r| EvaluatedObject {
            input: r.input,
            object: r.id,
            origin: r.origin,
        })
        .collect();
    // Stable: objects of one name and kind in two API groups keep their input order.
    evaluated.par_sort_by(|a, b| evaluated_key(a).cmp(&evaluated_key(b)));
    evaluated
}

/// The benchmark to apply, and why (`posture watch` chooses the same way).
pub(crate) fn choose(
    choice: &BenchmarkChoice,
    context: &compliance::Context,
    runs: &[compliance::subjects::Run<'_>],
) -> Option<(String, Selection)> {
    match choice {
        BenchmarkChoice::Off => None,
        BenchmarkChoice::Named(name) => Some((name.clone(), Selection::Named)),
        BenchmarkChoice::Auto => match context.platform {
            Some(platform) => {
                let name = compliance::for_platform(platform);
                let reason = match platform {
                    crate::snapshot::PlatformKind::Unknown => {
                        "no managed platform detected".to_owned()
                    }
                    known => format!("{} detected", known.as_str()),
                };
                Some((name.to_owned(), Selection::Auto { reason }))
            }
            None => compliance::has_benchmark_evidence(runs, &context.node_facts).then(|| {
                let reason = "the inputs hold control-plane, kubelet or kube-proxy settings \
                              or node facts"
                    .to_owned();
                (compliance::fallback(), Selection::Auto { reason })
            }),
        },
    }
}

pub(crate) fn apply<R: std::borrow::Borrow<Resource>>(
    name: &str,
    selection: Selection,
    cis_level: Option<u8>,
    objects: &[R],
    runs: &[compliance::subjects::Run<'_>],
    report: &ScanReport,
    context: &compliance::Context,
) -> Result<compliance::Assessed, String> {
    let benchmark = Benchmark::builtin(name).map_err(|e| e.to_string())?;
    let (benchmark, left_out) = match cis_level {
        Some(level) => benchmark.at_level(level),
        None => (benchmark, Vec::new()),
    };
    let mut assessed = compliance::assess(
        &benchmark,
        selection,
        objects,
        runs,
        &report.findings,
        &report.rules,
        context,
    )
    .map_err(|e| format!("the benchmark could not be evaluated: {e}"))?;
    assessed.compliance.profile_level = cis_level;
    if let Some(level) = cis_level.filter(|_| !left_out.is_empty()) {
        assessed.problems.push(Problem::new(
            crate::problem::Level::Warning,
            crate::problem::Code::BenchmarkLevel,
            format!(
                "--cis-level {level}: {} leaves out {} recommendation{} whose CIS profile level \
                 no published source states ({}); scan without --cis-level to see them",
                name,
                left_out.len(),
                if left_out.len() == 1 { "" } else { "s" },
                left_out.join(", ")
            ),
        ));
    }
    Ok(assessed)
}

/// Drops objects whose controller is also in the input: a Deployment's ReplicaSets and Pods
/// carry its pod template, so reporting them too would triple every workload finding (kubescape
/// reports workloads the same way). Objects whose owner is absent (a bare Pod, a mirror pod owned
/// by its Node) are kept.
fn without_owned(resources: Vec<Resource>) -> Vec<Resource> {
    let owned = owned_by_present(&resources.iter().collect::<Vec<_>>());
    resources
        .into_iter()
        .zip(owned)
        .filter_map(|(r, owned)| (!owned).then_some(r))
        .collect()
}

/// An object's controllers: kind and name of the owner references marked `controller`, Nodes
/// aside (a mirror pod's owner is its node, which stands for no pod template).
pub(crate) fn controllers(r: &Resource) -> impl Iterator<Item = (&str, &str)> {
    r.object["metadata"]["ownerReferences"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["controller"] == true)
        .filter_map(|o| Some((o["kind"].as_str()?, o["name"].as_str()?)))
        .filter(|(kind, _)| *kind != "Node")
}

/// For each resource, whether its controller is among `resources` (see [`without_owned`]);
/// `posture watch` decides which of its objects the rules judge with it.
pub fn owned_by_present(resources: &[&Resource]) -> Vec<bool> {
    let present: foldhash::HashSet<(&str, Option<&str>, &str)> = resources
        .iter()
        .map(|r| {
            (
                r.id.kind.as_str(),
                r.id.namespace.as_deref(),
                r.id.name.as_str(),
            )
        })
        .collect();
    resources
        .par_iter()
        .map(|r| {
            controllers(r).any(|(kind, name)| {
                present.contains(&(kind, r.id.namespace.as_deref(), name))
                    || present.contains(&(kind, None, name))
            })
        })
        .collect()
}
