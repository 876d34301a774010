//! What a scan is asked to do: the input, the rules, how to judge and what to report
//! ([`ScanRequest`]), built by the CLI or any other front end.

use crate::collect;
use crate::collect::cluster::ClusterOptions;
use crate::compliance::FactsFile;
use crate::engine::{Limits, PssVersion};
use crate::exceptions::Exception;
use crate::finding::Finding;
use crate::pattern::Pattern;
use crate::policy::UserPolicies;
use crate::severity::Severity;
use std::path::PathBuf;

/// One scan, end to end: what to read, with which rules, how to judge it, and what to
/// compare it with. [`run`] turns it into a finished [`ScanReport`].
#[derive(Debug, Clone)]
pub struct ScanRequest {
    pub input: Input,
    /// The user's rule directories or files (`--policy`) and conftest namespaces
    /// (`--policy-namespace`).
    pub policies: UserPolicies,
    /// Bounds on running the user's rules (`--rego-timeout`, `--rego-memory`).
    pub limits: Limits,
    pub benchmark: BenchmarkChoice,
    /// Limit the benchmark to one CIS profile (`--cis-level 1|2`; Level 2 includes Level 1).
    pub cis_level: Option<u8>,
    pub exceptions: ExceptionSource,
    /// `posture node-collect` output files or directories (`--node-facts`).
    pub node_facts: Vec<PathBuf>,
    /// An earlier JSON report or SARIF log to compare with (`--baseline`).
    pub baseline: Option<PathBuf>,
    /// The day exception expiry is judged on; today (UTC) when unset.
    pub today: Option<jiff::civil::Date>,
    /// Whether inputs without a single object are fine (`--allow-empty`). Otherwise they are
    /// an error: a gate fed by a failed `helm template |` must not pass.
    pub allow_empty: bool,
    /// The largest file (or standard input) read whole: manifests, baseline, node facts,
    /// snapshot (`--max-input-size`).
    pub max_input_bytes: u64,
    /// Which findings to report (`--rule`, `--skip-rule`, `--severity`).
    pub filter: FindingFilter,
    /// The Pod Security admission version the Pod Security rules judge by (`--pss-version`).
    pub pss_version: PssVersion,
    /// Leave out the review's fix list (`ScanReport::fixes`), which only the markdown and HTML
    /// reviews show: making it re-reads and re-checks the files of the objects it proposes for.
    pub skip_fix_list: bool,
    /// How a manifest scan holds its objects while it evaluates them (see [`Streaming`]).
    pub streaming: Streaming,
}

/// How a manifest scan bounds the objects it holds whole: the objects of the first
/// `whole_bytes` of files stay whole until the rules have judged them; those of later files
/// are reduced after the first reading and their files read again to evaluate them, and the
/// rules judge `chunk_objects` objects at a time, each reduced to what the rest of the scan
/// reads once its chunk is done (`scan::stream`). The output does not depend on either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streaming {
    pub whole_bytes: u64,
    pub chunk_objects: usize,
}

impl Default for Streaming {
    fn default() -> Self {
        // 16 MiB of manifests are some 10,000 to 20,000 objects, which take 100 to 200 MB
        // parsed; a chunk of 4,096 objects keeps both threads busy between chunks.
        Streaming {
            whole_bytes: 16 << 20,
            chunk_objects: 4096,
        }
    }
}

/// Which findings a scan reports. Rules still all run and the benchmark still judges from all
/// of them: the filter chooses what is shown and gated on, not what is true.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only findings of rules matching one of these (ids or globs: `PST-0003`, `cis-1.12/1.2.*`).
    pub rules: Vec<Pattern>,
    /// No findings of rules matching one of these.
    pub skip_rules: Vec<Pattern>,
    /// Only findings of these severities; all when empty.
    pub severities: Vec<Severity>,
}

impl FindingFilter {
    pub fn keeps(&self, f: &Finding) -> bool {
        self.keeps_rule(&f.rule_id)
            && (self.severities.is_empty() || self.severities.contains(&f.severity))
    }

    /// Whether an earlier scan's finding is one this filter reports (a finding read without
    /// its severity is kept unless severities are chosen).
    pub fn keeps_prior(&self, f: &crate::baseline::PriorFinding) -> bool {
        self.keeps_rule(&f.rule_id)
            && (self.severities.is_empty()
                || f.severity.is_some_and(|s| self.severities.contains(&s)))
    }

    fn keeps_rule(&self, rule_id: &str) -> bool {
        (self.rules.is_empty() || self.rules.iter().any(|p| p.matches(rule_id)))
            && !self.skip_rules.iter().any(|p| p.matches(rule_id))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.skip_rules.is_empty() && self.severities.is_empty()
    }
}

impl ScanRequest {
    /// `input` with the built-in rules, the automatic benchmark and discovered exceptions.
    pub fn new(input: Input) -> ScanRequest {
        ScanRequest {
            input,
            policies: UserPolicies::default(),
            limits: Limits::default(),
            benchmark: BenchmarkChoice::Auto,
            cis_level: None,
            exceptions: ExceptionSource::Discover,
            node_facts: Vec::new(),
            baseline: None,
            today: None,
            allow_empty: false,
            max_input_bytes: collect::input::DEFAULT_MAX_INPUT_BYTES,
            filter: FindingFilter::default(),
            pss_version: PssVersion::default(),
            skip_fix_list: false,
            streaming: Streaming::default(),
        }
    }
}

/// Where the objects come from: one variant per source (docs/architecture.md).
#[derive(Debug, Clone)]
pub enum Input {
    /// Manifest files and directories (`-` is stdin); charts and kustomizations among them
    /// are rendered with `render`.
    Manifests {
        paths: Vec<PathBuf>,
        render: collect::render::RenderOptions,
        /// Files and directories a walk leaves out (`--skip-path`).
        skip_paths: Vec<Pattern>,
    },
    /// A snapshot written by `posture snapshot`, with the namespaces to read from it.
    Snapshot {
        path: PathBuf,
        namespaces: Namespaces,
    },
    /// A live cluster.
    Cluster(ClusterOptions),
}

/// Which namespaces' objects to scan; cluster-scoped objects are always kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// Only these; all when `None`.
    pub only: Option<Vec<String>>,
    pub exclude: Vec<String>,
}

impl Namespaces {
    pub fn keeps(&self, namespace: Option<&str>) -> bool {
        match namespace {
            None => true,
            Some(ns) => {
                self.only
                    .as_ref()
                    .is_none_or(|only| only.iter().any(|o| o == ns))
                    && !self.exclude.iter().any(|e| e == ns)
            }
        }
    }
}

impl Input {
    /// The input in a few words, for messages.
    pub fn describe(&self) -> String {
        match self {
            Input::Manifests { paths, .. } => {
                let named: Vec<String> = paths
                    .iter()
                    .map(|p| match p.to_str() {
                        Some("-") => "standard input".to_owned(),
                        _ => crate::resource::SourcePath::new(p).to_string(),
                    })
                    .collect();
                format!("the inputs ({})", named.join(", "))
            }
            Input::Snapshot { path, .. } => format!("the snapshot {}", path.display()),
            Input::Cluster(_) => "the cluster".to_owned(),
        }
    }
}

/// Where exceptions come from, besides the objects' own annotations (always read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ExceptionSource {
    /// `.posture.yaml` in a scanned directory, else in the working directory.
    #[default]
    Discover,
    /// This config file (`--config`).
    File(PathBuf),
    /// No config file (`--no-config`).
    None,
}

/// How to judge what was collected, ready to apply: which CIS benchmark (`--benchmark`) with
/// the node facts it may read, and which findings are excepted.
#[derive(Debug, Clone, Default)]
pub struct Judging {
    pub benchmark: BenchmarkChoice,
    /// The CIS profile to limit the benchmark to (`--cis-level`); all checks when `None`.
    pub cis_level: Option<u8>,
    /// Parsed `--node-facts` files.
    pub node_facts: Vec<FactsFile>,
    /// Exceptions from config files; objects' own exception annotations are always read.
    pub exceptions: Vec<Exception>,
    /// The day exception expiry is judged on; today (UTC) when unset.
    pub today: Option<jiff::civil::Date>,
    /// Leave out the review's fix list (see [`ScanRequest::skip_fix_list`]).
    pub skip_fix_list: bool,
    /// The bound the fix list reads files again under (`--max-input-size`); the default bound
    /// (`collect::input::DEFAULT_MAX_INPUT_BYTES`) when unset.
    pub max_input_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BenchmarkChoice {
    /// The platform's benchmark for a cluster; CIS Kubernetes for manifests that hold
    /// control-plane, kubelet or kube-proxy settings (or with node facts); none otherwise.
    #[default]
    Auto,
    /// No benchmark: findings of the rules only.
    Off,
    /// A built-in benchmark by name.
    Named(String),
}

impl Judging {
    /// The rules' findings only: no benchmark.
    pub fn rules_only() -> Judging {
        Judging {
            benchmark: BenchmarkChoice::Off,
            ..Default::default()
        }
    }
}
