//! Routes one request to what the recorded kube-apiserver answered, and
//! injects the failures `LabOptions` asks for (forbidden types, throttling,
//! expired `continue` tokens, unreachable kubelets, and the `Fault`s: slow,
//! endless, oversized and malformed answers). No sockets: `server` owns the
//! transport and carries out the timing a `Reply` asks for.

use super::list::{ContinueToken, ListError, ListQuery, Page};
use super::options::{Fault, LabOptions, HANG_LIMIT};
use super::recording::{RecordedResource, Recording, REAL_KUBELET};
use super::status;
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The media type kube asks for aggregated discovery; 1.28 serves v2beta1 only.
const AGGREGATED_DISCOVERY: MediaType = MediaType {
    kind: "APIGroupDiscoveryList",
    group: "apidiscovery.k8s.io",
    version: "v2beta1",
};

const METADATA_LIST: MediaType = MediaType {
    kind: "PartialObjectMetadataList",
    group: "meta.k8s.io",
    version: "v1",
};

/// A typed JSON form a client can ask for with `Accept: application/json;as=..;g=..;v=..`.
#[derive(Clone, Copy)]
struct MediaType {
    kind: &'static str,
    group: &'static str,
    version: &'static str,
}

impl MediaType {
    fn content_type(&self) -> String {
        format!(
            "application/json;g={};v={};as={}",
            self.group, self.version, self.kind
        )
    }
}

/// The parts of an HTTP request the apiserver's answer depends on.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub accept: &'a str,
    pub has_bearer_token: bool,
}

/// An HTTP answer, and how the server sends it.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub retry_after_secs: Option<u64>,
    /// `Content-Encoding`, when the body is encoded.
    pub content_encoding: Option<&'static str>,
    pub body: Vec<u8>,
    /// How long the server waits before sending anything.
    pub delay: Duration,
    /// Send the body one byte per this interval.
    pub trickle: Option<Duration>,
    /// Close the connection instead of answering.
    pub reset: bool,
}

impl Reply {
    fn json(body: &Value) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json".to_string(),
            retry_after_secs: None,
            content_encoding: None,
            body: serde_json::to_vec(body).expect("a serde_json::Value always serializes"),
            delay: Duration::ZERO,
            trickle: None,
            reset: false,
        }
    }

    /// A List that inflates to `inflated` bytes from a small gzip body.
    fn gzip_bomb(inflated: usize) -> Reply {
        let head = br#"{"kind":"List","apiVersion":"v1","metadata":{},"items":[]"#;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let spaces = vec![b' '; 64 * 1024];
        let mut left = inflated.saturating_sub(head.len() + 1);
        let written = encoder.write_all(head).and_then(|()| {
            while left > 0 {
                let n = left.min(spaces.len());
                encoder.write_all(&spaces[..n])?;
                left -= n;
            }
            encoder.write_all(b"}")
        });
        written.expect("gzip into memory cannot fail");
        Reply {
            content_encoding: Some("gzip"),
            body: encoder.finish().expect("gzip into memory cannot fail"),
            ..Reply::json(&Value::Null)
        }
    }

    /// A Status body, sent with the HTTP code it carries.
    fn status(body: &Value) -> Reply {
        let code = body["code"]
            .as_u64()
            .and_then(|code| u16::try_from(code).ok());
        Reply {
            status: code.expect("every Status body carries its HTTP code"),
            ..Reply::json(body)
        }
    }

    fn typed(body: &Value, media_type: MediaType) -> Reply {
        Reply {
            content_type: media_type.content_type(),
            ..Reply::json(body)
        }
    }
}

/// The recording, the options and the one-shot failures already spent.
pub struct Lab {
    pub recording: Recording,
    pub options: LabOptions,
    spent: Mutex<Spent>,
}

#[derive(Default)]
struct Spent {
    throttled: usize,
    reset: usize,
    expired: bool,
}

impl Lab {
    pub fn new(recording: Recording, options: LabOptions) -> Lab {
        Lab {
            recording,
            options,
            spent: Mutex::default(),
        }
    }

    /// The fault for this request: its path, or the resource key of the
    /// collection it lists.
    fn fault(&self, path: &str) -> Option<&Fault> {
        let key = match route(path) {
            Route::List(c) => self
                .recording
                .resource(c.group, c.version, c.plural)
                .map(|r| r.key.as_str()),
            _ => None,
        };
        self.options
            .faults
            .iter()
            .find(|(target, _)| target == path || Some(target.as_str()) == key)
            .map(|(_, fault)| fault)
    }

    fn spent(&self) -> std::sync::MutexGuard<'_, Spent> {
        // A test that panicked mid-request leaves counters that are still valid.
        self.spent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this list request is one of the first `throttle_first`.
    fn throttle(&self) -> bool {
        self.among_first(self.options.throttle_first, |spent| &mut spent.throttled)
    }

    /// Whether this list request is one of the first `reset_first`.
    fn reset(&self) -> bool {
        self.among_first(self.options.reset_first, |spent| &mut spent.reset)
    }

    /// Whether this request is one of the first `n` that the `counter` of [`Spent`] counts.
    fn among_first(&self, n: usize, counter: impl FnOnce(&mut Spent) -> &mut usize) -> bool {
        let mut spent = self.spent();
        let count = counter(&mut spent);
        let among = *count < n;
        *count += usize::from(among);
        among
    }

    /// Whether this is the first continued list and it should expire.
    fn expire(&self) -> bool {
        let mut spent = self.spent();
        let expire = self.options.expire_continue_once && !spent.expired;
        spent.expired |= expire;
        expire
    }
}

/// What a URL path names.
enum Route<'a> {
    Version,
    CoreRoot,
    GroupsRoot,
    GroupVersion(String),
    Configz(&'a str),
    List(Collection<'a>),
    Unknown,
}

/// A collection URL: `/api/v1/pods`, `/apis/apps/v1/namespaces/ingress/deployments`.
struct Collection<'a> {
    group: &'a str,
    version: &'a str,
    plural: &'a str,
    namespace: Option<&'a str>,
}

fn route(path: &str) -> Route<'_> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let list = |group, version, plural, namespace| {
        Route::List(Collection {
            group,
            version,
            plural,
            namespace,
        })
    };
    match segments[..] {
        ["version"] => Route::Version,
        ["api"] => Route::CoreRoot,
        ["apis"] => Route::GroupsRoot,
        ["api", "v1"] => Route::GroupVersion("v1".to_string()),
        ["apis", group, version] => Route::GroupVersion(format!("{group}/{version}")),
        ["api", "v1", "nodes", node, "proxy", "configz"] => Route::Configz(node),
        ["api", "v1", "namespaces", namespace, plural] => list("", "v1", plural, Some(namespace)),
        ["api", "v1", plural] => list("", "v1", plural, None),
        ["apis", group, version, "namespaces", namespace, plural] => {
            list(group, version, plural, Some(namespace))
        }
        ["apis", group, version, plural] => list(group, version, plural, None),
        _ => Route::Unknown,
    }
}

/// Answers `request` as the recorded apiserver would.
pub fn answer(lab: &Lab, request: &Request) -> Reply {
    if request.method != "GET" {
        return Reply::status(&status::method_not_allowed());
    }
    if !request.has_bearer_token {
        return Reply::status(&status::unauthorized());
    }
    let fault = lab.fault(request.path);
    let mut reply = match fault {
        Some(Fault::Error {
            status,
            content_type,
            body,
        }) => Reply {
            status: *status,
            content_type: content_type.clone(),
            body: body.clone(),
            ..Reply::json(&Value::Null)
        },
        Some(Fault::GzipBomb(inflated)) => Reply::gzip_bomb(*inflated),
        _ => recorded(lab, request, fault),
    };
    match fault {
        Some(Fault::Delay(delay)) => reply.delay = *delay,
        Some(Fault::Hang) => reply.delay = HANG_LIMIT,
        Some(Fault::Trickle(interval)) => reply.trickle = Some(*interval),
        Some(Fault::Reset) => reply.reset = true,
        _ => {}
    }
    reply
}

/// What the recorded apiserver answered, with the list faults applied.
fn recorded(lab: &Lab, request: &Request, fault: Option<&Fault>) -> Reply {
    let recording = &lab.recording;
    match route(request.path) {
        Route::Version => Reply::json(&recording.version),
        Route::CoreRoot => discovery_root(
            lab,
            request,
            &recording.legacy_api,
            &recording.aggregated_api,
        ),
        Route::GroupsRoot => discovery_root(
            lab,
            request,
            &recording.legacy_apis,
            &recording.aggregated_apis,
        ),
        Route::GroupVersion(group_version) => match recording.group_versions.get(&group_version) {
            Some(document) => Reply::json(document),
            None => Reply::status(&status::not_found()),
        },
        Route::Configz(node) => configz(lab, node),
        Route::List(collection) => list(lab, request, &collection, fault),
        Route::Unknown => Reply::status(&status::not_found()),
    }
}

/// `/api` or `/apis`: aggregated when asked for and served, else legacy.
fn discovery_root(lab: &Lab, request: &Request, legacy: &Value, aggregated: &Value) -> Reply {
    if lab.options.aggregated_discovery && asks_for(request.accept, AGGREGATED_DISCOVERY) {
        Reply::typed(aggregated, AGGREGATED_DISCOVERY)
    } else {
        Reply::json(legacy)
    }
}

/// Whether the first media range in `accept` this server can serve is
/// `wanted`, as the apiserver negotiates: ranges in the client's order,
/// typed forms it does not serve (aggregated v2 on 1.28) skipped.
fn asks_for(accept: &str, wanted: MediaType) -> bool {
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        if !matches!(
            parts.next(),
            Some("application/json" | "application/*" | "*/*")
        ) {
            continue;
        }
        let param = |name: &str| {
            let mut params = parts.clone().filter_map(|part| part.split_once('='));
            params
                .find(|(key, _)| key.trim() == name)
                .map(|(_, value)| value.trim())
        };
        let Some(kind) = param("as") else {
            return false;
        };
        if kind == wanted.kind
            && param("g") == Some(wanted.group)
            && param("v") == Some(wanted.version)
        {
            return true;
        }
    }
    false
}

/// `GET /api/v1/nodes/<node>/proxy/configz`: the kubelet's live configuration.
fn configz(lab: &Lab, node: &str) -> Reply {
    let recording = &lab.recording;
    if !recording.has_node(node) {
        return Reply::status(&status::object_not_found("nodes", node));
    }
    if node == REAL_KUBELET || !lab.options.unreachable_kubelets {
        Reply::json(&recording.configz)
    } else {
        Reply::status(&recording.unreachable_kubelet)
    }
}

/// A collection GET, with the same checks in the same order as the
/// apiserver's filters: routing, priority and fairness, RBAC, then storage.
fn list(lab: &Lab, request: &Request, collection: &Collection, fault: Option<&Fault>) -> Reply {
    let Collection {
        group,
        version,
        plural,
        namespace,
    } = *collection;
    let Some(resource) = lab.recording.resource(group, version, plural) else {
        return Reply::status(&status::not_found());
    };
    if namespace.is_some() && !resource.namespaced {
        return Reply::status(&status::not_found());
    }
    if lab.reset() {
        return Reply {
            reset: true,
            ..Reply::json(&Value::Null)
        };
    }
    if lab.throttle() {
        let retry_after_secs = lab.options.retry_after_secs;
        let reply = Reply::status(&status::too_many_requests(retry_after_secs));
        return Reply {
            retry_after_secs: Some(retry_after_secs),
            ..reply
        };
    }
    if lab.options.forbidden.contains(&resource.key) {
        let recorded = &lab.recording.forbidden_list;
        return Reply::status(&status::forbidden(
            recorded,
            &resource.key,
            group,
            plural,
            namespace,
        ));
    }
    match ListQuery::parse(request.query) {
        Ok(query) => list_page(lab, request, resource, namespace, &query, fault),
        Err(ListError::BadContinue) => Reply::status(&lab.recording.bad_continue),
        Err(ListError::BadSelector(message)) => Reply::status(&status::bad_request(&message)),
    }
}

fn list_page(
    lab: &Lab,
    request: &Request,
    resource: &RecordedResource,
    namespace: Option<&str>,
    query: &ListQuery,
    fault: Option<&Fault>,
) -> Reply {
    let resource_version = lab.recording.resource_version;
    if let Some(Fault::Items(n)) = fault {
        return Reply::json(&synthetic_list(resource, *n, resource_version));
    }
    if let Some(token) = query.continue_token {
        if !token.is_current(resource_version) || lab.expire() {
            return Reply::status(&status::continue_expired(&token.inconsistent().encode()));
        }
    }
    let start = query
        .continue_token
        .as_ref()
        .map_or(0, ContinueToken::offset);
    let limit = match (query.limit, lab.options.max_page) {
        (Some(limit), Some(max)) => Some(limit.min(max)),
        (limit, max) => limit.or(max),
    };
    let selected = super::list::select(&resource.items, namespace, query);
    let page = Page::cut(&selected, start, limit, resource_version, query);
    let metadata_only = lab.options.metadata_lists && asks_for(request.accept, METADATA_LIST);
    let mut body = if metadata_only {
        page.to_metadata_list()
    } else {
        page.to_list(&resource.kind, &resource.api_version())
    };
    if let Some(Fault::EndlessContinue) = fault {
        // Back to the first page, again and again: a token that never runs out.
        body["metadata"]["continue"] = json!(ContinueToken::new(resource_version, 0).encode());
    }
    if metadata_only {
        Reply::typed(&body, METADATA_LIST)
    } else {
        Reply::json(&body)
    }
}

/// A List of `n` small objects of `resource`'s type, in one page.
fn synthetic_list(resource: &RecordedResource, n: usize, resource_version: u64) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let mut metadata = json!({"name": format!("synthetic-{i:07}")});
            if resource.namespaced {
                metadata["namespace"] = json!("default");
            }
            json!({ "metadata": metadata })
        })
        .collect();
    json!({
        "kind": format!("{}List", resource.kind),
        "apiVersion": resource.api_version(),
        "metadata": {"resourceVersion": resource_version.to_string()},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn kube_aggregated_accept_gets_v2beta1_not_v2() {
        // kube 5's ACCEPT_AGGREGATED_DISCOVERY_V2: v2 first, then v2beta1, then plain JSON.
        let kube = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,\
                    application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(super::asks_for(kube, super::AGGREGATED_DISCOVERY));
        assert!(!super::asks_for(
            "application/json, */*",
            super::AGGREGATED_DISCOVERY
        ));
        assert!(!super::asks_for(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            super::AGGREGATED_DISCOVERY
        ));
        assert!(super::asks_for(
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            super::METADATA_LIST
        ));
    }
}
