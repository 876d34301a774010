//! A mutable object store for the watch API server (`store_server`): the objects of each type,
//! one resourceVersion counter for all of them as etcd keeps one, and the log of changes that
//! watch streams replay from a resourceVersion. Tests add, change and delete objects while the
//! server runs, expire resourceVersions (410 Gone) and drop open watch connections.
//!
//! No sockets here: `store_server` routes requests, `watch_stream` turns the log into watch
//! events. It needs nothing from `shared/`: objects come from the test or from the repo's own
//! fixtures.

use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A served resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl StoreType {
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        StoreType {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            namespaced,
        }
    }

    /// `v1`, `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// The types `posture watch` reads from a plain cluster: workloads, the inventory the rules read
/// (RBAC, NetworkPolicies, namespace limits), Services and Ingresses, Nodes and Secrets.
pub fn default_types() -> Vec<StoreType> {
    let t = StoreType::new;
    vec![
        t("", "v1", "Namespace", "namespaces", false),
        t("", "v1", "Node", "nodes", false),
        t("", "v1", "Pod", "pods", true),
        t("", "v1", "ConfigMap", "configmaps", true),
        t("", "v1", "Secret", "secrets", true),
        t("", "v1", "ServiceAccount", "serviceaccounts", true),
        t("", "v1", "Service", "services", true),
        t("", "v1", "LimitRange", "limitranges", true),
        t("", "v1", "ResourceQuota", "resourcequotas", true),
        t("apps", "v1", "Deployment", "deployments", true),
        t("apps", "v1", "ReplicaSet", "replicasets", true),
        t("apps", "v1", "DaemonSet", "daemonsets", true),
        t("apps", "v1", "StatefulSet", "statefulsets", true),
        t("batch", "v1", "Job", "jobs", true),
        t("batch", "v1", "CronJob", "cronjobs", true),
        t(
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
        ),
        t("networking.k8s.io", "v1", "Ingress", "ingresses", true),
        t("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
        ),
        t(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
        ),
    ]
}

/// How the store's server behaves.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub types: Vec<StoreType>,
    /// How often a watch that asked for bookmarks gets one (the apiserver sends one about a
    /// minute; tests want them sooner).
    pub bookmark_interval: Duration,
    /// Log entries kept for watch resumption; older resourceVersions answer 410 Gone, as after
    /// an etcd compaction.
    pub log_limit: usize,
    /// `/version`'s gitVersion.
    pub git_version: String,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            types: default_types(),
            bookmark_interval: Duration::from_millis(500),
            log_limit: 200_000,
            git_version: "v1.30.2".to_owned(),
        }
    }
}

/// One change, as a watch stream sends it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub revision: u64,
    /// Index into the store's types.
    pub ty: usize,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub event: &'static str,
    /// The object with apiVersion, kind and its resourceVersion.
    pub object: Value,
}

/// A watch's resourceVersion is older than the oldest change kept: 410 Gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired;

/// The objects and the log, behind one lock.
pub struct Store {
    pub options: StoreOptions,
    inner: Mutex<Inner>,
    /// Bumped on every change (and on every expiry or drop), waking the watch streams.
    notify: tokio::sync::watch::Sender<u64>,
    /// Whether lists wait (`hold_lists`), so a test sees a watcher before its first list.
    lists_held: tokio::sync::watch::Sender<bool>,
}

#[derive(Default)]
struct Inner {
    /// Per type: objects by (namespace, name), in etcd's key order.
    objects: Vec<BTreeMap<(String, String), Value>>,
    revision: u64,
    log: VecDeque<Logged>,
    /// Watches from a resourceVersion before this answer 410 Gone.
    oldest: u64,
    /// Open watch streams started before the current generation end with an error.
    drop_generation: u64,
    /// Open watch streams started before this generation get a 410 ERROR event and end.
    expire_generation: u64,
    /// Node name to what its kubelet's `/configz` answers (`{"kubeletconfig": {...}}`).
    kubelets: BTreeMap<String, Value>,
    next_uid: u64,
}

impl Store {
    pub fn new(options: StoreOptions) -> Store {
        let inner = Inner {
            objects: vec![BTreeMap::new(); options.types.len()],
            revision: 1000,
            oldest: 1000,
            ..Inner::default()
        };
        Store {
            options,
            inner: Mutex::new(inner),
            notify: tokio::sync::watch::Sender::new(0),
            lists_held: tokio::sync::watch::Sender::new(false),
        }
    }

    /// While `true`, list requests wait (watches and discovery do not).
    pub fn hold_lists(&self, held: bool) {
        self.lists_held.send_replace(held);
    }

    /// Returns once lists are not held.
    pub async fn lists_released(&self) {
        let mut held = self.lists_held.subscribe();
        // The sender lives as long as the store.
        let _ = held.wait_for(|h| !*h).await;
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked mid-change leaves a store that is still consistent.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.notify.subscribe()
    }

    fn wake(&self) {
        self.notify.send_modify(|n| *n += 1);
    }

    /// The type of `api_version` and `kind`.
    pub fn type_of(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.options
            .types
            .iter()
            .position(|t| t.api_version() == api_version && t.kind == kind)
    }

    /// The type a URL names.
    pub fn type_at(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.options
            .types
            .iter()
            .position(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Creates or replaces an object (by apiVersion, kind, namespace and name), as a create or
    /// an update would; returns its new resourceVersion. Panics on a type the store does not
    /// serve: a test that writes one has a bug.
    pub fn apply(&self, object: Value) -> u64 {
        self.apply_all(vec![object])
    }

    /// Applies several objects under one lock and one wake-up (a burst of changes).
    pub fn apply_all(&self, objects: Vec<Value>) -> u64 {
        let mut inner = self.inner();
        for mut object in objects {
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
            let kind = object["kind"].as_str().unwrap_or_default().to_owned();
            let ty = self
                .type_of(&api_version, &kind)
                .unwrap_or_else(|| panic!("the store serves no {api_version} {kind}"));
            let key = object_key(&object);
            inner.revision += 1;
            let revision = inner.revision;
            let existing = inner.objects[ty].get(&key).cloned();
            let metadata = &mut object["metadata"];
            metadata["resourceVersion"] = json!(revision.to_string());
            match &existing {
                Some(old) => {
                    metadata["uid"] = old["metadata"]["uid"].clone();
                    metadata["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
                }
                None => {
                    inner.next_uid += 1;
                    metadata["uid"] =
                        json!(format!("00000000-0000-4000-8000-{:012}", inner.next_uid));
                    metadata["creationTimestamp"] = json!("2025-06-01T10:00:00Z");
                }
            }
            let event = if existing.is_some() {
                "MODIFIED"
            } else {
                "ADDED"
            };
            inner.objects[ty].insert(key, object.clone());
            self.log(&mut inner, ty, event, object);
        }
        let revision = inner.revision;
        drop(inner);
        self.wake();
        revision
    }

    /// Deletes an object; returns whether it was there.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let ty = self
            .type_of(api_version, kind)
            .unwrap_or_else(|| panic!("the store serves no {api_version} {kind}"));
        let mut inner = self.inner();
        let key = (namespace.unwrap_or_default().to_owned(), name.to_owned());
        let Some(mut object) = inner.objects[ty].remove(&key) else {
            return false;
        };
        inner.revision += 1;
        object["metadata"]["resourceVersion"] = json!(inner.revision.to_string());
        self.log(&mut inner, ty, "DELETED", object);
        drop(inner);
        self.wake();
        true
    }

    fn log(&self, inner: &mut Inner, ty: usize, event: &'static str, object: Value) {
        let revision = inner.revision;
        inner.log.push_back(Logged {
            revision,
            ty,
            event,
            object,
        });
        while inner.log.len() > self.options.log_limit {
            if let Some(gone) = inner.log.pop_front() {
                inner.oldest = gone.revision;
            }
        }
    }

    /// Every resourceVersion before now becomes too old, as after an etcd compaction: open
    /// watches get a 410 Gone ERROR event and end, and a watch resumed from an older
    /// resourceVersion answers one. A list after this starts afresh.
    pub fn expire(&self) {
        let mut inner = self.inner();
        // A revision of its own, so that a list made now is not itself too old.
        inner.revision += 1;
        inner.oldest = inner.revision;
        inner.log.clear();
        inner.expire_generation += 1;
        drop(inner);
        self.wake();
    }

    /// Cuts every open watch connection mid-stream, as a load balancer or an apiserver restart
    /// does; watchers resume from the last resourceVersion they saw.
    pub fn drop_connections(&self) {
        self.inner().drop_generation += 1;
        self.wake();
    }

    /// (drop generation, expire generation) now.
    pub fn generations(&self) -> (u64, u64) {
        let inner = self.inner();
        (inner.drop_generation, inner.expire_generation)
    }

    /// The objects of type `ty` (in one namespace or all), in key order, and the revision they
    /// were read at.
    pub fn list(&self, ty: usize, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.inner();
        let items = inner.objects[ty]
            .iter()
            .filter(|((ns, _), _)| namespace.is_none_or(|n| n == ns))
            .map(|(_, o)| o.clone())
            .collect();
        (items, inner.revision)
    }

    pub fn get(&self, ty: usize, namespace: Option<&str>, name: &str) -> Option<Value> {
        let key = (namespace.unwrap_or_default().to_owned(), name.to_owned());
        self.inner().objects[ty].get(&key).cloned()
    }

    /// The changes of type `ty` (in `namespace`, if given) after `revision`, and the revision
    /// they run to; `Expired` when the log no longer reaches back that far.
    pub fn changes_after(
        &self,
        ty: usize,
        namespace: Option<&str>,
        revision: u64,
    ) -> Result<(Vec<Logged>, u64), Expired> {
        let inner = self.inner();
        if revision < inner.oldest {
            return Err(Expired);
        }
        let start = inner.log.partition_point(|l| l.revision <= revision);
        let changes = inner
            .log
            .range(start..)
            .filter(|l| {
                l.ty == ty && namespace.is_none_or(|n| l.object["metadata"]["namespace"] == n)
            })
            .cloned()
            .collect();
        Ok((changes, inner.revision))
    }

    /// What `/api/v1/nodes/<node>/proxy/configz` answers for `node` from now on: the kubelet's
    /// configuration, wrapped as the kubelet wraps it.
    pub fn set_kubelet_config(&self, node: &str, config: Value) {
        self.inner()
            .kubelets
            .insert(node.to_owned(), json!({ "kubeletconfig": config }));
    }

    pub fn kubelet_config(&self, node: &str) -> Option<Value> {
        self.inner().kubelets.get(node).cloned()
    }

    /// Objects held, over every type.
    pub fn len(&self) -> usize {
        self.inner().objects.iter().map(BTreeMap::len).sum()
    }
}

/// (namespace, name): etcd's key order within a type.
fn object_key(object: &Value) -> (String, String) {
    let metadata = &object["metadata"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (text(&metadata["namespace"]), text(&metadata["name"]))
}

/// An object as a metadata-only client sees it (`as=PartialObjectMetadata`).
pub fn metadata_only(object: &Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": object["metadata"].clone(),
    })
}
