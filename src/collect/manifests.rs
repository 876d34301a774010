//! Manifest files: YAML (multi-document), JSON, `kind: List`, Helm-rendered output, stdin, and
//! the output of charts and kustomizations, which [`render`] renders. Compose files found among
//! them go to [`super::compose`].

use super::compose;
use super::ecs;
use super::kustomize_sources::{Build, KustomizeSourceMap};
use super::render::{self, RenderOptions, Renderable};
use super::template_lines::{HelmSourceMap, Template};
use super::yaml::{self, Document};
use super::Collected;
use crate::pattern::Pattern;
use crate::problem::{error_chain, Code, Level, Problem};
use crate::resource::{Origin, Position, Renderer, Resource, SourceMap, SourcePath, SpanTree};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use walkdir::WalkDir;

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Reads every manifest under `inputs` (files, directories recursively, `-` for stdin). A
/// directory that holds a chart or a kustomization is rendered with `render`'s options (see
/// [`render`]) instead of walked, whether it was named or found by the walk.
pub fn collect(inputs: &[PathBuf], render: &RenderOptions) -> Collected {
    collect_with(inputs, render, &ReadOptions::default())
}

/// How files are found and read, besides rendering.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// No file (or standard input) larger than this is read (`--max-input-size`).
    pub max_input_bytes: u64,
    /// Files and directories a walk leaves out (`--skip-path`): a pattern matches the whole
    /// path, or, when it has no `/`, any one segment of it (`_archived`, `*.tmpl.yaml`).
    pub skip_paths: Vec<Pattern>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_input_bytes: super::input::DEFAULT_MAX_INPUT_BYTES,
            skip_paths: Vec::new(),
        }
    }
}

impl ReadOptions {
    fn skips(&self, path: &Path) -> bool {
        if self.skip_paths.is_empty() {
            return false;
        }
        let path = SourcePath::new(path);
        self.skip_paths.iter().any(|p| {
            p.matches(path.as_str())
                || (!p.as_str().contains('/') && path.as_str().split('/').any(|s| p.matches(s)))
        })
    }
}

/// [`collect`] with the bounds and skips of `read`.
pub fn collect_with(inputs: &[PathBuf], render: &RenderOptions, read: &ReadOptions) -> Collected {
    collect_inner(inputs, render, read, None).collected
}

/// Manifests read for a scan that keeps whole objects only up to a budget
/// ([`collect_streaming`]).
#[derive(Debug, Default)]
pub struct Streamed {
    pub collected: Collected,
    /// For each of `collected.resources`: `Some(i)` when it was reduced after this reading and
    /// must be read again from `deferred[i]` to be evaluated, `None` when it is whole.
    pub reread: Vec<Option<usize>>,
    pub deferred: Vec<Deferred>,
}

/// A manifest file beyond the budget of whole objects: its objects were reduced after the
/// first reading, and [`Deferred::read_again`] gives them whole.
#[derive(Debug, Clone)]
pub struct Deferred {
    path: PathBuf,
    named: Named,
}

impl Deferred {
    /// The file's objects, decoded as the first reading decoded them (its problems were
    /// reported then).
    pub fn read_again(&self, max_input_bytes: u64) -> Vec<Resource> {
        load_file(&self.path, self.named, max_input_bytes).resources
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reduces an object beyond the budget, saying whether it did (see [`collect_streaming`]).
pub type Reduce = dyn Fn(&mut Resource) -> bool + Sync;

/// [`collect_with`], keeping whole the objects of the files met (in order) before
/// `whole_bytes` of them were read; the objects of later files are handed to `reduce` as soon
/// as their file is decoded, and those it reduces (it says so) are marked to be read again.
/// Standard input and rendered output are never read again, so their objects stay whole.
pub fn collect_streaming(
    inputs: &[PathBuf],
    render: &RenderOptions,
    read: &ReadOptions,
    whole_bytes: u64,
    reduce: &Reduce,
) -> Streamed {
    collect_inner(inputs, render, read, Some((whole_bytes, reduce)))
}

fn collect_inner(
    inputs: &[PathBuf],
    render: &RenderOptions,
    read: &ReadOptions,
    budget: Option<(u64, &Reduce)>,
) -> Streamed {
    let max_input_bytes = read.max_input_bytes;
    let mut found = Found::default();
    let mut out = Collected::default();
    for input in inputs {
        if input.as_os_str() == "-" {
            found.files.push((input.clone(), Named::Yes));
        } else if input.is_dir() {
            let before = (found.files.len(), found.renderables.len());
            found.walk(input, read, &mut out.problems);
            if (found.files.len(), found.renderables.len()) == before {
                out.problems.push(
                    Problem::new(
                        Level::Warning,
                        Code::NoInput,
                        "no *.yaml, *.yml or *.json files, charts or kustomizations in this \
                         directory",
                    )
                    .in_file(input.clone(), None),
                );
            }
        } else if input.exists() {
            found.files.push((input.clone(), Named::Yes));
        } else {
            out.problems.push(
                Problem::new(Level::Error, Code::ReadError, "no such file or directory")
                    .in_file(input.clone(), None),
            );
        }
    }
    // Which files are beyond the budget, decided from their sizes before reading, so that the
    // choice does not depend on which thread reads first.
    let deferred_from = match budget {
        None => found.files.len(),
        Some((whole_bytes, _)) => {
            let mut total = 0u64;
            found
                .files
                .iter()
                .position(|(f, _)| {
                    let over = total >= whole_bytes;
                    total = total.saturating_add(std::fs::metadata(f).map_or(0, |m| m.len()));
                    over
                })
                .unwrap_or(found.files.len())
        }
    };
    let per_file: Vec<(Collected, Vec<bool>)> = found
        .files
        .par_iter()
        .enumerate()
        .map(|(i, (f, named))| {
            let mut c = load_file(f, *named, max_input_bytes);
            let reduced = match budget {
                Some((_, reduce)) if i >= deferred_from && f.as_os_str() != "-" => {
                    c.resources.iter_mut().map(reduce).collect()
                }
                _ => vec![false; c.resources.len()],
            };
            (c, reduced)
        })
        .collect();
    let per_render: Vec<Collected> = found
        .renderables
        .par_iter()
        .map(|r| load_rendered(r, render))
        .collect();
    let mut streamed = Streamed::default();
    for ((c, reduced), (path, named)) in per_file.into_iter().zip(&found.files) {
        if reduced.iter().any(|r| *r) {
            let index = streamed.deferred.len();
            streamed.deferred.push(Deferred {
                path: path.clone(),
                named: *named,
            });
            streamed
                .reread
                .extend(reduced.iter().map(|r| r.then_some(index)));
        } else {
            streamed.reread.extend(reduced.iter().map(|_| None));
        }
        out.extend(c);
    }
    for c in per_render {
        streamed.reread.extend(c.resources.iter().map(|_| None));
        out.extend(c);
    }
    drop_repeated_services(&mut out.resources, &mut streamed.reread);
    streamed.collected = out;
    streamed
}

/// A compose file that another one `include`s is read with that project, and again when a
/// walk finds it under a name `docker compose` reads: its services are kept once, as first
/// read.
fn drop_repeated_services(resources: &mut Vec<Resource>, reread: &mut Vec<Option<usize>>) {
    let mut seen = std::collections::HashSet::new();
    let keep: Vec<bool> = resources
        .iter()
        .map(|r| {
            r.input != crate::resource::InputType::Compose
                || seen.insert((r.origin.source_key(), r.id.name.clone()))
        })
        .collect();
    let mut i = 0;
    resources.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    let mut i = 0;
    reread.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

/// Whether a file was named on the command line or found by a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Yes,
    /// Found by a walk: a compose file is recognised by its name only, so that a walk does not
    /// take every YAML file with a top-level `services` key for one.
    Walked,
}

/// What a walk found: manifest files, and directories a tool renders.
#[derive(Default)]
struct Found {
    files: Vec<(PathBuf, Named)>,
    renderables: Vec<Renderable>,
}

impl Found {
    /// Walks `dir` for manifest files. A chart or kustomization (`dir` itself or below it) is
    /// rendered instead and nothing inside it is walked: chart templates are not YAML, a
    /// chart's subcharts are rendered by helm with it, and the resources of a kustomization
    /// reach the scan through its build, not once more as raw files.
    fn walk(&mut self, dir: &Path, read: &ReadOptions, problems: &mut Vec<Problem>) {
        // Sorted so that output order never depends on the filesystem.
        let mut entries = WalkDir::new(dir)
            .sort_by_file_name()
            .follow_links(true)
            .into_iter();
        while let Some(entry) = entries.next() {
            match entry {
                Ok(e) if e.depth() > 0 && read.skips(e.path()) => {
                    if e.file_type().is_dir() {
                        entries.skip_current_dir();
                    }
                }
                Ok(e) if e.file_type().is_dir() => {
                    if let Some(r) = Renderable::detect(e.path()) {
                        self.renderables.push(r);
                        entries.skip_current_dir();
                    }
                }
                // A posture config in the tree holds exceptions, not manifests.
                Ok(e)
                    if e.file_type().is_file()
                        && has_manifest_extension(e.path())
                        && !super::config_file::is_config_file(e.path()) =>
                {
                    self.files.push((e.into_path(), Named::Walked))
                }
                Ok(_) => {}
                Err(err) => problems.push(
                    Problem::new(
                        Level::Error,
                        Code::ReadError,
                        format!("cannot walk directory: {err}"),
                    )
                    .in_file(err.path().unwrap_or(dir).to_path_buf(), None),
                ),
            }
        }
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn load_file(path: &Path, named: Named, max_input_bytes: u64) -> Collected {
    match super::input::read_text(path, max_input_bytes) {
        Ok(text) => load_text_as(path, &text, named),
        Err(err) => {
            let position = match &err {
                super::input::ReadError::NotUtf8(at) => Some(*at),
                _ => None,
            };
            Collected {
                resources: vec![],
                problems: vec![Problem::new(Level::Error, Code::ReadError, err.to_string())
                    .in_file(path, position)],
            }
        }
    }
}

/// Decodes the manifests in `text`, read from `path` as a file named on the command line: a
/// compose file is recognised by its name or its content.
pub fn load_text(path: &Path, text: &str) -> Collected {
    load_text_as(path, text, Named::Yes)
}

fn load_text_as(path: &Path, text: &str, named: Named) -> Collected {
    if compose::is_compose_file_name(path) {
        return compose::decode(path, yaml::parse_stream(text));
    }
    let is_json = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let documents = if is_json {
        json_documents(text)
    } else {
        yaml::parse_stream(text)
    };
    // Task definitions, templates and plans say what they are at their top level, so they
    // are recognised by content whether named or found by a walk.
    if let Some(format) = ecs::detect(&documents) {
        return ecs::decode(path, text, documents, format);
    }
    if named == Named::Yes && compose::is_compose_document(&documents) {
        return compose::decode(path, documents);
    }
    if let Some(problems) = unrecognised(path, &documents, named) {
        return Collected {
            resources: Vec::new(),
            problems,
        };
    }
    // Normalised once for the file: for an absolute path outside the working directory that
    // means resolving both, which for every object of a large file was a few percent of a scan.
    decode(Source::File(&SourcePath::new(path)), documents)
}

/// For a file none of whose documents is of a format posture reads (Kubernetes objects,
/// Compose, ECS task definitions, CloudFormation, Terraform plans): one problem, instead of a
/// note per document, or none for the files of the tools posture renders (`Chart.yaml`, a
/// chart's values files, a kustomization), which are recognised and skipped without a word.
/// `None` when a document is one, or cannot be read (its error says more).
fn unrecognised(path: &Path, documents: &[Document], named: Named) -> Option<Vec<Problem>> {
    let mut first = None;
    for doc in documents {
        match &doc.content {
            Ok(Some(d)) => {
                let v = &d.value;
                let is_object = v.get("apiVersion").and_then(Value::as_str).is_some()
                    && v.get("kind").and_then(Value::as_str).is_some();
                if is_object || !v.is_object() {
                    return None;
                }
                first.get_or_insert((d.spans.position(), v.get("services").is_some()));
            }
            Ok(None) => {}
            Err(_) => return None,
        }
    }
    let (at, services) = first?;
    if is_tool_file(path) {
        return Some(Vec::new());
    }
    let hint = if services && named == Named::Walked {
        " (a Compose file found in a directory is recognised by its name, such as compose.yaml \
         or docker-compose.yml; name it with -f to scan it as one)"
    } else {
        ""
    };
    // A YAML file with `services` found by a walk is most likely a Compose file under another
    // name (`docker-compose.prod.yml`) or a fragment others extend: a note says how to scan it.
    let level = if hint.is_empty() {
        Level::Warning
    } else {
        Level::Note
    };
    Some(vec![Problem::new(
        level,
        Code::NotAnObject,
        format!(
            "skipped: not a recognised format: neither Kubernetes objects (apiVersion and \
                 kind), a Compose file, an ECS task definition, a CloudFormation template nor a \
                 Terraform plan{hint}"
        ),
    )
    .in_file(path, Some(at))])
}

/// A chart's `Chart.yaml` or values file, or a kustomization file.
fn is_tool_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let chart_dir = path
        .parent()
        .is_some_and(|d| d.join("Chart.yaml").is_file());
    render::is_kustomization_file(path)
        || name == "Chart.yaml"
        || (chart_dir && name.starts_with("values") && has_manifest_extension(path))
}

/// Renders a chart or kustomization and decodes the tool's output.
fn load_rendered(target: &Renderable, options: &RenderOptions) -> Collected {
    match render::render(target, options) {
        Ok(output) => {
            let mut out = decode(Source::Rendered(target), yaml::parse_stream(&output.text));
            add_source_maps(target, &mut out.resources);
            if let Some(warnings) = output.warnings {
                out.problems.push(
                    Problem::new(
                        Level::Note,
                        Code::RenderWarning,
                        format!(
                            "{} succeeded with warnings: {warnings}",
                            target.tool.as_str()
                        ),
                    )
                    .in_file(&target.dir, None),
                );
            }
            out
        }
        Err(err) => Collected {
            resources: vec![],
            problems: vec![Problem::new(Level::Error, err.code(), error_chain(&err))
                .in_file(&target.dir, None)],
        },
    }
}

/// Gives each rendered object the map from its fields to where they are written: the chart
/// template's lines, or the kustomization's patches and the object's resource file. Each file
/// is read and parsed once per render, however many objects come from it.
fn add_source_maps(target: &Renderable, resources: &mut [Resource]) {
    let marker = SourcePath::new(&target.marker);
    match target.tool {
        Renderer::Helm => {
            let mut templates: HashMap<SourcePath, Option<Arc<Template>>> = HashMap::new();
            for r in resources.iter_mut() {
                let Origin::Rendered { file, .. } = &*r.origin else {
                    continue;
                };
                if *file == marker {
                    continue;
                }
                let template = templates
                    .entry(file.clone())
                    .or_insert_with(|| {
                        let text = std::fs::read_to_string(file.as_path()).ok()?;
                        Some(Arc::new(Template::parse(&text)))
                    })
                    .clone();
                if let Some(template) = template {
                    let map: Arc<dyn SourceMap> = Arc::new(HelmSourceMap {
                        file: file.clone(),
                        template,
                    });
                    r.source_map = Some(map);
                }
            }
        }
        Renderer::Kustomize => {
            let mut build = Build::read(&target.dir, &target.marker);
            // Objects read from a resource file (not generated ones, whose origin is the
            // kustomization that configured the generator), with that file's documents.
            let resource_files: Vec<Option<(SourcePath, Arc<Vec<yaml::Decoded>>)>> = resources
                .iter()
                .map(|r| match &*r.origin {
                    Origin::Rendered {
                        file,
                        source: Some(_),
                        ..
                    } if !render::is_kustomization_file(file.as_path()) => build
                        .parsed(file.as_path())
                        .map(|docs| (file.clone(), docs)),
                    _ => None,
                })
                .collect();
            let build = Arc::new(build);
            for (r, resource) in resources.iter_mut().zip(resource_files) {
                let map: Arc<dyn SourceMap> = Arc::new(KustomizeSourceMap {
                    resource,
                    build: Arc::clone(&build),
                });
                r.source_map = Some(map);
            }
        }
    }
}

/// Where a stream of documents was read from.
#[derive(Clone, Copy)]
enum Source<'a> {
    File(&'a SourcePath),
    /// The output of a tool that rendered a chart or kustomization.
    Rendered(&'a Renderable),
}

impl Source<'_> {
    /// A problem at `position` of the stream. In rendered output the position is a line of the
    /// tool's output, not of any file, so it goes into the message, and the problem names the
    /// template (when Helm said which) or the directory.
    fn problem(
        self,
        level: Level,
        code: Code,
        message: impl Into<String>,
        helm_source: Option<&str>,
        position: Option<Position>,
    ) -> Problem {
        let message = message.into();
        match self {
            Source::File(path) => Problem::new(level, code, message).in_file(path, position),
            Source::Rendered(target) => {
                let file = helm_source
                    .filter(|_| target.tool == Renderer::Helm)
                    .and_then(|s| render::helm_source(&target.dir, s).file)
                    .unwrap_or_else(|| target.dir.clone());
                let message = match position {
                    Some(p) => format!(
                        "{message} (line {}:{} of the {} output)",
                        p.line,
                        p.column,
                        target.tool.as_str()
                    ),
                    None => message,
                };
                Problem::new(level, code, message).in_file(file, None)
            }
        }
    }

    /// The origin of an object of document `doc`. For kustomize output this also removes the
    /// build annotations from `object`, which is why it runs before the object becomes a
    /// [`Resource`].
    fn origin(self, doc: &Document, item: Option<usize>, object: &mut Value) -> Origin {
        match self {
            Source::File(path) => Origin::File {
                path: path.clone(),
                document: doc.index,
                item,
                helm_source: doc.helm_source.clone(),
            },
            Source::Rendered(target) => {
                let named = match target.tool {
                    Renderer::Helm => doc
                        .helm_source
                        .as_deref()
                        .map(|s| render::helm_source(&target.dir, s)),
                    Renderer::Kustomize => render::take_kustomize_origin(object, &target.dir),
                };
                let (source, file) = match named {
                    Some(n) => (Some(n.text), n.file),
                    None => (None, None),
                };
                Origin::Rendered {
                    tool: target.tool,
                    dir: SourcePath::new(&target.dir),
                    file: SourcePath::new(file.as_deref().unwrap_or(&target.marker)),
                    source,
                    document: doc.index,
                    item,
                }
            }
        }
    }
}

fn decode(source: Source, documents: Vec<Document>) -> Collected {
    let mut out = Collected::default();
    if documents.is_empty() {
        // Say so rather than let a file vanish from the scan without a word.
        let message = match source {
            Source::File(_) => {
                "skipped: the file holds no YAML documents, only comments or whitespace".to_owned()
            }
            Source::Rendered(target) => {
                format!("skipped: {} rendered no objects", target.tool.as_str())
            }
        };
        let at = matches!(source, Source::File(_)).then_some(Position { line: 1, column: 1 });
        out.problems
            .push(source.problem(Level::Note, Code::NotAnObject, message, None, at));
    }
    for doc in documents {
        add_document(source, doc, &mut out);
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

fn add_document(source: Source, mut doc: Document, out: &mut Collected) {
    // The content moves out; the rest of the document (index, `# Source:`) names the origin.
    let content = std::mem::replace(&mut doc.content, Ok(None));
    let helm_source = doc.helm_source.as_deref();
    let (value, spans) = match content {
        Ok(Some(d)) => {
            for w in d.warnings {
                out.problems.push(source.problem(
                    Level::Warning,
                    Code::DuplicateKey,
                    w.message,
                    helm_source,
                    Some(w.position),
                ));
            }
            (d.value, d.spans)
        }
        Ok(None) => return,
        Err(e) => {
            out.problems.push(source.problem(
                Level::Error,
                Code::ParseError,
                e.message,
                helm_source,
                Some(e.position),
            ));
            return;
        }
    };
    let doc_start = spans.position();
    if let Some(items) = list_items(&value) {
        let mut item_spans = spans
            .elements(&[crate::resource::Segment::Key("items".into())])
            .into_iter();
        for (i, item) in items.iter().enumerate() {
            let item_spans = item_spans.next();
            let at = item_spans.as_ref().map(SpanTree::position);
            push_object(source, &doc, Some(i), item.clone(), item_spans, at, out);
        }
        return;
    }
    push_object(source, &doc, None, value, Some(spans), Some(doc_start), out);
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
    source: Source,
    doc: &Document,
    item: Option<usize>,
    mut value: Value,
    spans: Option<SpanTree>,
    at: Option<Position>,
    out: &mut Collected,
) {
    let helm_source = doc.helm_source.as_deref();
    if !value.is_object() {
        out.problems.push(source.problem(
            Level::Note,
            Code::NotAnObject,
            "skipped: the document is not a mapping, so not a Kubernetes object",
            helm_source,
            at,
        ));
        return;
    }
    let origin = source.origin(doc, item, &mut value);
    match Resource::from_object(value, origin, spans) {
        Some(r) => out.resources.push(r),
        None => out.problems.push(source.problem(
            Level::Note,
            Code::NotAnObject,
            "skipped: the document has no apiVersion and kind, so it is not a Kubernetes object",
            helm_source,
            at,
        )),
    }
}
