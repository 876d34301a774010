//! The validated benchmark: what a benchmark file says once [`unvalidated`](super::unvalidated)
//! has checked it. Each check's way of being judged is one [`Judgement`], so nothing downstream
//! re-checks an optional field.

use crate::severity::Severity;
use crate::snapshot::PlatformKind;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// One benchmark: its sections and every recommendation, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benchmark {
    /// `cis-1.12`, `cis-gke-1.6`: the file stem under `benchmarks/`.
    pub benchmark: String,
    pub title: String,
    pub version: String,
    /// The platforms `--benchmark auto` applies this benchmark to.
    pub platforms: Vec<PlatformKind>,
    /// Whether `--benchmark auto` applies it where no benchmark claims the platform, and to
    /// manifests (one built-in benchmark is the fallback).
    pub fallback: bool,
    pub sections: Vec<Section>,
    pub checks: Vec<Check>,
    /// Where the checks' profile levels come from (a published list that states the level of
    /// each recommendation of this version), or why they are missing.
    pub level_source: Option<String>,
}

/// A section or subsection (`1`, `1.2`), titled in posture's words.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub id: String,
    pub title: String,
    /// For a part of the cluster the provider runs (AKS, EKS and GKE section 1): why the
    /// benchmark has no recommendations there. Reports show the section as not applicable.
    #[serde(default)]
    pub managed: Option<String>,
}

/// One recommendation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub id: String,
    /// The good state, e.g. "Anonymous requests to the API server are disabled".
    pub title: String,
    pub assessment: Assessment,
    /// CIS profile level (1 or 2), where a published source states it.
    pub level: Option<u8>,
    /// Where this check's level comes from, when not from the benchmark's `level_source`
    /// (or why it has none).
    pub level_source: Option<String>,
    /// Whether the benchmark counts the recommendation in its score.
    pub scored: bool,
    pub target: Target,
    pub evidence: Evidence,
    pub remediation: String,
    pub judgement: Judgement,
    /// What CIS asks a person to check, for a manual recommendation posture judges itself
    /// (for one it does not, the text is [`Judgement::Manual`]'s `steps`).
    pub manual: Option<String>,
}

/// How posture judges a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// A requirement on a component's flags or configuration fields (evidence `flags` or
    /// `kubelet-config`), judged by policies/benchmark/settings.rego.
    Settings {
        component: Component,
        test: Test,
        /// How serious a failure is: posture's judgement, since CIS rates none.
        severity: Severity,
    },
    /// A requirement on the mode and owner of a node's files (evidence `node-file`).
    Files {
        component: Component,
        spec: FileSpec,
        severity: Severity,
    },
    /// An API check: it fails when one of these built-in Rego rules has a finding (the
    /// findings carry their rules' severities), and passes when they ran over the objects they
    /// select without one.
    Rules { rules: Vec<String> },
    /// Whether admission control rejects pods that break a Pod Security control, in every
    /// namespace with user workloads: the namespace's Pod Security `enforce` label at a level
    /// that forbids it, or a policy engine's enforcing policy (Kyverno, Gatekeeper); and
    /// whether the workloads already there break it (findings of `rules`).
    Admission {
        control: AdmissionControl,
        rules: Vec<String>,
    },
    /// Only a person can judge it (a manual recommendation, or an automated one posture has no
    /// requirement for).
    Manual {
        /// Where to look, when the check is about one component.
        component: Option<Component>,
        /// What a person checks.
        steps: String,
        /// Built-in rules whose findings are evidence to start from.
        rules: Vec<String>,
    },
}

impl Check {
    /// The component the check is about, if any.
    pub fn component(&self) -> Option<Component> {
        match &self.judgement {
            Judgement::Settings { component, .. } | Judgement::Files { component, .. } => {
                Some(*component)
            }
            Judgement::Manual { component, .. } => *component,
            Judgement::Rules { .. } | Judgement::Admission { .. } => None,
        }
    }

    /// The severity of the findings posture raises itself (settings and file checks).
    pub fn severity(&self) -> Option<Severity> {
        match &self.judgement {
            Judgement::Settings { severity, .. } | Judgement::Files { severity, .. } => {
                Some(*severity)
            }
            Judgement::Rules { .. } | Judgement::Admission { .. } | Judgement::Manual { .. } => {
                None
            }
        }
    }

    /// The built-in rules the check names: the ones that judge it, or give evidence.
    pub fn rules(&self) -> &[String] {
        match &self.judgement {
            Judgement::Rules { rules }
            | Judgement::Admission { rules, .. }
            | Judgement::Manual { rules, .. } => rules,
            Judgement::Settings { .. } | Judgement::Files { .. } => &[],
        }
    }

    /// Whether posture decides the check from the data it collects (everything but
    /// [`Judgement::Manual`]).
    pub fn judged_by_posture(&self) -> bool {
        !matches!(self.judgement, Judgement::Manual { .. })
    }

    /// Whether posture judges a recommendation CIS assesses by hand: reports mark its verdict
    /// "judged by posture; CIS assesses this manually".
    pub fn judged_beyond_cis(&self) -> bool {
        self.assessment == Assessment::Manual && self.judged_by_posture()
    }

    /// How posture judges the check, in a few words (for `posture rules --benchmark`):
    /// `flags of kube-apiserver: --profiling eq false (default true)`.
    pub fn method(&self) -> String {
        match &self.judgement {
            Judgement::Settings {
                component, test, ..
            } => {
                let items: Vec<String> = test
                    .items()
                    .iter()
                    .map(|i| {
                        let setting = match (&i.flag, &i.config_path) {
                            (Some(f), Some(c)) => format!("{f} | {c}"),
                            (Some(f), None) => f.clone(),
                            (None, Some(c)) => c.clone(),
                            (None, None) => String::new(),
                        };
                        let value = i
                            .value
                            .as_deref()
                            .map_or(String::new(), |v| format!(" {v}"));
                        let default = i
                            .default
                            .as_deref()
                            .map_or(String::new(), |d| format!(" (default {d:?})"));
                        format!("{setting} {}{value}{default}", i.op.as_str())
                    })
                    .collect();
                let joined = items.join(if matches!(test, Test::All(_)) {
                    " and "
                } else {
                    " or "
                });
                let source = match self.evidence {
                    Evidence::KubeletConfig => "kubelet configuration and flags",
                    _ => "flags",
                };
                format!("{source} of {}: {joined}", component.as_str())
            }
            Judgement::Files {
                component, spec, ..
            } => {
                let mut wants = Vec::new();
                if let Some(mode) = &spec.mode {
                    wants.push(format!("mode {mode} or stricter"));
                }
                if let Some(owner) = &spec.owner {
                    wants.push(format!("owner {owner}"));
                }
                format!(
                    "node facts: {} {} files, {}",
                    component.as_str(),
                    spec.kind.as_str(),
                    wants.join(", ")
                )
            }
            Judgement::Rules { rules } => format!(
                "rules {}: a finding fails it; none among the objects they read passes it",
                rules.join(", ")
            ),
            Judgement::Admission { control, rules } => {
                let workloads = if rules.is_empty() {
                    String::new()
                } else {
                    format!(", and no finding of {} in them", rules.join(", "))
                };
                format!(
                    "admission: each namespace with user workloads enforces Pod Security {} or \
                     stricter, or a policy engine forbids {}{workloads}",
                    control.level().as_str(),
                    control.describe()
                )
            }
            Judgement::Manual { rules, .. } => {
                let rules = if rules.is_empty() {
                    String::new()
                } else {
                    format!(" (rules {} give evidence)", rules.join(", "))
                };
                match self.evidence {
                    Evidence::Cloud => {
                        format!("by hand, in the cloud provider's settings{rules}")
                    }
                    _ => format!("by hand{rules}"),
                }
            }
        }
    }

    /// The id of the section the check belongs to: its id without the last component.
    pub fn section_id(&self) -> &str {
        self.id.rsplit_once('.').map_or("", |(parent, _)| parent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Assessment {
    Automated,
    Manual,
}

impl Assessment {
    pub fn as_str(self) -> &'static str {
        match self {
            Assessment::Automated => "automated",
            Assessment::Manual => "manual",
        }
    }
}

/// What part of the cluster a recommendation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    ControlPlane,
    Etcd,
    Node,
    Policies,
    ManagedServices,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::ControlPlane => "control-plane",
            Target::Etcd => "etcd",
            Target::Node => "node",
            Target::Policies => "policies",
            Target::ManagedServices => "managed-services",
        }
    }
}

/// What a verdict would be based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// A component's command-line flags (or, with `config_path`, its configuration file).
    Flags,
    /// The kubelet's configuration (`/configz` or its `--config` file).
    KubeletConfig,
    /// Mode and owner of files on a node.
    NodeFile,
    /// Kubernetes objects read through the API (evaluated by Rego rules).
    Api,
    /// The cloud provider's configuration of the cluster.
    Cloud,
    /// Only a person can judge it.
    Manual,
}

impl Evidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Flags => "flags",
            Evidence::KubeletConfig => "kubelet-config",
            Evidence::NodeFile => "node-file",
            Evidence::Api => "api",
            Evidence::Cloud => "cloud",
            Evidence::Manual => "manual",
        }
    }
}

/// A Pod Security Standards level that forbids something (privileged forbids nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    Baseline,
    Restricted,
}

impl PssLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PssLevel::Baseline => "baseline",
            PssLevel::Restricted => "restricted",
        }
    }
}

/// What an admission check asks admission control to reject: one control of the Pod Security
/// Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/), or, for
/// `policy`, any pod security policy at all (CIS 5.2.1; GKE 4.2.1 asks for baseline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdmissionControl {
    /// Some pod security policy is enforced (a level of baseline or stricter).
    Policy,
    Privileged,
    HostPid,
    HostIpc,
    HostNetwork,
    HostProcess,
    HostPath,
    HostPorts,
    /// Capabilities beyond the baseline's default set.
    Capabilities,
    PrivilegeEscalation,
    RunAsNonRoot,
    /// NET_RAW dropped (restricted: drop ALL).
    NetRaw,
}

impl AdmissionControl {
    pub fn as_str(self) -> &'static str {
        match self {
            AdmissionControl::Policy => "policy",
            AdmissionControl::Privileged => "privileged",
            AdmissionControl::HostPid => "host-pid",
            AdmissionControl::HostIpc => "host-ipc",
            AdmissionControl::HostNetwork => "host-network",
            AdmissionControl::HostProcess => "host-process",
            AdmissionControl::HostPath => "host-path",
            AdmissionControl::HostPorts => "host-ports",
            AdmissionControl::Capabilities => "capabilities",
            AdmissionControl::PrivilegeEscalation => "privilege-escalation",
            AdmissionControl::RunAsNonRoot => "run-as-non-root",
            AdmissionControl::NetRaw => "net-raw",
        }
    }

    /// The lowest Pod Security level whose `enforce` rejects pods that break the control.
    /// Baseline forbids privileged containers, host namespaces, HostProcess, hostPath volumes,
    /// host ports and capabilities beyond its default set; restricted adds privilege
    /// escalation, running as non-root and dropping ALL capabilities (so NET_RAW).
    pub fn level(self) -> PssLevel {
        match self {
            AdmissionControl::Policy
            | AdmissionControl::Privileged
            | AdmissionControl::HostPid
            | AdmissionControl::HostIpc
            | AdmissionControl::HostNetwork
            | AdmissionControl::HostProcess
            | AdmissionControl::HostPath
            | AdmissionControl::HostPorts
            | AdmissionControl::Capabilities => PssLevel::Baseline,
            AdmissionControl::PrivilegeEscalation
            | AdmissionControl::RunAsNonRoot
            | AdmissionControl::NetRaw => PssLevel::Restricted,
        }
    }

    /// What the control rejects, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            AdmissionControl::Policy => "pods that break a pod security policy",
            AdmissionControl::Privileged => "privileged containers",
            AdmissionControl::HostPid => "pods in the host's PID namespace",
            AdmissionControl::HostIpc => "pods in the host's IPC namespace",
            AdmissionControl::HostNetwork => "pods in the host's network namespace",
            AdmissionControl::HostProcess => "Windows HostProcess containers",
            AdmissionControl::HostPath => "hostPath volumes",
            AdmissionControl::HostPorts => "host ports",
            AdmissionControl::Capabilities => "added capabilities",
            AdmissionControl::PrivilegeEscalation => "containers that allow privilege escalation",
            AdmissionControl::RunAsNonRoot => "containers that may run as root",
            AdmissionControl::NetRaw => "containers that keep NET_RAW",
        }
    }
}

/// The program or file family a recommendation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    KubeApiserver,
    KubeControllerManager,
    KubeScheduler,
    Etcd,
    Kubelet,
    KubeProxy,
    /// CNI configuration files.
    Cni,
    /// The control plane's PKI directory.
    Pki,
    /// Administrator kubeconfigs (admin.conf, super-admin.conf).
    Admin,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::KubeApiserver => "kube-apiserver",
            Component::KubeControllerManager => "kube-controller-manager",
            Component::KubeScheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
            Component::KubeProxy => "kube-proxy",
            Component::Cni => "cni",
            Component::Pki => "pki",
            Component::Admin => "admin",
        }
    }
}

/// Test items joined by `all` (every item passes) or `any` (at least one passes), like
/// kube-bench's `bin_op: and | or`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Test {
    All(Vec<TestItem>),
    Any(Vec<TestItem>),
}

impl Test {
    pub fn items(&self) -> &[TestItem] {
        match self {
            Test::All(items) | Test::Any(items) => items,
        }
    }

    /// `all` or `any`.
    pub fn combinator(&self) -> &'static str {
        match self {
            Test::All(_) => "all",
            Test::Any(_) => "any",
        }
    }
}

/// One requirement on a flag and/or a configuration field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestItem {
    /// Command-line flag, e.g. `--anonymous-auth`.
    #[serde(default)]
    pub flag: Option<String>,
    /// Dotted path in the component's configuration, e.g. `authentication.anonymous.enabled`.
    #[serde(default)]
    pub config_path: Option<String>,
    pub op: Op,
    /// Expected value, always a string; absent for `set` and `unset`.
    #[serde(default)]
    pub value: Option<String>,
    /// The component's built-in value when the flag or field is absent (`null`: none). The key
    /// is required so that every item states it.
    #[serde(deserialize_with = "nullable")]
    pub default: Option<String>,
    /// The kubelet's default for the flag when it runs without a configuration file, where that
    /// differs from the file's `default` (`--anonymous-auth` is `true` on a bare command line).
    #[serde(default)]
    pub cli_default: Option<String>,
}

/// Comparison operators, as kube-bench names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum Op {
    #[serde(rename = "eq")]
    Eq,
    #[serde(rename = "noteq")]
    NotEq,
    /// The comma-separated value contains the expected element (or substring).
    #[serde(rename = "has")]
    Has,
    #[serde(rename = "nothave")]
    NotHave,
    #[serde(rename = "gt")]
    Gt,
    #[serde(rename = "gte")]
    Gte,
    #[serde(rename = "lt")]
    Lt,
    #[serde(rename = "lte")]
    Lte,
    /// Every comma-separated element is one of the expected, comma-separated elements.
    #[serde(rename = "valid_elements")]
    ValidElements,
    /// Permission bits are no wider than the expected octal mode.
    #[serde(rename = "bitmask")]
    Bitmask,
    #[serde(rename = "regex")]
    Regex,
    /// The flag or field is present.
    #[serde(rename = "set")]
    Set,
    /// The flag or field is absent.
    #[serde(rename = "unset")]
    Unset,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::NotEq => "noteq",
            Op::Has => "has",
            Op::NotHave => "nothave",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::ValidElements => "valid_elements",
            Op::Bitmask => "bitmask",
            Op::Regex => "regex",
            Op::Set => "set",
            Op::Unset => "unset",
        }
    }

    /// Whether the operator compares against a `value`.
    pub fn takes_value(self) -> bool {
        !matches!(self, Op::Set | Op::Unset)
    }
}

/// Files of a node and what their mode and owner must be.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub kind: FileKind,
    /// Candidate locations (kube-bench's lists per distribution); every one that exists must
    /// meet the requirement. Directory kinds apply to the directory's contents.
    pub paths: Vec<String>,
    /// The widest permission bits allowed, in octal (`600`).
    #[serde(default)]
    pub mode: Option<String>,
    /// `user:group`.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    PodSpec,
    Kubeconfig,
    Config,
    /// The cloud provider's configuration file on a node (AKS's azure.json).
    CloudConfig,
    ServiceFile,
    PkiDir,
    PkiCert,
    PkiKey,
    DataDir,
    Cni,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::PodSpec => "pod-spec",
            FileKind::Kubeconfig => "kubeconfig",
            FileKind::Config => "config",
            FileKind::CloudConfig => "cloud-config",
            FileKind::ServiceFile => "service-file",
            FileKind::PkiDir => "pki-dir",
            FileKind::PkiCert => "pki-cert",
            FileKind::PkiKey => "pki-key",
            FileKind::DataDir => "data-dir",
            FileKind::Cni => "cni",
        }
    }
}

/// The node-facts role under which `posture node-collect` files a component's files of `kind`:
/// `<component>/<what>` (`kubelet/config`, `pki/directory`), see docs/node-facts.md.
pub fn node_role(component: Component, kind: FileKind) -> String {
    let what = match kind {
        FileKind::PodSpec => "pod-spec",
        FileKind::Kubeconfig => "kubeconfig",
        FileKind::Config | FileKind::Cni => "config",
        FileKind::CloudConfig => "cloud-config",
        FileKind::ServiceFile => "service-file",
        FileKind::PkiDir => "directory",
        FileKind::PkiCert => "certificate",
        FileKind::PkiKey => "key",
        FileKind::DataDir => "data-dir",
    };
    format!("{}/{what}", component.as_str())
}

/// One broken rule of the schema, with the check it was found in (`None`: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub check: Option<String>,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.check {
            Some(id) => write!(f, "check {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Errors loading a benchmark; each names the file and, where known, the check.
#[derive(Debug, thiserror::Error)]
pub enum BenchmarkError {
    #[error("unknown benchmark '{name}' (built in: {})", .known.join(", "))]
    Unknown { name: String, known: Vec<String> },
    #[error("{file}: {}{source}", in_check(.check.as_deref()))]
    Parse {
        file: String,
        /// The check whose entry the error is in, when the error has a location.
        check: Option<String>,
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    #[error("{file}: {}", join(.violations))]
    Invalid {
        file: String,
        violations: Vec<Violation>,
    },
}

fn in_check(check: Option<&str>) -> String {
    check.map(|id| format!("check {id}: ")).unwrap_or_default()
}

fn join(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(Violation::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Benchmark {
    /// A copy of a built-in benchmark by name (see [`Registry`](super::Registry), which lends
    /// them). Rule ids are checked by [`Benchmark::validate`], which needs the rule catalog.
    pub fn builtin(name: &str) -> Result<Benchmark, BenchmarkError> {
        super::Registry::builtin().get(name).cloned()
    }

    /// Every built-in benchmark, in file-name order.
    pub fn all() -> &'static [Benchmark] {
        super::Registry::builtin().benchmarks()
    }

    /// Parses a benchmark file's text and checks its structure; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Benchmark, BenchmarkError> {
        super::unvalidated::parse(file, text)
    }

    /// Checks that each rule a check names is one of `known_rules` (the ids of the built-in rule
    /// catalog); everything else was checked when the file was parsed.
    pub fn validate(&self, file: &str, known_rules: &[&str]) -> Result<(), BenchmarkError> {
        let violations: Vec<Violation> = self
            .checks
            .iter()
            .flat_map(|check| {
                check
                    .rules()
                    .iter()
                    .filter(|rule| !known_rules.contains(&rule.as_str()))
                    .map(|rule| Violation {
                        check: Some(check.id.clone()),
                        message: format!("rule {rule} is not in the rule catalog"),
                    })
            })
            .collect();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(BenchmarkError::Invalid {
                file: file.to_owned(),
                violations,
            })
        }
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The benchmark limited to one CIS profile: Level 1 keeps the Level 1 recommendations,
    /// Level 2 keeps both (a Level 2 profile includes Level 1). Checks whose level no source
    /// states cannot be placed in either profile and are left out; they are returned as well,
    /// so the caller can say so.
    pub fn at_level(&self, level: u8) -> (Benchmark, Vec<String>) {
        let mut kept = self.clone();
        let mut unknown = Vec::new();
        kept.checks.retain(|c| match c.level {
            Some(l) => l <= level,
            None => {
                unknown.push(c.id.clone());
                false
            }
        });
        (kept, unknown)
    }

    /// Where `check`'s level comes from: its own `level_source`, else the benchmark's.
    pub fn level_source_of<'a>(&'a self, check: &'a Check) -> Option<&'a str> {
        check
            .level_source
            .as_deref()
            .or(self.level_source.as_deref())
    }

    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }
}

/// A required key whose value may be `null`.
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_id_drops_the_last_component() {
        let check = |id: &str| Check {
            id: id.to_owned(),
            title: String::new(),
            assessment: Assessment::Manual,
            level: None,
            level_source: None,
            scored: false,
            target: Target::Policies,
            evidence: Evidence::Manual,
            remediation: String::new(),
            manual: None,
            judgement: Judgement::Manual {
                component: None,
                steps: String::new(),
                rules: Vec::new(),
            },
        };
        assert_eq!(check("1.2.3").section_id(), "1.2");
        assert_eq!(check("2.1").section_id(), "2");
    }

    #[test]
    fn node_roles_name_the_component_and_the_file() {
        assert_eq!(
            node_role(Component::KubeApiserver, FileKind::PodSpec),
            "kube-apiserver/pod-spec"
        );
        assert_eq!(node_role(Component::Pki, FileKind::PkiDir), "pki/directory");
        assert_eq!(node_role(Component::Cni, FileKind::Cni), "cni/config");
    }
}
