//! Problems: anything that kept part of the input from being scanned, or that the user should
//! know about. Every reporter shows them; none aborts a scan.

use crate::resource::{Position, SourcePath};
use serde::Serialize;
use std::fmt;

/// How bad a problem is. Only errors change the exit code (to 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

/// Stable machine-readable codes, one per kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// A file could not be read.
    ReadError,
    /// A document is not valid YAML or JSON.
    ParseError,
    /// A mapping repeats a key; the last value is used.
    DuplicateKey,
    /// A document was skipped because it is not a Kubernetes object.
    NotAnObject,
    /// A path named on the command line matched no manifest file.
    NoInput,
    /// The inputs held no object at all, so nothing was scanned.
    NothingScanned,
    /// A user policy failed to load.
    PolicyError,
    /// A rule failed while evaluating an object.
    EvalError,
    /// Part of a cluster could not be collected (a forbidden type, a timeout, a kubelet that
    /// cannot be reached).
    NotCollected,
    /// A config file (`.posture.yaml`) or one of its exceptions is invalid.
    ConfigError,
    /// An exception annotation on an object is invalid, so it does not apply.
    InvalidException,
    /// An exception's expiry date has passed; its findings count again.
    ExceptionExpired,
    /// An exception matched no finding.
    ExceptionUnused,
    /// A chart or kustomization could not be rendered because its tool (helm, kubectl or
    /// kustomize) was not found.
    ToolMissing,
    /// helm or kustomize failed on a chart or kustomization (the message holds its error).
    RenderError,
    /// helm or kustomize rendered a chart or kustomization but wrote warnings.
    RenderWarning,
    /// Values of a Compose file use `${VAR}` interpolation; they are scanned as written.
    Interpolation,
    /// A workload field has the wrong shape (`spec` a list, `containers` not a list), so no
    /// container rule could look inside it.
    WrongShape,
    /// The detected platform and what the cluster shows disagree (AKS detected, yet the
    /// control-plane pods are visible), so the benchmark is judged from what is seen.
    PlatformMismatch,
    /// `--cis-level` left out recommendations whose CIS profile level no source states.
    BenchmarkLevel,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ReadError => "read-error",
            Code::ParseError => "parse-error",
            Code::DuplicateKey => "duplicate-key",
            Code::NotAnObject => "not-an-object",
            Code::NoInput => "no-input",
            Code::NothingScanned => "nothing-scanned",
            Code::PolicyError => "policy-error",
            Code::EvalError => "eval-error",
            Code::NotCollected => "not-collected",
            Code::ConfigError => "config-error",
            Code::InvalidException => "invalid-exception",
            Code::ExceptionExpired => "exception-expired",
            Code::ExceptionUnused => "exception-unused",
            Code::ToolMissing => "tool-missing",
            Code::RenderError => "render-error",
            Code::RenderWarning => "render-warning",
            Code::Interpolation => "interpolation",
            Code::WrongShape => "wrong-shape",
            Code::PlatformMismatch => "platform-mismatch",
            Code::BenchmarkLevel => "benchmark-level",
        }
    }
}

/// One problem, with where it happened when that is known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub level: Level,
    pub code: Code,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<SourcePath>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    pub message: String,
}

impl Problem {
    pub fn new(level: Level, code: Code, message: impl Into<String>) -> Self {
        Problem {
            level,
            code,
            file: None,
            position: None,
            message: message.into(),
        }
    }

    pub fn in_file(mut self, file: impl Into<SourcePath>, position: Option<Position>) -> Self {
        self.file = Some(file.into());
        self.position = position;
        self
    }

    /// `file:line:column` (or the file alone), when the problem has a file.
    pub fn place(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match self.position {
            Some(p) => format!("{file}:{}:{}", p.line, p.column),
            None => file.to_string(),
        })
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Problem {
    /// `file:line:column: level[code]: message`, the form editors and CI logs link.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(place) = self.place() {
            write!(f, "{place}: ")?;
        }
        let level = match self.level {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        write!(f, "{level}[{}]: {}", self.code.as_str(), self.message)
    }
}

/// An error and its causes as one line, `outer: cause: root`. Some libraries (kube, hyper)
/// repeat their cause inside their own message, so a part already said is left out.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
