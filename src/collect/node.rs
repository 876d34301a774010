//! `posture node-collect` and `--node-facts`: on one node, the mode and owner of every file a
//! built-in benchmark's file checks name (candidate paths per distribution, as kube-bench lists
//! them, read from the benchmarks themselves) and the command lines of the Kubernetes processes.
//! Reads metadata only: no file's content is opened, so keys and kubeconfigs are never read.
//! [`read_facts`] reads what it wrote back in for a scan.
//!
//! Everything is read under `root` (the host filesystem mounted into a pod, e.g. `/host`), and
//! symbolic links are resolved under it too, so an absolute link on the host does not escape
//! into the collector's own filesystem.

use crate::benchmark::{node_role, Component as BenchmarkComponent, FileKind, Registry};
use crate::problem::{Code, Level, Problem};
use crate::resource::{CommandLine, Position};
use crate::snapshot::{FactsFile, FileFact, NodeFacts, ProcessFact, NODE_FACTS_SCHEMA_VERSION};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Where to look.
#[derive(Debug, Clone)]
pub struct NodeCollectOptions {
    /// The host's root filesystem (`/` on the node itself).
    pub root: PathBuf,
    /// The process table to read: `/proc` in a pod with `hostPID: true`.
    pub proc_dir: PathBuf,
    /// The node's name; `None` reads the host's /etc/hostname.
    pub node_name: Option<String>,
}

/// A file (or directory) node-collect looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The node-facts role it is filed under (`kubelet/config`), see [`node_role`].
    pub role: String,
    /// Absolute path on the host.
    pub path: String,
    /// What kind of file the benchmark says it is.
    pub kind: FileKind,
}

/// What node-collect looks for: every path a file check of a built-in benchmark names, so the
/// benchmarks and the collector cannot drift apart. Directories of PKI files and CNI
/// configuration also stand for every entry under them.
pub fn candidates() -> Vec<Candidate> {
    Registry::builtin()
        .file_paths()
        .into_iter()
        .map(|(component, kind, path)| Candidate {
            role: node_role(component, kind),
            path,
            kind,
        })
        .collect()
}

/// Program names of the components, as `argv[0]`'s file name or after `hyperkube`.
const COMPONENTS: &[&str] = &[
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "kubelet",
    "kube-proxy",
];

/// Flags whose value names a file whose mode and owner the benchmark checks; the file is added
/// under the role given, so a kubelet started with a non-standard `--config` is still checked.
const FILE_FLAGS: &[(&str, &str, &str)] = &[
    ("kubelet", "--config", "kubelet/config"),
    ("kubelet", "--kubeconfig", "kubelet/kubeconfig"),
    ("kubelet", "--client-ca-file", "kubelet/client-ca"),
    ("kube-proxy", "--kubeconfig", "kube-proxy/kubeconfig"),
    (
        "kube-scheduler",
        "--kubeconfig",
        "kube-scheduler/kubeconfig",
    ),
    (
        "kube-controller-manager",
        "--kubeconfig",
        "kube-controller-manager/kubeconfig",
    ),
    ("etcd", "--data-dir", "etcd/data-dir"),
];

/// Reads `--node-facts`: files written by `posture node-collect`, or directories of them
/// (`*.json`). A file may hold several nodes' facts one after another (`kubectl logs` of every
/// collector pod into one file). A file that is not node facts is a problem; the others are read.
pub fn read_facts(paths: &[PathBuf], max_input_bytes: u64) -> (Vec<FactsFile>, Vec<Problem>) {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                found.push(path.join("*.json"));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut facts = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let problem = |message: String| {
            Problem::new(Level::Error, Code::ReadError, message).in_file(file.clone(), None)
        };
        let text = match super::input::read_text(&file, max_input_bytes) {
            Ok(text) => text,
            Err(e) => {
                problems.push(problem(format!("cannot read node facts: {e}")));
                continue;
            }
        };
        for document in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
            let parsed = document
                .map_err(|e| (e.line(), e.column(), e.to_string()))
                .and_then(|value| {
                    if value["kind"] != "NodeFacts" {
                        return Err((
                            0,
                            0,
                            "not node facts (no `\"kind\": \"NodeFacts\"`); \
                                   write them with `posture node-collect`"
                                .to_owned(),
                        ));
                    }
                    let major = value["schema_version"].as_str().unwrap_or_default();
                    if major.split('.').next() != NODE_FACTS_SCHEMA_VERSION.split('.').next() {
                        return Err((
                            0,
                            0,
                            format!(
                                "node facts schema {major} is not supported (this posture reads \
                             {NODE_FACTS_SCHEMA_VERSION}); collect them again with this version"
                            ),
                        ));
                    }
                    serde_json::from_value::<NodeFacts>(value).map_err(|e| (0, 0, e.to_string()))
                });
            match parsed {
                Ok(node) => facts.push(FactsFile {
                    path: (&file).into(),
                    facts: node,
                }),
                Err((line, column, message)) => {
                    let position = (line > 0).then_some(Position {
                        line: line as u32,
                        column: column as u32,
                    });
                    problems.push(
                        Problem::new(Level::Error, Code::ParseError, message)
                            .in_file(file.clone(), position),
                    );
                    break;
                }
            }
        }
    }
    (facts, problems)
}

pub fn collect(options: &NodeCollectOptions) -> NodeFacts {
    let root = &options.root;
    let mut not_collected = Vec::new();
    let processes = processes(&options.proc_dir, &mut not_collected);
    let users = id_names(&under(root, "/etc/passwd"));
    let groups = id_names(&under(root, "/etc/group"));

    let candidates = candidates();
    let mut wanted: Vec<(String, String)> = Vec::new();
    for c in &candidates {
        wanted.push((c.role.clone(), c.path.clone()));
        if matches!(c.kind, FileKind::PkiDir | FileKind::Cni) {
            wanted.extend(entries_under(root, &c.path, c.kind, &c.role));
        }
    }
    for p in &processes {
        for (component, flag, role) in FILE_FLAGS {
            if p.component == *component {
                if let Some(value) = CommandLine::parse(&p.args).value(flag) {
                    wanted.push((role.to_string(), value.to_owned()));
                }
            }
        }
    }

    let mut files = Vec::new();
    for (role, path) in &wanted {
        match stat(root, path) {
            Ok(Some((meta, link_target))) => files.push(FileFact {
                role: role.clone(),
                path: path.clone(),
                file_type: if meta.is_dir() { "directory" } else { "file" }.to_owned(),
                mode: format!("{:o}", meta.mode() & 0o7777),
                uid: meta.uid(),
                gid: meta.gid(),
                owner: users.get(&meta.uid()).cloned(),
                group: groups.get(&meta.gid()).cloned(),
                link_target,
            }),
            Ok(None) => {}
            Err(e) => not_collected.push(format!("{path}: {e}")),
        }
    }
    files.sort();
    files.dedup();
    let mut absent: Vec<String> = Vec::new();
    for c in &candidates {
        if !absent.contains(&c.role) && !files.iter().any(|f| f.role == c.role) {
            absent.push(c.role.clone());
        }
    }
    let node = options
        .node_name
        .clone()
        .or_else(|| {
            std::fs::read_to_string(under(root, "/etc/hostname"))
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    NodeFacts {
        schema_version: NODE_FACTS_SCHEMA_VERSION.to_owned(),
        kind: "NodeFacts".to_owned(),
        node,
        collected_at: jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string(),
        files,
        absent,
        processes,
        not_collected,
    }
}

/// `path` (absolute on the host) under `root`.
fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

/// The entries under the host directory `dir` (at most a few levels deep), each with its role:
/// a PKI directory's certificates and keys get their own roles, so a scan can tell them apart.
fn entries_under(root: &Path, dir: &str, kind: FileKind, role: &str) -> Vec<(String, String)> {
    let base = under(root, dir);
    walkdir::WalkDir::new(&base)
        .min_depth(1)
        .max_depth(4)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let relative = e.path().strip_prefix(&base).ok()?.to_str()?.to_owned();
            let path = format!("{}/{relative}", dir.trim_end_matches('/'));
            let role = match kind {
                FileKind::PkiDir if path.ends_with(".crt") => {
                    node_role(BenchmarkComponent::Pki, FileKind::PkiCert)
                }
                FileKind::PkiDir if path.ends_with(".key") => {
                    node_role(BenchmarkComponent::Pki, FileKind::PkiKey)
                }
                _ => role.to_owned(),
            };
            Some((role, path))
        })
        .collect()
}

/// Metadata of the host path `path`, following symbolic links inside `root`; `None` when it
/// does not exist.
fn stat(root: &Path, path: &str) -> std::io::Result<Option<(std::fs::Metadata, Option<String>)>> {
    let mut current = path.to_owned();
    let mut link_target = None;
    for _ in 0..16 {
        let meta = match std::fs::symlink_metadata(under(root, &current)) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if !meta.file_type().is_symlink() {
            return Ok(Some((meta, link_target)));
        }
        let target = std::fs::read_link(under(root, &current))?;
        let base = Path::new(&current).parent().unwrap_or(Path::new("/"));
        current = normalize(&base.join(target));
        link_target = Some(current.clone());
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Resolves `.` and `..` lexically, so a link cannot climb above the host's `/`.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

/// uid or gid → name from a passwd or group file.
fn id_names(file: &Path) -> BTreeMap<u32, String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut fields = l.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse().ok()?;
            Some((id, name.to_owned()))
        })
        .collect()
}

fn processes(proc_dir: &Path, not_collected: &mut Vec<String>) -> Vec<ProcessFact> {
    let entries = match std::fs::read_dir(proc_dir) {
        Ok(e) => e,
        Err(e) => {
            not_collected.push(format!("processes ({}): {e}", proc_dir.display()));
            return vec![];
        }
    };
    let mut found: Vec<ProcessFact> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let raw = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<String> = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let component = component_of(&args)?;
            Some(ProcessFact {
                component,
                pid,
                args,
            })
        })
        .collect();
    found.sort();
    found
}

/// The component a command line runs: `argv[0]`'s file name, or `hyperkube <component>`.
fn component_of(args: &[String]) -> Option<String> {
    let program = Path::new(args.first()?).file_name()?.to_str()?;
    let name = if program == "hyperkube" {
        args.get(1)?.as_str()
    } else {
        program
    };
    let name = match name {
        "apiserver" => "kube-apiserver",
        "controller-manager" => "kube-controller-manager",
        "scheduler" => "kube-scheduler",
        "proxy" => "kube-proxy",
        other => other,
    };
    COMPONENTS.contains(&name).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn components_by_program_name() {
        assert_eq!(
            component_of(&args("/usr/local/bin/kube-apiserver --x")).as_deref(),
            Some("kube-apiserver")
        );
        assert_eq!(
            component_of(&args("hyperkube proxy --x")).as_deref(),
            Some("kube-proxy")
        );
        assert_eq!(component_of(&args("/bin/bash -c kubelet")), None);
        assert_eq!(component_of(&args("etcdctl get")), None);
    }

    #[test]
    fn links_resolve_inside_the_root() {
        assert_eq!(normalize(Path::new("/etc/kubernetes/../../../../x")), "/x");
        assert_eq!(normalize(Path::new("/a/./b")), "/a/b");
    }
}
