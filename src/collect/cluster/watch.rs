//! `posture watch`'s I/O: connect and discover as a scan does, then list and watch every type a
//! scan collects, one kube-runtime watcher per type (per namespace with `-n`), and send what
//! happens as [`Change`]s down a channel. No rule or finding is known here (`crate::watch` owns
//! the state).
//!
//! kube-runtime's watcher asks for bookmarks, resumes from the last resourceVersion it saw, and
//! lists again when the server answers 410 Gone; errors come through as [`Change::Failed`] and
//! the stream waits with an exponential backoff before it tries again. Every `resync` the
//! watcher is dropped and started afresh, so a full list repairs anything a missed event left
//! wrong. Secrets are watched metadata-only: their values never cross the wire.
//!
//! Kubelet configurations are no API objects: each node's is read through the node proxy, as a
//! scan reads it, when the node first appears and again every `kubelet_interval`, and sent as
//! [`Change::Kubelet`].

use super::discovery::{self, ServedType};
use super::request::Api;
use super::{connect, in_scope, is_secret, ClusterError, ClusterName, ClusterOptions, TypeFilter};
use crate::snapshot::{KubeletConfig, NotCollected, Scope, ServerVersion};
use futures::stream::{BoxStream, StreamExt};
use kube::api::{ApiResource, DynamicObject, PartialObjectMeta};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What one watch stream saw. `stream` indexes [`Watching::streams`].
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A full list of the stream began (the first one, after 410 Gone or an error, or a resync):
    /// objects of the stream not applied again before [`Change::Listed`] are gone.
    Relisting {
        stream: usize,
    },
    /// An object was added or changed (or listed), cleaned as a scan cleans it.
    Applied {
        stream: usize,
        object: Value,
    },
    Deleted {
        stream: usize,
        object: Value,
    },
    /// The list begun by `Relisting` is complete.
    Listed {
        stream: usize,
    },
    /// A request failed; the watcher tries again after a backoff.
    Failed {
        stream: usize,
        reason: String,
    },
    /// A node's kubelet configuration was read (or could not be, with the reason).
    Kubelet {
        node: String,
        config: KubeletConfig,
    },
}

/// What the Node stream tells the kubelet reader.
#[derive(Debug)]
enum NodeSeen {
    Present(String),
    Gone(String),
}

/// One watched collection: a type, cluster-wide or in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedStream {
    pub api_version: String,
    pub kind: String,
    /// `deployments.apps`, as `not_collected` names types.
    pub type_name: String,
    pub namespace: Option<String>,
}

/// A running watch: what it connected to, and its streams (stopped when this is dropped).
pub struct Watching {
    pub cluster: ClusterName,
    pub version: ServerVersion,
    pub streams: Vec<WatchedStream>,
    /// Types discovery could not read.
    pub not_collected: Vec<NotCollected>,
    /// The connection, for what the watch writes (`watch::publish`).
    pub client: kube::Client,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Watching {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// How often to start afresh.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    /// Every type is listed afresh this often (`--resync`).
    pub resync: Duration,
    /// Every node's kubelet configuration is read again this often (`--kubelet-interval`).
    pub kubelet: Duration,
}

/// Connects, discovers the types `filter` wants (Secrets always, metadata-only) and starts a
/// watcher for each, and a reader of the kubelet configurations of the nodes the Node watcher
/// sees; changes go to `sink`, which pushes back on the watchers when it is full.
pub async fn start(
    options: &ClusterOptions,
    filter: &dyn TypeFilter,
    intervals: Intervals,
    sink: mpsc::Sender<Change>,
) -> Result<Watching, ClusterError> {
    let resync = intervals.resync;
    let (api, cluster) = connect::connect(&options.connect, &super::Silent).await?;
    let info = super::server_version(&api).await?;
    let discovered = discovery::discover(&api).await?;
    let types = super::wanted_types(discovered.types, filter);
    let scope = Arc::new(Scope {
        namespaces: options.namespaces.clone(),
        exclude_namespaces: options.exclude_namespaces.clone(),
    });
    let mut streams = Vec::new();
    let mut tasks = Vec::new();
    let client = api.client().clone();
    let (nodes, seen) = mpsc::unbounded_channel();
    for ty in types {
        let namespaces: Vec<Option<String>> = match (&options.namespaces, ty.namespaced) {
            (Some(list), true) => list.iter().cloned().map(Some).collect(),
            _ => vec![None],
        };
        for namespace in namespaces {
            let index = streams.len();
            streams.push(WatchedStream {
                api_version: ty.api_version(),
                kind: ty.kind.clone(),
                type_name: ty.qualified_name(),
                namespace: namespace.clone(),
            });
            let is_node = ty.group.is_empty() && ty.kind == "Node";
            let stream = Stream {
                client: client.clone(),
                nodes: is_node.then(|| nodes.clone()),
                ty: ty.clone(),
                namespace,
                index,
                resync,
                page_size: options.page_size,
                scope: Arc::clone(&scope),
                sink: sink.clone(),
            };
            tasks.push(tokio::spawn(stream.run()));
        }
    }
    drop(nodes);
    let client = api.client().clone();
    tasks.push(tokio::spawn(read_kubelets(
        api,
        intervals.kubelet,
        options.concurrency,
        seen,
        sink,
    )));
    Ok(Watching {
        cluster,
        version: ServerVersion {
            git_version: info.git_version,
            major: info.major,
            minor: info.minor,
            platform: info.platform,
        },
        streams,
        not_collected: discovered.not_collected,
        client,
        tasks,
    })
}

struct Stream {
    client: kube::Client,
    /// The kubelet reader, for the Node stream.
    nodes: Option<mpsc::UnboundedSender<NodeSeen>>,
    ty: ServedType,
    namespace: Option<String>,
    index: usize,
    resync: Duration,
    page_size: u32,
    scope: Arc<Scope>,
    sink: mpsc::Sender<Change>,
}

impl Stream {
    fn api<K>(&self) -> kube::Api<K>
    where
        K: kube::Resource<DynamicType = ApiResource, Scope = kube::core::DynamicResourceScope>,
    {
        let resource = ApiResource {
            group: self.ty.group.clone(),
            version: self.ty.version.clone(),
            api_version: self.ty.api_version(),
            kind: self.ty.kind.clone(),
            plural: self.ty.plural.clone(),
        };
        match &self.namespace {
            Some(ns) => kube::Api::namespaced_with(self.client.clone(), ns, &resource),
            None => kube::Api::all_with(self.client.clone(), &resource),
        }
    }

    /// A watcher's events as JSON values; metadata-only for Secrets (an `Api` of
    /// `PartialObjectMeta` asks the server for metadata only).
    fn events(&self) -> BoxStream<'static, Result<Event<Value>, watcher::Error>> {
        let config = watcher::Config::default().page_size(self.page_size);
        if is_secret(&self.ty) {
            watcher::watcher(self.api::<PartialObjectMeta<DynamicObject>>(), config)
                .map(|e| e.map(to_values))
                .boxed()
        } else {
            watcher::watcher(self.api::<DynamicObject>(), config)
                .map(|e| e.map(to_values))
                .boxed()
        }
    }

    async fn run(self) {
        loop {
            let mut events = Box::pin(self.events().default_backoff());
            let resync = tokio::time::sleep(self.resync);
            tokio::pin!(resync);
            loop {
                let item = tokio::select! {
                    _ = &mut resync => break,
                    item = events.next() => item,
                };
                let change = match item {
                    // A watcher does not end; should it, the next round starts one afresh.
                    None => break,
                    Some(Ok(event)) => match self.change(event) {
                        Some(change) => change,
                        None => continue,
                    },
                    Some(Err(error)) => Change::Failed {
                        stream: self.index,
                        reason: crate::problem::error_chain(&error),
                    },
                };
                self.tell_kubelet_reader(&change);
                if self.sink.send(change).await.is_err() {
                    return;
                }
            }
        }
    }

    fn tell_kubelet_reader(&self, change: &Change) {
        let Some(nodes) = &self.nodes else { return };
        let name = |o: &Value| o["metadata"]["name"].as_str().map(str::to_owned);
        let seen = match change {
            Change::Applied { object, .. } => name(object).map(NodeSeen::Present),
            Change::Deleted { object, .. } => name(object).map(NodeSeen::Gone),
            _ => None,
        };
        if let Some(seen) = seen {
            // The reader is gone only when the watch stops.
            let _ = nodes.send(seen);
        }
    }

    fn change(&self, event: Event<Value>) -> Option<Change> {
        let stream = self.index;
        Some(match event {
            Event::Init => Change::Relisting { stream },
            Event::InitDone => Change::Listed { stream },
            Event::Apply(o) | Event::InitApply(o) => Change::Applied {
                stream,
                object: self.clean(o)?,
            },
            Event::Delete(o) => Change::Deleted {
                stream,
                object: self.clean(o)?,
            },
        })
    }

    /// Cleaned as a list cleans (kind set, managed fields and Secret values dropped), and kept to
    /// what rules read: no status, no resourceVersion (which changes with every status update,
    /// and would make an unchanged object look changed). Out-of-scope objects are dropped.
    fn clean(&self, object: Value) -> Option<Value> {
        let mut object = super::list::normalize(object, &self.ty);
        strip(&mut object);
        in_scope(&self.scope, &self.ty, &object).then_some(object)
    }
}

/// Reads a node's kubelet configuration when the node first appears, and every node's every
/// `interval`; ends when the Node streams and the sink are gone.
async fn read_kubelets(
    api: Api,
    interval: Duration,
    concurrency: usize,
    mut seen: mpsc::UnboundedReceiver<NodeSeen>,
    sink: mpsc::Sender<Change>,
) {
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let read = |node: String| {
        let api = &api;
        async move {
            let config = super::kubelet::configz(api, &node).await;
            Change::Kubelet { node, config }
        }
    };
    loop {
        let due: Vec<String> = tokio::select! {
            message = seen.recv() => match message {
                Some(NodeSeen::Present(node)) if known.insert(node.clone()) => vec![node],
                Some(NodeSeen::Present(_)) => continue,
                Some(NodeSeen::Gone(node)) => {
                    known.remove(&node);
                    continue;
                }
                // No Node stream (not served, or the watch stops): the interval still applies.
                None if known.is_empty() && sink.is_closed() => return,
                None => {
                    ticks.tick().await;
                    known.iter().cloned().collect()
                }
            },
            _ = ticks.tick() => known.iter().cloned().collect(),
        };
        let mut reads = futures::stream::iter(due)
            .map(read)
            .buffer_unordered(concurrency.max(1));
        while let Some(change) = reads.next().await {
            if sink.send(change).await.is_err() {
                return;
            }
        }
    }
}

fn to_values<K: serde::Serialize>(event: Event<K>) -> Event<Value> {
    let value = |o: K| serde_json::to_value(o).unwrap_or(Value::Null);
    match event {
        Event::Apply(o) => Event::Apply(value(o)),
        Event::Delete(o) => Event::Delete(value(o)),
        Event::Init => Event::Init,
        Event::InitApply(o) => Event::InitApply(value(o)),
        Event::InitDone => Event::InitDone,
    }
}

/// Removes what no rule reads and what changes without a change to the object's posture: the
/// watch holds every object for as long as it runs, so only what rules read is kept.
pub fn strip(object: &mut Value) {
    if let Value::Object(map) = object {
        map.remove("status");
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("resourceVersion");
            meta.remove("managedFields");
            // `normalize` drops it already; an object that reached the watch another way (the
            // load tools) must not keep a second copy of itself either.
            if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_watched_object_keeps_no_status_managed_fields_or_last_applied_configuration() {
        let ty = ServedType {
            group: String::new(),
            version: "v1".to_owned(),
            kind: "Pod".to_owned(),
            plural: "pods".to_owned(),
            namespaced: true,
        };
        let served = json!({"metadata": {"name": "p", "namespace": "web", "resourceVersion": "7",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": "Running"}});
        let mut kept = super::super::list::normalize(served, &ty);
        strip(&mut kept);
        assert_eq!(
            kept,
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": "web", "annotations": {"team": "a"}},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]}})
        );
        // Alone too (the load tools hand objects over without a list's cleaning), and an
        // annotation map left empty goes with it.
        let mut applied = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}});
        strip(&mut applied);
        assert_eq!(
            applied,
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
        );
    }
}
