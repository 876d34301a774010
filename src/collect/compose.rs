//! Compose files (the Compose Specification, <https://compose-spec.io>): each service becomes
//! one [`Resource`] of input type `compose`, with the position of every field in the file.
//!
//! Reading and shaping only; what is risky in a service is the business of the rules under
//! `policies/rules/compose/`. Values are taken as written: `${VAR}` interpolation is not
//! resolved, because the environment of the eventual `docker compose up` is unknown here, and a
//! note says when values depend on it. YAML anchors and merge keys (`<<: *defaults`) are
//! expanded by the YAML parser.
//!
//! As `docker compose` does, a base file (`compose.yaml`, `docker-compose.yml`, ...) is read
//! with the override file beside it (`compose.override.yaml`, ...) merged onto it, a service's
//! `extends` is resolved (in the same file or a `file:` within the scanned tree) and the files
//! a top-level `include` names are read as part of the project, all by the merge rules of the
//! Compose Specification (<https://docs.docker.com/reference/compose-file/merge/>). A value
//! keeps the file and line that wrote it, so a finding on a value an override sets points
//! into the override file.

use super::spanned::{Node, Shape};
use super::yaml::Document;
use super::Collected;
use crate::problem::{Code, Level, Problem};
use crate::resource::{
    FieldPath, InputType, ObjectRef, Origin, Position, Resource, Segment, SourcePath,
};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `apiVersion` of a compose service: not a Kubernetes group, so no Kubernetes-only
/// logic (the inventory, `kinds` groups) ever takes a service for a Kubernetes object.
pub const API_VERSION: &str = "compose-spec.io/v1";
/// The kind of every compose resource.
pub const KIND: &str = "Service";
/// The key under which a service's object carries what rules need besides the service mapping:
/// the service's and project's names and the file's top-level `volumes`, `secrets`, `configs`
/// and `networks`. An `x-` key, which the Compose Specification reserves for extensions, so it
/// never shadows a service field.
pub const CONTEXT_KEY: &str = "x-posture";

/// The names `docker compose` looks for, and the override files it merges over them.
const FILE_NAMES: [&str; 8] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// Whether `path` has a name `docker compose` reads by default, so a directory walk takes it
/// for a compose file whatever it holds.
pub fn is_compose_file_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// Whether a file named on the command line under another name holds a compose file: one
/// document whose top level has a `services` mapping and neither `apiVersion` nor `kind`.
pub fn is_compose_document(documents: &[Document]) -> bool {
    let [doc] = documents else {
        return false;
    };
    let Ok(Some(decoded)) = &doc.content else {
        return false;
    };
    let v = &decoded.value;
    v.get("services").is_some_and(Value::is_object)
        && v.get("apiVersion").is_none()
        && v.get("kind").is_none()
}

/// Turns the documents of the compose file at `path` into one resource per service, with the
/// override file beside it merged on, `extends` resolved and `include`d files read.
pub fn decode(path: &Path, documents: Vec<Document>) -> Collected {
    if let Some(base) = base_of_override(path) {
        // Its values reach the scan through the base file, at their lines in this one.
        return Collected {
            resources: Vec::new(),
            problems: vec![Problem::new(
                Level::Note,
                Code::NotAnObject,
                format!(
                    "merged onto {}, as `docker compose` does: its findings are reported \
                     when that file is scanned, at their lines in this file",
                    base.display()
                ),
            )
            .in_file(path, Some(Position { line: 1, column: 1 }))],
        };
    }
    decode_project(path, documents, None, 0)
}

/// How many `include`s and `extends` deep a project may go; deeper is taken for a cycle.
const MAX_DEPTH: usize = 10;

/// [`decode`] for the file at `path`, or for a file a project includes (`project` is then the
/// including project's name, `depth` how many includes deep it is).
fn decode_project(
    path: &Path,
    documents: Vec<Document>,
    project: Option<&str>,
    depth: usize,
) -> Collected {
    let mut out = Collected::default();
    if documents.is_empty() {
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::NotAnObject,
                "skipped: the compose file holds no YAML document, only comments or whitespace",
            )
            .in_file(path, Some(Position { line: 1, column: 1 })),
        );
    }
    let mut interpolated = None;
    for doc in documents {
        let decoded = match doc.content {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err(e) => {
                out.problems.push(
                    Problem::new(Level::Error, Code::ParseError, e.message)
                        .in_file(path, Some(e.position)),
                );
                continue;
            }
        };
        for w in decoded.warnings {
            out.problems.push(
                Problem::new(Level::Warning, Code::DuplicateKey, w.message)
                    .in_file(path, Some(w.position)),
            );
        }
        if interpolated.is_none() {
            interpolated = first_interpolation(&decoded.value, &mut Vec::new())
                .map(|p| (FieldPath(p.clone()), decoded.spans.locate(&FieldPath(p))));
        }
        let mut project_files = Files::new(path);
        let mut root = Node::from_value(decoded.value, &decoded.spans, 0);
        if doc.index == 0 {
            if let Some(over) = override_of(path) {
                if let Some(node) = project_files.read(&over, &mut out.problems) {
                    root = merge_top(root, node);
                }
            }
        }
        let context = Project {
            path,
            document: doc.index,
            name: project.map(str::to_owned),
            depth,
        };
        add_services(&context, root, project_files, &mut out);
    }
    if let Some((field, at)) = interpolated {
        // Once per file: every `${VAR}` would repeat the same advice.
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::Interpolation,
                format!(
                    "values depend on environment variables (`${{...}}`, first at {field}): \
                     they are scanned as written, since `docker compose` substitutes them \
                     only when it runs; `docker compose config` prints the file with them \
                     substituted"
                ),
            )
            .in_file(path, Some(at)),
        );
    }
    out
}

/// The file a project is read from, and what it is part of.
struct Project<'a> {
    path: &'a Path,
    document: usize,
    /// The including project's name, for a file read through `include`.
    name: Option<String>,
    depth: usize,
}

/// The files one service's values come from: index 0 is the file being decoded.
#[derive(Clone)]
struct Files {
    paths: Vec<PathBuf>,
    /// Where files may be read from: the decoded file's directory and the working directory
    /// (the scanned tree), so that `extends` and `include` do not reach elsewhere.
    roots: Vec<PathBuf>,
}

impl Files {
    fn new(path: &Path) -> Files {
        let roots = [
            path.parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        p
                    }
                })
                .and_then(|p| p.canonicalize().ok()),
            std::env::current_dir()
                .ok()
                .and_then(|d| d.canonicalize().ok()),
        ]
        .into_iter()
        .flatten()
        .collect();
        Files {
            paths: vec![path.to_path_buf()],
            roots,
        }
    }

    fn source_paths(&self) -> Vec<SourcePath> {
        self.paths.iter().map(SourcePath::new).collect()
    }

    fn within_tree(&self, path: &Path) -> bool {
        path.canonicalize()
            .is_ok_and(|p| self.roots.iter().any(|r| p.starts_with(r)))
    }

    /// The first document of the compose file at `path`, its nodes marked as coming from it.
    fn read(&mut self, path: &Path, problems: &mut Vec<Problem>) -> Option<Node> {
        let text = match super::input::read_text(path, super::input::DEFAULT_MAX_INPUT_BYTES) {
            Ok(t) => t,
            Err(e) => {
                problems.push(
                    Problem::new(Level::Error, Code::ReadError, e.to_string()).in_file(path, None),
                );
                return None;
            }
        };
        let doc = super::yaml::parse_stream(&text).into_iter().next()?;
        match doc.content {
            Ok(Some(d)) => {
                let index = self.paths.len();
                self.paths.push(path.to_path_buf());
                Some(Node::from_value(d.value, &d.spans, index))
            }
            Ok(None) => None,
            Err(e) => {
                problems.push(
                    Problem::new(Level::Error, Code::ParseError, e.message)
                        .in_file(path, Some(e.position)),
                );
                None
            }
        }
    }
}

/// `compose.override.yaml` → `compose.yaml` (or `.yml`), when that base file exists: the
/// override is read with it.
fn base_of_override(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let (stem, _) = name.split_once(".override.")?;
    if !FILE_NAMES.contains(&name) {
        return None;
    }
    ["yaml", "yml"]
        .iter()
        .map(|ext| path.with_file_name(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
}

/// The override file `docker compose` reads with the base file at `path`, if there is one.
fn override_of(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    if !FILE_NAMES.contains(&name) || name.contains(".override.") {
        return None;
    }
    let (stem, _) = name.rsplit_once('.')?;
    ["yaml", "yml"]
        .iter()
        .map(|ext| path.with_file_name(format!("{stem}.override.{ext}")))
        .find(|p| p.is_file())
}

fn problem_at(files: &Files, node: &Node, level: Level, code: Code, message: String) -> Problem {
    let file = files.paths.get(node.file).cloned().unwrap_or_default();
    Problem::new(level, code, message).in_file(file, Some(node.at))
}

fn add_services(project: &Project, root: Node, files: Files, out: &mut Collected) {
    let path = project.path;
    let Node {
        at,
        value: Shape::Map(entries),
        ..
    } = root
    else {
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::NotAnObject,
                "skipped: the compose file is not a mapping",
            )
            .in_file(path, Some(root.at)),
        );
        return;
    };
    let mut top = Node {
        at,
        file: 0,
        value: Shape::Map(entries),
    };
    if let Some(include) = top.take("include") {
        let name = project
            .name
            .clone()
            .unwrap_or_else(|| project_name(path, &top.to_value()));
        include_files(project, &name, include, &files, out);
    }
    let Some(Node {
        value: Shape::Map(services),
        ..
    }) = top.take("services")
    else {
        if project.depth == 0 || top.get("services").is_some() {
            out.problems.push(
                Problem::new(
                    Level::Note,
                    Code::NotAnObject,
                    "skipped: the compose file has no `services` mapping",
                )
                .in_file(path, Some(at)),
            );
        }
        return;
    };
    let top_value = top.to_value();
    let project_name = project
        .name
        .clone()
        .unwrap_or_else(|| self::project_name(path, &top_value));
    let mut shared = Map::new();
    shared.insert("project".to_owned(), Value::String(project_name.clone()));
    for key in ["volumes", "secrets", "configs", "networks"] {
        if let Some(v) = top_value.get(key) {
            shared.insert(key.to_owned(), v.clone());
        }
    }
    let siblings = services.clone();
    for (name, service) in services {
        if !matches!(service.value, Shape::Map(_)) {
            out.problems.push(
                Problem::new(
                    Level::Note,
                    Code::NotAnObject,
                    format!("skipped: service '{name}' is not a mapping"),
                )
                .in_file(path, Some(service.at)),
            );
            continue;
        }
        let mut service_files = files.clone();
        let mut service =
            resolve_extends(service, &siblings, &mut service_files, &mut out.problems, 0);
        let mut context = shared.clone();
        context.insert("service".to_owned(), Value::String(name.clone()));
        let at = service.at;
        service.set(CONTEXT_KEY, Node::leaf_tree(Value::Object(context), at, 0));
        let (object, spans, source_map) = service.finish(&service_files.source_paths());
        out.resources.push(Resource {
            input: InputType::Compose,
            id: Arc::new(ObjectRef {
                api_version: API_VERSION.to_owned(),
                kind: KIND.to_owned(),
                namespace: Some(project_name.clone()),
                name,
            }),
            origin: Arc::new(Origin::File {
                path: SourcePath::new(path),
                document: project.document,
                item: None,
                helm_source: None,
            }),
            object,
            packed: None,
            spans: Some(spans),
            source_map,
        });
    }
}

/// The services of the files a top-level `include` names (a path, a list of paths, or
/// entries with `path`), read as part of the project named `name`.
fn include_files(project: &Project, name: &str, include: Node, files: &Files, out: &mut Collected) {
    let items = match include.value {
        Shape::Seq(items) => items,
        _ => vec![include],
    };
    for item in items {
        let paths: Vec<Node> = match &item.value {
            Shape::Scalar(Value::String(_)) => vec![item.clone()],
            Shape::Map(_) => match item.get("path") {
                Some(Node {
                    value: Shape::Seq(paths),
                    ..
                }) => paths.clone(),
                Some(p) => vec![p.clone()],
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        for p in paths {
            let Some(rel) = p.as_str() else { continue };
            let target = project.path.parent().unwrap_or(Path::new(".")).join(rel);
            if interpolates(rel) || !files.within_tree(&target) || project.depth >= MAX_DEPTH {
                let why = if project.depth >= MAX_DEPTH {
                    "includes nest too deep (a cycle?)"
                } else {
                    "it is not a file within the scanned tree"
                };
                out.problems.push(problem_at(
                    files,
                    &p,
                    Level::Warning,
                    Code::NoInput,
                    format!("include of '{rel}' not followed: {why}"),
                ));
                continue;
            }
            match super::input::read_text(&target, super::input::DEFAULT_MAX_INPUT_BYTES) {
                Ok(text) => out.extend(decode_project(
                    &target,
                    super::yaml::parse_stream(&text),
                    Some(name),
                    project.depth + 1,
                )),
                Err(e) => out.problems.push(
                    Problem::new(Level::Error, Code::ReadError, e.to_string())
                        .in_file(&target, None),
                ),
            }
        }
    }
}

/// The service with the service it `extends` merged under it, recursively. `siblings` are
/// the services of the file the service is written in.
fn resolve_extends(
    mut service: Node,
    siblings: &[(String, Node)],
    files: &mut Files,
    problems: &mut Vec<Problem>,
    depth: usize,
) -> Node {
    let Some(extends) = service.take("extends") else {
        return service;
    };
    let (base_name, file) = match &extends.value {
        Shape::Scalar(Value::String(s)) => (s.clone(), None),
        Shape::Map(_) => (
            extends
                .get("service")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_owned(),
            extends
                .get("file")
                .and_then(Node::as_str)
                .map(str::to_owned),
        ),
        _ => (String::new(), None),
    };
    let not_followed = |files: &Files, why: String| {
        problem_at(
            files,
            &extends,
            Level::Warning,
            Code::NoInput,
            format!("extends of service '{base_name}' not followed: {why}"),
        )
    };
    if depth >= MAX_DEPTH {
        problems.push(not_followed(
            files,
            "extends nest too deep (a cycle?)".into(),
        ));
        return service;
    }
    let (base, base_siblings) = match file {
        None => (
            siblings
                .iter()
                .find(|(n, _)| *n == base_name)
                .map(|(_, s)| s.clone()),
            siblings.to_vec(),
        ),
        Some(rel) => {
            let from = files.paths.get(extends.file).cloned().unwrap_or_default();
            let target = from.parent().unwrap_or(Path::new(".")).join(&rel);
            if interpolates(&rel) || !files.within_tree(&target) {
                problems.push(not_followed(
                    files,
                    format!("'{rel}' is not a file within the scanned tree"),
                ));
                return service;
            }
            match files
                .read(&target, problems)
                .and_then(|mut root| root.take("services"))
            {
                Some(Node {
                    value: Shape::Map(services),
                    ..
                }) => (
                    services
                        .iter()
                        .find(|(n, _)| *n == base_name)
                        .map(|(_, s)| s.clone()),
                    services,
                ),
                _ => (None, Vec::new()),
            }
        }
    };
    let Some(base) = base else {
        problems.push(not_followed(files, "no such service".into()));
        return service;
    };
    let base = resolve_extends(base, &base_siblings, files, problems, depth + 1);
    // The service is where it is declared, whatever it extends.
    let (at, file) = (service.at, service.file);
    let mut merged = merge_service(base, service);
    merged.at = at;
    merged.file = file;
    merged
}

/// Two compose files' top levels merged: services service by service, the rest as mappings.
fn merge_top(base: Node, over: Node) -> Node {
    merge_entries(base, over, |key| {
        if key == "services" {
            merge_services
        } else {
            merge
        }
    })
}

fn merge_services(base: Node, over: Node) -> Node {
    merge_entries(base, over, |_| merge_service)
}

/// Two mappings merged entry by entry, each entry both have by the merge `of` its key
/// chooses; anything but two mappings is the override.
fn merge_entries(base: Node, over: Node, of: impl Fn(&str) -> fn(Node, Node) -> Node) -> Node {
    match (base, over) {
        (
            Node {
                at,
                file,
                value: Shape::Map(mut entries),
            },
            Node {
                value: Shape::Map(overs),
                ..
            },
        ) => {
            for (k, v) in overs {
                match entries.iter_mut().find(|(key, _)| *key == k) {
                    Some(entry) => {
                        let b =
                            std::mem::replace(&mut entry.1, Node::scalar(Value::Null, at, file));
                        entry.1 = of(&k)(b, v);
                    }
                    None => entries.push((k, v)),
                }
            }
            Node {
                at,
                file,
                value: Shape::Map(entries),
            }
        }
        (_, over) => over,
    }
}

/// A service merged over another by the Compose Specification's rules: mappings merge,
/// sequences append, `command`, `entrypoint` and `healthcheck.test` are replaced, `ports`,
/// `volumes`, `secrets` and `configs` are unique by their key, and `environment`, `labels`,
/// `extra_hosts`, `sysctls` and `annotations` merge by variable name in either form.
fn merge_service(base: Node, over: Node) -> Node {
    let (at, file, mut entries, overs) = match (base, over) {
        (
            Node {
                at,
                file,
                value: Shape::Map(entries),
            },
            Node {
                value: Shape::Map(overs),
                ..
            },
        ) => (at, file, entries, overs),
        (_, over) => return over,
    };
    for (k, v) in overs {
        let Some(entry) = entries.iter_mut().find(|(key, _)| *key == k) else {
            entries.push((k, v));
            continue;
        };
        let b = std::mem::replace(&mut entry.1, Node::scalar(Value::Null, at, file));
        entry.1 = match k.as_str() {
            "command" | "entrypoint" => v,
            "healthcheck" => merge_replacing(b, v, &["test"]),
            "ports" | "volumes" | "secrets" | "configs" => merge_unique(b, v, &k),
            "environment" | "labels" | "extra_hosts" | "sysctls" | "annotations" => {
                merge_keyed(b, v, &k)
            }
            _ => merge(b, v),
        };
    }
    Node {
        at,
        file,
        value: Shape::Map(entries),
    }
}

/// Mappings merged key by key (`replaced` keys taken from `over` whole), sequences appended
/// without repeating a value, anything else replaced.
fn merge_replacing(base: Node, over: Node, replaced: &[&str]) -> Node {
    match (base, over) {
        (
            Node {
                at,
                file,
                value: Shape::Map(mut entries),
            },
            Node {
                value: Shape::Map(overs),
                ..
            },
        ) => {
            for (k, v) in overs {
                match entries.iter_mut().find(|(key, _)| *key == k) {
                    Some(entry) if !replaced.contains(&k.as_str()) => {
                        let b =
                            std::mem::replace(&mut entry.1, Node::scalar(Value::Null, at, file));
                        entry.1 = merge(b, v);
                    }
                    Some(entry) => entry.1 = v,
                    None => entries.push((k, v)),
                }
            }
            Node {
                at,
                file,
                value: Shape::Map(entries),
            }
        }
        (
            Node {
                at,
                file,
                value: Shape::Seq(mut items),
            },
            Node {
                value: Shape::Seq(overs),
                ..
            },
        ) => {
            for v in overs {
                let value = v.to_value();
                if !items.iter().any(|i| i.to_value() == value) {
                    items.push(v);
                }
            }
            Node {
                at,
                file,
                value: Shape::Seq(items),
            }
        }
        (_, over) => over,
    }
}

fn merge(base: Node, over: Node) -> Node {
    merge_replacing(base, over, &[])
}

/// Sequences whose entries are unique by a key (a volume's target, a secret's name, a port's
/// whole text): an entry of `over` replaces the base's entry with the same key.
fn merge_unique(base: Node, over: Node, attribute: &str) -> Node {
    let (at, file, items, overs) = match (base, over) {
        (
            Node {
                at,
                file,
                value: Shape::Seq(items),
            },
            Node {
                value: Shape::Seq(overs),
                ..
            },
        ) => (at, file, items, overs),
        (_, over) => return over,
    };
    let key = |n: &Node| -> String {
        let v = n.to_value();
        match (attribute, &v) {
            ("volumes", Value::String(s)) => {
                let parts: Vec<&str> = s.split(':').collect();
                parts.get(1).unwrap_or(&parts[0]).to_string()
            }
            ("volumes", Value::Object(m)) => {
                m.get("target").map(Value::to_string).unwrap_or_default()
            }
            ("secrets" | "configs", Value::String(s)) => s.clone(),
            ("secrets" | "configs", Value::Object(m)) => m
                .get("target")
                .or_else(|| m.get("source"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => v.to_string(),
        }
    };
    let over_keys: Vec<String> = overs.iter().map(key).collect();
    let mut merged: Vec<Node> = items
        .into_iter()
        .filter(|i| !over_keys.contains(&key(i)))
        .collect();
    merged.extend(overs);
    Node {
        at,
        file,
        value: Shape::Seq(merged),
    }
}

/// `environment` and the like, merged by name whether written as a mapping or as a list of
/// `NAME=value` (`host:address` for `extra_hosts`); the result is a mapping when either is.
fn merge_keyed(base: Node, over: Node, attribute: &str) -> Node {
    if let (Shape::Seq(_), Shape::Seq(_)) = (&base.value, &over.value) {
        // Both lists: kept a list, an entry replacing the base's of the same name.
        let name = |n: &Node| -> String {
            let text = n.as_str().unwrap_or_default();
            let separator = if attribute == "extra_hosts" && !text.contains('=') {
                ':'
            } else {
                '='
            };
            text.split(separator).next().unwrap_or_default().to_owned()
        };
        let (at, file) = (base.at, base.file);
        let (Shape::Seq(items), Shape::Seq(overs)) = (base.value, over.value) else {
            unreachable!("both are sequences, matched above");
        };
        let names: Vec<String> = overs.iter().map(name).collect();
        let mut merged: Vec<Node> = items
            .into_iter()
            .filter(|i| !names.contains(&name(i)))
            .collect();
        merged.extend(overs);
        return Node {
            at,
            file,
            value: Shape::Seq(merged),
        };
    }
    merge(as_mapping(base, attribute), as_mapping(over, attribute))
}

/// A list of `NAME=value` entries as a mapping, each value where its entry is written.
fn as_mapping(node: Node, attribute: &str) -> Node {
    let Node { at, file, value } = node;
    let Shape::Seq(items) = value else {
        return Node { at, file, value };
    };
    let entries = items
        .into_iter()
        .filter_map(|item| {
            let text = item.as_str()?.to_owned();
            let separator = if attribute == "extra_hosts" && !text.contains('=') {
                ':'
            } else {
                '='
            };
            let (name, value) = match text.split_once(separator) {
                Some((n, v)) => (n.to_owned(), Value::String(v.to_owned())),
                None => (text.clone(), Value::Null),
            };
            Some((name, Node::scalar(value, item.at, item.file)))
        })
        .collect();
    Node {
        at,
        file,
        value: Shape::Map(entries),
    }
}

/// The project name as `docker compose` derives it: the top-level `name`, else the name of the
/// directory holding the file, lower-cased and stripped to `[a-z0-9_-]`.
fn project_name(path: &Path, top: &Value) -> String {
    let named = top
        .get("name")
        .and_then(Value::as_str)
        // `name: ${PROJECT:-x}` is only known when compose runs.
        .filter(|n| !n.contains('$'));
    let dir = || {
        std::path::absolute(path)
            .ok()?
            .parent()?
            .file_name()?
            .to_str()
            .map(str::to_owned)
    };
    let raw = named
        .map(str::to_owned)
        .or_else(|| (path.as_os_str() != "-").then(dir).flatten())
        .unwrap_or_default();
    let name: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    let name = name.trim_start_matches(['_', '-']).to_owned();
    if name.is_empty() {
        "default".to_owned()
    } else {
        name
    }
}

/// Whether `text` uses interpolation: `${VAR...}` or `$VAR`, but not the `$$` escape.
pub fn interpolates(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            match bytes.get(i + 1) {
                Some(b'$') => i += 2,
                Some(b'{') => return true,
                Some(c) if c.is_ascii_alphabetic() || *c == b'_' => return true,
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    false
}

/// The path of the first value (or key) in document order that uses interpolation.
fn first_interpolation(value: &Value, path: &mut Vec<Segment>) -> Option<Vec<Segment>> {
    match value {
        Value::String(s) if interpolates(s) => Some(path.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            path.push(Segment::Index(i));
            let found = first_interpolation(v, path);
            path.pop();
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            path.push(Segment::key(k.as_str()));
            let found = if interpolates(k) {
                Some(path.clone())
            } else {
                first_interpolation(v, path)
            };
            path.pop();
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::yaml::parse_stream;

    fn load(name: &str, text: &str) -> Collected {
        decode(Path::new(name), parse_stream(text))
    }

    #[test]
    fn each_service_is_a_resource_with_positions_in_the_file() {
        let text = "name: Shop\nservices:\n  web:\n    image: nginx\n    privileged: true\n  db:\n    image: mongo\nvolumes:\n  data: {}\n";
        let c = load("x/compose.yaml", text);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.resources.len(), 2);
        let web = &c.resources[0];
        assert_eq!(web.input, InputType::Compose);
        assert_eq!(web.id.name, "web");
        assert_eq!(web.id.namespace.as_deref(), Some("shop"));
        assert_eq!(
            web.object[CONTEXT_KEY]["volumes"]["data"],
            serde_json::json!({})
        );
        let at = web
            .position_of(&FieldPath(vec![Segment::Key("privileged".into())]))
            .unwrap();
        assert_eq!((at.line, at.column), (5, 5));
        assert_eq!(web.start().unwrap().line, 3);
    }

    #[test]
    fn project_defaults_to_the_directory_name() {
        let c = load(
            "some/My App/compose.yaml",
            "services:\n  a:\n    image: x\n",
        );
        assert_eq!(c.resources[0].id.namespace.as_deref(), Some("myapp"));
    }

    #[test]
    fn merge_keys_expand_and_explicit_keys_win() {
        let text = "x-base: &base\n  restart: always\n  read_only: true\nservices:\n  a:\n    <<: *base\n    restart: \"no\"\n";
        let c = load("compose.yaml", text);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let a = &c.resources[0].object;
        assert_eq!(a["read_only"], true);
        assert_eq!(a["restart"], "no");
    }

    #[test]
    fn interpolation_is_kept_and_noted_once() {
        let text = "services:\n  a:\n    image: \"app:${TAG:-1}\"\n    environment:\n      X: $$HOME\n      Y: ${Y}\n";
        let c = load("compose.yaml", text);
        assert_eq!(c.resources[0].object["image"], "app:${TAG:-1}");
        assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
        let p = &c.problems[0];
        assert_eq!(p.code, Code::Interpolation);
        assert_eq!(p.position.map(|p| p.line), Some(3));
        assert!(!interpolates("$$HOME and 5$"));
        assert!(interpolates("$HOME"));
    }

    #[test]
    fn recognised_by_name_or_by_content() {
        assert!(is_compose_file_name(Path::new(
            "a/docker-compose.override.yml"
        )));
        assert!(!is_compose_file_name(Path::new("a/compose.json")));
        assert!(is_compose_document(&parse_stream("services:\n  a: {}\n")));
        assert!(!is_compose_document(&parse_stream(
            "kind: X\nservices:\n  a: {}\n"
        )));
        assert!(!is_compose_document(&parse_stream("services: [a]\n")));
    }
}
