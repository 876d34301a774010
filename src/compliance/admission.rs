//! Whether admission control rejects pods that break a Pod Security control, namespace by
//! namespace: the namespace's `pod-security.kubernetes.io/enforce` label (Pod Security
//! admission, https://kubernetes.io/docs/concepts/security/pod-security-admission/), or an
//! enforcing policy of a policy engine found among the objects (Kyverno `ClusterPolicy` /
//! `Policy`, Gatekeeper constraints). What CIS 5.2 asks: "add policies to each namespace in
//! the cluster which has user workloads".
//!
//! Reads objects only; what is not among them (an AdmissionConfiguration's cluster-wide
//! defaults, a webhook's own configuration) is not guessed at.

use crate::benchmark::{AdmissionControl, PssLevel};
use crate::resource::Resource;
use serde_json::Value;

/// Namespaces that hold the cluster's own components, which CIS leaves out of "namespaces with
/// user workloads".
pub const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The label Pod Security admission enforces.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";

/// What a namespace's own `enforce` label says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforce {
    /// No `enforce` label: Pod Security admission enforces `privileged` (nothing), unless the
    /// API server's admission configuration sets another default, which posture cannot read.
    Unlabelled,
    Privileged,
    Level(PssLevel),
    /// A value that is not a level.
    Invalid(String),
}

impl Enforce {
    pub fn of(namespace: &Value) -> Enforce {
        match namespace["metadata"]["labels"][ENFORCE_LABEL].as_str() {
            None => Enforce::Unlabelled,
            Some("privileged") => Enforce::Privileged,
            Some("baseline") => Enforce::Level(PssLevel::Baseline),
            Some("restricted") => Enforce::Level(PssLevel::Restricted),
            Some(other) => Enforce::Invalid(other.to_owned()),
        }
    }

    /// Whether enforcing this rejects pods that break `control`.
    pub fn forbids(&self, control: AdmissionControl) -> bool {
        matches!(self, Enforce::Level(level) if *level >= control.level())
    }

    /// `enforce=restricted`, `no enforce label`.
    pub fn describe(&self) -> String {
        match self {
            Enforce::Unlabelled => "no Pod Security enforce label".to_owned(),
            Enforce::Privileged => "Pod Security enforce=privileged".to_owned(),
            Enforce::Level(level) => format!("Pod Security enforce={}", level.as_str()),
            Enforce::Invalid(value) => {
                format!("Pod Security enforce={value:?}, which is not a level")
            }
        }
    }
}

/// An enforcing policy-engine object and what it forbids where.
#[derive(Debug, Clone)]
pub struct EnginePolicy {
    /// `Kyverno ClusterPolicy 'disallow-privileged-containers'`.
    pub label: String,
    controls: Vec<AdmissionControl>,
    scope: Scope,
}

#[derive(Debug, Clone)]
enum Scope {
    /// Every namespace but these (and those matching a `prefix*` pattern).
    AllBut(Vec<String>),
    /// Only these.
    Only(Vec<String>),
}

impl EnginePolicy {
    /// Whether the policy rejects pods in `namespace` that break `control`.
    pub fn covers(&self, namespace: &str, control: AdmissionControl) -> bool {
        let controls = control == AdmissionControl::Policy && !self.controls.is_empty()
            || self.controls.contains(&control);
        let here = match &self.scope {
            Scope::AllBut(excluded) => !excluded.iter().any(|p| matches(p, namespace)),
            Scope::Only(names) => names.iter().any(|p| matches(p, namespace)),
        };
        controls && here
    }
}

/// Gatekeeper and Kyverno namespace patterns end in `*` for a prefix.
fn matches(pattern: &str, namespace: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => namespace.starts_with(prefix),
        None => pattern == namespace,
    }
}

/// Every enforcing policy-engine object among `objects`.
pub fn engine_policies<R: std::borrow::Borrow<Resource>>(objects: &[R]) -> Vec<EnginePolicy> {
    objects
        .iter()
        .map(R::borrow)
        .filter_map(|r| {
            let group = crate::resource::api_group(&r.id.api_version);
            match group {
                "kyverno.io" if matches!(r.id.kind.as_str(), "ClusterPolicy" | "Policy") => {
                    kyverno(r)
                }
                "constraints.gatekeeper.sh" => gatekeeper(r),
                _ => None,
            }
        })
        .collect()
}

/// The controls of the Pod Security Standards at `level` and below.
fn controls_of(level: PssLevel) -> Vec<AdmissionControl> {
    use AdmissionControl::*;
    [
        Privileged,
        HostPid,
        HostIpc,
        HostNetwork,
        HostProcess,
        HostPath,
        HostPorts,
        Capabilities,
        PrivilegeEscalation,
        RunAsNonRoot,
        NetRaw,
    ]
    .into_iter()
    .filter(|c| c.level() <= level)
    .collect()
}

/// The Pod Security control Kyverno's `podSecurity.exclude[].controlName` names
/// (https://kyverno.io/docs/writing-policies/validate/#pod-security).
fn kyverno_control(name: &str) -> Vec<AdmissionControl> {
    use AdmissionControl::*;
    match name {
        "Privileged Containers" => vec![Privileged],
        "Host Namespaces" => vec![HostPid, HostIpc, HostNetwork],
        "HostProcess" => vec![HostProcess],
        "HostPath Volumes" => vec![HostPath],
        "Host Ports" => vec![HostPorts],
        "Capabilities" => vec![Capabilities, NetRaw],
        "Privilege Escalation" => vec![PrivilegeEscalation],
        "Running as Non-root" | "Running as Non-root user" => vec![RunAsNonRoot],
        _ => Vec::new(),
    }
}

/// The policies of Kyverno's Pod Security library (github.com/kyverno/policies, pod-security/),
/// by name: what each one forbids.
fn kyverno_library(name: &str) -> Vec<AdmissionControl> {
    use AdmissionControl::*;
    match name {
        "disallow-privileged-containers" => vec![Privileged],
        "disallow-host-namespaces" => vec![HostPid, HostIpc, HostNetwork],
        "disallow-host-process" => vec![HostProcess],
        "disallow-host-path" => vec![HostPath],
        "disallow-host-ports" | "disallow-host-ports-range" => vec![HostPorts],
        "disallow-capabilities" => vec![Capabilities],
        "disallow-capabilities-strict" => vec![Capabilities, NetRaw],
        "disallow-privilege-escalation" => vec![PrivilegeEscalation],
        "require-run-as-nonroot" | "require-run-as-non-root-user" => vec![RunAsNonRoot],
        _ => Vec::new(),
    }
}

fn is_enforce(action: Option<&str>) -> bool {
    action.is_some_and(|a| a.eq_ignore_ascii_case("enforce"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// The namespaces a Kyverno rule's `match` or `exclude` names, in either form
/// (`resources:`, or `any:`/`all:` lists of resource filters).
fn kyverno_namespaces(block: &Value) -> Vec<String> {
    let mut out = strings(&block["resources"]["namespaces"]);
    for key in ["any", "all"] {
        for filter in block[key].as_array().into_iter().flatten() {
            out.extend(strings(&filter["resources"]["namespaces"]));
        }
    }
    out
}

fn kyverno(r: &Resource) -> Option<EnginePolicy> {
    let spec = &r.object["spec"];
    let default_action = spec["validationFailureAction"].as_str();
    let by_name = kyverno_library(&r.id.name);
    let mut controls = Vec::new();
    let mut only = Vec::new();
    let mut excluded = Vec::new();
    for rule in spec["rules"].as_array().into_iter().flatten() {
        let validate = &rule["validate"];
        if validate.is_null() {
            continue;
        }
        // Kyverno 1.13 moved the action onto each rule; the rule's own wins.
        let action = validate["failureAction"].as_str().or(default_action);
        if !is_enforce(action) {
            continue;
        }
        let mut rule_controls = match validate["podSecurity"]["level"].as_str() {
            Some("baseline") => controls_of(PssLevel::Baseline),
            Some("restricted") => controls_of(PssLevel::Restricted),
            _ => by_name.clone(),
        };
        let exempt: Vec<AdmissionControl> = validate["podSecurity"]["exclude"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["controlName"].as_str())
            .flat_map(kyverno_control)
            .collect();
        rule_controls.retain(|c| !exempt.contains(c));
        if rule_controls.is_empty() {
            continue;
        }
        controls.extend(rule_controls);
        only.extend(kyverno_namespaces(&rule["match"]));
        excluded.extend(kyverno_namespaces(&rule["exclude"]));
    }
    if controls.is_empty() {
        return None;
    }
    controls.sort();
    controls.dedup();
    let scope = match &r.id.namespace {
        // A namespaced Policy applies to its own namespace.
        Some(ns) if r.id.kind == "Policy" => Scope::Only(vec![ns.clone()]),
        _ if !only.is_empty() => Scope::Only(only),
        _ => Scope::AllBut(excluded),
    };
    Some(EnginePolicy {
        label: format!("Kyverno {} '{}'", r.id.kind, r.id.name),
        controls,
        scope,
    })
}

/// What a constraint of Gatekeeper's pod-security library
/// (github.com/open-policy-agent/gatekeeper-library, library/pod-security-policy) forbids,
/// given its parameters.
fn gatekeeper_controls(kind: &str, params: &Value) -> Vec<AdmissionControl> {
    use AdmissionControl::*;
    match kind {
        "K8sPSPPrivilegedContainer" => vec![Privileged],
        "K8sPSPHostNamespace" => vec![HostPid, HostIpc],
        "K8sPSPHostNetworkingPorts" => {
            let mut out = Vec::new();
            if params["hostNetwork"].as_bool() != Some(true) {
                out.push(HostNetwork);
            }
            // Without min and max the template lets every host port through.
            if params["min"].is_number() && params["max"].is_number() {
                out.push(HostPorts);
            }
            out
        }
        "K8sPSPHostFilesystem"
            if params["allowedHostPaths"]
                .as_array()
                .is_none_or(Vec::is_empty) =>
        {
            vec![HostPath]
        }
        "K8sPSPAllowPrivilegeEscalationContainer" => vec![PrivilegeEscalation],
        "K8sPSPAllowedUsers"
            if params["runAsUser"]["rule"].as_str() == Some("MustRunAsNonRoot") =>
        {
            vec![RunAsNonRoot]
        }
        "K8sPSPCapabilities" => {
            let mut out = Vec::new();
            if params["allowedCapabilities"]
                .as_array()
                .is_none_or(Vec::is_empty)
            {
                out.push(Capabilities);
            }
            if strings(&params["requiredDropCapabilities"])
                .iter()
                .any(|c| c.eq_ignore_ascii_case("NET_RAW") || c.eq_ignore_ascii_case("ALL"))
            {
                out.push(NetRaw);
            }
            out
        }
        _ => Vec::new(),
    }
}

fn gatekeeper(r: &Resource) -> Option<EnginePolicy> {
    let spec = &r.object["spec"];
    // `deny` is the default; `dryrun` and `warn` admit the pod.
    let action = spec["enforcementAction"].as_str().unwrap_or("deny");
    if action != "deny" {
        return None;
    }
    let controls = gatekeeper_controls(&r.id.kind, &spec["parameters"]);
    if controls.is_empty() {
        return None;
    }
    let only = strings(&spec["match"]["namespaces"]);
    let scope = if only.is_empty() {
        Scope::AllBut(strings(&spec["match"]["excludedNamespaces"]))
    } else {
        Scope::Only(only)
    };
    Some(EnginePolicy {
        label: format!("Gatekeeper {} '{}'", r.id.kind, r.id.name),
        controls,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(object: Value) -> Resource {
        Resource::from_object(
            object,
            crate::resource::Origin::Cluster {
                cluster: "c".to_owned(),
            },
            None,
        )
        .unwrap()
    }

    #[test]
    fn enforce_labels_forbid_their_level_and_below() {
        let ns = |v: &str| json!({"metadata": {"labels": {ENFORCE_LABEL: v}}});
        assert!(Enforce::of(&ns("baseline")).forbids(AdmissionControl::Privileged));
        assert!(!Enforce::of(&ns("baseline")).forbids(AdmissionControl::RunAsNonRoot));
        assert!(Enforce::of(&ns("restricted")).forbids(AdmissionControl::NetRaw));
        assert!(!Enforce::of(&ns("privileged")).forbids(AdmissionControl::Policy));
        assert!(!Enforce::of(&json!({})).forbids(AdmissionControl::HostPid));
        assert_eq!(
            Enforce::of(&ns("Restricted")),
            Enforce::Invalid("Restricted".to_owned())
        );
    }

    #[test]
    fn kyverno_pod_security_rules_cover_their_level_minus_exclusions() {
        let policy = resource(json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "psa"},
            "spec": {"validationFailureAction": "Enforce", "rules": [{
                "name": "baseline",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "exclude": {"any": [{"resources": {"namespaces": ["infra-*"]}}]},
                "validate": {"podSecurity": {"level": "baseline", "version": "latest",
                    "exclude": [{"controlName": "Host Ports"}]}}
            }]}
        }));
        let found = engine_policies(&[policy]);
        assert_eq!(found.len(), 1);
        let p = &found[0];
        assert!(p.covers("shop", AdmissionControl::Privileged));
        assert!(!p.covers("shop", AdmissionControl::HostPorts));
        assert!(!p.covers("shop", AdmissionControl::RunAsNonRoot));
        assert!(!p.covers("infra-dns", AdmissionControl::Privileged));
        assert!(p.covers("shop", AdmissionControl::Policy));
    }

    #[test]
    fn audit_only_policies_and_dry_run_constraints_reject_nothing() {
        let audit = resource(json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "disallow-privileged-containers"},
            "spec": {"validationFailureAction": "Audit", "rules": [{"name": "r",
                "validate": {"pattern": {}}}]}
        }));
        let dry = resource(json!({
            "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sPSPPrivilegedContainer",
            "metadata": {"name": "psp-privileged"},
            "spec": {"enforcementAction": "dryrun"}
        }));
        assert!(engine_policies(&[audit, dry]).is_empty());
    }

    #[test]
    fn gatekeeper_constraints_cover_their_namespaces() {
        let c = resource(json!({
            "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sPSPCapabilities",
            "metadata": {"name": "caps"},
            "spec": {"match": {"namespaces": ["shop"]},
                "parameters": {"requiredDropCapabilities": ["ALL"]}}
        }));
        let found = engine_policies(&[c]);
        assert!(found[0].covers("shop", AdmissionControl::NetRaw));
        assert!(found[0].covers("shop", AdmissionControl::Capabilities));
        assert!(!found[0].covers("payments", AdmissionControl::NetRaw));
    }
}
