//! The normalized object every source produces and every rule reads.
//!
//! A [`Resource`] is a Kubernetes-style object plus where it came from. It is pure data: no I/O
//! and no policy knowledge lives here. Values that must never reach the engine or any report
//! (Secret data, last-applied annotations) are removed by [`sanitize`] before a `Resource` exists.

mod command_line;
mod packed;
pub(crate) mod path;
mod sanitize;
mod source_path;
mod spans;

pub use command_line::{container_words, CommandLine};
pub use packed::Packed;
pub use path::{FieldPath, Segment};
pub use sanitize::sanitize;
pub use source_path::SourcePath;
pub use spans::{NodeView, Position, Shape, SpanTree};

use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Where an object was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Origin {
    /// A manifest file (or stdin, shown as `-`).
    File {
        path: SourcePath,
        /// 0-based index of the YAML document in the file.
        document: usize,
        /// Index in the `items` of a `kind: List` document, if it came from one.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
        /// The chart template named by Helm's `# Source:` comment above the document.
        #[serde(skip_serializing_if = "Option::is_none")]
        helm_source: Option<String>,
    },
    /// An object from the output of a tool that renders a directory: `helm template` for a chart,
    /// `kubectl kustomize` for a kustomization. Positions of such an object (and of its findings)
    /// are lines of that output, never lines of `file`.
    Rendered {
        tool: Renderer,
        /// The chart or kustomization directory, as the user named it or the walk found it.
        dir: SourcePath,
        /// The repository file the object comes from: the chart template that Helm's `# Source:`
        /// comment names, or the file of kustomize's `config.kubernetes.io/origin` annotation.
        /// `Chart.yaml` or the kustomization file when the tool names none, or names a file that
        /// is not on disk (a packaged subchart, a remote base).
        file: SourcePath,
        /// The source as the tool wrote it (`demo/templates/deployment.yaml`,
        /// `../base/deployment.yaml`), when it wrote one.
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// 0-based index of the YAML document in the tool's output.
        document: usize,
        /// Index in the `items` of a `kind: List` document, if it came from one.
        #[serde(skip_serializing_if = "Option::is_none")]
        item: Option<usize>,
    },
    /// An object read from a live cluster's API, directly or through a snapshot of it.
    Cluster {
        /// The cluster's name as the kubeconfig names it (or as the snapshot recorded it).
        cluster: String,
    },
}

impl Origin {
    /// The stable name of where findings live, for fingerprints and SARIF: the chart template or
    /// file for manifests, `k8s://<cluster>` for a cluster.
    pub fn source_key(&self) -> String {
        self.source().into_owned()
    }

    /// [`Origin::source_key`], borrowed but for a cluster's: for the many comparisons and
    /// sets of findings by object and source that reports make.
    pub fn source(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Origin::File {
                path, helm_source, ..
            } => helm_source.as_deref().unwrap_or(path.as_str()).into(),
            // The file, not the rendered line: a template edit that moves lines of the output
            // must not change fingerprints.
            Origin::Rendered { file, .. } => file.as_str().into(),
            Origin::Cluster { cluster } => format!("k8s://{}", uri_component(cluster)).into(),
        }
    }

    /// The file on disk this origin names: the manifest, or the file a rendered object comes
    /// from; `None` for cluster objects.
    pub fn file(&self) -> Option<&SourcePath> {
        match self {
            Origin::File { path, .. } => Some(path),
            Origin::Rendered { file, .. } => Some(file),
            Origin::Cluster { .. } => None,
        }
    }
}

/// The kind of place an object was read from, as a rule's METADATA `origins` names it: a rule
/// that judges what is committed to a repository (Secret values in a manifest) runs on `file`
/// objects only, since a live cluster's Secrets are meant to hold values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OriginKind {
    /// A manifest file (or stdin).
    File,
    /// The output of `helm template` or `kubectl kustomize`.
    Rendered,
    /// A live cluster, or a snapshot of one.
    Cluster,
}

impl Origin {
    pub fn kind(&self) -> OriginKind {
        match self {
            Origin::File { .. } => OriginKind::File,
            Origin::Rendered { .. } => OriginKind::Rendered,
            Origin::Cluster { .. } => OriginKind::Cluster,
        }
    }
}

/// Where a field of a rendered object is written in the repository: the chart template,
/// kustomize resource or patch file that sets it, and the line and column there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Written {
    pub file: SourcePath,
    pub position: Position,
}

/// Finds where the fields of a rendered object are written in the files it was rendered from.
/// The source that rendered the object builds it from the files it read then, so a lookup does
/// no I/O and a lookup per finding costs less than mapping every field of every object up front.
pub trait SourceMap: std::fmt::Debug + Send + Sync {
    /// Where the field at `path` of `object` (or the nearest parent of it that `object` has) is
    /// written; `None` when that cannot be told unambiguously, as for a field a template writes
    /// with `toYaml` or `include`.
    fn written(&self, object: &Value, path: &FieldPath) -> Option<Written>;
}

/// The kind of input a resource was read from, and so the shape of its object: a rule reads
/// one input type (its METADATA's `input`, default `kubernetes`) and runs only on resources of
/// that type. A new source adds a variant here (docs/architecture.md).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum InputType {
    /// Kubernetes objects: manifests, rendered charts and kustomizations, clusters.
    #[default]
    Kubernetes,
    /// Services of Compose files (the Compose Specification), one object per service.
    Compose,
    /// Amazon ECS task definitions (the `RegisterTaskDefinition` shape), one object per task
    /// definition with its containers, from JSON, CloudFormation or a Terraform plan.
    Ecs,
}

impl InputType {
    pub const ALL: [InputType; 3] = [InputType::Kubernetes, InputType::Compose, InputType::Ecs];

    pub fn as_str(self) -> &'static str {
        match self {
            InputType::Kubernetes => "kubernetes",
            InputType::Compose => "compose",
            InputType::Ecs => "ecs",
        }
    }
}

/// The path from an object to its pod spec, per workload kind: the kinds the Rego lib walks
/// in policies/lib/k8s.rego, and no other.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "PodTemplate" => &["template", "spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// A tool that turns a directory into manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Renderer {
    /// `helm template` on a chart (a directory with `Chart.yaml`).
    Helm,
    /// `kubectl kustomize` (or `kustomize build`) on a directory with a kustomization file.
    Kustomize,
}

impl Renderer {
    pub fn as_str(self) -> &'static str {
        match self {
            Renderer::Helm => "helm",
            Renderer::Kustomize => "kustomize",
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so cluster names such as EKS
/// ARNs (`arn:aws:eks:...:cluster/name`) stay one URI segment.
pub fn uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Identity of an object: what a finding names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects and for manifests that leave the namespace to deploy time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

/// `apps/v1` → `apps`; `v1` → `` (the core group).
pub fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

impl ObjectRef {
    /// The API group: `apps` for `apps/v1`, empty for the core group.
    pub fn group(&self) -> &str {
        api_group(&self.api_version)
    }

    /// The object's stable address in a cluster: `k8s://<cluster>/<namespace>/<Kind>/<name>`,
    /// or `k8s://<cluster>/<Kind>/<name>` for cluster-scoped objects. Kinds served by more
    /// than one group are told apart by the group (`Kind.group`).
    pub fn uri(&self, cluster: &str) -> String {
        format!("k8s://{}/{}", uri_component(cluster), self.address())
    }

    /// The part of [`ObjectRef::uri`] after the cluster.
    pub fn address(&self) -> String {
        let enc = uri_component;
        let kind = match self.group() {
            "" => self.kind.clone(),
            group => format!("{}.{group}", self.kind),
        };
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", enc(ns), enc(&kind), enc(&self.name)),
            None => format!("{}/{}", enc(&kind), enc(&self.name)),
        }
    }

    /// `Kind 'name'` or `Kind 'namespace/name'`, the form messages use.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} '{}/{}'", self.kind, ns, self.name),
            None => format!("{} '{}'", self.kind, self.name),
        }
    }
}

/// One Kubernetes-style object with its origin and source positions.
#[derive(Debug, Clone)]
pub struct Resource {
    /// What the object is, so that only the rules of its input type run on it.
    pub input: InputType,
    /// Shared with the object's findings and its entry in the report's evaluated objects:
    /// a large scan holds millions of findings of hundreds of thousands of objects.
    pub id: Arc<ObjectRef>,
    pub origin: Arc<Origin>,
    /// The object as JSON, already sanitized; null while it is [`packed`](Self::packed).
    pub object: Value,
    /// The object as text, while nothing reads it whole: a large scan packs the reduced
    /// objects it holds to its end ([`Resource::pack`]), and the steps after evaluation read
    /// them a moment at a time ([`Resource::read_object`]).
    pub packed: Option<Packed>,
    /// Source positions of every node of `object`, when the source has them.
    pub spans: Option<SpanTree>,
    /// For an object a tool rendered: where its fields are written in the repository (the
    /// positions in `spans` are lines of the tool's output).
    pub source_map: Option<Arc<dyn SourceMap>>,
}

impl Resource {
    /// Builds a Kubernetes resource from a decoded object; `None` when it lacks `apiVersion`
    /// or `kind`.
    pub fn from_object(
        mut object: Value,
        origin: Origin,
        spans: Option<SpanTree>,
    ) -> Option<Resource> {
        let api_version = object.get("apiVersion")?.as_str()?.to_owned();
        let kind = object.get("kind")?.as_str()?.to_owned();
        if api_version.is_empty() || kind.is_empty() {
            return None;
        }
        sanitize(&mut object);
        let meta = object.get("metadata");
        let text = |key: &str| {
            meta.and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let name = text("name")
            .or_else(|| text("generateName").map(|g| format!("{g}*")))
            .unwrap_or_else(|| "(unnamed)".to_owned());
        let namespace = text("namespace");
        Some(Resource {
            input: InputType::Kubernetes,
            id: Arc::new(ObjectRef {
                api_version,
                kind,
                namespace,
                name,
            }),
            origin: Arc::new(origin),
            object,
            packed: None,
            spans,
            source_map: None,
        })
    }

    /// Keeps the object as text, `object` null: it is read through
    /// [`read_object`](Self::read_object) from then on. An object that holds a floating-point
    /// number stays as it is.
    pub fn pack(&mut self) {
        if let Some(packed) = Packed::of(&self.object) {
            self.object = Value::Null;
            self.packed = Some(packed);
        }
    }

    /// The object, unpacked for the moment if it is packed.
    pub fn read_object(&self) -> std::borrow::Cow<'_, Value> {
        match &self.packed {
            Some(packed) => std::borrow::Cow::Owned(packed.read()),
            None => std::borrow::Cow::Borrowed(&self.object),
        }
    }

    /// Where `path` (or its nearest existing parent) is written in the repository, for an
    /// object a tool rendered and when its source map can tell.
    pub fn written_at(&self, path: &FieldPath) -> Option<Written> {
        self.source_map
            .as_ref()
            .and_then(|m| m.written(&self.object, path))
    }

    /// Source position of `path`, or of its nearest existing parent when the field is absent.
    pub fn position_of(&self, path: &FieldPath) -> Option<Position> {
        self.spans.as_ref().map(|s| s.locate(path))
    }

    /// Position where the object itself starts.
    pub fn start(&self) -> Option<Position> {
        self.spans.as_ref().map(SpanTree::position)
    }
}
