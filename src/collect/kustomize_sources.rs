//! Where a field of a kustomize build is written: the patch that sets it, else the resource
//! file the object comes from.
//!
//! kustomize says which file an object comes from (`config.kubernetes.io/origin`, see
//! [`super::render`]) but not which patch changed a field, so posture reads the kustomization
//! itself: its patches (`patches`, `patchesStrategicMerge`, `patchesJson6902`) and those of the
//! local kustomizations it builds on (`resources`, `bases`, `components`), in the order
//! kustomize applies them. A field is the patch's when the last patch that targets the object
//! and writes the field writes the value the build has; otherwise it is the resource file's,
//! found by key path in the file's YAML. Lists are followed by their merge key (`name`,
//! `containerPort`, `mountPath`, ...), as a strategic merge patch merges them.
//!
//! The files are read once per build, when the build is decoded; lookups do no I/O.

use super::render;
use super::yaml::{self, Decoded};
use crate::resource::{FieldPath, Position, Segment, SourceMap, SourcePath, Written};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How deep kustomizations may include each other before posture stops following them; a
/// cycle is cut earlier, this only bounds a very deep tree.
const MAX_DEPTH: usize = 32;
/// Fields a strategic merge patch merges list elements by, in the order they are tried.
const MERGE_KEYS: [&str; 6] = [
    "name",
    "mountPath",
    "containerPort",
    "port",
    "devicePath",
    "ip",
];

/// The patches of a build, in the order kustomize applies them.
#[derive(Debug, Default)]
pub struct Build {
    patches: Vec<Patch>,
    /// Parsed files, so that a resource file shared by many objects is read once.
    files: HashMap<PathBuf, Option<Arc<Vec<Decoded>>>>,
}

#[derive(Debug)]
struct Patch {
    file: SourcePath,
    /// Added to positions in the patch's text: the line and column its text starts at in
    /// `file`, for a patch written inline in a kustomization (`patch: |-`).
    offset: (u32, u32),
    target: Option<Target>,
    body: Arc<Vec<Decoded>>,
    /// The `namePrefix`/`nameSuffix` of the kustomization that lists the patch and of those
    /// that build on it, outermost first: the names the patch sees lack them.
    affixes: Vec<(String, String)>,
}

/// A patch's `target`: which objects it applies to.
#[derive(Debug, Default)]
struct Target {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    /// A regular expression over the whole name, as kustomize reads it.
    name: Option<regex::Regex>,
    /// `key=value` pairs that the labels must hold; `None` when the selector is of a form
    /// posture does not evaluate, which then selects nothing.
    labels: Option<Vec<(String, String)>>,
}

impl Build {
    /// Reads the kustomization in `dir` (its file is `file`) and the local ones it builds on.
    /// Files that cannot be read or parsed are left out: kustomize already built them, and the
    /// worst outcome is a finding without a line.
    pub fn read(dir: &Path, file: &Path) -> Build {
        let mut build = Build::default();
        let mut visiting = BTreeSet::new();
        build.add_kustomization(dir, file, &[], &mut visiting);
        build
    }

    fn add_kustomization(
        &mut self,
        dir: &Path,
        file: &Path,
        outer: &[(String, String)],
        visiting: &mut BTreeSet<PathBuf>,
    ) {
        let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        if visiting.len() >= MAX_DEPTH || !visiting.insert(key.clone()) {
            return;
        }
        let Some(text) = std::fs::read_to_string(file).ok() else {
            visiting.remove(&key);
            return;
        };
        let Some(k) = yaml::parse_document(&text).ok().flatten() else {
            visiting.remove(&key);
            return;
        };
        let field = |name: &str| k.value.get(name).and_then(Value::as_str).unwrap_or("");
        let mut affixes = outer.to_vec();
        affixes.push((
            field("namePrefix").to_owned(),
            field("nameSuffix").to_owned(),
        ));
        // What the kustomization builds on is patched first, in the order it is listed.
        for list in ["resources", "bases", "components"] {
            for entry in strings(k.value.get(list)) {
                let child = dir.join(entry);
                if let Some(r) = render::Renderable::detect(&child)
                    .filter(|r| r.tool == crate::resource::Renderer::Kustomize)
                {
                    self.add_kustomization(&r.dir, &r.marker, &affixes, visiting);
                }
            }
        }
        let source = SourcePath::new(file);
        // kustomize's order: strategic merge patches, then `patches`, then JSON 6902 patches.
        for entry in strings(k.value.get("patchesStrategicMerge")) {
            if !entry.contains('\n') {
                self.add_file_patch(&dir.join(entry), None, &affixes);
            }
        }
        for (list, index) in ["patches", "patchesJson6902"].iter().flat_map(|list| {
            let n = k
                .value
                .get(*list)
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            (0..n).map(move |i| (*list, i))
        }) {
            let entry = &k.value[list][index];
            let target = entry.get("target").map(target);
            if let Some(path) = entry.get("path").and_then(Value::as_str) {
                self.add_file_patch(&dir.join(path), target, &affixes);
            } else if let Some(inline) = entry.get("patch").and_then(Value::as_str) {
                let at = k.spans.subtree(&[
                    Segment::key(list),
                    Segment::Index(index),
                    Segment::key("patch"),
                ]);
                if let Some(offset) = at.and_then(|s| block_offset(&text, s.position())) {
                    let body = parse_all(inline);
                    self.patches.push(Patch {
                        file: source.clone(),
                        offset,
                        target,
                        body: Arc::new(body),
                        affixes: affixes.clone(),
                    });
                }
            }
        }
        visiting.remove(&key);
    }

    fn add_file_patch(
        &mut self,
        file: &Path,
        target: Option<Target>,
        affixes: &[(String, String)],
    ) {
        if let Some(body) = self.parsed(file) {
            self.patches.push(Patch {
                file: SourcePath::new(file),
                offset: (0, 0),
                target,
                body,
                affixes: affixes.to_vec(),
            });
        }
    }

    /// The documents of a YAML or JSON file, parsed once.
    pub fn parsed(&mut self, file: &Path) -> Option<Arc<Vec<Decoded>>> {
        self.files
            .entry(file.to_path_buf())
            .or_insert_with(|| {
                let text = std::fs::read_to_string(file).ok()?;
                Some(Arc::new(parse_all(&text)))
            })
            .clone()
    }
}

/// Every document of `text` that parses.
fn parse_all(text: &str) -> Vec<Decoded> {
    yaml::parse_stream(text)
        .into_iter()
        .filter_map(|d| d.content.ok().flatten())
        .collect()
}

fn strings(list: Option<&Value>) -> impl Iterator<Item = &str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn target(value: &Value) -> Target {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    Target {
        group: text("group"),
        version: text("version"),
        kind: text("kind"),
        name: text("name").and_then(|n| regex::Regex::new(&format!("^(?:{n})$")).ok()),
        labels: match text("labelSelector") {
            None => Some(Vec::new()),
            Some(selector) => selector
                .split(',')
                .map(|pair| {
                    pair.split_once('=')
                        .filter(|(k, v)| !k.ends_with('!') && !v.starts_with('='))
                        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                })
                .collect(),
        },
    }
}

/// Where the text of a block scalar (`patch: |-`) whose key is at `key` starts: the line
/// before its first line, and its indentation, to add to positions in the text. `None` when
/// the value is not a block scalar, whose lines could not be mapped back.
fn block_offset(text: &str, key: Position) -> Option<(u32, u32)> {
    let mut lines = text.lines().skip(key.line.saturating_sub(1) as usize);
    let key_line = lines.next()?;
    let after_colon = key_line
        .chars()
        .skip(key.column.saturating_sub(1) as usize)
        .skip_while(|c| *c != ':')
        .skip(1)
        .collect::<String>();
    if !after_colon.trim_start().starts_with('|') {
        return None;
    }
    let indent = lines
        .find(|l| !l.trim().is_empty())
        .map(|l| l.chars().take_while(|c| *c == ' ').count())?;
    Some((key.line, u32::try_from(indent).ok()?))
}

/// Where the fields of one object of a kustomize build are written.
#[derive(Debug)]
pub struct KustomizeSourceMap {
    /// The file the origin annotation names, with its documents, for an object read from a
    /// resource file (not a generated one).
    pub resource: Option<(SourcePath, Arc<Vec<Decoded>>)>,
    pub build: Arc<Build>,
}

impl SourceMap for KustomizeSourceMap {
    fn written(&self, object: &Value, path: &FieldPath) -> Option<Written> {
        let segments = super::template_lines::existing(object, path);
        let value = value_at(object, segments)?;
        let patches: Vec<&Patch> = self.build.patches.iter().rev().collect();
        // The last patch that writes what the build has; then the resource file; then any
        // patch that writes the field at all (a mapping two patches fill in together).
        let written_by = |same_value: bool| {
            patches.iter().find_map(|p| {
                p.writes(object, segments, value, same_value)
                    .map(|position| Written {
                        file: p.file.clone(),
                        position,
                    })
            })
        };
        written_by(true)
            .or_else(|| {
                let (file, docs) = self.resource.as_ref()?;
                let doc = document_of(docs, object)?;
                let translated = translate(object, &doc.value, segments)?;
                let position = doc.spans.subtree(&translated)?.position();
                Some(Written {
                    file: file.clone(),
                    position,
                })
            })
            .or_else(|| written_by(false))
    }
}

fn value_at<'a>(object: &'a Value, segments: &[Segment]) -> Option<&'a Value> {
    segments.iter().try_fold(object, |node, s| match s {
        Segment::Key(k) => node.get(k.as_str()),
        Segment::Index(i) => node.get(*i),
    })
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The document of a resource file that holds `object`: its kind, and the longest name that
/// the object's name (prefixed, suffixed) contains.
fn document_of<'a>(docs: &'a [Decoded], object: &Value) -> Option<&'a Decoded> {
    let kind = text(object, "/kind");
    let name = text(object, "/metadata/name");
    let candidates: Vec<&Decoded> = docs
        .iter()
        .filter(|d| text(&d.value, "/kind") == kind)
        .filter(|d| name.contains(text(&d.value, "/metadata/name")))
        .collect();
    let longest = candidates
        .iter()
        .map(|d| text(&d.value, "/metadata/name").len())
        .max()?;
    let mut best = candidates
        .into_iter()
        .filter(|d| text(&d.value, "/metadata/name").len() == longest);
    match (best.next(), best.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// `segments` of the rendered `object` as a path in `written` (a resource file's document or
/// a patch), following list elements by merge key; `None` when `written` lacks the field.
fn translate(object: &Value, written: &Value, segments: &[Segment]) -> Option<Vec<Segment>> {
    let mut out = Vec::with_capacity(segments.len());
    let (mut rendered, mut node) = (object, written);
    for segment in segments {
        match segment {
            Segment::Key(k) => {
                rendered = rendered.get(k.as_str())?;
                node = node.get(k.as_str())?;
                out.push(segment.clone());
            }
            Segment::Index(i) => {
                rendered = rendered.get(*i)?;
                let items = node.as_array()?;
                let key = MERGE_KEYS.iter().find(|k| {
                    rendered
                        .get(**k)
                        .is_some_and(|v| !v.is_object() && !v.is_array())
                });
                let index = match key {
                    Some(key) => {
                        let mut same = items
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| e.get(*key) == rendered.get(*key));
                        match (same.next(), same.next()) {
                            (Some((j, _)), None) => j,
                            _ => return None,
                        }
                    }
                    // A list without a merge key is replaced whole by a patch: same index.
                    None => *i,
                };
                node = items.get(index)?;
                out.push(Segment::Index(index));
            }
        }
    }
    Some(out)
}

impl Patch {
    /// Whether the patch targets `object`: by its `target`, else by the kind and name its own
    /// document names (`doc`).
    fn targets(&self, object: &Value, doc: Option<&Value>) -> bool {
        let names = self.names(object);
        match (&self.target, doc) {
            (Some(t), _) => {
                let (group, version) = match text(object, "/apiVersion").rsplit_once('/') {
                    Some((g, v)) => (g, v),
                    None => ("", text(object, "/apiVersion")),
                };
                let labels = object.pointer("/metadata/labels");
                t.group.as_deref().is_none_or(|g| g == group)
                    && t.version.as_deref().is_none_or(|v| v == version)
                    && t.kind.as_deref().is_none_or(|k| k == text(object, "/kind"))
                    && t.name
                        .as_ref()
                        .is_none_or(|re| names.iter().any(|n| re.is_match(n)))
                    && t.labels.as_ref().is_some_and(|pairs| {
                        pairs.iter().all(|(k, v)| {
                            labels.and_then(|l| l.get(k)).and_then(Value::as_str) == Some(v)
                        })
                    })
            }
            (None, Some(doc)) => {
                text(doc, "/kind") == text(object, "/kind")
                    && names.iter().any(|n| n == text(doc, "/metadata/name"))
            }
            (None, None) => false,
        }
    }

    /// The object's name as each kustomization on the way saw it: without the prefixes and
    /// suffixes added after the patch, and without a generator's hash.
    fn names(&self, object: &Value) -> Vec<String> {
        let mut name = text(object, "/metadata/name").to_owned();
        let mut names = vec![name.clone()];
        for (prefix, suffix) in &self.affixes {
            if let Some(rest) = name.strip_prefix(prefix.as_str()) {
                name = rest.to_owned();
            }
            if let Some(rest) = name.strip_suffix(suffix.as_str()) {
                name = rest.to_owned();
            }
            names.push(name.clone());
        }
        // configMapGenerator and secretGenerator append `-<10 characters>`.
        let unhashed: Vec<String> = names
            .iter()
            .filter_map(|n| {
                n.rsplit_once('-')
                    .filter(|(_, h)| h.len() == 10 && h.chars().all(|c| c.is_ascii_alphanumeric()))
                    .map(|(n, _)| n.to_owned())
            })
            .collect();
        names.extend(unhashed);
        names
    }

    /// Where the patch writes the field at `segments` (whose value in the build is `value`),
    /// if it targets the object and writes it (with that value, when `same_value`).
    fn writes(
        &self,
        object: &Value,
        segments: &[Segment],
        value: &Value,
        same_value: bool,
    ) -> Option<Position> {
        let shift = |p: Position| Position {
            line: p.line + self.offset.0,
            column: p.column + self.offset.1,
        };
        if let [ops] = &self.body[..] {
            if ops.value.is_array() {
                return self
                    .targets(object, None)
                    .then(|| json6902(ops, object, segments, value, same_value))
                    .flatten()
                    .map(shift);
            }
        }
        self.body.iter().rev().find_map(|doc| {
            if !self.targets(object, Some(&doc.value)) {
                return None;
            }
            let translated = translate(object, &doc.value, segments)?;
            let written = value_at(&doc.value, &translated)?;
            if same_value && written != value {
                return None;
            }
            Some(shift(doc.spans.subtree(&translated)?.position()))
        })
    }
}

/// Where a JSON 6902 patch (`ops`) adds or replaces the field at `segments`: the last `add`
/// or `replace` whose `path` is the field or a parent of it.
fn json6902(
    ops: &Decoded,
    object: &Value,
    segments: &[Segment],
    value: &Value,
    same_value: bool,
) -> Option<Position> {
    let list = ops.value.as_array()?;
    list.iter().enumerate().rev().find_map(|(index, op)| {
        if !matches!(text(op, "/op"), "add" | "replace") {
            return None;
        }
        let pointer = text(op, "/path");
        let tokens: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        if pointer.is_empty() || tokens.len() > segments.len() {
            return None;
        }
        let mut parent = object;
        for (token, segment) in tokens.iter().zip(segments) {
            let same = match segment {
                Segment::Key(k) => token == k,
                // `-` appends: the last element.
                Segment::Index(i) => {
                    token == &i.to_string()
                        || (token == "-" && parent.as_array().is_some_and(|a| a.len() == i + 1))
                }
            };
            if !same {
                return None;
            }
            parent = value_at(parent, std::slice::from_ref(segment))?;
        }
        let rest = &segments[tokens.len()..];
        let written = value_at(op.get("value")?, rest)?;
        if same_value && written != value {
            return None;
        }
        let mut at = vec![Segment::Index(index), Segment::key("value")];
        at.extend(rest.iter().cloned());
        Some(ops.spans.subtree(&at)?.position())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> FieldPath {
        FieldPath::dotted(text)
    }

    fn patch(text: &str, target: Option<Target>, affixes: &[(&str, &str)]) -> Patch {
        Patch {
            file: SourcePath::from("overlay/patch.yaml"),
            offset: (0, 0),
            target,
            body: Arc::new(parse_all(text)),
            affixes: affixes
                .iter()
                .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
                .collect(),
        }
    }

    fn map(patches: Vec<Patch>, resource: &str) -> KustomizeSourceMap {
        KustomizeSourceMap {
            resource: Some((
                SourcePath::from("base/deployment.yaml"),
                Arc::new(parse_all(resource)),
            )),
            build: Arc::new(Build {
                patches,
                files: HashMap::new(),
            }),
        }
    }

    const BASE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: false\n";

    fn built() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "prod-web"},
        "spec": {"template": {"spec": {"containers": [
            {"name": "log", "image": "busybox"},
            {"name": "web", "image": "nginx:1.27", "securityContext": {"privileged": true}},
        ]}}}})
    }

    fn at(map: &KustomizeSourceMap, field: &str) -> Option<(String, u32, u32)> {
        map.written(&built(), &path(field))
            .map(|w| (w.file.to_string(), w.position.line, w.position.column))
    }

    #[test]
    fn a_field_a_patch_sets_points_at_the_patch() {
        let smp = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          securityContext:\n            privileged: true\n";
        let m = map(vec![patch(smp, None, &[("prod-", "")])], BASE);
        let privileged = "spec.template.spec.containers.1.securityContext.privileged";
        assert_eq!(
            at(&m, privileged),
            Some(("overlay/patch.yaml".into(), 11, 13))
        );
        // The element the patch merges into, but does not write whole: the base's line.
        assert_eq!(
            at(&m, "spec.template.spec.containers.1.resources"),
            Some(("base/deployment.yaml".into(), 14, 11))
        );
        // An element neither the base nor the patch writes.
        assert_eq!(at(&m, "spec.template.spec.containers.0.image"), None);
        assert_eq!(at(&m, "spec"), Some(("base/deployment.yaml".into(), 10, 1)));

        // A patch for another object changes nothing.
        let other = smp.replace("name: web\nspec", "name: api\nspec");
        let m = map(vec![patch(&other, None, &[("prod-", "")])], BASE);
        assert_eq!(
            at(&m, privileged),
            Some(("base/deployment.yaml".into(), 16, 13))
        );
    }

    #[test]
    fn json6902_ops_and_targets() {
        let ops = "- op: add\n  path: /spec/template/spec/containers/0\n  value:\n    name: log\n    image: busybox\n- op: replace\n  path: /spec/template/spec/containers/1/securityContext/privileged\n  value: true\n";
        let target = || {
            Some(Target {
                kind: Some("Deployment".into()),
                name: regex::Regex::new("^(?:w.b)$").ok(),
                labels: Some(Vec::new()),
                ..Target::default()
            })
        };
        let m = map(vec![patch(ops, target(), &[("prod-", "")])], BASE);
        assert_eq!(
            at(
                &m,
                "spec.template.spec.containers.1.securityContext.privileged"
            ),
            Some(("overlay/patch.yaml".into(), 8, 3))
        );
        assert_eq!(
            at(&m, "spec.template.spec.containers.0.image"),
            Some(("overlay/patch.yaml".into(), 5, 5))
        );
        let m = map(vec![patch(ops, target(), &[])], BASE);
        assert_eq!(
            at(&m, "spec.template.spec.containers.0.image"),
            None,
            "without the overlay's prefix the target's name does not match"
        );
    }

    #[test]
    fn inline_patches_are_located_in_the_kustomization() {
        let text = "resources:\n  - ../base\npatches:\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 3\n";
        assert_eq!(
            block_offset(text, Position { line: 6, column: 5 }),
            Some((6, 6))
        );
        assert_eq!(
            block_offset("patch: \"x\"\n", Position { line: 1, column: 1 }),
            None
        );
    }
}
