//! The objects the watch load tools (benches/watch.rs, examples/watch_timing.rs) make: as a
//! cluster serves them, with managed fields, a last-applied annotation and status, which the
//! watch strips.

use serde_json::{json, Value};

pub fn pod(namespace: &str, name: &str, privileged: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name},
            "managedFields": [{"manager": "kubectl", "operation": "Update"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x".repeat(2000)}},
        "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0",
            "securityContext": {"privileged": privileged}}]},
        "status": {"phase": "Running", "podIP": "10.0.0.7", "conditions": [{"type": "Ready", "status": "True"}]}})
}

pub fn deployment(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}}}})
}
