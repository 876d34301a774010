//! Compose files (the Compose Specification, <https://compose-spec.io>): each service becomes
//! one [`Resource`] of input type `compose`, with the position of every field in the file.
//!
//! Reading and shaping only; what is risky in a service is the business of the rules under
//! `policies/rules/compose/`. Values are taken as written: `${VAR}` interpolation is not
//! resolved, because the environment of the eventual `docker compose up` is unknown here, and a
//! note says when values depend on it. YAML anchors and merge keys (`<<: *defaults`) are
//! expanded by the YAML parser. `extends` and `include` are not followed.

use super::yaml::Document;
use super::Collected;
use crate::problem::{Code, Level, Problem};
use crate::resource::{
    FieldPath, InputType, ObjectRef, Origin, Position, Resource, Segment, SourcePath, SpanTree,
};
use serde_json::{Map, Value};
use std::path::Path;

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

/// Turns the documents of the compose file at `path` into one resource per service.
pub fn decode(path: &Path, documents: Vec<Document>) -> Collected {
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
        add_services(path, doc.index, decoded.value, &decoded.spans, &mut out);
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

fn add_services(path: &Path, document: usize, value: Value, spans: &SpanTree, out: &mut Collected) {
    let Value::Object(mut top) = value else {
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::NotAnObject,
                "skipped: the compose file is not a mapping",
            )
            .in_file(path, Some(spans.position())),
        );
        return;
    };
    let Some(Value::Object(services)) = top.remove("services") else {
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::NotAnObject,
                "skipped: the compose file has no `services` mapping",
            )
            .in_file(path, Some(spans.position())),
        );
        return;
    };
    let project = project_name(path, &top);
    let mut shared = Map::new();
    shared.insert("project".to_owned(), Value::String(project.clone()));
    for key in ["volumes", "secrets", "configs", "networks"] {
        if let Some(v) = top.remove(key) {
            shared.insert(key.to_owned(), v);
        }
    }
    for (name, service) in services {
        let at = [Segment::Key("services".into()), Segment::Key(name.clone())];
        let service_spans = spans.subtree(&at);
        let Value::Object(mut object) = service else {
            let position = service_spans.as_ref().map(SpanTree::position);
            out.problems.push(
                Problem::new(
                    Level::Note,
                    Code::NotAnObject,
                    format!("skipped: service '{name}' is not a mapping"),
                )
                .in_file(path, position),
            );
            continue;
        };
        let mut context = shared.clone();
        context.insert("service".to_owned(), Value::String(name.clone()));
        object.insert(CONTEXT_KEY.to_owned(), Value::Object(context));
        out.resources.push(Resource {
            input: InputType::Compose,
            id: ObjectRef {
                api_version: API_VERSION.to_owned(),
                kind: KIND.to_owned(),
                namespace: Some(project.clone()),
                name,
            },
            origin: Origin::File {
                path: SourcePath::new(path),
                document,
                item: None,
                helm_source: None,
            },
            object: Value::Object(object),
            spans: service_spans,
            source_map: None,
        });
    }
}

/// The project name as `docker compose` derives it: the top-level `name`, else the name of the
/// directory holding the file, lower-cased and stripped to `[a-z0-9_-]`.
fn project_name(path: &Path, top: &Map<String, Value>) -> String {
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
            path.push(Segment::Key(k.clone()));
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
