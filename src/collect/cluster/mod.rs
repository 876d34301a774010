//! The live-cluster collector: connect through the kubeconfig, discover the served types, list
//! every type a rule needs, read each node's kubelet configuration, and return one [`Snapshot`].
//!
//! All network I/O for clusters lives here. Nothing a single request answers (403, timeout,
//! expired token, unreachable kubelet) aborts collection: it becomes a `not_collected` entry.
//! Only a cluster that cannot be reached at all is an error.

mod connect;
mod discovery;
mod kubelet;
mod list;

pub use connect::{ClusterName, ConnectOptions, RetryPolicy};

use crate::snapshot::{
    detect_platform, ClusterInfo, NodeEvidence, NotCollected, ResourceType, Scope, ServerVersion,
    Snapshot, Tool, SCHEMA_VERSION,
};
use discovery::ServedType;
use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::time::Duration;

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
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            connect: ConnectOptions {
                request_timeout: Duration::from_secs(30),
                ..ConnectOptions::default()
            },
            namespaces: None,
            exclude_namespaces: Vec::new(),
            concurrency: 8,
            page_size: 500,
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
    #[error("cannot load the in-cluster service account configuration")]
    InCluster(#[source] kube::config::InClusterError),
    #[error("the kubeconfig has no current context; name one with --context")]
    NoContext,
    #[error("context '{0}' is not in the kubeconfig (kubectl config get-contexts lists them)")]
    UnknownContext(String),
    #[error("cannot build a client for the cluster")]
    Client(#[source] kube::Error),
    #[error("cannot reach the API server: {0}")]
    Unreachable(String),
    #[error("cannot discover the API server's resource types: {0}")]
    Discovery(String),
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// A short reason for a failed request: the API's status line and message, or the transport
/// error chain.
pub fn api_error_reason(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            let reason = if status.reason.is_empty() {
                String::new()
            } else {
                format!(" {}", status.reason)
            };
            format!("{}{reason}: {}", status.code, status.message)
        }
        other => {
            let text = crate::problem::error_chain(other);
            if text.contains("timed out") || text.contains("elapsed") {
                format!("timed out (see --request-timeout): {text}")
            } else {
                text
            }
        }
    }
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
    let (client, name) = connect::connect(&options.connect).await?;
    let collected_at = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now());
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| ClusterError::Unreachable(api_error_reason(&e)))?;
    let discovered = discovery::discover(&client).await?;
    let mut not_collected = discovered.not_collected;
    let mut types: Vec<ServedType> = discovered
        .types
        .into_iter()
        .filter(|t| is_secret(t) || filter.wants(&t.group, &t.kind))
        .collect();
    types.sort_by(|a, b| (&a.group, &a.plural).cmp(&(&b.group, &b.plural)));
    let scope = Scope {
        namespaces: options.namespaces.clone(),
        exclude_namespaces: options.exclude_namespaces.clone(),
    };

    progress.add_steps(types.len());
    let listed = list_types(&client, &types, options, progress).await;
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
            Err(reason) => not_collected.push(NotCollected {
                target: ty.qualified_name(),
                reason,
            }),
        }
    }

    let node_objects: Vec<&Value> = objects
        .iter()
        .filter(|o| is_kind(o, "v1", "Node"))
        .collect();
    progress.add_steps(node_objects.len());
    let nodes = read_kubelets(&client, &node_objects, options.concurrency, progress).await;
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

/// Lists every type, several at once; results come back in the order of `types`.
async fn list_types(
    client: &kube::Client,
    types: &[ServedType],
    options: &ClusterOptions,
    progress: &dyn Progress,
) -> Vec<Result<Vec<Value>, String>> {
    stream::iter(types)
        .map(|ty| async move {
            let namespaces: Vec<Option<&str>> = match (&options.namespaces, ty.namespaced) {
                (Some(list), true) => list.iter().map(|n| Some(n.as_str())).collect(),
                _ => vec![None],
            };
            let mut objects = Vec::new();
            for ns in namespaces {
                objects.extend(
                    list::list_all(client, ty, ns, options.page_size, is_secret(ty)).await?,
                );
            }
            progress.step(&ty.qualified_name());
            Ok(objects)
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await
}

async fn read_kubelets(
    client: &kube::Client,
    nodes: &[&Value],
    concurrency: usize,
    progress: &dyn Progress,
) -> Vec<NodeEvidence> {
    stream::iter(nodes)
        .map(|node| async move {
            let name = node["metadata"]["name"].as_str().unwrap_or_default();
            let config = kubelet::configz(client, name).await;
            progress.step(&format!("node {name}"));
            NodeEvidence::from_node(node, config)
        })
        .buffered(concurrency.max(1))
        .collect()
        .await
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
