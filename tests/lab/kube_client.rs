//! The lab server through the real kube 5 client: discovery, paging,
//! metadata-only lists, and each injected failure.

use super::{LabOptions, LabServer, RecordedRequest};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, ObjectList};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Status;
use kube::{Client, Config, Discovery};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

const METADATA_LIST: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

async fn client(server: &LabServer) -> Client {
    client_retrying(server, true).await
}

/// kube retries 429, 503 and 504 by default (`Config::default_retry`).
async fn client_retrying(server: &LabServer, retry: bool) -> Client {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig()).expect("the lab kubeconfig parses");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("the lab kubeconfig makes a kube Config");
    config.default_retry = retry;
    Client::try_from(config).expect("kube builds a client for plain HTTP")
}

fn api_status(error: kube::Error) -> Box<Status> {
    match error {
        kube::Error::Api(status) => status,
        other => panic!("expected an API error Status, got {other}"),
    }
}

fn lab(edit: impl FnOnce(&mut LabOptions)) -> LabServer {
    let mut options = LabOptions::default();
    edit(&mut options);
    LabServer::start(options)
}

/// Every page of `api` at `limit` items a page.
async fn pages<K>(api: &Api<K>, limit: u32) -> Result<Vec<ObjectList<K>>, kube::Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut pages = Vec::new();
    let mut params = ListParams::default().limit(limit);
    loop {
        let page = api.list(&params).await?;
        let next = page
            .metadata
            .continue_
            .clone()
            .filter(|token| !token.is_empty());
        pages.push(page);
        match next {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(pages),
        }
    }
}

/// A GET over a bare socket, for what kube hides: headers and missing tokens.
fn raw_get(server: &LabServer, path: &str, bearer_token: bool) -> (String, Value) {
    raw_request(server, "GET", path, bearer_token)
}

fn raw_request(
    server: &LabServer,
    method: &str,
    path: &str,
    bearer_token: bool,
) -> (String, Value) {
    let address = server.url().trim_start_matches("http://").to_string();
    let mut stream =
        std::net::TcpStream::connect(address).expect("the lab server accepts connections");
    let authorization = if bearer_token {
        "Authorization: Bearer raw\r\n"
    } else {
        ""
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: lab\r\n{authorization}Connection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response is read to the end");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a response has a head and a body");
    (
        head.to_ascii_lowercase(),
        serde_json::from_str(body).expect("every answer is JSON"),
    )
}

/// Group version, plural, scope and verbs of every resource discovery found.
fn catalog(discovery: &Discovery) -> BTreeSet<String> {
    let mut catalog = BTreeSet::new();
    for group in discovery.groups() {
        for version in group.versions() {
            for (resource, capabilities) in group.versioned_resources(version) {
                let mut verbs = capabilities.operations.clone();
                verbs.sort();
                let scope = format!("{:?}", capabilities.scope);
                catalog.insert(format!(
                    "{} {} {scope} {verbs:?}",
                    resource.api_version, resource.plural
                ));
            }
        }
    }
    catalog
}

#[tokio::test]
async fn aggregated_discovery_matches_per_group_discovery() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let aggregated = Discovery::new(client(&server).await)
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    assert_eq!(
        server.requests().len(),
        2,
        "aggregated discovery asks /apis and /api once each"
    );
    let per_group = Discovery::new(client(&server).await)
        .run()
        .await
        .expect("per-group discovery");
    assert_eq!(catalog(&aggregated), catalog(&per_group));
    assert!(catalog(&aggregated).contains("apps/v1 deployments Namespaced [\"create\", \"delete\", \"deletecollection\", \"get\", \"list\", \"patch\", \"update\", \"watch\"]"));
}

#[tokio::test]
async fn an_older_server_answers_legacy_discovery_to_aggregated_requests() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| options.aggregated_discovery = false);
    let aggregated = Discovery::new(client(&server).await).run_aggregated().await;
    // kube 5 reads the legacy APIGroupList as an aggregated list with no items:
    // no error, just nothing discovered. A collector must notice the empty result.
    let aggregated = aggregated.expect("kube 5 does not reject a legacy answer");
    assert_eq!(aggregated.groups().count(), 0);
    let per_group = Discovery::new(client(&server).await)
        .run()
        .await
        .expect("per-group discovery");
    assert!(per_group.has_group("apps") && per_group.has_group(""));
}

#[tokio::test]
async fn every_recorded_type_lists_its_recorded_count() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| options.forbidden.clear());
    let client = client(&server).await;
    let discovery = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let mut listed = BTreeMap::new();
    for group in discovery.groups() {
        for (resource, capabilities) in group.recommended_resources() {
            if !capabilities.supports_operation("list") {
                continue;
            }
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            let list = api.list(&ListParams::default()).await;
            if let Ok(list) = list {
                let key = match group.name() {
                    "" => resource.plural.clone(),
                    name => format!("{}.{name}", resource.plural),
                };
                listed.insert(key, list.items.len());
            }
        }
    }
    assert_eq!(listed, server.counts());
}

#[tokio::test]
async fn deployments_page_by_three_as_recorded() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let api: Api<Deployment> = Api::all(client(&server).await);
    let pages = pages(&api, 3).await.expect("every page lists");
    let sizes: Vec<usize> = pages.iter().map(|page| page.items.len()).collect();
    assert_eq!(sizes, [3, 3, 2]);
    assert_eq!(pages[0].metadata.remaining_item_count, Some(5));
    assert_eq!(pages[1].metadata.remaining_item_count, Some(2));
    assert!(pages
        .iter()
        .all(|page| page.metadata.resource_version == pages[0].metadata.resource_version));
    assert_eq!(pages[0].types.kind, "DeploymentList");

    // The recorded first page (its file ends with curl's status code, hence the stream).
    let recorded = std::fs::read_to_string(
        LabOptions::default()
            .lab_dir
            .join("api/raw/deployments_page1_limit3.json"),
    )
    .expect("the recorded first page is readable");
    let recorded: Value = serde_json::Deserializer::from_str(&recorded)
        .into_iter()
        .next()
        .expect("the recording starts with a JSON value")
        .expect("the recorded first page is JSON");
    let recorded_names: Vec<&str> = recorded["items"]
        .as_array()
        .expect("a List has items")
        .iter()
        .filter_map(|item| item["metadata"]["name"].as_str())
        .collect();
    let served_names: Vec<&str> = pages[0]
        .items
        .iter()
        .filter_map(|d| d.metadata.name.as_deref())
        .collect();
    assert_eq!(served_names, recorded_names);

    let queries: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.query)
        .collect();
    assert!(queries[0].contains("limit=3") && !queries[0].contains("continue="));
    assert!(queries[1..].iter().all(|query| query.contains("continue=")));
}

#[tokio::test]
async fn the_server_caps_pages_whatever_the_client_asks() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| options.max_page = Some(10));
    let api: Api<Pod> = Api::all(client(&server).await);
    let pages = pages(&api, 500).await.expect("every page lists");
    let sizes: Vec<usize> = pages.iter().map(|page| page.items.len()).collect();
    assert_eq!(sizes, [10, 10, 4]);
    let unpaged = api
        .list(&ListParams::default())
        .await
        .expect("a list without limit");
    assert_eq!(
        unpaged.items.len(),
        10,
        "the cap applies without a limit too"
    );
}

#[tokio::test]
async fn lists_filter_by_namespace_and_selectors() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let client = client(&server).await;
    let ratings: Api<Pod> = Api::namespaced(client.clone(), "ratingsapp");
    let pods = ratings
        .list(&ListParams::default())
        .await
        .expect("pods in ratingsapp");
    assert!(!pods.items.is_empty());
    assert!(pods
        .items
        .iter()
        .all(|pod| pod.metadata.namespace.as_deref() == Some("ratingsapp")));

    let all: Api<Pod> = Api::all(client.clone());
    let on_kubelet = all
        .list(&ListParams::default().fields("spec.nodeName=lab-kubelet-0"))
        .await
        .expect("by node");
    assert!(on_kubelet.items.iter().all(|pod| pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        == Some("lab-kubelet-0")));
    let labelled = all
        .list(&ListParams::default().labels("app"))
        .await
        .expect("by label");
    let unlabelled = all
        .list(&ListParams::default().labels("!app"))
        .await
        .expect("by missing label");
    assert_eq!(
        labelled.items.len() + unlabelled.items.len(),
        server.counts()["pods"]
    );

    let by_phase = all
        .list(&ListParams::default().fields("status.phase=Running"))
        .await;
    assert_eq!(
        api_status(by_phase.expect_err("status.phase is not served")).code,
        400
    );
    let bad_continue = all
        .list(&ListParams::default().continue_token("eyJ2IjoibWV0YS5rOHMuaW8vdjEi"))
        .await;
    let status = api_status(bad_continue.expect_err("a foreign continue token"));
    assert!(
        status.message.starts_with("invalid continue token"),
        "{}",
        status.message
    );

    // HPAs were recorded at autoscaling/v2; v1 is served by discovery but not replayed.
    let v1 = ApiResource::from_gvk_with_plural(
        &kube::core::GroupVersionKind::gvk("autoscaling", "v1", "HorizontalPodAutoscaler"),
        "horizontalpodautoscalers",
    );
    let hpas = Api::<DynamicObject>::all_with(client, &v1)
        .list(&ListParams::default())
        .await;
    assert_eq!(
        api_status(hpas.expect_err("autoscaling/v1 is not replayed")).code,
        404
    );
}

#[tokio::test]
async fn secret_metadata_lists_carry_no_data() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| options.forbidden.clear());
    let client = client(&server).await;
    let secrets: Api<DynamicObject> =
        Api::all_with(client.clone(), &ApiResource::erase::<Secret>(&()));
    let list = secrets
        .list_metadata(&ListParams::default())
        .await
        .expect("secret metadata lists");
    assert_eq!(list.items.len(), 5);
    let listed = RecordedRequest {
        method: "GET".to_string(),
        path: "/api/v1/secrets".to_string(),
        query: String::new(),
        accept: Some(METADATA_LIST.to_string()),
        status: 200,
    };
    assert_eq!(server.requests(), [listed]);

    let request = http::Request::get("/api/v1/secrets")
        .header(http::header::ACCEPT, METADATA_LIST)
        .body(Vec::new())
        .expect("a valid request");
    let raw: Value = serde_json::from_str(
        &client
            .request_text(request)
            .await
            .expect("raw metadata list"),
    )
    .expect("the metadata list is JSON");
    assert_eq!(raw["kind"], "PartialObjectMetadataList");
    for item in raw["items"].as_array().expect("a List has items") {
        let fields: Vec<&String> = item
            .as_object()
            .expect("an item is an object")
            .keys()
            .collect();
        assert_eq!(fields, ["kind", "apiVersion", "metadata"]);
    }
}

/// Why the collector must still redact: a real apiserver keeps annotations in
/// PartialObjectMetadata, and `kubectl apply` copies a Secret's values into one.
#[tokio::test]
async fn secret_metadata_still_carries_last_applied_values() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| options.forbidden.clear());
    let secrets: Api<DynamicObject> =
        Api::all_with(client(&server).await, &ApiResource::erase::<Secret>(&()));
    let list = secrets
        .list_metadata(&ListParams::default())
        .await
        .expect("secret metadata lists");
    let mongo = list
        .items
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some("mongosecret"))
        .expect("mongosecret");
    let annotations = mongo
        .metadata
        .annotations
        .as_ref()
        .expect("mongosecret is annotated");
    assert!(
        annotations["kubectl.kubernetes.io/last-applied-configuration"].contains("ratingspassword")
    );
}

#[tokio::test]
async fn a_server_ignoring_metadata_accept_sends_whole_secrets() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| {
        options.forbidden.clear();
        options.metadata_lists = false;
    });
    let client = client(&server).await;
    let request = http::Request::get("/api/v1/secrets")
        .header(http::header::ACCEPT, METADATA_LIST)
        .body(Vec::new())
        .expect("a valid request");
    let raw: Value = serde_json::from_str(&client.request_text(request).await.expect("raw list"))
        .expect("the list is JSON");
    assert_eq!(raw["kind"], "SecretList");
    assert!(raw["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|item| item.get("data").is_some()));
}

#[tokio::test]
async fn secrets_are_forbidden_by_default() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let secrets: Api<Secret> = Api::all(client(&server).await);
    let status = api_status(
        secrets
            .list_metadata(&ListParams::default())
            .await
            .expect_err("secrets are forbidden"),
    );
    assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
    assert!(
        status.message.starts_with("secrets is forbidden"),
        "{}",
        status.message
    );

    let server = lab(|options| options.forbidden = vec!["deployments.apps".to_string()]);
    let deployments: Api<Deployment> = Api::namespaced(client(&server).await, "ratingsapp");
    let status = api_status(
        deployments
            .list(&ListParams::default())
            .await
            .expect_err("deployments are forbidden"),
    );
    assert_eq!(
        status.message,
        "deployments.apps is forbidden: User \"posture-reader\" cannot list resource \"deployments\" \
         in API group \"apps\" in the namespace \"ratingsapp\""
    );
}

#[tokio::test]
async fn an_expired_continue_answers_410_once() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| options.expire_continue_once = true);
    let api: Api<Deployment> = Api::all(client(&server).await);
    let first = api
        .list(&ListParams::default().limit(3))
        .await
        .expect("the first page");
    let token = first.metadata.continue_.expect("more pages remain");
    let expired = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await;
    let status = api_status(expired.expect_err("the token expired"));
    assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
    let resume = status
        .metadata
        .and_then(|m| m.continue_)
        .expect("a 410 offers an inconsistent continue");
    let again = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .expect("expires once only");
    let resumed = api
        .list(&ListParams::default().limit(3).continue_token(&resume))
        .await
        .expect("resumes");
    assert_eq!(again.items, resumed.items);
}

#[tokio::test]
async fn throttled_lists_answer_429_with_retry_after() {
    if !crate::lab::recorded() {
        return;
    }
    let server = lab(|options| {
        options.throttle_first = 1;
        options.retry_after_secs = 1;
    });
    let (head, body) = raw_get(&server, "/api/v1/pods", true);
    assert!(head.starts_with("http/1.1 429"), "{head}");
    assert!(head.contains("\r\nretry-after: 1\r\n"), "{head}");
    assert_eq!(body["details"]["retryAfterSeconds"], 1);
    let (head, _) = raw_get(&server, "/api/v1/pods", true);
    assert!(
        head.starts_with("http/1.1 200"),
        "only the first list is throttled: {head}"
    );

    let server = lab(|options| options.throttle_first = 2);
    let pods: Api<Pod> = Api::all(client_retrying(&server, false).await);
    let status = api_status(
        pods.list(&ListParams::default())
            .await
            .expect_err("throttled"),
    );
    assert_eq!(
        (status.code, status.reason.as_str()),
        (429, "TooManyRequests")
    );
    // kube's default client retries a 429 after Retry-After (here 0 seconds).
    let pods: Api<Pod> = Api::all(client(&server).await);
    pods.list(&ListParams::default())
        .await
        .expect("kube retries through the 429");
    let statuses: Vec<u16> = server
        .requests()
        .iter()
        .map(|request| request.status)
        .collect();
    assert_eq!(statuses, [429, 429, 200]);
}

#[tokio::test]
async fn configz_answers_only_for_the_real_kubelet() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let client = client(&server).await;
    let configz = |node: &str| {
        let request = http::Request::get(format!("/api/v1/nodes/{node}/proxy/configz"))
            .body(Vec::new())
            .expect("a valid request");
        client.request_text(request)
    };
    let kubelet: Value =
        serde_json::from_str(&configz("lab-kubelet-0").await.expect("configz")).expect("JSON");
    assert!(kubelet["kubeletconfig"].is_object());
    let aks = api_status(
        configz("aks-nodepool1-38290315-vmss000000")
            .await
            .expect_err("no kubelet"),
    );
    assert_eq!(
        (aks.code, aks.message.as_str()),
        (400, "address not allowed")
    );
    let unknown = api_status(configz("no-such-node").await.expect_err("no such node"));
    assert_eq!(unknown.code, 404);

    let server = lab(|options| options.unreachable_kubelets = false);
    let (head, body) = raw_get(
        &server,
        "/api/v1/nodes/aks-nodepool1-38290315-vmss000000/proxy/configz",
        true,
    );
    assert!(
        head.starts_with("http/1.1 200") && body["kubeletconfig"].is_object(),
        "{head}"
    );
}

#[test]
fn requests_need_a_token_and_a_get() {
    if !crate::lab::recorded() {
        return;
    }
    let server = LabServer::start(LabOptions::default());
    let (head, body) = raw_get(&server, "/version", false);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert_eq!(body["reason"], "Unauthorized");
    let (head, body) = raw_get(&server, "/version", true);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(body["gitVersion"], "v1.28.0");
    let (_, body) = raw_get(&server, "/apis/no.such.group/v1", true);
    assert_eq!(
        (body["code"].as_u64(), body["reason"].as_str()),
        (Some(404), Some("NotFound"))
    );
    let (head, _) = raw_request(
        &server,
        "DELETE",
        "/api/v1/namespaces/ratingsapp/pods",
        true,
    );
    assert!(
        head.starts_with("http/1.1 405"),
        "the lab is read-only: {head}"
    );
    let methods: Vec<String> = server
        .requests()
        .into_iter()
        .map(|request| request.method)
        .collect();
    assert_eq!(methods, ["GET", "GET", "GET", "DELETE"]);
}
