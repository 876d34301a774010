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
pub mod watch;

pub use connect::{context_names, ClusterName, ConnectOptions, RetryPolicy};
pub use exec::ExecError;
pub use request::{ApiStatus, Endpoint, RequestError};

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
}

/// [`collect`] on a runtime of its own, for callers that are not async.
pub fn collect_blocking(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
) -> Result<Snapshot, ClusterError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ClusterError::Runtime)?;
    runtime.block_on(collect(options, filter, progress))
}

/// Collects a snapshot of the cluster the options point at.
pub async fn collect(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    progress: &dyn Progress,
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

    progress.add_steps(types.len());
    let listed = list_types(&api, &types, options, progress).await;
    let mut objects = Vec::new();
    let mut resource_types = Vec::new();
    for (ty, result) in types.iter().zip(listed) {
        let metadata_only = is_secret(ty);
        match result {
            Ok(found) => {
                let kept: Vec<Value> = found
                    .into_iter()
                    .filter(|o| in_scope(&scope, ty, o))
                    .collect();
                resource_types.push(ResourceType {
                    api_version: ty.api_version(),
                    kind: ty.kind.clone(),
                    resource: ty.plural.clone(),
                    namespaced: ty.namespaced,
                    count: kept.len(),
                    metadata_only,
                });
                objects.extend(kept);
            }
            Err(error) => not_collected.push(NotCollected {
                target: ty.qualified_name(),
                reason: error.reason(),
            }),
        }
    }

    let node_objects: Vec<&Value> = objects
        .iter()
        .filter(|o| is_kind(o, "v1", "Node"))
        .collect();
    progress.add_steps(node_objects.len());
    let nodes = read_kubelets(&api, &node_objects, options.concurrency, progress).await;
    let pods: Vec<&Value> = objects.iter().filter(|o| is_kind(o, "v1", "Pod")).collect();
    let platform = detect_platform(&version.git_version, &node_objects, &pods);

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
        objects,
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

/// Lists every type, several at once; results come back in the order of `types`.
async fn list_types(
    api: &Api,
    types: &[ServedType],
    options: &ClusterOptions,
    progress: &dyn Progress,
) -> Vec<Result<Vec<Value>, ListError>> {
    let limits = ListLimits {
        page_size: options.page_size,
        max_pages: options.max_pages,
        max_items: options.max_list_items,
    };
    stream::iter(types)
        .map(|ty| async move {
            let namespaces: Vec<Option<&str>> = match (&options.namespaces, ty.namespaced) {
                (Some(list), true) => list.iter().map(|n| Some(n.as_str())).collect(),
                _ => vec![None],
            };
            let mut objects = Vec::new();
            for ns in namespaces {
                objects.extend(list::list_all(api, ty, ns, limits, is_secret(ty)).await?);
            }
            progress.step(&ty.qualified_name());
            Ok(objects)
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await
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

fn is_kind(object: &Value, api_version: &str, kind: &str) -> bool {
    object["apiVersion"] == api_version && object["kind"] == kind
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
