//! The rule catalog: loading Rego rule files, parsing their METADATA, validating the contract.
//!
//! Built-in rules are embedded in the binary; `--policy DIR` adds a user's rules under the same
//! contract. Nothing here evaluates a rule (that is `engine`).

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
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
}

/// One rule of the catalog.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    /// File stem, e.g. `privileged_container`.
    pub slug: String,
    /// Folder under `policies/rules/` (built-in rules) or `custom` (user rules).
    pub group: String,
    /// Rego package, e.g. `posture.rules.pod_security.privileged_container`.
    pub package: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub remediation: String,
    /// The input type whose resources the rule reads.
    pub input: crate::resource::InputType,
    pub kinds: KindSelector,
    pub frameworks: Frameworks,
    pub related: Vec<metadata::RelatedResource>,
    pub source: Source,
    pub builtin: bool,
}

impl Rule {
    /// The query that yields the rule's findings.
    pub fn entry_point(&self) -> String {
        format!("data.{}.deny", self.package)
    }

    /// What reporters read about the rule.
    pub fn info(&self) -> crate::policy::RuleInfo {
        crate::policy::RuleInfo {
            id: self.id.clone(),
            slug: self.slug.clone(),
            group: self.group.clone(),
            title: self.title.clone(),
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
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
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

/// All rules plus the shared library files they import.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub rules: Vec<Rule>,
    pub libraries: Vec<Source>,
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
                    source,
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

    /// Adds a user's rules from `dir` (every `*.rego` below it; files without METADATA are
    /// treated as helper libraries).
    pub fn add_user_dir(&mut self, dir: &Path) -> Result<(), PolicyError> {
        let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rego")
            })
            .map(|e| e.into_path())
            .collect();
        if dir.is_file() {
            paths.push(dir.to_path_buf());
        }
        if !dir.exists() {
            return Err(PolicyError::Read {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| PolicyError::Read {
                path: path.clone(),
                source,
            })?;
            let source = Source {
                path: path.display().to_string(),
                text,
            };
            if !source.text.contains("# METADATA") {
                self.libraries.push(source);
                continue;
            }
            let rule = parse_rule(source, "custom", false)?;
            self.rules.push(rule);
        }
        self.check_unique()
    }

    fn check_unique(&self) -> Result<(), PolicyError> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for r in &self.rules {
            if let Some(first) = seen.insert(&r.id, &r.source.path) {
                return Err(PolicyError::DuplicateId {
                    id: r.id.clone(),
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
        id: meta.custom.id,
        slug,
        group: group.to_owned(),
        package,
        title: meta.title,
        description: meta.description.trim().to_owned(),
        severity: meta.custom.severity,
        remediation: meta.custom.remediation.trim().to_owned(),
        input: meta.custom.input,
        kinds,
        frameworks: meta.custom.frameworks,
        related: meta.related_resources,
        source,
        builtin,
    })
}
