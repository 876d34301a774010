//! The live-cluster collector: connect through the kubeconfig, discover the served types, list
//! every type a rule needs, read each node's kubelet configuration, and return one [`Snapshot`].
//!
//! All network I/O for clusters lives here. Nothing a single request answers (403, timeout,
//! expired token, unreachable kubelet, a bound exceeded) aborts collection: it becomes a
//! `not_collected` entry. Only a cluster that cannot be reached at all is an error. Every
//! request is bounded in time and size, and every list in pages and objects, so a hostile or
//! broken server can neither hang posture nor exhaust its memory.

mod connect;
mod discovery;
mod exec;
mod kubelet;
mod list;
mod request;
mod spill;
pub mod watch;

pub use connect::{context_names, ClusterName, ConnectOptions, RetryPolicy};
pub use exec::ExecError;
pub use request::{ApiStatus, Endpoint, RequestError};
pub use spill::{collect_spilled, Spilled};

use crate::snapshot::{
    detect_platform, ClusterInfo, NodeEvidence, NotCollected, ResourceType, Scope, ServerVersion,
    Snapshot, Tool, SCHEMA_VERSION,
};
use discovery::ServedType;
use futures::stream::{self, StreamExt};
use list::{ListError, ListLimits};
use request::Api;
use serde_json::Value;

/// What to collect and how hard to push the API server.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub connect: ConnectOptions,
    /// Namespaces to collect; `None` collects all.
    pub namespaces: Option<Vec<String>>,
    pub exclude_namespaces: Vec<String>,
    /// Requests in flight at once (lists and kubelet reads).
    pub concurrency: usize,
    /// Objects per list page.
    pub page_size: u32,
    /// Pages read per list before its continue token is given up on.
    pub max_pages: usize,
    /// Objects kept per list.
    pub max_list_items: usize,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            connect: ConnectOptions::default(),
            namespaces: None,
            exclude_namespaces: Vec::new(),
            concurrency: 8,
            page_size: 500,
            // 500,000 objects at 500 a page: beyond any type of the largest clusters
            // Kubernetes supports (150,000 Pods).
            max_pages: 1000,
            max_list_items: 250_000,
        }
    }
}

/// Which types to collect, as (API group, kind). Secrets are always collected metadata-only.
pub trait TypeFilter: Sync {
    fn wants(&self, group: &str, kind: &str) -> bool;

    /// Whether the type is listed before the others (a scan needs it before it can evaluate
    /// them).
    fn first(&self, _group: &str, _kind: &str) -> bool {
        false
    }
}

impl<F: Fn(&str, &str) -> bool + Sync> TypeFilter for F {
    fn wants(&self, group: &str, kind: &str) -> bool {
        self(group, kind)
    }
}

/// Progress reporting for a terminal; the library itself never prints.
pub trait Progress: Sync {
    /// `total` more steps are known (types to list, then nodes to read).
    fn add_steps(&self, total: usize);
    /// One step finished; `what` names it (`deployments.apps`, `node aks-1`).
    fn step(&self, what: &str);
    /// What collection waits for before any step is known (`connecting to https://...`).
    fn phase(&self, _what: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn add_steps(&self, _: usize) {}
    fn step(&self, _: &str) {}
}

/// Errors that leave nothing to scan. Everything narrower is a `not_collected` entry.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "cannot load the kubeconfig (set --kubeconfig or KUBECONFIG, or run inside a cluster)"
    )]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    #[error(
        "no kubeconfig: {} does not exist and KUBECONFIG is not set. To scan manifests, name \
         them (`posture scan DIR`, or `-f FILE`); to scan a cluster, pass --kubeconfig FILE or \
         --context NAME, or run posture inside the cluster",
        .0.display()
    )]
    NoKubeconfig(std::path::PathBuf),
    #[error("cannot load the in-cluster service account configuration")]
    InCluster(#[source] kube::config::InClusterError),
    #[error("the kubeconfig has no current context; name one with --context")]
    NoContext,
    #[error("context '{0}' is not in the kubeconfig (kubectl config get-contexts lists them)")]
    UnknownContext(String),
    #[error("the {field} of cluster '{cluster}' in the kubeconfig holds no PEM certificate")]
    CertificateAuthority {
        cluster: String,
        field: &'static str,
        #[source]
        source: Option<kube::config::KubeconfigError>,
    },
    #[error("cannot get a credential for {endpoint}")]
    Credential {
        endpoint: Endpoint,
        #[source]
        source: ExecError,
    },
    #[error("cannot build a client for {endpoint}")]
    Client {
        endpoint: Endpoint,
        #[source]
        source: kube::Error,
    },
    #[error("cannot reach {endpoint}")]
    Unreachable {
        endpoint: Endpoint,
        #[source]
        source: RequestError,
    },
    #[error("{endpoint} answered /version with an error")]
    Refused {
        endpoint: Endpoint,
        #[source]
        source: RequestError,
    },
    #[error("cannot discover the resource types of {endpoint}")]
    Discovery {
        endpoint: Endpoint,
        #[source]
        source: RequestError,
    },
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(
        "cannot keep the listed objects in a temporary file (point TMPDIR at a writable \
         directory with room)"
    )]
    Spill(#[source] std::io::Error),
}

/// [`collect`] on a runtime of its own, for callers that are not async.
pub fn collect_blocking(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
) -> Result<Snapshot, ClusterError> {
    runtime()?.block_on(collect(options, filter, progress))
}

/// The runtime a blocking caller collects on.
pub fn runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)
}

/// Collects a snapshot of the cluster the options point at.
pub async fn collect(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
) -> Result<Snapshot, ClusterError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(PAGES_IN_FLIGHT);
    let gather = async move {
        let mut standing = Standing::default();
        while let Some(listed) = rx.recv().await {
            standing.take(listed, Some);
        }
        standing
    };
    let (collected, standing) = tokio::join!(collect_into(options, filter, progress, tx), gather);
    let mut snapshot = collected?;
    snapshot.objects = standing.in_order().flatten().collect();
    Ok(snapshot)
}

/// Pages handed on and not yet taken: enough to keep evaluation busy while lists go on, few
/// enough (about 500 objects each) to bound what waits.
pub const PAGES_IN_FLIGHT: usize = 4;

/// What [`collect_into`] hands on as it lists, in this order for each list: pages, perhaps a
/// restart and pages again, then done.
#[derive(Debug)]
pub enum Listed {
    /// First: the cluster's name, and the types that will be listed, in a snapshot's order
    /// (`ty` below is an index into them).
    Start {
        cluster: String,
        types: Vec<ListedType>,
    },
    /// Objects of `types[ty]` (in part `part`: one list per namespace with `--namespace`),
    /// normalised and in scope.
    Page {
        ty: usize,
        part: usize,
        objects: Vec<Value>,
    },
    /// The list of `types[ty]`'s part `part` started again (its continue token expired): the
    /// pages of that part handed so far are superseded.
    Restart { ty: usize, part: usize },
    /// `types[ty]` is listed: in full (`complete`), or not collected, and then its pages are
    /// not a whole list and must be forgotten.
    Done { ty: usize, complete: bool },
}

/// A type [`collect_into`] lists.
#[derive(Debug, Clone)]
pub struct ListedType {
    pub api_version: String,
    pub group: String,
    pub kind: String,
}

/// The pages of a [`Listed`] sequence that stand: those of a list part that started again
/// before it restarted, and those of a type not collected, are dropped. What a snapshot keeps
/// of each page is `T` (its objects, or where they were written).
pub(super) struct Standing<T> {
    pages: Vec<(usize, usize, T)>,
}

impl<T> Default for Standing<T> {
    fn default() -> Self {
        Standing { pages: Vec::new() }
    }
}

impl<T> Standing<T> {
    /// Takes one event; a page is kept as `keep` makes it (`None`: nothing to keep).
    pub(super) fn take(&mut self, listed: Listed, keep: impl FnOnce(Vec<Value>) -> Option<T>) {
        match listed {
            Listed::Start { .. } => {}
            Listed::Page { ty, part, objects } => {
                if let Some(kept) = keep(objects) {
                    self.pages.push((ty, part, kept));
                }
            }
            Listed::Restart { ty, part } => self.pages.retain(|p| (p.0, p.1) != (ty, part)),
            Listed::Done { ty, complete } => {
                if !complete {
                    self.pages.retain(|p| p.0 != ty);
                }
            }
        }
    }

    /// What was kept, as a snapshot holds it: in the order of the types, then of the list
    /// parts, then of the pages.
    pub(super) fn in_order(mut self) -> impl Iterator<Item = T> {
        self.pages.sort_by_key(|p| (p.0, p.1));
        self.pages.into_iter().map(|p| p.2)
    }
}

/// Collects the cluster the options point at, handing each page of objects to `pages` as it
/// arrives (see [`Listed`]); returns the snapshot without its objects. The types `filter`
/// lists [first](TypeFilter::first) are started before the others, so that the objects that
/// need them wait least.
pub async fn collect_into(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
    pages: tokio::sync::mpsc::Sender<Listed>,
) -> Result<Snapshot, ClusterError> {
    let (api, name) = connect::connect(&options.connect, progress).await?;
    let collected_at = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let version = server_version(&api).await?;
    progress.phase("discovering resource types");
    let discovered = discovery::discover(&api).await?;
    let mut not_collected = discovered.not_collected;
    let types = wanted_types(discovered.types, filter);
    let scope = Scope {
        namespaces: options.namespaces.clone(),
        exclude_namespaces: options.exclude_namespaces.clone(),
    };
    // A consumer that has gone away wants nothing more; listing goes on for the snapshot.
    let _ = pages
        .send(Listed::Start {
            cluster: name.cluster.clone(),
            types: types
                .iter()
                .map(|t| ListedType {
                    api_version: t.api_version(),
                    group: t.group.clone(),
                    kind: t.kind.clone(),
                })
                .collect(),
        })
        .await;

    progress.add_steps(types.len());
    let listed = list_types(&api, &types, &scope, options, filter, progress, &pages).await;
    let mut resource_types = Vec::new();
    let mut node_objects = Vec::new();
    let mut mirror_pods = Vec::new();
    for (ty, result) in types.iter().zip(listed) {
        match result {
            Ok(found) => {
                resource_types.push(ResourceType {
                    api_version: ty.api_version(),
                    kind: ty.kind.clone(),
                    resource: ty.plural.clone(),
                    namespaced: ty.namespaced,
                    count: found.count,
                    metadata_only: is_secret(ty),
                });
                if is_type(ty, "Node") {
                    node_objects = found.kept;
                } else if is_type(ty, "Pod") {
                    mirror_pods = found.kept;
                }
            }
            Err(error) => not_collected.push(NotCollected {
                target: ty.qualified_name(),
                reason: error.reason(),
            }),
        }
    }
    drop(pages);

    let node_objects: Vec<&Value> = node_objects.iter().collect();
    progress.add_steps(node_objects.len());
    let nodes = read_kubelets(&api, &node_objects, options.concurrency, progress).await;
    let mirror_pods: Vec<&Value> = mirror_pods.iter().collect();
    let platform = detect_platform(&version.git_version, &node_objects, &mirror_pods);

    Ok(Snapshot {
        schema_version: SCHEMA_VERSION.to_owned(),
        tool: Tool::default(),
        cluster: ClusterInfo {
            name: name.cluster,
            context: name.context,
            server_version: ServerVersion {
                git_version: version.git_version,
                major: version.major,
                minor: version.minor,
                platform: version.platform,
            },
            platform,
        },
        collected_at: collected_at.to_string(),
        discovery: discovered.method,
        scope,
        resource_types,
        objects: Vec::new(),
        nodes,
        not_collected,
    })
}

/// `/version`: the first request, so its failure says the server cannot be reached.
async fn server_version(
    api: &Api,
) -> Result<k8s_openapi::apimachinery::pkg::version::Info, ClusterError> {
    let request = http::Request::get("/version")
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| RequestError::Transport(kube::Error::HttpError(e)));
    let answer = match request {
        Ok(request) => api.get(request).await,
        Err(e) => Err(e),
    };
    answer.map_err(|source| {
        let endpoint = api.endpoint.clone();
        if source.answered() {
            ClusterError::Refused { endpoint, source }
        } else {
            ClusterError::Unreachable { endpoint, source }
        }
    })
}

/// One type listed: how many of its objects are in scope, and those collection itself reads
/// (Nodes for their kubelets and the platform, control-plane mirror Pods for the platform).
struct Found {
    count: usize,
    kept: Vec<Value>,
}

/// Hands one list's pages on, in scope, keeping what [`Found`] keeps.
struct Handing<'a> {
    pages: &'a tokio::sync::mpsc::Sender<Listed>,
    ty: usize,
    part: usize,
    served: &'a ServedType,
    scope: &'a Scope,
    keep: fn(&Value) -> bool,
    /// Of this part, since its last restart.
    count: usize,
    kept: Vec<Value>,
}

impl list::Pages for Handing<'_> {
    async fn page(&mut self, objects: Vec<Value>) {
        let objects: Vec<Value> = objects
            .into_iter()
            .filter(|o| in_scope(self.scope, self.served, o))
            .collect();
        self.count += objects.len();
        let keep = self.keep;
        self.kept
            .extend(objects.iter().filter(|o| keep(o)).cloned());
        if !objects.is_empty() {
            let _ = self
                .pages
                .send(Listed::Page {
                    ty: self.ty,
                    part: self.part,
                    objects,
                })
                .await;
        }
    }

    async fn restart(&mut self) {
        self.count = 0;
        self.kept.clear();
        let _ = self
            .pages
            .send(Listed::Restart {
                ty: self.ty,
                part: self.part,
            })
            .await;
    }
}

/// Lists every type, several at once, those `filter` wants [first](TypeFilter::first) first; results come back in the order
/// of `types`.
async fn list_types(
    api: &Api,
    types: &[ServedType],
    scope: &Scope,
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
    pages: &tokio::sync::mpsc::Sender<Listed>,
) -> Vec<Result<Found, ListError>> {
    let limits = ListLimits {
        page_size: options.page_size,
        max_pages: options.max_pages,
        max_items: options.max_list_items,
    };
    let mut order: Vec<usize> = (0..types.len()).collect();
    order.sort_by_key(|&i| !filter.first(&types[i].group, &types[i].kind));
    let mut results: Vec<(usize, Result<Found, ListError>)> = stream::iter(order)
        .map(|i| async move {
            let ty = &types[i];
            let namespaces: Vec<Option<&str>> = match (&options.namespaces, ty.namespaced) {
                (Some(list), true) => list.iter().map(|n| Some(n.as_str())).collect(),
                _ => vec![None],
            };
            let keep: fn(&Value) -> bool = if is_type(ty, "Node") {
                |_| true
            } else if is_type(ty, "Pod") {
                crate::snapshot::is_control_plane_mirror_pod
            } else {
                |_| false
            };
            let mut found = Found {
                count: 0,
                kept: Vec::new(),
            };
            let mut outcome = Ok(());
            for (part, ns) in namespaces.into_iter().enumerate() {
                let mut handing = Handing {
                    pages,
                    ty: i,
                    part,
                    served: ty,
                    scope,
                    keep,
                    count: 0,
                    kept: Vec::new(),
                };
                let listed = list::list_all(api, ty, ns, limits, is_secret(ty), &mut handing).await;
                if let Err(e) = listed {
                    outcome = Err(e);
                    break;
                }
                found.count += handing.count;
                found.kept.extend(handing.kept);
            }
            let _ = pages
                .send(Listed::Done {
                    ty: i,
                    complete: outcome.is_ok(),
                })
                .await;
            progress.step(&ty.qualified_name());
            (i, outcome.map(|()| found))
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn read_kubelets(
    api: &Api,
    nodes: &[&Value],
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<NodeEvidence> {
    stream::iter(nodes)
        .map(|node| async move {
            let name = node["metadata"]["name"].as_str().unwrap_or_default();
            let config = kubelet::configz(api, name).await;
            progress.step(&format!("node {name}"));
            NodeEvidence::from_node(node, config)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// The served types a scan (or a watch) reads: those `filter` wants, and Secrets (as metadata)
/// always, in one fixed order.
pub(super) fn wanted_types(types: Vec<ServedType>, filter: &dyn TypeFilter) -> Vec<ServedType> {
    let mut types: Vec<ServedType> = types
        .into_iter()
        .filter(|t| is_secret(t) || filter.wants(&t.group, &t.kind))
        .collect();
    types.sort_by(|a, b| (&a.group, &a.plural).cmp(&(&b.group, &b.plural)));
    types
}

fn is_secret(ty: &ServedType) -> bool {
    ty.group.is_empty() && ty.kind == "Secret"
}

/// Whether `ty` is the core type `kind` (`Node`, `Pod`).
fn is_type(ty: &ServedType, kind: &str) -> bool {
    ty.group.is_empty() && ty.kind == kind
}

/// Namespaced objects follow the namespace scope, and so do Namespace objects themselves.
fn in_scope(scope: &Scope, ty: &ServedType, object: &Value) -> bool {
    let namespace = if ty.namespaced {
        object["metadata"]["namespace"].as_str()
    } else if ty.group.is_empty() && ty.kind == "Namespace" {
        object["metadata"]["name"].as_str()
    } else {
        None
    };
    namespace.is_none_or(|ns| scope.includes(ns))
}
