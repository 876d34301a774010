//! Node facts: what `posture node-collect` records on one node for the benchmark's file and
//! process checks (CIS 1.1 and 4.1: modes and owners of the files the benchmark names; the
//! command lines of control-plane and node processes). Pure data; collecting it is
//! `collect::node`. Schema in docs/node-facts.md.

use serde::{Deserialize, Serialize};

/// Bump the major number on any change that can break a reader.
pub const NODE_FACTS_SCHEMA_VERSION: &str = "1.0";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFacts {
    pub schema_version: String,
    /// Always `NodeFacts`, so a file says what it is.
    pub kind: String,
    /// The node's name (from --node-name, $NODE_NAME, or the host's /etc/hostname).
    pub node: String,
    /// When the facts were gathered (RFC 3339, UTC).
    pub collected_at: String,
    /// Every candidate file that exists, once per role it plays.
    pub files: Vec<FileFact>,
    /// Roles none of whose candidate paths exists on this node (a worker has no
    /// kube-apiserver manifest; that is not an error).
    pub absent: Vec<String>,
    /// Kubernetes processes running on the node, with their arguments.
    pub processes: Vec<ProcessFact>,
    /// What could not be read, and why.
    pub not_collected: Vec<String>,
}

/// One file or directory the benchmark names, as found on the node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileFact {
    /// `<component>/<what>`, e.g. `kube-apiserver/pod-spec`, `kubelet/kubeconfig`, `pki/key`.
    pub role: String,
    /// The path on the node (without the collector's `--root` prefix).
    pub path: String,
    /// `file` or `directory`.
    pub file_type: String,
    /// Permission bits in octal, as `stat -c %a` prints them (`600`, `644`, `1777`).
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    /// Names from the node's own /etc/passwd and /etc/group, when they have the ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Where `path` pointed, when it is a symbolic link (mode and owner are of the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// A running Kubernetes component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProcessFact {
    /// `kube-apiserver`, `kube-controller-manager`, `kube-scheduler`, `etcd`, `kubelet` or
    /// `kube-proxy`.
    pub component: String,
    pub pid: u32,
    /// The full command line, program first.
    pub args: Vec<String>,
}

/// Node facts with the file they were read from (`--node-facts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsFile {
    pub path: crate::resource::SourcePath,
    pub facts: NodeFacts,
}
