//! Manifest files: YAML (multi-document), JSON, `kind: List`, Helm-rendered output, stdin.

use super::yaml::{self, Document};
use super::Collected;
use crate::problem::{Code, Level, Problem};
use crate::resource::{Origin, Position, Resource, SpanTree};
use rayon::prelude::*;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Reads every manifest under `inputs` (files, directories recursively, `-` for stdin).
pub fn collect(inputs: &[PathBuf]) -> Collected {
    let mut files = Vec::new();
    let mut out = Collected::default();
    for input in inputs {
        if input.as_os_str() == "-" {
            files.push(input.clone());
            continue;
        }
        if input.is_dir() {
            let before = files.len();
            // Sorted so that output order never depends on the filesystem.
            for entry in WalkDir::new(input).sort_by_file_name().follow_links(true) {
                match entry {
                    // A posture config in the tree holds exceptions, not manifests.
                    Ok(e)
                        if e.file_type().is_file()
                            && has_manifest_extension(e.path())
                            && !crate::exceptions::config::is_config_file(e.path()) =>
                    {
                        files.push(e.into_path())
                    }
                    Ok(_) => {}
                    Err(err) => out.problems.push(
                        Problem::new(
                            Level::Error,
                            Code::ReadError,
                            format!("cannot walk directory: {err}"),
                        )
                        .in_file(err.path().unwrap_or(input).to_path_buf(), None),
                    ),
                }
            }
            if files.len() == before {
                out.problems.push(
                    Problem::new(
                        Level::Warning,
                        Code::NoInput,
                        "no *.yaml, *.yml or *.json files in this directory",
                    )
                    .in_file(input.clone(), None),
                );
            }
        } else if input.exists() {
            files.push(input.clone());
        } else {
            out.problems.push(
                Problem::new(Level::Error, Code::ReadError, "no such file or directory")
                    .in_file(input.clone(), None),
            );
        }
    }
    let per_file: Vec<Collected> = files.par_iter().map(|f| load_file(f)).collect();
    for c in per_file {
        out.extend(c);
    }
    out
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn load_file(path: &Path) -> Collected {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read(path).and_then(|bytes| {
            String::from_utf8(bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })
    };
    match text {
        Ok(text) => load_text(path, &text),
        Err(err) => Collected {
            resources: vec![],
            problems: vec![Problem::new(
                Level::Error,
                Code::ReadError,
                format!("cannot read file: {err}"),
            )
            .in_file(path, None)],
        },
    }
}

/// Decodes the manifests in `text`, read from `path`.
pub fn load_text(path: &Path, text: &str) -> Collected {
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let documents = if is_json {
        json_documents(text)
    } else {
        yaml::parse_stream(text)
    };
    let mut out = Collected::default();
    if documents.is_empty() {
        // Say so rather than let a file vanish from the scan without a word.
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::NotAnObject,
                "skipped: the file holds no YAML documents, only comments or whitespace",
            )
            .in_file(path, Some(Position { line: 1, column: 1 })),
        );
    }
    for doc in documents {
        add_document(path, doc, &mut out);
    }
    out
}

/// A JSON file is one document; it is decoded with the YAML parser (JSON is YAML) for positions.
fn json_documents(text: &str) -> Vec<Document> {
    let content = if text.trim().is_empty() {
        Err(yaml::SyntaxError {
            position: Position { line: 1, column: 1 },
            message: "the file is empty, but a JSON manifest must hold an object".to_owned(),
        })
    } else {
        match yaml::parse_document(text) {
            Ok(c) => Ok(c),
            // Prefer serde_json's wording for JSON files; it names what JSON expected.
            Err(yaml_err) => Err(match serde_json::from_str::<Value>(text) {
                Err(e) => yaml::SyntaxError {
                    position: Position {
                        line: e.line().max(1) as u32,
                        column: e.column().max(1) as u32,
                    },
                    message: e.to_string(),
                },
                Ok(_) => yaml_err,
            }),
        }
    };
    vec![Document {
        index: 0,
        start_line: 1,
        helm_source: None,
        content,
    }]
}

fn add_document(path: &Path, doc: Document, out: &mut Collected) {
    let (value, spans) = match doc.content {
        Ok(Some(d)) => {
            for w in d.warnings {
                out.problems.push(
                    Problem::new(Level::Warning, Code::DuplicateKey, w.message)
                        .in_file(path, Some(w.position)),
                );
            }
            (d.value, d.spans)
        }
        Ok(None) => return,
        Err(e) => {
            out.problems.push(
                Problem::new(Level::Error, Code::ParseError, e.message)
                    .in_file(path, Some(e.position)),
            );
            return;
        }
    };
    let origin = |item| Origin::File {
        path: path.to_path_buf(),
        document: doc.index,
        item,
        helm_source: doc.helm_source.clone(),
    };
    let doc_start = spans.position();
    if let Some(items) = list_items(&value) {
        for (i, item) in items.iter().enumerate() {
            let item_spans = spans.subtree(&[
                crate::resource::Segment::Key("items".into()),
                crate::resource::Segment::Index(i),
            ]);
            let at = item_spans.as_ref().map(SpanTree::position);
            push_object(path, item.clone(), origin(Some(i)), item_spans, at, out);
        }
        return;
    }
    push_object(path, value, origin(None), Some(spans), Some(doc_start), out);
}

/// `kind: List` and typed lists (`PodList`, ...) as `kubectl get -o yaml` writes them.
fn list_items(value: &Value) -> Option<&Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.get("items")?.as_array()
}

fn push_object(
    path: &Path,
    value: Value,
    origin: Origin,
    spans: Option<SpanTree>,
    at: Option<Position>,
    out: &mut Collected,
) {
    if !value.is_object() {
        out.problems.push(
            Problem::new(
                Level::Note,
                Code::NotAnObject,
                "skipped: the document is not a mapping, so not a Kubernetes object",
            )
            .in_file(path, at),
        );
        return;
    }
    match Resource::from_object(value, origin, spans) {
        Some(r) => out.resources.push(r),
        None => out.problems.push(
            Problem::new(Level::Note, Code::NotAnObject, "skipped: the document has no apiVersion and kind, so it is not a Kubernetes object")
                .in_file(path, at),
        ),
    }
}
