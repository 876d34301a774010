//! `StoreServer`: an API server over a mutable [`Store`] on 127.0.0.1, for `posture watch`
//! tests: discovery of the store's types, lists (paged), gets, watch streams
//! (`watch_stream`), and each node's kubelet `/configz` through the node proxy. Runs on a thread
//! and tokio runtime of its own, like `LabServer`, and records every request with its body.
//!
//! Requests are routed in one place, [`route`] then the `match` in [`handle`] on the method and
//! the route, so another verb (a server-side apply PATCH, a POST of an Event) is one more arm.

use super::server::write_kubeconfig;
use super::store::{metadata_only, Store, StoreOptions};
use super::watch_stream::{self, form_pairs, WatchRequest};
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// One request the server answered, body included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query, "" if none.
    pub query: String,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The HTTP status answered (200 for a watch, whatever its stream later sends).
    pub status: u16,
}

impl ApiRequest {
    /// Whether this is a watch (`watch=true` in the query).
    pub fn is_watch(&self) -> bool {
        form_pairs(&self.query)
            .iter()
            .any(|(k, v)| k == "watch" && (v == "true" || v == "1"))
    }

    /// A query parameter, percent-decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        form_pairs(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// A running store server; stops (closing every watch) when dropped.
pub struct StoreServer {
    shared: Arc<Shared>,
    kubeconfig: PathBuf,
    _kubeconfig_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    store: Arc<Store>,
    requests: Mutex<Vec<ApiRequest>>,
}

impl StoreServer {
    /// Serves an empty store of `options.types` on an ephemeral port of 127.0.0.1.
    pub fn start(options: StoreOptions) -> StoreServer {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("127.0.0.1 has a free port");
        listener
            .set_nonblocking(true)
            .expect("a fresh listener can be made non-blocking for tokio");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            store: Arc::new(Store::new(options)),
            requests: Mutex::default(),
        });
        let (shutdown, stop) = oneshot::channel();
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("store-apiserver".to_string())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the store server's tokio runtime builds");
                runtime.block_on(accept_until(listener, serving, stop));
            })
            .expect("the store server thread starts");
        let kubeconfig_dir = tempfile::tempdir().expect("a temporary directory for the kubeconfig");
        let kubeconfig = write_kubeconfig(kubeconfig_dir.path(), &format!("http://{address}"));
        StoreServer {
            shared,
            kubeconfig,
            _kubeconfig_dir: kubeconfig_dir,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The objects; change them while the server runs.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// A kubeconfig whose current context `lab-aks` reaches this server with a bearer token.
    pub fn kubeconfig(&self) -> PathBuf {
        self.kubeconfig.clone()
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.shared.requests().clone()
    }
}

impl Drop for StoreServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("the store server thread panicked");
            }
        }
    }
}

impl Shared {
    fn requests(&self) -> std::sync::MutexGuard<'_, Vec<ApiRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn accept_until(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("a non-blocking std listener converts");
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
            }
        }
    }
}

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let shared = Arc::clone(&shared);
        async move {
            let (parts, body) = request.into_parts();
            if parts.method == http::Method::GET
                && matches!(route(parts.uri.path()), Route::Collection { .. })
                && !parts.uri.query().unwrap_or_default().contains("watch=")
            {
                shared.store.lists_released().await;
            }
            // A body cut short is an empty one: no handler needs half a body.
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes().to_vec())
                .unwrap_or_default();
            Ok::<_, Infallible>(shared.answer(&parts, body))
        }
    });
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// An answer before it becomes a response.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Body,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        let bytes = serde_json::to_vec(value).expect("a JSON value serializes");
        Reply {
            status,
            content_type: "application/json",
            body: Full::new(Bytes::from(bytes))
                .map_err(|never| match never {})
                .boxed_unsync(),
        }
    }

    pub fn status(code: u16, reason: &str, message: &str) -> Reply {
        Reply::json(
            code,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}),
        )
    }
}

/// The parts of a request the handlers read.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub accept: &'a str,
    /// Read by the verbs that send one: a server-side apply PATCH, a POST.
    pub body: &'a [u8],
}

impl Shared {
    fn answer(&self, parts: &http::request::Parts, body: Vec<u8>) -> hyper::Response<Body> {
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let request = Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or_default(),
            accept: header(ACCEPT).unwrap_or_default(),
            body: &body,
        };
        let reply = handle(&self.store, &request);
        self.requests().push(ApiRequest {
            method: request.method.to_owned(),
            path: request.path.to_owned(),
            query: request.query.to_owned(),
            accept: header(ACCEPT).map(str::to_owned),
            content_type: header(CONTENT_TYPE).map(str::to_owned),
            body: body.clone(),
            status: reply.status,
        });
        hyper::Response::builder()
            .status(reply.status)
            .header(CONTENT_TYPE, reply.content_type)
            .body(reply.body)
            .expect("a status, a content type and a body make a valid response")
    }
}

/// What a URL path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    Version,
    CoreRoot,
    GroupsRoot,
    /// `/api/v1`, `/apis/apps/v1`.
    GroupVersion {
        group: &'a str,
        version: &'a str,
    },
    Configz(&'a str),
    Collection {
        group: &'a str,
        version: &'a str,
        plural: &'a str,
        namespace: Option<&'a str>,
    },
    Object {
        group: &'a str,
        version: &'a str,
        plural: &'a str,
        namespace: Option<&'a str>,
        name: &'a str,
    },
    Unknown,
}

pub fn route(path: &str) -> Route<'_> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let collection = |group, version, plural, namespace| Route::Collection {
        group,
        version,
        plural,
        namespace,
    };
    let object = |group, version, plural, namespace, name| Route::Object {
        group,
        version,
        plural,
        namespace,
        name,
    };
    match segments[..] {
        ["version"] => Route::Version,
        ["api"] => Route::CoreRoot,
        ["apis"] => Route::GroupsRoot,
        ["api", version] => Route::GroupVersion { group: "", version },
        ["apis", group, version] => Route::GroupVersion { group, version },
        ["api", "v1", "nodes", node, "proxy", "configz"] => Route::Configz(node),
        ["api", v, "namespaces", ns, plural] => collection("", v, plural, Some(ns)),
        ["api", v, "namespaces", ns, plural, name] => object("", v, plural, Some(ns), name),
        ["api", v, plural] => collection("", v, plural, None),
        ["api", v, plural, name] => object("", v, plural, None, name),
        ["apis", g, v, "namespaces", ns, plural] => collection(g, v, plural, Some(ns)),
        ["apis", g, v, "namespaces", ns, plural, name] => object(g, v, plural, Some(ns), name),
        ["apis", g, v, plural] => collection(g, v, plural, None),
        ["apis", g, v, plural, name] => object(g, v, plural, None, name),
        _ => Route::Unknown,
    }
}

/// Answers one request from the store.
pub fn handle(store: &Arc<Store>, request: &Request) -> Reply {
    match (request.method, route(request.path)) {
        ("GET", Route::Version) => Reply::json(200, &version(store)),
        ("GET", Route::CoreRoot) => Reply::json(
            200,
            &json!({"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}]}),
        ),
        ("GET", Route::GroupsRoot) => Reply::json(200, &groups(store)),
        ("GET", Route::GroupVersion { group, version }) => resources(store, group, version),
        ("GET", Route::Configz(node)) => configz(store, node),
        (
            "GET",
            Route::Collection {
                group,
                version,
                plural,
                namespace,
            },
        ) => {
            let Some(ty) = served(store, group, version, plural, namespace) else {
                return not_found();
            };
            match WatchRequest::parse(request.query, ty, namespace, request.accept) {
                Some(watch) => Reply {
                    status: 200,
                    content_type: "application/json",
                    body: StreamBody::new(watch_stream::stream(Arc::clone(store), watch))
                        .boxed_unsync(),
                },
                None => list(store, ty, namespace, request),
            }
        }
        (
            "GET",
            Route::Object {
                group,
                version,
                plural,
                namespace,
                name,
            },
        ) => {
            let Some(ty) = served(store, group, version, plural, namespace) else {
                return not_found();
            };
            match store.get(ty, namespace, name) {
                Some(object) => Reply::json(200, &object),
                None => Reply::status(404, "NotFound", &format!("{plural} \"{name}\" not found")),
            }
        }
        (
            "PATCH",
            Route::Object {
                group,
                version,
                plural,
                namespace,
                name,
            },
        ) => {
            let Some(ty) = served(store, group, version, plural, namespace) else {
                return not_found();
            };
            server_side_apply(store, ty, namespace, name, request)
        }
        (
            "POST",
            Route::Collection {
                group,
                version,
                plural,
                namespace,
            },
        ) => {
            let Some(ty) = served(store, group, version, plural, namespace) else {
                return not_found();
            };
            create(store, ty, namespace, request.body)
        }
        (
            "DELETE",
            Route::Object {
                group,
                version,
                plural,
                namespace,
                name,
            },
        ) => {
            let Some(ty) = served(store, group, version, plural, namespace) else {
                return not_found();
            };
            let t = &store.options.types[ty];
            if store.delete(&t.api_version(), &t.kind, namespace, name) {
                Reply::json(
                    200,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Success", "details": {"name": name, "kind": plural}}),
                )
            } else {
                Reply::status(404, "NotFound", &format!("{plural} \"{name}\" not found"))
            }
        }
        (_, Route::Unknown) => not_found(),
        _ => Reply::status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
    }
}

/// A server-side apply (`PATCH` with `application/apply-patch+yaml`, whose body JSON is): the
/// applied configuration becomes the object, as it does for a field manager that owns every
/// field it sets and sets them all each time (posture's publisher, with `force`). Other patch
/// types are not served.
fn server_side_apply(
    store: &Store,
    ty: usize,
    namespace: Option<&str>,
    name: &str,
    request: &Request,
) -> Reply {
    let Some(manager) = form_pairs(request.query)
        .into_iter()
        .find(|(k, _)| k == "fieldManager")
        .map(|(_, v)| v)
    else {
        return Reply::status(
            400,
            "BadRequest",
            "PATCH: only server-side apply, with a fieldManager, is served",
        );
    };
    let Ok(mut object) = serde_json::from_slice::<Value>(request.body) else {
        return Reply::status(400, "BadRequest", "the applied configuration is not JSON");
    };
    let t = &store.options.types[ty];
    if object["apiVersion"] != t.api_version().as_str()
        || object["kind"] != t.kind.as_str()
        || object["metadata"]["name"] != name
    {
        return Reply::status(
            400,
            "BadRequest",
            "the applied configuration's apiVersion, kind and name must match the URL",
        );
    }
    if let Some(ns) = namespace {
        object["metadata"]["namespace"] = json!(ns);
    }
    object["metadata"]["managedFields"] =
        json!([{"manager": manager, "operation": "Apply", "apiVersion": t.api_version()}]);
    let existed = store.get(ty, namespace, name).is_some();
    store.apply(object);
    let stored = store
        .get(ty, namespace, name)
        .expect("an object just applied is held");
    Reply::json(if existed { 200 } else { 201 }, &stored)
}

/// A create (`POST` to a collection): 409 when the name is taken.
fn create(store: &Store, ty: usize, namespace: Option<&str>, body: &[u8]) -> Reply {
    let Ok(mut object) = serde_json::from_slice::<Value>(body) else {
        return Reply::status(400, "BadRequest", "the object is not JSON");
    };
    let t = &store.options.types[ty];
    object["apiVersion"] = json!(t.api_version());
    object["kind"] = json!(t.kind);
    if let Some(ns) = namespace {
        object["metadata"]["namespace"] = json!(ns);
    }
    let Some(name) = object["metadata"]["name"].as_str().map(str::to_owned) else {
        return Reply::status(400, "BadRequest", "the object has no metadata.name");
    };
    if store.get(ty, namespace, &name).is_some() {
        return Reply::status(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", t.plural),
        );
    }
    store.apply(object);
    let stored = store
        .get(ty, namespace, &name)
        .expect("an object just created is held");
    Reply::json(201, &stored)
}

fn not_found() -> Reply {
    Reply::status(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// The type a collection URL names, if served (and namespaced when a namespace is given).
fn served(
    store: &Store,
    group: &str,
    version: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Option<usize> {
    let ty = store.type_at(group, version, plural)?;
    (namespace.is_none() || store.options.types[ty].namespaced).then_some(ty)
}

fn version(store: &Store) -> Value {
    let git = &store.options.git_version;
    let (major, minor) = git
        .trim_start_matches('v')
        .split_once('.')
        .map(|(m, rest)| {
            (
                m.to_owned(),
                rest.split('.').next().unwrap_or("0").to_owned(),
            )
        })
        .unwrap_or_default();
    json!({"major": major, "minor": minor, "gitVersion": git,
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2025-06-01T00:00:00Z", "goVersion": "go1.22.4", "compiler": "gc",
        "platform": "linux/amd64"})
}

/// `/apis` in the legacy form: a server that offers no aggregated discovery.
fn groups(store: &Store) -> Value {
    let mut names: Vec<(&str, &str)> = Vec::new();
    for t in &store.options.types {
        if !t.group.is_empty() && !names.contains(&(t.group.as_str(), t.version.as_str())) {
            names.push((&t.group, &t.version));
        }
    }
    let groups: Vec<Value> = names
        .iter()
        .map(|(group, version)| {
            let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
            json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resources(store: &Store, group: &str, version: &str) -> Reply {
    let served: Vec<Value> = store
        .options
        .types
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .map(|t| {
            json!({"name": t.plural, "singularName": "", "namespaced": t.namespaced,
                "kind": t.kind, "verbs": ["get", "list", "watch"]})
        })
        .collect();
    if served.is_empty() {
        return not_found();
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Reply::json(
        200,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": served}),
    )
}

/// The kubelet's configuration through the node proxy: 404 for a node the store does not
/// hold, 503 (as the proxy answers for a kubelet it cannot dial) for a node without one.
fn configz(store: &Store, node: &str) -> Reply {
    let nodes = store
        .type_of("v1", "Node")
        .expect("a store that serves configz serves Nodes");
    if store.get(nodes, None, node).is_none() {
        return Reply::status(404, "NotFound", &format!("nodes \"{node}\" not found"));
    }
    match store.kubelet_config(node) {
        Some(config) => Reply::json(200, &config),
        None => Reply::status(
            503,
            "ServiceUnavailable",
            &format!("error trying to reach service: dial tcp: connect: connection refused (node {node})"),
        ),
    }
}

/// A List, paged by `limit` and `continue` (the token is the offset and the revision).
fn list(store: &Store, ty: usize, namespace: Option<&str>, request: &Request) -> Reply {
    let mut limit = None;
    let mut start = 0usize;
    let mut at = None;
    for (key, value) in form_pairs(request.query) {
        match key.as_str() {
            "limit" => limit = value.parse::<usize>().ok().filter(|l| *l > 0),
            "continue" if !value.is_empty() => {
                let Some((offset, revision)) = value.split_once(':') else {
                    return Reply::status(400, "BadRequest", "invalid continue token");
                };
                start = offset.parse().unwrap_or(0);
                at = revision.parse::<u64>().ok();
            }
            _ => {}
        }
    }
    let (items, revision) = store.list(ty, namespace);
    let revision = at.unwrap_or(revision);
    let end = limit.map_or(items.len(), |l| (start + l).min(items.len()));
    let metadata_only_list = request.accept.contains("as=PartialObjectMetadataList");
    let page: Vec<Value> = items
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let mut o = if metadata_only_list {
                metadata_only(o)
            } else {
                o.clone()
            };
            if let Some(map) = o.as_object_mut() {
                // List items carry no apiVersion and kind of their own.
                map.remove("apiVersion");
                map.remove("kind");
            }
            o
        })
        .collect();
    let mut metadata = json!({"resourceVersion": revision.to_string()});
    if end < items.len() {
        metadata["continue"] = json!(format!("{end}:{revision}"));
    }
    let t = &store.options.types[ty];
    let (api_version, kind) = if metadata_only_list {
        (
            "meta.k8s.io/v1".to_owned(),
            "PartialObjectMetadataList".to_owned(),
        )
    } else {
        (t.api_version(), format!("{}List", t.kind))
    };
    let mut reply = Reply::json(
        200,
        &json!({"apiVersion": api_version, "kind": kind, "metadata": metadata, "items": page}),
    );
    if metadata_only_list {
        reply.content_type = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    }
    reply
}
