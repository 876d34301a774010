//! The recorded cluster as read from `<lab>/api`: discovery documents, the
//! List of every listable type and the raw answers. Read once when a server
//! starts; knows nothing of HTTP, paging or fault injection.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The one node whose kubelet ran; the others are API objects only.
pub const REAL_KUBELET: &str = "lab-kubelet-0";

/// A listable resource type, as discovery describes it, with its objects.
pub struct RecordedResource {
    /// `pods`, `deployments.apps`: the key of `counts.json` and the file stem.
    pub key: String,
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: String,
    pub namespaced: bool,
    /// In etcd key order (`namespace/name`) and, like the items of a List the
    /// apiserver sends, without `apiVersion` and `kind`.
    pub items: Vec<Value>,
}

impl RecordedResource {
    pub fn api_version(&self) -> String {
        group_version(&self.group, &self.version)
    }
}

pub struct Recording {
    pub version: Value,
    pub legacy_api: Value,
    pub legacy_apis: Value,
    pub aggregated_api: Value,
    pub aggregated_apis: Value,
    /// The APIResourceList of each group version, keyed `v1`, `apps/v1`.
    pub group_versions: BTreeMap<String, Value>,
    /// Keyed by (group version, plural); only the version the List was
    /// recorded at, so `autoscaling/v1` does not list v2 objects.
    resources: BTreeMap<(String, String), RecordedResource>,
    /// One resourceVersion for every List: no object is newer.
    pub resource_version: u64,
    pub counts: BTreeMap<String, usize>,
    pub configz: Value,
    pub unreachable_kubelet: Value,
    pub forbidden_list: Value,
    pub bad_continue: Value,
}

impl Recording {
    /// Reads `api_dir`; panics naming the file if the recording is incomplete.
    pub fn load(api_dir: &Path) -> Recording {
        let read = |relative: &str| read_json(&api_dir.join(relative));
        let legacy_apis = read("apis.json");
        let group_versions = load_group_versions(api_dir, &legacy_apis);
        let resources = load_resources(api_dir, &legacy_apis, &group_versions);
        let resource_version = newest_resource_version(resources.values());
        let counts = serde_json::from_value(read("counts.json"))
            .unwrap_or_else(|e| panic!("counts.json maps resource keys to counts: {e}"));
        Recording {
            version: read("version.json"),
            legacy_api: read("api.json"),
            legacy_apis,
            aggregated_api: read("discovery/aggregated_api.json"),
            aggregated_apis: read("discovery/aggregated_apis.json"),
            group_versions,
            resources,
            resource_version,
            counts,
            configz: read(&format!("raw/configz_{REAL_KUBELET}.json")),
            unreachable_kubelet: read("raw/status_400_configz_fake_node.json"),
            forbidden_list: read("raw/status_403_list_secrets.json"),
            bad_continue: read("raw/status_400_bad_continue.json"),
        }
    }

    /// The resource a List URL names, if that group version serves it.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<&RecordedResource> {
        self.resources
            .get(&(group_version(group, version), plural.to_string()))
    }

    /// Serves a type the recording lacks: a group in both discovery forms, its
    /// APIResourceList, its List and its count.
    pub fn add_custom(&mut self, custom: &super::options::CustomResource) {
        let gv = group_version(&custom.group, &custom.version);
        let verbs = serde_json::json!(["get", "list", "watch"]);
        let scope = if custom.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        };
        let group_entry = serde_json::json!({
            "name": custom.group,
            "versions": [{"groupVersion": gv, "version": custom.version}],
            "preferredVersion": {"groupVersion": gv, "version": custom.version},
        });
        let groups = self.legacy_apis["groups"]
            .as_array_mut()
            .expect("/apis lists groups");
        if !groups.iter().any(|g| g["name"] == custom.group.as_str()) {
            groups.push(group_entry);
        }
        let resource = serde_json::json!({
            "resource": custom.plural,
            "responseKind": {"group": "", "version": "", "kind": custom.kind},
            "scope": scope,
            "verbs": verbs,
        });
        let items = self.aggregated_apis["items"]
            .as_array_mut()
            .expect("aggregated discovery has items");
        match items.iter_mut().find(|i| i["metadata"]["name"] == custom.group.as_str()) {
            Some(item) => item["versions"][0]["resources"]
                .as_array_mut()
                .expect("a group version lists resources")
                .push(resource),
            None => items.push(serde_json::json!({
                "metadata": {"name": custom.group},
                "versions": [{"version": custom.version, "resources": [resource], "freshness": "Current"}],
            })),
        }
        let list = self.group_versions.entry(gv.clone()).or_insert_with(|| {
            serde_json::json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": []})
        });
        list["resources"]
            .as_array_mut()
            .expect("an APIResourceList has resources")
            .push(serde_json::json!({
                "name": custom.plural, "singularName": "", "namespaced": custom.namespaced,
                "kind": custom.kind, "verbs": verbs,
            }));
        let key = resource_key(&custom.group, &custom.plural);
        let items: Vec<Value> = custom
            .items
            .iter()
            .map(|o| {
                let mut o = o.clone();
                if let Some(m) = o.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                o
            })
            .collect();
        self.counts.insert(key.clone(), items.len());
        self.resources.insert(
            (gv, custom.plural.clone()),
            RecordedResource {
                key,
                group: custom.group.clone(),
                version: custom.version.clone(),
                plural: custom.plural.clone(),
                kind: custom.kind.clone(),
                namespaced: custom.namespaced,
                items,
            },
        );
    }

    pub fn has_node(&self, name: &str) -> bool {
        self.resource("", "v1", "nodes")
            .is_some_and(|nodes| nodes.items.iter().any(|node| object_name(node) == name))
    }
}

/// `v1` for the core group, `apps/v1` otherwise, as in URLs and apiVersion.
fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read(path)
        .unwrap_or_else(|e| panic!("lab recording {} is readable: {e}", path.display()));
    serde_json::from_slice(&text)
        .unwrap_or_else(|e| panic!("lab recording {} is JSON: {e}", path.display()))
}

/// Every group version the server announces: `v1` plus each version in `/apis`.
fn announced_group_versions(legacy_apis: &Value) -> Vec<String> {
    let groups = legacy_apis["groups"].as_array().into_iter().flatten();
    let versions = groups.flat_map(|group| group["versions"].as_array().into_iter().flatten());
    let named = versions.filter_map(|version| version["groupVersion"].as_str());
    std::iter::once("v1")
        .chain(named)
        .map(str::to_string)
        .collect()
}

fn load_group_versions(api_dir: &Path, legacy_apis: &Value) -> BTreeMap<String, Value> {
    announced_group_versions(legacy_apis)
        .into_iter()
        .map(|gv| {
            let file = match gv.split_once('/') {
                Some((group, version)) => format!("apis_{group}_{version}.json"),
                None => format!("api_{gv}.json"),
            };
            let document = read_json(&api_dir.join("discovery").join(file));
            (gv, document)
        })
        .collect()
}

/// A group's preferred version, where a List with no items was recorded.
fn preferred_version<'a>(legacy_apis: &'a Value, group: &str) -> Option<&'a str> {
    if group.is_empty() {
        return Some("v1");
    }
    let groups = legacy_apis["groups"].as_array()?;
    let entry = groups.iter().find(|entry| entry["name"] == group)?;
    entry["preferredVersion"]["version"].as_str()
}

/// One listable type of one group version's discovery document.
struct Listable {
    group: String,
    version: String,
    plural: String,
    kind: String,
    namespaced: bool,
}

fn listables(group_version: &str, document: &Value) -> Vec<Listable> {
    let (group, version) = group_version.split_once('/').unwrap_or(("", group_version));
    let entries = document["resources"].as_array().into_iter().flatten();
    entries
        .filter(|entry| {
            entry["verbs"]
                .as_array()
                .is_some_and(|verbs| verbs.iter().any(|v| v == "list"))
        })
        .filter_map(|entry| {
            let plural = entry["name"].as_str()?;
            // `pods/log` and the like are subresources, not collections.
            (!plural.contains('/')).then(|| Listable {
                group: group.to_string(),
                version: version.to_string(),
                plural: plural.to_string(),
                kind: entry["kind"].as_str().unwrap_or_default().to_string(),
                namespaced: entry["namespaced"].as_bool().unwrap_or(false),
            })
        })
        .collect()
}

fn load_resources(
    api_dir: &Path,
    legacy_apis: &Value,
    group_versions: &BTreeMap<String, Value>,
) -> BTreeMap<(String, String), RecordedResource> {
    let mut resources = BTreeMap::new();
    for (gv, document) in group_versions {
        for listable in listables(gv, document) {
            let key = resource_key(&listable.group, &listable.plural);
            let path = api_dir.join("resources").join(format!("{key}.json"));
            let Some(items) = recorded_items(&path, &listable, legacy_apis) else {
                continue;
            };
            let resource = RecordedResource {
                key,
                group: listable.group,
                version: listable.version,
                plural: listable.plural,
                kind: listable.kind,
                namespaced: listable.namespaced,
                items,
            };
            resources.insert((gv.clone(), resource.plural.clone()), resource);
        }
    }
    resources
}

/// `pods` for the core group, `deployments.apps` otherwise.
fn resource_key(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// The items of the recorded List at `path`, if it was recorded at this
/// listable's version; ready to serve.
fn recorded_items(path: &Path, listable: &Listable, legacy_apis: &Value) -> Option<Vec<Value>> {
    if !path.exists() {
        return None;
    }
    let list = read_json(path);
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    let recorded_version = match items.first() {
        Some(item) => item["apiVersion"]
            .as_str()
            .map(|av| av.rsplit('/').next().unwrap_or(av)),
        None => preferred_version(legacy_apis, &listable.group),
    };
    if recorded_version != Some(listable.version.as_str()) {
        return None;
    }
    items.sort_by_cached_key(etcd_key);
    for item in &mut items {
        if let Some(fields) = item.as_object_mut() {
            fields.remove("apiVersion");
            fields.remove("kind");
        }
    }
    Some(items)
}

/// The order etcd keeps objects in, and so the order of every List.
fn etcd_key(item: &Value) -> String {
    let metadata = &item["metadata"];
    match metadata["namespace"].as_str() {
        Some(namespace) => format!("{namespace}/{}", object_name(item)),
        None => object_name(item).to_string(),
    }
}

fn object_name(item: &Value) -> &str {
    item["metadata"]["name"].as_str().unwrap_or_default()
}

fn newest_resource_version<'a>(resources: impl Iterator<Item = &'a RecordedResource>) -> u64 {
    resources
        .flat_map(|resource| &resource.items)
        .filter_map(|item| item["metadata"]["resourceVersion"].as_str()?.parse().ok())
        .max()
        .unwrap_or(1)
}
