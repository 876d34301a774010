//! Which resource types the server serves, at their preferred versions.
//!
//! Aggregated discovery (two requests, Kubernetes 1.26+) first; servers without it get the
//! per-group walk (`/api`, `/apis`, then one request per group). A group whose discovery fails
//! (an aggregated API such as metrics.k8s.io that is down) is reported, not fatal.

use super::request::{Api, RequestError};
use super::ClusterError;
use crate::snapshot::{DiscoveryMethod, NotCollected};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIVersions};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Accept header for aggregated discovery: v2 (1.30+), v2beta1 (1.26–1.32), else plain JSON,
/// which an older server answers with the legacy APIGroupList.
const ACCEPT_AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,\
application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// One listable resource type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServedType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ServedType {
    pub fn api_version(&self) -> String {
        group_version(&self.group, &self.version)
    }

    /// `deployments.apps`, `pods`: how kubectl names a resource type.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

pub struct Discovered {
    pub method: DiscoveryMethod,
    pub types: Vec<ServedType>,
    pub not_collected: Vec<NotCollected>,
}

pub async fn discover(api: &Api) -> Result<Discovered, ClusterError> {
    if let Some(found) = aggregated(api).await {
        return Ok(found);
    }
    per_group(api).await
}

async fn get_json<T: DeserializeOwned>(
    api: &Api,
    path: &str,
    accept: &str,
) -> Result<T, RequestError> {
    let request = http::Request::get(path)
        .header(http::header::ACCEPT, accept)
        .body(Vec::new())
        .map_err(|e| RequestError::Transport(kube::Error::HttpError(e)))?;
    api.get(request).await
}

/// `None` when the server does not offer aggregated discovery (or answers it unusably).
async fn aggregated(api: &Api) -> Option<Discovered> {
    let (core, groups) = tokio::join!(
        get_json::<Value>(api, "/api", ACCEPT_AGGREGATED),
        get_json::<Value>(api, "/apis", ACCEPT_AGGREGATED)
    );
    let (core, groups) = (core.ok()?, groups.ok()?);
    let is_aggregated = |v: &Value| v["kind"] == "APIGroupDiscoveryList";
    if !is_aggregated(&core) || !is_aggregated(&groups) {
        return None;
    }
    let mut found = Discovered {
        method: DiscoveryMethod::Aggregated,
        types: Vec::new(),
        not_collected: Vec::new(),
    };
    for list in [&core, &groups] {
        for item in list["items"].as_array().into_iter().flatten() {
            let group = item["metadata"]["name"].as_str().unwrap_or_default();
            read_aggregated_group(group, item, &mut found);
        }
    }
    Some(found)
}

/// Versions come in preference order; a type is taken from the first version serving it.
fn read_aggregated_group(group: &str, item: &Value, found: &mut Discovered) {
    let mut seen: Vec<String> = Vec::new();
    for version in item["versions"].as_array().into_iter().flatten() {
        let v = version["version"].as_str().unwrap_or_default();
        if version["freshness"] == "Stale" {
            found.not_collected.push(NotCollected {
                target: format!("discovery of {}", group_version(group, v)),
                reason: "the server reports its discovery data as stale".to_owned(),
            });
            continue;
        }
        for r in version["resources"].as_array().into_iter().flatten() {
            let plural = r["resource"].as_str().unwrap_or_default();
            let kind = r["responseKind"]["kind"].as_str().unwrap_or_default();
            if plural.is_empty() || kind.is_empty() || seen.iter().any(|s| s == plural) {
                continue;
            }
            if !has_verb(&r["verbs"], "list") {
                continue;
            }
            seen.push(plural.to_owned());
            found.types.push(ServedType {
                group: group.to_owned(),
                version: v.to_owned(),
                kind: kind.to_owned(),
                plural: plural.to_owned(),
                namespaced: r["scope"] == "Namespaced",
            });
        }
    }
}

async fn per_group(api: &Api) -> Result<Discovered, ClusterError> {
    let mut found = Discovered {
        method: DiscoveryMethod::PerGroup,
        types: Vec::new(),
        not_collected: Vec::new(),
    };
    let failed = |source| ClusterError::Discovery {
        endpoint: api.endpoint.clone(),
        source,
    };
    let core: APIVersions = get_json(api, "/api", "application/json")
        .await
        .map_err(failed)?;
    let groups: APIGroupList = get_json(api, "/apis", "application/json")
        .await
        .map_err(failed)?;
    let mut versions: Vec<(String, String)> = core
        .versions
        .iter()
        .take(1)
        .map(|v| (String::new(), v.clone()))
        .collect();
    for g in &groups.groups {
        let preferred = g
            .preferred_version
            .as_ref()
            .or_else(|| g.versions.first())
            .map(|v| v.version.clone());
        if let Some(v) = preferred {
            versions.push((g.name.clone(), v));
        }
    }
    let lists = futures::future::join_all(versions.iter().map(|(group, version)| async move {
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        (
            group,
            version,
            get_json::<Value>(api, &path, "application/json").await,
        )
    }))
    .await;
    for (group, version, list) in lists {
        match list {
            Ok(list) => read_resource_list(group, version, &list, &mut found),
            Err(e) => found.not_collected.push(NotCollected {
                target: format!("discovery of {}", group_version(group, version)),
                reason: e.reason(),
            }),
        }
    }
    Ok(found)
}

fn read_resource_list(group: &str, version: &str, list: &Value, found: &mut Discovered) {
    for r in list["resources"].as_array().into_iter().flatten() {
        let plural = r["name"].as_str().unwrap_or_default();
        let kind = r["kind"].as_str().unwrap_or_default();
        // `pods/log`, `deployments/scale`: subresources are not types of their own.
        if plural.is_empty() || plural.contains('/') || kind.is_empty() {
            continue;
        }
        if !has_verb(&r["verbs"], "list") {
            continue;
        }
        found.types.push(ServedType {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural.to_owned(),
            namespaced: r["namespaced"].as_bool().unwrap_or(false),
        });
    }
}

fn has_verb(verbs: &Value, verb: &str) -> bool {
    verbs
        .as_array()
        .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(verb)))
}

fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    }
}
