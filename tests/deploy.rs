//! deploy/watch/ and charts/posture: posture's own scan of them is clean but for the
//! exceptions of deploy/watch/.posture.yaml (each with its reason); the chart renders
//! deploy/watch/watch.yaml with its defaults, and adds the write roles only when PolicyReports
//! or Events are on; the reader ClusterRole grants list and watch on exactly the types posture
//! collects, and nothing else.

use crate::common::{assert_exit, have_helm, installed_helm, posture, repo};
use posture::collect::cluster::TypeFilter;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const EXCEPTIONS: &str = "deploy/watch/.posture.yaml";

fn objects(text: &str) -> Vec<Value> {
    posture::collect::yaml::parse_stream(text)
        .into_iter()
        .filter_map(|d| d.content.expect("the YAML parses").map(|d| d.value))
        .collect()
}

fn file_objects(rel: &str) -> Vec<Value> {
    objects(&std::fs::read_to_string(repo().join(rel)).unwrap())
}

/// Scans with posture and asserts: exit 0, no finding, no problem (an unused exception is a
/// warning), and every suppressed finding carries a reason.
fn assert_clean(args: &[&str]) {
    let mut all = vec!["scan", "--format", "json"];
    all.extend_from_slice(args);
    let out = posture(&all);
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["rule_id"], f["message"]))
        .collect();
    assert!(findings.is_empty(), "{args:?}: {findings:#?}");
    assert_eq!(report["problems"], serde_json::json!([]), "{args:?}");
    let suppressed = report["suppressed"].as_array().unwrap();
    assert!(!suppressed.is_empty());
    for s in suppressed {
        let reason = s["suppression"]["reason"].as_str().unwrap_or("");
        assert!(reason.len() > 40, "{s}");
    }
}

#[test]
fn deploy_watch_passes_postures_own_scan_with_explained_exceptions() {
    assert_clean(&["-f", "deploy/watch"]);
}

#[test]
fn the_chart_passes_postures_own_scan_with_reports_and_events_on_and_off() {
    if !have_helm() {
        return;
    }
    for set in [
        None,
        Some("policyReports=true,emitEvents=true,serviceMonitor.enabled=true"),
    ] {
        let mut args = vec![
            "-f",
            "charts/posture",
            "--helm-namespace",
            "posture",
            "--config",
            EXCEPTIONS,
        ];
        if let Some(set) = set {
            args.extend(["--helm-set", set]);
        }
        assert_clean(&args);
    }
}

fn helm_template(set: &[&str]) -> Vec<Value> {
    let helm = installed_helm()
        .or_else(|| std::env::var_os("POSTURE_HELM").map(Into::into))
        .unwrap_or_else(|| "helm".into());
    let mut command = Command::new(helm);
    command.current_dir(repo()).args([
        "template",
        "posture",
        "charts/posture",
        "--namespace",
        "posture",
    ]);
    for s in set {
        command.args(["--set", s]);
    }
    let out = command.output().expect("helm runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    objects(&String::from_utf8(out.stdout).unwrap())
}

fn names(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]))
        .collect()
}

fn by_kind<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn args(objects: &[Value]) -> Vec<String> {
    by_kind(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_chart_with_its_defaults_renders_deploy_watch() {
    if !have_helm() {
        return;
    }
    // The namespace and its bounds are the installer's business in a chart.
    let mut manifest: Vec<Value> = file_objects("deploy/watch/watch.yaml")
        .into_iter()
        .filter(|o| {
            !["Namespace", "LimitRange", "ResourceQuota"].contains(&o["kind"].as_str().unwrap())
        })
        .collect();
    let mut rendered = helm_template(&[]);
    let key = |o: &Value| format!("{}/{}", o["kind"], o["metadata"]["name"]);
    manifest.sort_by_key(key);
    rendered.sort_by_key(key);
    assert_eq!(rendered, manifest);

    // PolicyReports on: the write role of deploy/watch/policy-reports/ and the flag; Events
    // likewise.
    let on = helm_template(&["policyReports=true"]);
    let added: BTreeSet<String> = names(&on).difference(&names(&rendered)).cloned().collect();
    assert_eq!(
        added,
        names(&file_objects("deploy/watch/policy-reports/rbac.yaml"))
    );
    for o in file_objects("deploy/watch/policy-reports/rbac.yaml") {
        assert!(on.contains(&o), "{o}");
    }
    assert!(args(&on).contains(&"--policy-reports".to_owned()));
    assert!(!args(&on).contains(&"--emit-events".to_owned()));

    let events = helm_template(&["emitEvents=true"]);
    let added: BTreeSet<String> = names(&events)
        .difference(&names(&rendered))
        .cloned()
        .collect();
    assert_eq!(added, names(&file_objects("deploy/watch/events/rbac.yaml")));
    assert!(args(&events).contains(&"--emit-events".to_owned()));
    assert!(!args(&rendered)
        .iter()
        .any(|a| a == "--policy-reports" || a == "--emit-events"));

    // The values that become flags.
    let custom = helm_template(&[
        "resync=5m",
        "kubeletInterval=15m",
        "listen=0.0.0.0:8080",
        "namespaces={web,db}",
    ]);
    assert_eq!(
        args(&custom),
        [
            "watch",
            "--listen=0.0.0.0:8080",
            "--resync=5m",
            "--kubelet-interval=15m",
            "--namespace=web",
            "--namespace=db"
        ]
    );
    assert_eq!(
        by_kind(&custom, "Service")["spec"]["ports"][0]["port"],
        8080
    );

    let monitored = helm_template(&["serviceMonitor.enabled=true"]);
    assert_eq!(
        by_kind(&monitored, "ServiceMonitor"),
        &file_objects("deploy/watch/monitoring/servicemonitor.yaml")[0]
    );
}

/// The chart installs the same CRDs deploy/watch/ ships.
#[test]
fn the_chart_ships_the_policy_report_crds_of_deploy_watch() {
    let read = |rel: &str| std::fs::read_to_string(repo().join(rel)).unwrap();
    assert_eq!(
        read("charts/posture/crds/policyreports.yaml"),
        read("deploy/watch/policy-reports/crds.yaml")
    );
    let crds = file_objects("deploy/watch/policy-reports/crds.yaml");
    let kinds: Vec<(&str, &str)> = crds
        .iter()
        .map(|c| {
            (
                c["spec"]["names"]["kind"].as_str().unwrap(),
                c["spec"]["scope"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("PolicyReport", "Namespaced"),
            ("ClusterPolicyReport", "Cluster")
        ]
    );
    for crd in &crds {
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["name"], "v1alpha2");
        let result = &version["schema"]["openAPIV3Schema"]["properties"]["results"]["items"];
        for field in [
            "policy",
            "rule",
            "result",
            "severity",
            "category",
            "message",
            "source",
            "timestamp",
            "resources",
            "properties",
            "scored",
        ] {
            assert!(result["properties"].get(field).is_some(), "{field}");
        }
        assert_eq!(
            result["properties"]["severity"]["enum"],
            serde_json::json!(["critical", "high", "medium", "low", "info"])
        );
    }
}

/// Every built-in type of Kubernetes 1.33 that can be listed: (group, kind, plural).
const BUILT_IN: &[(&str, &str, &str)] = &[
    ("", "ConfigMap", "configmaps"),
    ("", "Endpoints", "endpoints"),
    ("", "Event", "events"),
    ("", "LimitRange", "limitranges"),
    ("", "Namespace", "namespaces"),
    ("", "Node", "nodes"),
    ("", "PersistentVolume", "persistentvolumes"),
    ("", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("", "Pod", "pods"),
    ("", "PodTemplate", "podtemplates"),
    ("", "ReplicationController", "replicationcontrollers"),
    ("", "ResourceQuota", "resourcequotas"),
    ("", "Secret", "secrets"),
    ("", "Service", "services"),
    ("", "ServiceAccount", "serviceaccounts"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
    ),
    ("apps", "ControllerRevision", "controllerrevisions"),
    ("apps", "DaemonSet", "daemonsets"),
    ("apps", "Deployment", "deployments"),
    ("apps", "ReplicaSet", "replicasets"),
    ("apps", "StatefulSet", "statefulsets"),
    (
        "autoscaling",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
    ),
    ("batch", "CronJob", "cronjobs"),
    ("batch", "Job", "jobs"),
    (
        "certificates.k8s.io",
        "CertificateSigningRequest",
        "certificatesigningrequests",
    ),
    ("coordination.k8s.io", "Lease", "leases"),
    ("discovery.k8s.io", "EndpointSlice", "endpointslices"),
    ("events.k8s.io", "Event", "events"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema", "flowschemas"),
    (
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
    ),
    ("networking.k8s.io", "Ingress", "ingresses"),
    ("networking.k8s.io", "IngressClass", "ingressclasses"),
    ("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
    ("node.k8s.io", "RuntimeClass", "runtimeclasses"),
    ("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
    ("rbac.authorization.k8s.io", "ClusterRole", "clusterroles"),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    ("rbac.authorization.k8s.io", "Role", "roles"),
    ("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    ("scheduling.k8s.io", "PriorityClass", "priorityclasses"),
    ("storage.k8s.io", "CSIDriver", "csidrivers"),
    ("storage.k8s.io", "CSINode", "csinodes"),
    (
        "storage.k8s.io",
        "CSIStorageCapacity",
        "csistoragecapacities",
    ),
    ("storage.k8s.io", "StorageClass", "storageclasses"),
    ("storage.k8s.io", "VolumeAttachment", "volumeattachments"),
    // Custom resources posture knows of.
    ("cilium.io", "CiliumNetworkPolicy", "ciliumnetworkpolicies"),
    (
        "cilium.io",
        "CiliumClusterwideNetworkPolicy",
        "ciliumclusterwidenetworkpolicies",
    ),
    ("projectcalico.org", "NetworkPolicy", "networkpolicies"),
    (
        "projectcalico.org",
        "GlobalNetworkPolicy",
        "globalnetworkpolicies",
    ),
    ("crd.projectcalico.org", "NetworkPolicy", "networkpolicies"),
    (
        "crd.projectcalico.org",
        "GlobalNetworkPolicy",
        "globalnetworkpolicies",
    ),
    ("kyverno.io", "ClusterPolicy", "clusterpolicies"),
    ("kyverno.io", "Policy", "policies"),
    ("constraints.gatekeeper.sh", "K8sRequiredLabels", "*"),
    ("wgpolicyk8s.io", "PolicyReport", "policyreports"),
    (
        "wgpolicyk8s.io",
        "ClusterPolicyReport",
        "clusterpolicyreports",
    ),
];

/// The reader role's grants as (group, resource) → verbs.
fn grants(role: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for rule in role["rules"].as_array().unwrap() {
        if rule.get("nonResourceURLs").is_some() {
            continue;
        }
        let verbs: Vec<String> = rule["verbs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                out.push((
                    group.as_str().unwrap().to_owned(),
                    resource.as_str().unwrap().to_owned(),
                    verbs.clone(),
                ));
            }
        }
    }
    out
}

/// The ClusterRole lets posture list and watch every type a watch of the built-in rules
/// reads (as `NeededTypes` chooses them, Secrets always) and grants nothing a watch does not
/// read: no write verb, no type no rule reads.
#[test]
fn the_reader_role_covers_exactly_the_types_posture_collects() {
    let catalog = posture::policy::Catalog::builtin_from_dir(&repo().join("policies")).unwrap();
    let needed = posture::scan::NeededTypes::of(&catalog);
    let wanted: BTreeSet<(String, String)> = BUILT_IN
        .iter()
        .filter(|(group, kind, _)| {
            (group.is_empty() && *kind == "Secret") || needed.wants(group, kind)
        })
        .map(|(g, _, plural)| (g.to_string(), plural.to_string()))
        .collect();
    assert!(wanted.contains(&("".into(), "pods".into())));
    assert!(!wanted.contains(&("wgpolicyk8s.io".into(), "policyreports".into())));

    let objects = file_objects("deploy/watch/watch.yaml");
    let role = objects
        .iter()
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == "posture-watch-reader")
        .unwrap();
    let mut granted = BTreeSet::new();
    for (group, resource, verbs) in grants(role) {
        if resource == "nodes/proxy" {
            // The kubelets' /configz, through the API server.
            assert_eq!(verbs, ["get"]);
            continue;
        }
        assert!(
            verbs.contains(&"list".to_owned()) && verbs.contains(&"watch".to_owned()),
            "{group}/{resource}: {verbs:?}"
        );
        for verb in &verbs {
            assert!(["get", "list", "watch"].contains(&verb.as_str()), "{verb}");
        }
        granted.insert((group, resource));
    }
    assert_eq!(granted, wanted);
    // Secrets: never get, only the list and watch a metadata-only watch makes.
    let secrets = grants(role)
        .into_iter()
        .find(|(g, r, _)| g.is_empty() && r == "secrets")
        .unwrap();
    assert_eq!(secrets.2, ["list", "watch"]);
}

/// The write roles grant only posture's own kinds.
#[test]
fn the_write_roles_touch_only_reports_and_events() {
    for (file, group, resources) in [
        (
            "deploy/watch/policy-reports/rbac.yaml",
            "wgpolicyk8s.io",
            vec!["policyreports", "clusterpolicyreports"],
        ),
        (
            "deploy/watch/events/rbac.yaml",
            "events.k8s.io",
            vec!["events"],
        ),
    ] {
        let objects = file_objects(file);
        let role = by_kind(&objects, "ClusterRole");
        for (g, r, _) in grants(role) {
            assert_eq!(g, group, "{file}");
            assert!(resources.contains(&r.as_str()), "{file}: {r}");
        }
    }
    assert!(Path::new(&repo().join("deploy/watch/.posture.yaml")).is_file());
}
