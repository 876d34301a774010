//! The rule catalog: loading Rego rule files, parsing their METADATA, validating the contract.
//!
//! Built-in rules are embedded in the binary; `--policy DIR` adds a user's rules, under
//! posture's contract (a METADATA block and `deny contains {"msg", "path"}`) or conftest's (a
//! package in a conftest namespace with `deny`, `violation` and `warn` rules; see
//! [`conftest`]). A user file that cannot be loaded is recorded in [`Catalog::rejected`] and
//! the rest still load; built-in rules that do not load are an error. Nothing here evaluates
//! a rule (that is `engine`).

pub mod conftest;
mod info;
pub mod kinds;
pub mod metadata;

pub use info::RuleInfo;
pub use kinds::KindSelector;
pub use metadata::{Frameworks, PodSecurityLevel, RelatedResource};

use crate::severity::Severity;
use include_dir::{include_dir, Dir};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/policies");

/// A Rego source file: its display path and text.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// One rule of the catalog.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: crate::shared_text::SharedText,
    /// File stem, e.g. `privileged_container`.
    pub slug: String,
    /// Folder under `policies/rules/` (built-in rules) or `custom` (user rules).
    pub group: String,
    /// Rego package, e.g. `posture.rules.pod_security.privileged_container`.
    pub package: String,
    pub title: crate::shared_text::SharedText,
    pub description: String,
    pub severity: Severity,
    pub remediation: String,
    /// The input type whose resources the rule reads.
    pub input: crate::resource::InputType,
    pub kinds: KindSelector,
    /// The origins of the objects the rule runs on; empty means every origin.
    pub origins: Vec<crate::resource::OriginKind>,
    pub frameworks: Frameworks,
    pub related: Vec<metadata::RelatedResource>,
    /// The rule's file; for a conftest rule, the first file of its package that defines it.
    pub source: Source,
    pub builtin: bool,
    /// Which output contract the rule follows.
    pub contract: Contract,
}

/// How a rule is run and its output read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contract {
    /// posture's: the file's own module, `deny contains {"msg": ..., "path": [...]}`.
    Posture,
    /// conftest's: rule `rule` of a namespace package (whose files are all in
    /// [`Catalog::user_libraries`]), a set of strings or of objects with a `msg`.
    Conftest {
        rule: String,
        level: conftest::Level,
    },
}

impl Rule {
    /// Whether the rule runs on `resource`: one of its input type, of a kind it names, and from
    /// an origin it names when it names any.
    pub fn runs_on(&self, resource: &crate::resource::Resource) -> bool {
        self.input == resource.input
            && self.kinds.matches(&resource.id)
            && (self.origins.is_empty() || self.origins.contains(&resource.origin.kind()))
    }

    /// The query that yields the rule's findings.
    pub fn entry_point(&self) -> String {
        match &self.contract {
            Contract::Posture => format!("data.{}.deny", self.package),
            Contract::Conftest { rule, .. } => format!("data.{}.{rule}", self.package),
        }
    }

    /// What reporters read about the rule.
    pub fn info(&self) -> crate::policy::RuleInfo {
        crate::policy::RuleInfo {
            id: self.id.to_string(),
            slug: self.slug.clone(),
            group: self.group.clone(),
            title: self.title.to_string(),
            description: self.description.clone(),
            severity: self.severity,
            remediation: self.remediation.clone(),
            frameworks: self.frameworks.clone(),
            kinds: self.kinds.clone(),
            input: self.input,
            related: self.related.clone(),
        }
    }
}

/// Errors loading rules; each names the file and, where known, the line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
    #[error("{path}: {source}")]
    Metadata {
        path: String,
        #[source]
        source: metadata::MetadataError,
    },
    #[error("{path}:{line}: {message}")]
    Contract {
        path: String,
        line: u32,
        message: String,
    },
    #[error("{path}: {source}")]
    Kinds {
        path: String,
        #[source]
        source: kinds::UnknownGroup,
    },
    #[error("rule id {id} is used by both {first} and {second}; ids must be unique")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
}

impl PolicyError {
    /// The file the error is in, and its 1-based line when known.
    pub fn place(&self) -> (String, Option<u32>) {
        match self {
            PolicyError::Read { path, .. } => (path.display().to_string(), None),
            PolicyError::Metadata { path, source } => (
                path.clone(),
                Some(match source {
                    metadata::MetadataError::Missing { line }
                    | metadata::MetadataError::Invalid { line, .. } => *line,
                }),
            ),
            PolicyError::Contract { path, line, .. } => (path.clone(), Some(*line)),
            PolicyError::Kinds { path, .. } => (path.clone(), None),
            PolicyError::DuplicateId { second, .. } => (second.clone(), None),
        }
    }
}

/// All rules plus the shared library files they import.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub rules: Vec<Rule>,
    /// Built-in Rego helpers (`policies/lib/`).
    pub libraries: Vec<Source>,
    /// A user's helper files and the files of conftest namespaces, compiled with the user's
    /// rules only, so that a broken one cannot touch the built-in rules.
    pub user_libraries: Vec<Source>,
    /// User policy files that could not be loaded; the scan reports each as an error.
    pub rejected: Vec<PolicyError>,
}

/// Options for loading a user's policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPolicies {
    /// Directories or files of Rego (`--policy`).
    pub paths: Vec<PathBuf>,
    /// Packages run under conftest's contract (`--policy-namespace`; `main` by default).
    pub namespaces: Vec<String>,
}

impl Default for UserPolicies {
    fn default() -> Self {
        UserPolicies {
            paths: Vec::new(),
            namespaces: vec![conftest::DEFAULT_NAMESPACE.to_owned()],
        }
    }
}

impl Catalog {
    /// The rules shipped with posture (embedded in the binary).
    pub fn builtin() -> Result<Catalog, PolicyError> {
        let mut files = Vec::new();
        collect_embedded(&BUILTIN, &mut files);
        Catalog::from_builtin_sources(files)
    }

    /// The built-in layout (`lib/`, `rules/<group>/<slug>.rego`) read from a directory on disk;
    /// tests use it so that editing a rule needs no rebuild.
    pub fn builtin_from_dir(root: &Path) -> Result<Catalog, PolicyError> {
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if entry.file_type().is_file() && path.extension().is_some_and(|e| e == "rego") {
                let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
                    path: path.to_path_buf(),
                    source: std::sync::Arc::new(source),
                })?;
                let rel = path.strip_prefix(root).unwrap_or(path);
                files.push(Source {
                    path: rel.to_string_lossy().replace('\\', "/"),
                    text,
                });
            }
        }
        Catalog::from_builtin_sources(files)
    }

    fn from_builtin_sources(mut files: Vec<Source>) -> Result<Catalog, PolicyError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut catalog = Catalog::default();
        for source in files {
            if source.path.starts_with("lib/") {
                catalog.libraries.push(source);
            } else if let Some(rest) = source.path.strip_prefix("rules/") {
                let group = rest.split('/').next().unwrap_or_default().to_owned();
                let rule = parse_rule(source, &group, true)?;
                catalog.rules.push(rule);
            }
        }
        catalog.check_unique()?;
        Ok(catalog)
    }

    /// Adds a user's rules from `dir` with the default conftest namespace; the first file that
    /// cannot be loaded is an error (for tools that list rules, where a report cannot carry it).
    pub fn add_user_dir(&mut self, dir: &Path) -> Result<(), PolicyError> {
        let before = self.rejected.len();
        self.add_user(&UserPolicies {
            paths: vec![dir.to_path_buf()],
            ..UserPolicies::default()
        });
        match self.rejected.drain(before..).next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Adds a user's policies: every `*.rego` below each path. Files that cannot be loaded go
    /// to [`Catalog::rejected`]; the others still load.
    pub fn add_user(&mut self, policies: &UserPolicies) {
        let mut files: Vec<Source> = Vec::new();
        for dir in &policies.paths {
            if !dir.exists() {
                self.rejected.push(PolicyError::Read {
                    path: dir.to_path_buf(),
                    source: std::sync::Arc::new(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or directory",
                    )),
                });
                continue;
            }
            let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| {
                    e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rego")
                })
                .map(|e| e.into_path())
                .collect();
            if dir.is_file() && !paths.contains(dir) {
                paths.push(dir.to_path_buf());
            }
            for path in paths {
                match std::fs::read_to_string(&path) {
                    Ok(text) => files.push(Source {
                        path: path.display().to_string(),
                        text,
                    }),
                    Err(source) => self.rejected.push(PolicyError::Read {
                        path,
                        source: std::sync::Arc::new(source),
                    }),
                }
            }
        }
        for source in files {
            self.add_user_file(source, &policies.namespaces);
        }
        self.drop_duplicate_user_ids();
    }

    /// Sorts one user file into a conftest namespace, a posture rule, or a helper library.
    fn add_user_file(&mut self, source: Source, namespaces: &[String]) {
        let package = package_of(&source.text);
        let heads = conftest::rule_heads(&source.text);
        match package {
            Some((_, package)) if namespaces.contains(&package) => {
                for (name, line) in heads {
                    let known = self.rules.iter().any(|r| {
                        r.package == package
                            && matches!(&r.contract, Contract::Conftest { rule, .. } if *rule == name)
                    });
                    if !known {
                        self.rules
                            .push(conftest::rule(&package, &name, line, &source));
                    }
                }
                self.user_libraries.push(source);
            }
            _ if source.text.contains("# METADATA") => match parse_rule(source, "custom", false) {
                Ok(rule) => self.rules.push(rule),
                Err(e) => self.rejected.push(e),
            },
            Some((line, package)) if !heads.is_empty() => {
                let names: Vec<&str> = heads.iter().map(|(n, _)| n.as_str()).collect();
                let first = heads.first().map_or(line, |(_, l)| *l);
                self.rejected.push(PolicyError::Contract {
                    path: source.path.clone(),
                    line: first,
                    message: format!(
                        "package `{package}` defines `{}`, but posture runs such rules only in a \
                         conftest namespace ({}; add `--policy-namespace {package}`) or in a \
                         file with a `# METADATA` block (posture's contract)",
                        names.join("`, `"),
                        namespaces
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            _ => self.user_libraries.push(source),
        }
    }

    /// A user rule whose id another rule already has is rejected; the built-in one stays.
    fn drop_duplicate_user_ids(&mut self) {
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut kept = Vec::with_capacity(self.rules.len());
        for rule in std::mem::take(&mut self.rules) {
            match seen.get(rule.id.as_str()) {
                Some(first) if !rule.builtin => self.rejected.push(PolicyError::DuplicateId {
                    id: rule.id.to_string(),
                    first: first.clone(),
                    second: rule.source.path.clone(),
                }),
                _ => {
                    seen.insert(rule.id.to_string(), rule.source.path.clone());
                    kept.push(rule);
                }
            }
        }
        self.rules = kept;
    }

    /// The catalog, or the first user file that did not load: for commands that list or
    /// collect for the rules, where no report carries a problem.
    pub fn strict(mut self) -> Result<Catalog, PolicyError> {
        if self.rejected.is_empty() {
            Ok(self)
        } else {
            Err(self.rejected.swap_remove(0))
        }
    }

    fn check_unique(&self) -> Result<(), PolicyError> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for r in &self.rules {
            if let Some(first) = seen.insert(&r.id, &r.source.path) {
                return Err(PolicyError::DuplicateId {
                    id: r.id.to_string(),
                    first: first.to_owned(),
                    second: r.source.path.clone(),
                });
            }
        }
        Ok(())
    }

    pub fn find(&self, id_or_slug: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id_or_slug) || r.slug == id_or_slug)
    }
}

fn collect_embedded(dir: &Dir<'static>, out: &mut Vec<Source>) {
    for file in dir.files() {
        if file.path().extension().is_some_and(|e| e == "rego") {
            out.push(Source {
                path: file.path().to_string_lossy().replace('\\', "/"),
                text: file.contents_utf8().unwrap_or_default().to_owned(),
            });
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn package_of(text: &str) -> Option<(u32, String)> {
    text.lines().enumerate().find_map(|(i, l)| {
        l.trim()
            .strip_prefix("package ")
            .map(|p| (i as u32 + 1, p.trim().to_owned()))
    })
}

fn parse_rule(source: Source, group: &str, builtin: bool) -> Result<Rule, PolicyError> {
    let meta = metadata::parse(&source.text).map_err(|e| PolicyError::Metadata {
        path: source.path.clone(),
        source: e,
    })?;
    let contract = |line: u32, message: String| PolicyError::Contract {
        path: source.path.clone(),
        line,
        message,
    };
    let (line, package) = package_of(&source.text)
        .ok_or_else(|| contract(1, "no `package` declaration".to_owned()))?;
    let stem = Path::new(&source.path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let slug = if builtin {
        let expected = format!("posture.rules.{group}.{stem}");
        if package != expected {
            return Err(contract(
                line,
                format!("package is `{package}`, but a rule in rules/{group}/{stem}.rego must be `{expected}`"),
            ));
        }
        stem
    } else {
        package.rsplit('.').next().unwrap_or(&package).to_owned()
    };
    if !source.text.contains("deny contains") {
        return Err(contract(
            line,
            "the rule has no `deny contains {\"msg\": ..., \"path\": [...]}` output".to_owned(),
        ));
    }
    let kinds = KindSelector::parse(&meta.custom.kinds).map_err(|e| PolicyError::Kinds {
        path: source.path.clone(),
        source: e,
    })?;
    Ok(Rule {
        id: meta.custom.id.into(),
        slug,
        group: group.to_owned(),
        package,
        title: meta.title.into(),
        description: meta.description.trim().to_owned(),
        severity: meta.custom.severity,
        remediation: meta.custom.remediation.trim().to_owned(),
        input: meta.custom.input,
        kinds,
        origins: meta.custom.origins,
        frameworks: meta.custom.frameworks,
        related: meta.related_resources,
        source,
        builtin,
        contract: Contract::Posture,
    })
}
