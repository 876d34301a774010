//! Where each component's settings come from: the runs of kube-apiserver, the controller
//! manager, the scheduler, etcd, the kubelet and kube-proxy that a scan can see, each with its
//! flags, its configuration fields and the place a finding should point at.
//!
//! Sources, by component:
//! - control plane: a Pod whose container runs the component (a live mirror pod, or a static-pod
//!   manifest given with `-f`), or a process in node facts, which wins over the mirror pod of the
//!   same node because it is what actually runs;
//! - kubelet: a KubeletConfiguration (the live `/configz`, or a file given with `-f`), merged with
//!   the kubelet's command line from node facts of the same node (or whose `--config` names that
//!   file);
//! - kube-proxy: a ConfigMap holding a KubeProxyConfiguration, a kube-proxy container started
//!   without `--config`, or a process in node facts.

use crate::benchmark::Component;
use crate::resource::{CommandLine, FieldPath, Origin, Resource, Segment};
use crate::snapshot::FactsFile;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// One running (or configured) component whose settings a check can judge.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub component: Component,
    /// The node it runs on, when known.
    pub node: Option<String>,
    /// How messages name it: `kube-apiserver in Pod 'kube-system/kube-apiserver-cp-1'`.
    pub label: String,
    pub flags: CommandLine,
    /// The configuration file's fields by dotted path, lists comma-joined.
    pub config: BTreeMap<String, String>,
    /// Whether `config` is the whole configuration the component runs with.
    pub config_known: bool,
    /// A configuration file the component reads that was not collected.
    pub config_unread: Option<String>,
    pub anchor: Anchor<'a>,
}

/// What a finding about a run points at.
#[derive(Debug, Clone)]
pub enum Anchor<'a> {
    /// A container of a Pod or workload: the flags are its `command` and `args`.
    Container {
        resource: &'a Resource,
        container: FieldPath,
    },
    /// A configuration object; its fields sit under `prefix` (empty for a KubeletConfiguration,
    /// the ConfigMap key for kube-proxy, whose configuration is text).
    Config {
        resource: &'a Resource,
        prefix: FieldPath,
    },
    /// A node known from node facts: there is no object to point into.
    Node { name: String, origin: Origin },
}

/// Where a finding about a node from node facts lives: the cluster, or the facts file.
pub fn facts_origin(file: &FactsFile, cluster: Option<&str>) -> Origin {
    match cluster {
        Some(cluster) => Origin::Cluster {
            cluster: cluster.to_owned(),
        },
        None => Origin::File {
            path: file.path.clone(),
            document: 0,
            item: None,
            helm_source: None,
        },
    }
}

const CONTROL_PLANE: [Component; 4] = [
    Component::KubeApiserver,
    Component::KubeControllerManager,
    Component::KubeScheduler,
    Component::Etcd,
];

fn component_named(program: &str) -> Option<Component> {
    [
        Component::KubeApiserver,
        Component::KubeControllerManager,
        Component::KubeScheduler,
        Component::Etcd,
        Component::Kubelet,
        Component::KubeProxy,
    ]
    .into_iter()
    .find(|c| c.as_str() == program)
}

/// The runs one object shows: its control-plane and kube-proxy containers (a control-plane
/// component whose process node facts show on its node is judged from the process instead),
/// and the kubelet or kube-proxy configuration it holds.
fn object_runs<'a>(
    resource: &'a Resource,
    processes: &[(Component, &FactsFile, &crate::snapshot::ProcessFact)],
) -> Vec<Run<'a>> {
    let mut out = Vec::new();
    for (container, spec) in containers(resource) {
        let flags = container_flags(spec);
        let Some(component) = flags.program.as_deref().and_then(component_named) else {
            continue;
        };
        let node = resource.object["spec"]["nodeName"]
            .as_str()
            .map(str::to_owned);
        let label = format!("{} in {}", component.as_str(), resource.id.display_name());
        let anchor = Anchor::Container {
            resource,
            container: container.clone(),
        };
        if CONTROL_PLANE.contains(&component) {
            let process_on_node = processes
                .iter()
                .any(|(c, f, _)| *c == component && node.as_deref() == Some(&f.facts.node));
            if !process_on_node {
                out.push(run(component, node, label, flags, anchor));
            }
        } else if component == Component::KubeProxy && !flags.is_set("--config") {
            out.push(run(component, node, label, flags, anchor));
        }
    }
    if let Some(run) = kubelet_config(resource) {
        out.push(run);
    }
    out.extend(kube_proxy_configs(resource));
    out
}

/// Every run the scan can see.
pub fn runs<'a, R: std::borrow::Borrow<Resource> + Sync>(
    resources: &'a [R],
    facts: &[FactsFile],
    cluster: Option<&str>,
) -> Vec<Run<'a>> {
    let processes: Vec<(Component, &FactsFile, &crate::snapshot::ProcessFact)> = facts
        .iter()
        .flat_map(|f| {
            f.facts.processes.iter().filter_map(move |p| {
                component_named(&p.component).map(|component| (component, f, p))
            })
        })
        .collect();

    // Control plane and kube-proxy containers, and component configurations: on every core,
    // since each container's command line is parsed.
    let mut out: Vec<Run<'a>> = resources
        .par_iter()
        .flat_map_iter(|r| object_runs(r.borrow(), &processes))
        .collect();

    for (component, file, process) in processes {
        let flags = CommandLine::parse(&process.args);
        let node = file.facts.node.clone();
        let anchor = Anchor::Node {
            name: node.clone(),
            origin: facts_origin(file, cluster),
        };
        if component == Component::Kubelet {
            let config_file = flags.value("--config").map(str::to_owned);
            let merged = out.iter_mut().find(|r| {
                r.component == Component::Kubelet
                    && r.config_known
                    && match &r.anchor {
                        Anchor::Config { resource, .. } => match &*resource.origin {
                            Origin::Cluster { .. } => r.node.as_deref() == Some(node.as_str()),
                            Origin::File { path, .. } | Origin::Rendered { file: path, .. } => {
                                config_file
                                    .as_deref()
                                    .is_some_and(|c| path.as_path().ends_with(c))
                            }
                        },
                        _ => false,
                    }
            });
            if let Some(existing) = merged {
                existing.flags = flags;
                existing.node = Some(node);
                apply_feature_gates(existing);
                continue;
            }
            let mut run = run(
                component,
                Some(node.clone()),
                format!("kubelet on node '{node}'"),
                flags,
                anchor,
            );
            run.config_unread = config_file;
            apply_feature_gates(&mut run);
            out.push(run);
        } else {
            let mut run = run(
                component,
                Some(node.clone()),
                format!("{} process on node '{node}'", component.as_str()),
                flags,
                anchor,
            );
            run.config_unread = run.flags.value("--config").map(str::to_owned);
            out.push(run);
        }
    }
    out
}

fn run<'a>(
    component: Component,
    node: Option<String>,
    label: String,
    flags: CommandLine,
    anchor: Anchor<'a>,
) -> Run<'a> {
    Run {
        component,
        node,
        label,
        flags,
        config: BTreeMap::new(),
        config_known: false,
        config_unread: None,
        anchor,
    }
}

/// The containers of a Pod, or of a workload's pod template, with their paths.
fn containers(resource: &Resource) -> Vec<(FieldPath, &Value)> {
    let spec_path: &[&str] = match resource.id.kind.as_str() {
        "Pod" => &["spec"],
        "DaemonSet" | "Deployment" | "StatefulSet" => &["spec", "template", "spec"],
        _ => return Vec::new(),
    };
    let mut spec = &resource.object;
    for key in spec_path {
        spec = &spec[*key];
    }
    spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            let mut path: Vec<Segment> = spec_path.iter().map(|k| Segment::key(*k)).collect();
            path.push(Segment::key("containers"));
            path.push(Segment::Index(i));
            (FieldPath(path), c)
        })
        .collect()
}

/// A container's command line; etcd also reads `ETCD_*` environment variables, which a flag on
/// the command line overrides.
fn container_flags(container: &Value) -> CommandLine {
    let mut all = crate::resource::container_words(container);
    // A container given only `args` runs its image's ENTRYPOINT, which for the control-plane
    // images is the component itself (registry.k8s.io/kube-apiserver runs kube-apiserver).
    let no_command = container["command"].as_array().is_none_or(|c| c.is_empty());
    let program_named = all.first().is_some_and(|w| !w.starts_with('-'));
    if no_command && !program_named {
        if let Some(program) = container["image"].as_str().and_then(image_program) {
            all.insert(0, program.to_owned());
        }
    }
    let is_etcd = all
        .first()
        .is_some_and(|p| p.rsplit('/').next() == Some("etcd"));
    if is_etcd {
        let env: Vec<String> = container["env"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let name = e["name"].as_str()?.strip_prefix("ETCD_")?;
                let value = e["value"].as_str()?;
                Some(format!(
                    "--{}={value}",
                    name.to_ascii_lowercase().replace('_', "-")
                ))
            })
            .collect();
        all.splice(1..1, env);
    }
    CommandLine::parse(&all)
}

/// The program an image's name stands for: its last path segment without tag, digest or an
/// architecture suffix (`registry.k8s.io/kube-apiserver-amd64:v1.28.0` → `kube-apiserver`).
fn image_program(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    let last = last.split(':').next().unwrap_or(last);
    let bare = ["-amd64", "-arm64", "-arm", "-ppc64le", "-s390x"]
        .iter()
        .find_map(|arch| last.strip_suffix(arch))
        .unwrap_or(last);
    (!bare.is_empty()).then_some(bare)
}

fn kubelet_config(resource: &Resource) -> Option<Run<'_>> {
    if resource.id.kind != "KubeletConfiguration" {
        return None;
    }
    let node = match *resource.origin {
        Origin::Cluster { .. } => Some(resource.id.name.clone()),
        Origin::File { .. } | Origin::Rendered { .. } => None,
    };
    let label = match &node {
        Some(node) => format!("kubelet on node '{node}'"),
        None => match &*resource.origin {
            Origin::File { path, .. } | Origin::Rendered { file: path, .. } => {
                format!("kubelet configuration {path}")
            }
            Origin::Cluster { .. } => format!("kubelet {}", resource.id.display_name()),
        },
    };
    let mut run = run(
        Component::Kubelet,
        node,
        label,
        CommandLine::parse::<&str>(&[]),
        Anchor::Config {
            resource,
            prefix: FieldPath::default(),
        },
    );
    run.config = flatten(&resource.object);
    run.config_known = true;
    Some(run)
}

/// kube-proxy's configuration as a ConfigMap holds it: YAML text under one key.
fn kube_proxy_configs(resource: &Resource) -> Vec<Run<'_>> {
    if resource.id.kind != "ConfigMap" {
        return Vec::new();
    }
    let Some(data) = resource.object["data"].as_object() else {
        return Vec::new();
    };
    data.iter()
        .filter_map(|(key, text)| {
            let text = text.as_str()?;
            if !text.contains("KubeProxyConfiguration") {
                return None;
            }
            let config: Value = serde_saphyr::from_str(text).ok()?;
            if config["kind"] != "KubeProxyConfiguration" {
                return None;
            }
            let mut run = run(
                Component::KubeProxy,
                None,
                format!("kube-proxy configuration in {}", resource.id.display_name()),
                CommandLine::parse::<&str>(&[]),
                Anchor::Config {
                    resource,
                    prefix: FieldPath(vec![Segment::key("data"), Segment::key(key.as_str())]),
                },
            );
            run.config = flatten(&config);
            run.config_known = true;
            Some(run)
        })
        .collect()
}

/// `--feature-gates=A=true,B=false` sets the same gates as the configuration's `featureGates`,
/// and the command line wins.
fn apply_feature_gates(run: &mut Run<'_>) {
    let gates: Vec<(String, String)> = run
        .flags
        .list("--feature-gates")
        .into_iter()
        .filter_map(|g| g.split_once('='))
        .map(|(k, v)| (format!("featureGates.{}", k.trim()), v.trim().to_owned()))
        .collect();
    run.config.extend(gates);
}

/// Scalar fields by dotted path; lists of scalars comma-joined, as flags write them.
pub fn flatten(object: &Value) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
        let key = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if prefix.is_empty() && matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                    {
                        continue;
                    }
                    walk(&key(k), v, out);
                }
            }
            Value::Array(items) => {
                let scalars: Option<Vec<String>> = items.iter().map(scalar).collect();
                if let Some(scalars) = scalars {
                    out.insert(prefix.to_owned(), scalars.join(","));
                }
            }
            Value::Null => {}
            other => {
                if let Some(s) = scalar(other) {
                    out.insert(prefix.to_owned(), s);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", object, &mut out);
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configuration_fields_flatten_to_dotted_paths() {
        let config = json!({"kind": "KubeletConfiguration", "authentication": {"anonymous": {"enabled": false}},
            "readOnlyPort": 0, "tlsCipherSuites": ["A", "B"], "featureGates": {"X": true}, "empty": null});
        let flat = flatten(&config);
        assert_eq!(flat["authentication.anonymous.enabled"], "false");
        assert_eq!(flat["readOnlyPort"], "0");
        assert_eq!(flat["tlsCipherSuites"], "A,B");
        assert_eq!(flat["featureGates.X"], "true");
        assert!(!flat.contains_key("kind") && !flat.contains_key("empty"));
    }

    #[test]
    fn a_container_with_only_args_is_named_by_its_image() {
        let args_only = json!({"image": "registry.k8s.io/kube-apiserver:v1.28.0",
            "args": ["--profiling=false"]});
        let flags = container_flags(&args_only);
        assert_eq!(flags.program.as_deref(), Some("kube-apiserver"));
        assert_eq!(flags.value("--profiling"), Some("false"));
        // The first argument names the program when it is not a flag.
        let named = json!({"image": "example.com/wrapper:1", "args": ["kube-scheduler", "--v=2"]});
        assert_eq!(
            container_flags(&named).program.as_deref(),
            Some("kube-scheduler")
        );
        // A command wins over the image.
        let command = json!({"image": "registry.k8s.io/etcd:3.5.9-0", "command": ["/bin/sh"],
            "args": ["-c", "etcd"]});
        assert_eq!(container_flags(&command).program.as_deref(), Some("sh"));
        assert_eq!(
            image_program("registry.k8s.io/etcd@sha256:abc"),
            Some("etcd")
        );
        assert_eq!(
            image_program("k8s.gcr.io/kube-proxy-amd64:v1.10"),
            Some("kube-proxy")
        );
    }

    #[test]
    fn etcd_reads_environment_variables_under_its_flags() {
        let container = json!({"command": ["etcd", "--client-cert-auth=true"],
            "env": [{"name": "ETCD_CLIENT_CERT_AUTH", "value": "false"}, {"name": "ETCD_AUTO_TLS", "value": "true"}]});
        let flags = container_flags(&container);
        assert_eq!(flags.value("--client-cert-auth"), Some("true"));
        assert_eq!(flags.value("--auto-tls"), Some("true"));
    }
}
