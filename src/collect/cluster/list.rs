//! Listing one resource type: paginated, restarted when the server expires the continue token,
//! metadata-only for Secrets, bounded in pages and objects, and every object cleaned before it
//! is kept.

use super::discovery::ServedType;
use super::request::{Api, RequestError};
use crate::resource::{sanitize, uri_component};
use kube::api::ListParams;
use serde::Deserialize;
use serde_json::{json, Value};

/// How many times a list whose continue token expired (410 Gone) is started again.
const MAX_RESTARTS: usize = 3;

/// How much one list may read.
#[derive(Debug, Clone, Copy)]
pub struct ListLimits {
    /// Objects asked for per page.
    pub page_size: u32,
    /// Pages read before giving up on a continue token that never ends.
    pub max_pages: usize,
    /// Objects kept before giving up.
    pub max_items: usize,
}

/// Why a list was not collected.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(
        "stopped after {0} pages: the server kept sending continue tokens (raise --max-pages)"
    )]
    TooManyPages(usize),
    #[error("stopped at more than {0} objects (raise --max-list-items)")]
    TooManyItems(usize),
}

impl ListError {
    pub fn reason(&self) -> String {
        match self {
            ListError::Request(e) => e.reason(),
            other => other.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListPage {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

/// Where a list hands its pages, as they arrive: a scan evaluates them, a snapshot keeps them.
pub(super) trait Pages {
    /// One page of objects, each already [`normalize`]d.
    async fn page(&mut self, objects: Vec<Value>);
    /// The list is read again from the start (its continue token expired): the pages handed
    /// so far are superseded.
    async fn restart(&mut self);
}

/// Lists every object of `ty`, in `namespace` or cluster-wide, handing each page to `pages`;
/// says how many objects it handed. `metadata_only` asks the server for
/// PartialObjectMetadata, so object bodies (Secret values) never cross the wire. On an error,
/// the pages handed are not a whole list.
pub async fn list_all(
    api: &Api,
    ty: &ServedType,
    namespace: Option<&str>,
    limits: ListLimits,
    metadata_only: bool,
    pages: &mut impl Pages,
) -> Result<usize, ListError> {
    let mut restarts = 0;
    // Counted across restarts: a server that expires every token must not loop either.
    let mut read = 0;
    'restart: loop {
        let mut objects = 0;
        let mut token: Option<String> = None;
        loop {
            if read == limits.max_pages {
                return Err(ListError::TooManyPages(limits.max_pages));
            }
            read += 1;
            let params = ListParams {
                limit: Some(limits.page_size),
                continue_token: token.clone(),
                ..ListParams::default()
            };
            match page(api, ty, namespace, &params, metadata_only).await {
                Ok(page) => {
                    if page.items.len() > limits.max_items - objects {
                        return Err(ListError::TooManyItems(limits.max_items));
                    }
                    objects += page.items.len();
                    token = page.metadata.continue_token.filter(|t| !t.is_empty());
                    pages
                        .page(page.items.into_iter().map(|o| normalize(o, ty)).collect())
                        .await;
                    if token.is_none() {
                        return Ok(objects);
                    }
                }
                // The continue token outlived the server's compaction window: the list must be
                // read again from the start to stay consistent.
                Err(RequestError::Status(status))
                    if status.code == 410 && token.is_some() && restarts < MAX_RESTARTS =>
                {
                    restarts += 1;
                    pages.restart().await;
                    continue 'restart;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

async fn page(
    api: &Api,
    ty: &ServedType,
    namespace: Option<&str>,
    params: &ListParams,
    metadata_only: bool,
) -> Result<ListPage, RequestError> {
    let request = kube::core::Request::new(collection_path(ty, namespace));
    let built = if metadata_only {
        request.list_metadata(params)
    } else {
        request.list(params)
    };
    let built = built.map_err(|e| RequestError::Transport(kube::Error::BuildRequest(e)))?;
    api.get::<ListPage>(built).await
}

fn collection_path(ty: &ServedType, namespace: Option<&str>) -> String {
    let base = if ty.group.is_empty() {
        format!("/api/{}", ty.version)
    } else {
        format!("/apis/{}/{}", ty.group, ty.version)
    };
    match namespace {
        // A namespace is a DNS label; encoded anyway, so no value can reach another path.
        Some(ns) if ty.namespaced => {
            format!("{base}/namespaces/{}/{}", uri_component(ns), ty.plural)
        }
        _ => format!("{base}/{}", ty.plural),
    }
}

/// List items omit `apiVersion` and `kind` (and metadata-only items name PartialObjectMetadata),
/// so both are set from the type; managed fields are bookkeeping no rule reads; values that must
/// never be stored are dropped here, before the object is kept anywhere.
pub(super) fn normalize(mut object: Value, ty: &ServedType) -> Value {
    if let Value::Object(map) = &mut object {
        map.insert("apiVersion".to_owned(), json!(ty.api_version()));
        map.insert("kind".to_owned(), json!(ty.kind));
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("managedFields");
        }
    }
    sanitize(&mut object);
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(group: &str, plural: &str, namespaced: bool) -> ServedType {
        ServedType {
            group: group.to_owned(),
            version: "v1".to_owned(),
            kind: "K".to_owned(),
            plural: plural.to_owned(),
            namespaced,
        }
    }

    #[test]
    fn paths_follow_the_api_layout() {
        assert_eq!(collection_path(&ty("", "pods", true), None), "/api/v1/pods");
        assert_eq!(
            collection_path(&ty("apps", "deployments", true), Some("web")),
            "/apis/apps/v1/namespaces/web/deployments"
        );
        assert_eq!(
            collection_path(&ty("", "pods", true), Some("a/../../secrets?x")),
            "/api/v1/namespaces/a%2F..%2F..%2Fsecrets%3Fx/pods"
        );
        assert_eq!(
            collection_path(&ty("", "nodes", false), Some("web")),
            "/api/v1/nodes"
        );
    }

    #[test]
    fn full_secrets_lose_their_values_when_listed() {
        let secret = json!({"metadata": {"name": "s", "managedFields": [{}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"p\":\"c2VjcmV0\"}}"}},
            "data": {"p": "c2VjcmV0"}, "stringData": {"q": "secret"}});
        let mut t = ty("", "secrets", true);
        t.kind = "Secret".to_owned();
        let out = normalize(secret, &t).to_string();
        assert!(
            !out.contains("c2VjcmV0") && !out.contains("\"secret\""),
            "{out}"
        );
        assert!(!out.contains("managedFields"));
        assert!(out.contains("\"kind\":\"Secret\""));
    }
}
