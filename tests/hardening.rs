//! Issue 14's "done when": a fully hardened application (fixtures/hardening/hardened.yaml)
//! gets no finding from any built-in rule, with its default deny written as a Kubernetes,
//! Cilium or Calico policy; each problem added to it alone gets a finding of the expected rule
//! on the object that causes it.

use crate::common::{render_options, repo};
use posture::engine::{Evaluator, RuleSettings};
use posture::scan::ScanReport;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The built-in rules with the allow-list the hardened set is meant for.
fn evaluator() -> &'static Evaluator {
    static EVALUATOR: OnceLock<Evaluator> = OnceLock::new();
    EVALUATOR.get_or_init(|| {
        let catalog = posture::policy::Catalog::builtin().expect("built-in rules load");
        let mut evaluator = Evaluator::new(&catalog).expect("built-in rules compile");
        let allowed = posture::engine::settings::RegistryPattern::parse("ghcr.io/acme").unwrap();
        evaluator.set_settings(RuleSettings {
            registries: Some(posture::engine::settings::RegistryAllowList {
                patterns: vec![allowed],
            }),
        });
        evaluator
    })
}

fn hardened() -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("fixtures/hardening/hardened.yaml")).unwrap();
    text.split("\n---\n")
        .map(|doc| serde_saphyr::from_str::<Value>(doc).unwrap())
        .collect()
}

fn scan(docs: &[Value]) -> ScanReport {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    let text: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    std::fs::write(&file, text.join("\n---\n")).unwrap();
    let collected = posture::collect::manifests::collect(&[file], &render_options());
    let report = posture::scan::evaluate(evaluator(), collected);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    report
}

fn findings(report: &ScanReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}/{}: {}",
                f.rule_id, f.object.kind, f.object.name, f.message
            )
        })
        .collect()
}

fn doc<'a>(docs: &'a mut [Value], kind: &str, name: &str) -> &'a mut Value {
    docs.iter_mut()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("the hardened set has {kind} {name}"))
}

fn remove(docs: &mut Vec<Value>, kind: &str, name: &str) {
    docs.retain(|d| !(d["kind"] == kind && d["metadata"]["name"] == name));
}

fn container(docs: &mut [Value]) -> &mut Value {
    &mut doc(docs, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]
}

fn pod_context(docs: &mut [Value]) -> &mut Value {
    &mut doc(docs, "Deployment", "web")["spec"]["template"]["spec"]["securityContext"]
}

/// Replaces the Kubernetes default deny (and the web rule) by `policies`.
fn with_policies(policies: Vec<Value>) -> Vec<Value> {
    let mut docs = hardened();
    remove(&mut docs, "NetworkPolicy", "default-deny");
    remove(&mut docs, "NetworkPolicy", "web-ingress");
    docs.extend(policies);
    docs
}

fn cilium_default_deny() -> Value {
    json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}})
}

fn calico_default_deny() -> Value {
    json!({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "default-deny"},
        "spec": {"namespaceSelector": "kubernetes.io/metadata.name not in {'kube-system', 'kube-public'}",
                 "selector": "all()", "types": ["Ingress", "Egress"]}})
}

#[test]
fn the_hardened_set_has_no_finding_with_any_default_deny() {
    let variants = [
        ("Kubernetes NetworkPolicy", hardened()),
        (
            "CiliumNetworkPolicy",
            with_policies(vec![cilium_default_deny()]),
        ),
        (
            "Calico GlobalNetworkPolicy",
            with_policies(vec![calico_default_deny()]),
        ),
        (
            "Calico NetworkPolicy",
            with_policies(vec![
                json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": "shop"},
                "spec": {"selector": "all()", "types": ["Ingress", "Egress"]}}),
            ]),
        ),
    ];
    for (name, docs) in variants {
        let report = scan(&docs);
        assert!(
            report.findings.is_empty(),
            "{name}: {:#?}",
            findings(&report)
        );
    }
}

type Mutation = fn(&mut Vec<Value>);

/// Each situation of the issue, added alone: (what, mutation, rule, kind, name).
const SITUATIONS: &[(&str, Mutation, &str, &str, &str)] = &[
    (
        "container runAsGroup 0",
        |d| container(d)["securityContext"]["runAsGroup"] = json!(0),
        "PST-0040",
        "Deployment",
        "web",
    ),
    (
        "pod runAsGroup 0",
        |d| pod_context(d)["runAsGroup"] = json!(0),
        "PST-0040",
        "Deployment",
        "web",
    ),
    (
        "fsGroup 0",
        |d| pod_context(d)["fsGroup"] = json!(0),
        "PST-0040",
        "Deployment",
        "web",
    ),
    (
        "supplementalGroups with 0",
        |d| pod_context(d)["supplementalGroups"] = json!([0]),
        "PST-0040",
        "Deployment",
        "web",
    ),
    (
        "--kubelet-insecure-tls",
        |d| container(d)["args"] = json!(["--kubelet-insecure-tls"]),
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "--insecure-skip-tls-verify in sh -c",
        |d| {
            container(d)["command"] = json!(["sh", "-c"]);
            container(d)["args"] = json!(["exec kubectl --insecure-skip-tls-verify proxy"]);
        },
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "--anonymous-auth=true",
        |d| container(d)["args"] = json!(["--anonymous-auth=true"]),
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "--insecure-port 8080",
        |d| container(d)["args"] = json!(["--insecure-port", "8080"]),
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "--enable-skip-login",
        |d| container(d)["args"] = json!(["--enable-skip-login"]),
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "--authorization-mode=AlwaysAllow",
        |d| container(d)["args"] = json!(["--authorization-mode=AlwaysAllow"]),
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "--tls-verify=false",
        |d| container(d)["args"] = json!(["--tls-verify=false"]),
        "PST-0041",
        "Deployment",
        "web",
    ),
    (
        "image from Docker Hub",
        |d| {
            container(d)["image"] = json!(
                "nginx@sha256:3f1d9a4c3e5c7b1f0a2e4d6c8b0a9f7e5d3c1b9a8f7e6d5c4b3a2918f7e6d5c4"
            )
        },
        "PST-0042",
        "Deployment",
        "web",
    ),
    (
        "vulnerable ingress-nginx",
        |d| container(d)["image"] = json!("ghcr.io/acme/ingress-nginx/controller:v1.12.0"),
        "PST-0043",
        "Deployment",
        "web",
    ),
    (
        "no liveness probe",
        |d| {
            container(d)
                .as_object_mut()
                .unwrap()
                .remove("livenessProbe");
        },
        "PST-0044",
        "Deployment",
        "web",
    ),
    (
        "no readiness probe",
        |d| {
            container(d)
                .as_object_mut()
                .unwrap()
                .remove("readinessProbe");
        },
        "PST-0044",
        "Deployment",
        "web",
    ),
    (
        "mutable tag, IfNotPresent",
        |d| container(d)["image"] = json!("ghcr.io/acme/web:1.4.2"),
        "PST-0045",
        "Deployment",
        "web",
    ),
    (
        "no enforce label",
        |d| {
            doc(d, "Namespace", "shop")["metadata"]["labels"]
                .as_object_mut()
                .unwrap()
                .remove("pod-security.kubernetes.io/enforce");
        },
        "PST-0250",
        "Namespace",
        "shop",
    ),
    (
        "enforce privileged",
        |d| {
            doc(d, "Namespace", "shop")["metadata"]["labels"]
                ["pod-security.kubernetes.io/enforce"] = json!("privileged")
        },
        "PST-0250",
        "Namespace",
        "shop",
    ),
    (
        "no LimitRange",
        |d| remove(d, "LimitRange", "defaults"),
        "PST-0251",
        "Namespace",
        "shop",
    ),
    (
        "no ResourceQuota",
        |d| remove(d, "ResourceQuota", "shop"),
        "PST-0252",
        "Namespace",
        "shop",
    ),
    (
        "no NetworkPolicy",
        |d| {
            remove(d, "NetworkPolicy", "default-deny");
            remove(d, "NetworkPolicy", "web-ingress");
        },
        "PST-0224",
        "Deployment",
        "web",
    ),
    (
        "Cilium policy for other pods only",
        |d| {
            remove(d, "NetworkPolicy", "default-deny");
            remove(d, "NetworkPolicy", "web-ingress");
            let mut p = cilium_default_deny();
            p["spec"]["endpointSelector"] = json!({"matchLabels": {"k8s:app": "db"}});
            d.push(p);
        },
        "PST-0224",
        "Deployment",
        "web",
    ),
    (
        "Calico global policy for other namespaces only",
        |d| {
            remove(d, "NetworkPolicy", "default-deny");
            remove(d, "NetworkPolicy", "web-ingress");
            let mut p = calico_default_deny();
            p["spec"]["namespaceSelector"] = json!("projectcalico.org/name == 'other'");
            d.push(p);
        },
        "PST-0224",
        "Deployment",
        "web",
    ),
    (
        "auth-url injection",
        |d| {
            doc(d, "Ingress", "web")["metadata"]["annotations"]
                ["nginx.ingress.kubernetes.io/auth-url"] =
                json!("https://auth.example.com/;}\nlocation /x {")
        },
        "PST-0225",
        "Ingress",
        "web",
    ),
    (
        "mirror-host injection",
        |d| {
            doc(d, "Ingress", "web")["metadata"]["annotations"]
                ["nginx.ingress.kubernetes.io/mirror-host"] =
                json!("a.example.com; include /etc/passwd")
        },
        "PST-0225",
        "Ingress",
        "web",
    ),
];

#[test]
fn each_situation_alone_is_found_on_its_object() {
    let mut missed = Vec::new();
    for (what, mutate, rule, kind, name) in SITUATIONS {
        let mut docs = hardened();
        mutate(&mut docs);
        let report = scan(&docs);
        let hit = report
            .findings
            .iter()
            .any(|f| f.rule_id == *rule && f.object.kind == *kind && f.object.name == *name);
        if !hit {
            missed.push(format!(
                "{what}: no {rule} on {kind} {name}; got {:#?}",
                findings(&report)
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
