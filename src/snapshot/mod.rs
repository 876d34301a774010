//! The normalized record of one cluster collection: what `posture snapshot` writes and what
//! `posture scan --snapshot` reads (schema in docs/snapshot.md).
//!
//! A live scan goes through the same [`Snapshot`] value as a scan of a saved file, so both give
//! the same findings. Pure data: no I/O beyond (de)serializing, no policy knowledge.

mod node_facts;
mod platform;

pub use node_facts::{FactsFile, FileFact, NodeFacts, ProcessFact, NODE_FACTS_SCHEMA_VERSION};
pub use platform::{detect_platform, is_control_plane_mirror_pod, Platform, PlatformKind};

use crate::problem::{Code, Level, Problem};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::{Read, Write};

/// Bump the major number on any change that can break a reader.
pub const SCHEMA_VERSION: &str = "1.0";

/// apiVersion and kind given to a node's kubelet configuration when it becomes an object.
pub const KUBELET_CONFIG_API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";
pub const KUBELET_CONFIG_KIND: &str = "KubeletConfiguration";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema_version: String,
    pub tool: Tool,
    pub cluster: ClusterInfo,
    /// When collection started (RFC 3339, UTC).
    pub collected_at: String,
    /// How the served types were discovered.
    pub discovery: DiscoveryMethod,
    pub scope: Scope,
    /// The resource types listed, in the order they were collected, with how many objects each had.
    pub resource_types: Vec<ResourceType>,
    /// Every collected object as the API served it, Secret values and last-applied annotations
    /// already removed.
    pub objects: Vec<Value>,
    /// Per-node facts and kubelet configuration.
    pub nodes: Vec<NodeEvidence>,
    /// Everything that could not be collected, and why.
    pub not_collected: Vec<NotCollected>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscoveryMethod {
    /// Aggregated discovery (Kubernetes 1.26+): two requests for every group.
    Aggregated,
    /// The legacy walk: one request per API group version.
    PerGroup,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "posture".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The cluster's name in the kubeconfig (`in-cluster` when run inside the cluster).
    pub name: String,
    /// The kubeconfig context used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub server_version: ServerVersion,
    pub platform: Platform,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerVersion {
    pub git_version: String,
    pub major: String,
    pub minor: String,
    #[serde(default)]
    pub platform: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// Namespaces collected; `None` means all.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
    #[serde(default)]
    pub exclude_namespaces: Vec<String>,
}

impl Scope {
    /// Whether a namespaced object in `namespace` belongs in the scan.
    pub fn includes(&self, namespace: &str) -> bool {
        let listed = self
            .namespaces
            .as_ref()
            .is_none_or(|ns| ns.iter().any(|n| n == namespace));
        listed && !self.exclude_namespaces.iter().any(|n| n == namespace)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceType {
    /// `v1` or `group/version`: the preferred version the server served.
    pub api_version: String,
    pub kind: String,
    /// The plural resource name (`deployments`).
    pub resource: String,
    pub namespaced: bool,
    /// Objects collected of this type (after namespace filtering).
    pub count: usize,
    /// True when only metadata was requested (Secrets).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metadata_only: bool,
}

impl ResourceType {
    /// `deployments.apps`, `pods`: how kubectl names a resource type.
    pub fn qualified_name(&self) -> String {
        match self.api_version.split_once('/') {
            Some((group, _)) => format!("{}.{group}", self.resource),
            None => self.resource.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEvidence {
    pub name: String,
    pub kubelet_version: String,
    pub os_image: String,
    pub kernel_version: String,
    pub container_runtime: String,
    pub operating_system: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    pub kubelet_config: KubeletConfig,
}

impl NodeEvidence {
    /// Node facts from a Node object; the kubelet configuration is filled in separately.
    pub fn from_node(node: &Value, kubelet_config: KubeletConfig) -> NodeEvidence {
        let info = &node["status"]["nodeInfo"];
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        NodeEvidence {
            name: text(&node["metadata"]["name"]),
            kubelet_version: text(&info["kubeletVersion"]),
            os_image: text(&info["osImage"]),
            kernel_version: text(&info["kernelVersion"]),
            container_runtime: text(&info["containerRuntimeVersion"]),
            operating_system: text(&info["operatingSystem"]),
            architecture: text(&info["architecture"]),
            provider_id: node["spec"]["providerID"].as_str().map(str::to_owned),
            kubelet_config,
        }
    }
}

/// A node's kubelet configuration, or why it is missing. A missing configuration must make
/// kubelet checks "not collected", never "passed", so there is no empty default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum KubeletConfig {
    Collected {
        /// Where it came from: `configz` (the live kubelet) or a file path.
        source: String,
        config: Value,
    },
    NotCollected {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCollected {
    /// What is missing: a resource type (`secrets`), `kubelet config of node X`, `discovery`.
    pub target: String,
    pub reason: String,
}

impl NotCollected {
    pub fn problem(&self) -> Problem {
        Problem::new(
            Level::Warning,
            Code::NotCollected,
            format!("not collected: {}: {}", self.target, self.reason),
        )
    }
}

/// Why a snapshot file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read the snapshot")]
    Io(#[from] std::io::Error),
    #[error("not a posture snapshot (expected the JSON that `posture snapshot` writes)")]
    Decode(#[source] serde_json::Error),
    #[error(
        "snapshot schema {found} is not supported (this posture reads {SCHEMA_VERSION}); \
         take a new snapshot with this version"
    )]
    Version { found: String },
}

impl Snapshot {
    pub fn read(reader: impl Read) -> Result<Snapshot, SnapshotError> {
        let snapshot: Snapshot = serde_json::from_reader(std::io::BufReader::new(reader))
            .map_err(SnapshotError::Decode)?;
        snapshot.supported()
    }

    /// A snapshot already parsed as JSON.
    pub fn from_value(value: Value) -> Result<Snapshot, SnapshotError> {
        let snapshot: Snapshot = serde_json::from_value(value).map_err(SnapshotError::Decode)?;
        snapshot.supported()
    }

    /// Whether a JSON document looks like a snapshot (rather than a scan report).
    pub fn is_snapshot(value: &Value) -> bool {
        ["schema_version", "cluster", "objects", "resource_types"]
            .iter()
            .all(|k| value.get(k).is_some())
    }

    fn supported(self) -> Result<Snapshot, SnapshotError> {
        let snapshot = self;
        let major = |v: &str| v.split('.').next().unwrap_or_default().to_owned();
        if major(&snapshot.schema_version) != major(SCHEMA_VERSION) {
            return Err(SnapshotError::Version {
                found: snapshot.schema_version,
            });
        }
        Ok(snapshot)
    }

    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// Writes the snapshot as [`write`](Self::write) does, byte for byte, with the `count`
    /// elements `objects` writes as its objects instead of its own (which are left out), each
    /// as [`object_element`] renders it: what `posture snapshot` writes without holding every
    /// object.
    pub fn write_with(
        &self,
        out: &mut dyn Write,
        count: usize,
        objects: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let head = Snapshot {
            objects: Vec::new(),
            ..self.clone()
        };
        let mut text = Vec::new();
        head.write(&mut text)?;
        if count == 0 {
            return out.write_all(&text);
        }
        let at = crate::pretty_json::empty_array_at(&text, "objects", 1)
            .ok_or_else(|| std::io::Error::other("a snapshot always has an objects array"))?;
        out.write_all(&text[..=at])?;
        // The first element's separator is the comma it must not have.
        objects(&mut WithoutFirstByte {
            out: &mut *out,
            skipped: false,
        })?;
        out.write_all(b"\n  ]")?;
        out.write_all(&text[at + 2..])
    }

    /// Everything not collected: the recorded entries, then each node whose kubelet
    /// configuration is missing.
    pub fn missing(&self) -> Vec<NotCollected> {
        let mut missing = self.not_collected.clone();
        missing.extend(self.nodes.iter().filter_map(|n| match &n.kubelet_config {
            KubeletConfig::NotCollected { reason } => Some(NotCollected {
                target: format!("kubelet config of node {}", n.name),
                reason: reason.clone(),
            }),
            KubeletConfig::Collected { .. } => None,
        }));
        missing
    }
}

/// One object as an element of a snapshot's `objects` array (see [`Snapshot::write_with`]):
/// its separator (a comma and a new line) and the object, indented.
pub fn object_element(object: &Value, out: &mut Vec<u8>) -> std::io::Result<()> {
    out.extend_from_slice(b",\n    ");
    crate::pretty_json::pretty(object, 2, out)
}

/// Passes on all it is given but the first byte.
struct WithoutFirstByte<'a> {
    out: &'a mut dyn Write,
    skipped: bool,
}

impl Write for WithoutFirstByte<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.skipped || buf.is_empty() {
            return self.out.write(buf);
        }
        self.skipped = true;
        self.out.write_all(&buf[1..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// A kubelet's configuration as an object: `/configz` serves the fields without apiVersion and
/// kind, so they are added, and the node becomes the name.
pub(crate) fn kubelet_object(node: &str, source: &str, config: Value) -> Value {
    let mut object = match config {
        Value::Object(map) => Value::Object(map),
        _ => json!({}),
    };
    object["apiVersion"] = json!(KUBELET_CONFIG_API_VERSION);
    object["kind"] = json!(KUBELET_CONFIG_KIND);
    object["metadata"] = json!({
        "name": node,
        "annotations": { "posture.io/source": source },
    });
    object
}
