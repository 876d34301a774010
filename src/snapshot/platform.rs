//! Which distribution runs a cluster, from what the API shows: node labels and provider IDs, the
//! server's version string, and static-pod mirror pods. The benchmark profile and "managed by the
//! provider" answers depend on it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    Aks,
    Eks,
    Gke,
    K3s,
    Rke2,
    Kubeadm,
    Unknown,
}

impl PlatformKind {
    /// Whether the provider runs the control plane, so its flags cannot be seen or changed.
    pub fn managed_control_plane(self) -> bool {
        matches!(
            self,
            PlatformKind::Aks | PlatformKind::Eks | PlatformKind::Gke
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformKind::Aks => "AKS",
            PlatformKind::Eks => "EKS",
            PlatformKind::Gke => "GKE",
            PlatformKind::K3s => "k3s",
            PlatformKind::Rke2 => "RKE2",
            PlatformKind::Kubeadm => "kubeadm",
            PlatformKind::Unknown => "unknown",
        }
    }
}

/// The detected platform and the fact that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub kind: PlatformKind,
    pub evidence: String,
}

const CONTROL_PLANE_COMPONENTS: [&str; 4] = [
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
];

/// Detects the platform. Cloud providers come first: a managed cluster may also run pods that
/// look like kubeadm's, but its nodes' provider IDs and labels are set by the provider.
pub fn detect_platform(git_version: &str, nodes: &[&Value], pods: &[&Value]) -> Platform {
    let found = |kind, evidence: String| Platform { kind, evidence };
    for node in nodes {
        let name = node["metadata"]["name"].as_str().unwrap_or_default();
        let labels = node["metadata"]["labels"].as_object();
        let has_label =
            |prefix: &str| labels.is_some_and(|l| l.keys().any(|k| k.starts_with(prefix)));
        let provider = node["spec"]["providerID"].as_str().unwrap_or_default();
        if labels.is_some_and(|l| l.contains_key("kubernetes.azure.com/cluster"))
            || provider.starts_with("azure://")
        {
            return found(
                PlatformKind::Aks,
                format!("node {name} has AKS labels or an azure:// provider ID"),
            );
        }
        if provider.starts_with("aws://") || has_label("eks.amazonaws.com/") {
            return found(
                PlatformKind::Eks,
                format!("node {name} has EKS labels or an aws:// provider ID"),
            );
        }
        if provider.starts_with("gce://") || has_label("cloud.google.com/gke-") {
            return found(
                PlatformKind::Gke,
                format!("node {name} has GKE labels or a gce:// provider ID"),
            );
        }
    }
    if git_version.contains("+k3s") {
        return found(PlatformKind::K3s, format!("server version {git_version}"));
    }
    if git_version.contains("+rke2") {
        return found(PlatformKind::Rke2, format!("server version {git_version}"));
    }
    if let Some(pod) = pods.iter().find(|p| is_control_plane_mirror_pod(p)) {
        let name = pod["metadata"]["name"].as_str().unwrap_or_default();
        return found(
            PlatformKind::Kubeadm,
            format!("control-plane static pod kube-system/{name}"),
        );
    }
    found(
        PlatformKind::Unknown,
        "no provider, distribution or static-pod marker found".to_owned(),
    )
}

/// A kubelet-created mirror of a control-plane static pod: in kube-system, carrying the
/// `kubernetes.io/config.mirror` annotation, with a `component` label (or name prefix) of a
/// control-plane component.
pub fn is_control_plane_mirror_pod(pod: &Value) -> bool {
    let meta = &pod["metadata"];
    if meta["namespace"].as_str() != Some("kube-system")
        || meta["annotations"]["kubernetes.io/config.mirror"].is_null()
    {
        return false;
    }
    let component = meta["labels"]["component"].as_str();
    let name = meta["name"].as_str().unwrap_or_default();
    CONTROL_PLANE_COMPONENTS
        .iter()
        .any(|c| component == Some(c) || name.starts_with(&format!("{c}-")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cloud_labels_win_over_static_pods() {
        let node = json!({"metadata": {"name": "n", "labels": {"kubernetes.azure.com/cluster": "mc"}}, "spec": {}});
        let pod = json!({"metadata": {"namespace": "kube-system", "name": "etcd-n",
            "annotations": {"kubernetes.io/config.mirror": "x"}}});
        let p = detect_platform("v1.28.0", &[&node], &[&pod]);
        assert_eq!(p.kind, PlatformKind::Aks);
    }

    #[test]
    fn each_signal_detects_its_platform() {
        let by_provider = |id: &str| {
            let node = json!({"metadata": {"name": "n"}, "spec": {"providerID": id}});
            detect_platform("v1.30.1", &[&node], &[]).kind
        };
        assert_eq!(by_provider("aws:///us-east-1a/i-0abc"), PlatformKind::Eks);
        assert_eq!(
            by_provider("gce://proj/us-central1-a/gke-x"),
            PlatformKind::Gke
        );
        assert_eq!(by_provider("azure:///subscriptions/x"), PlatformKind::Aks);
        assert_eq!(
            by_provider("kind://docker/kind/kind-control-plane"),
            PlatformKind::Unknown
        );
        assert_eq!(
            detect_platform("v1.30.4+k3s1", &[], &[]).kind,
            PlatformKind::K3s
        );
        assert_eq!(
            detect_platform("v1.30.4+rke2r1", &[], &[]).kind,
            PlatformKind::Rke2
        );
        let pod = json!({"metadata": {"namespace": "kube-system", "name": "kube-apiserver-cp",
            "labels": {"component": "kube-apiserver"},
            "annotations": {"kubernetes.io/config.mirror": "abc"}}});
        assert_eq!(
            detect_platform("v1.30.1", &[], &[&pod]).kind,
            PlatformKind::Kubeadm
        );
    }

    #[test]
    fn ordinary_pods_are_not_mirror_pods() {
        let pod = json!({"metadata": {"namespace": "kube-system", "name": "etcd-backup-1",
            "labels": {"component": "etcd"}}});
        assert!(!is_control_plane_mirror_pod(&pod));
    }
}
