//! The built-in benchmarks: every `benchmarks/*.yaml`, embedded in the binary. A benchmark is
//! registered by dropping its file there: its name is the file stem (the `benchmark:` key must
//! agree), and its `platforms:` and `fallback:` keys say where `--benchmark auto` applies it.

use super::catalog::{Benchmark, BenchmarkError, Component, FileKind, Judgement, Violation};
use crate::snapshot::PlatformKind;
use include_dir::{include_dir, Dir};
use std::sync::OnceLock;

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/benchmarks");

/// A set of benchmarks whose names and platform claims agree with each other.
#[derive(Debug, Clone)]
pub struct Registry {
    benchmarks: Vec<Benchmark>,
}

impl Registry {
    /// The embedded `benchmarks/*.yaml`, loaded once.
    pub fn builtin() -> &'static Registry {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut files: Vec<(String, &str)> = EMBEDDED
                .files()
                .filter(|f| f.path().extension().is_some_and(|e| e == "yaml"))
                .map(|f| {
                    let path = format!("benchmarks/{}", f.path().to_string_lossy());
                    (path, f.contents_utf8().unwrap_or_default())
                })
                .collect();
            files.sort();
            let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
            Registry::load(&files).unwrap_or_else(|e| {
                panic!(
                    "invariant: the embedded benchmarks/*.yaml load (tests/benchmark.rs loads \
                     them all): {e}"
                )
            })
        })
    }

    /// Loads benchmark files given as (display path, text), in that order. Each file's
    /// `benchmark:` must be its file stem; no platform may be claimed twice; exactly one
    /// benchmark is the fallback.
    pub fn load(files: &[(&str, &str)]) -> Result<Registry, BenchmarkError> {
        let mut benchmarks: Vec<Benchmark> = Vec::with_capacity(files.len());
        for (path, text) in files {
            let benchmark = Benchmark::parse(path, text)?;
            let stem = std::path::Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut violations = Vec::new();
            if benchmark.benchmark != stem {
                violations.push(format!(
                    "names itself '{}', expected '{stem}' (the file stem)",
                    benchmark.benchmark
                ));
            }
            for platform in &benchmark.platforms {
                if let Some(other) = benchmarks.iter().find(|b| b.platforms.contains(platform)) {
                    violations.push(format!(
                        "platform {} is already claimed by {}",
                        platform.as_str(),
                        other.benchmark
                    ));
                }
            }
            if benchmark.fallback {
                if let Some(other) = benchmarks.iter().find(|b| b.fallback) {
                    violations.push(format!("{} is already the fallback", other.benchmark));
                }
            }
            if !violations.is_empty() {
                return Err(invalid(path, violations));
            }
            benchmarks.push(benchmark);
        }
        if !benchmarks.iter().any(|b| b.fallback) {
            return Err(invalid(
                "benchmarks/",
                vec!["no benchmark is the fallback (`fallback: true`)".to_owned()],
            ));
        }
        Ok(Registry { benchmarks })
    }

    /// Every benchmark, in file order.
    pub fn benchmarks(&self) -> &[Benchmark] {
        &self.benchmarks
    }

    /// The names, in file order.
    pub fn names(&self) -> Vec<&str> {
        self.benchmarks
            .iter()
            .map(|b| b.benchmark.as_str())
            .collect()
    }

    pub fn get(&self, name: &str) -> Result<&Benchmark, BenchmarkError> {
        self.benchmarks
            .iter()
            .find(|b| b.benchmark == name)
            .ok_or_else(|| BenchmarkError::Unknown {
                name: name.to_owned(),
                known: self.names().into_iter().map(str::to_owned).collect(),
            })
    }

    /// The benchmark `--benchmark auto` applies where no benchmark claims the platform, and to
    /// manifests.
    pub fn fallback(&self) -> &Benchmark {
        // `load` refuses a registry without a fallback; the first benchmark keeps this total.
        self.benchmarks
            .iter()
            .find(|b| b.fallback)
            .unwrap_or(&self.benchmarks[0])
    }

    /// The benchmark that claims `platform`, or the fallback.
    pub fn for_platform(&self, platform: PlatformKind) -> &Benchmark {
        self.benchmarks
            .iter()
            .find(|b| b.platforms.contains(&platform))
            .unwrap_or_else(|| self.fallback())
    }

    /// Every file path the benchmarks' file checks name, with the component and kind of file
    /// it is, once each, in benchmark and check order. Paths are as written, without a trailing
    /// `/`. Patterns (`/etc/kubernetes/pki/*.crt`) are left out: they select files collected
    /// through their directory.
    pub fn file_paths(&self) -> Vec<(Component, FileKind, String)> {
        let mut out: Vec<(Component, FileKind, String)> = Vec::new();
        for b in &self.benchmarks {
            for check in &b.checks {
                if let Judgement::Files {
                    component, spec, ..
                } = &check.judgement
                {
                    for path in spec.paths.iter().filter(|p| !p.contains('*')) {
                        let path = match path.trim_end_matches('/') {
                            "" => "/",
                            trimmed => trimmed,
                        };
                        let entry = (*component, spec.kind, path.to_owned());
                        if !out.contains(&entry) {
                            out.push(entry);
                        }
                    }
                }
            }
        }
        out
    }
}

fn invalid(file: &str, messages: Vec<String>) -> BenchmarkError {
    BenchmarkError::Invalid {
        file: file.to_owned(),
        violations: messages
            .into_iter()
            .map(|message| Violation {
                check: None,
                message,
            })
            .collect(),
    }
}
