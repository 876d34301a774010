//! `posture scan` options for charts and kustomizations among the `-f` inputs.

use clap::Args;
use posture::collect::render::RenderOptions;
use std::path::PathBuf;

/// How `helm template` renders the charts among the inputs; they apply to every chart the scan
/// renders. (Kustomizations take no options.) Each requires `-f`, since a cluster scan or a
/// snapshot renders nothing; clap skips `requires` for an argument that conflicts with one
/// given, hence `conflicts_with` too.
#[derive(Debug, Args)]
#[command(next_help_heading = "Charts (helm template)")]
pub struct RenderArgs {
    /// Values file for the charts (repeatable; later files win), as `helm template -f`.
    #[arg(
        long = "helm-values",
        value_name = "FILE",
        requires = "files",
        conflicts_with = "snapshot"
    )]
    pub values: Vec<PathBuf>,
    /// Override one value (repeatable), as `helm template --set KEY=VALUE`.
    #[arg(
        long = "helm-set",
        value_name = "KEY=VALUE",
        requires = "files",
        conflicts_with = "snapshot"
    )]
    pub set: Vec<String>,
    /// Release name [default: the chart's name, as in `helm install demo ./demo`].
    #[arg(
        long = "helm-release",
        value_name = "NAME",
        requires = "files",
        conflicts_with = "snapshot"
    )]
    pub release: Option<String>,
    /// Release namespace (`.Release.Namespace`) [default: default].
    #[arg(
        long = "helm-namespace",
        value_name = "NS",
        requires = "files",
        conflicts_with = "snapshot"
    )]
    pub namespace: Option<String>,
    /// API versions the charts may test for with `.Capabilities.APIVersions` (repeatable).
    #[arg(
        long = "helm-api-versions",
        value_name = "VERSION",
        requires = "files",
        conflicts_with = "snapshot"
    )]
    pub api_versions: Vec<String>,
    /// Kubernetes version for `.Capabilities.KubeVersion`, e.g. 1.32.0.
    #[arg(
        long = "helm-kube-version",
        value_name = "VERSION",
        requires = "files",
        conflicts_with = "snapshot"
    )]
    pub kube_version: Option<String>,
}

impl RenderArgs {
    /// The options for `collect`; the binaries come from POSTURE_HELM / POSTURE_KUBECTL or PATH.
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            helm_release: self.release.clone(),
            helm_namespace: self.namespace.clone(),
            helm_values: self.values.clone(),
            helm_set: self.set.clone(),
            helm_api_versions: self.api_versions.clone(),
            helm_kube_version: self.kube_version.clone(),
            helm: None,
            kubectl: None,
        }
    }
}
