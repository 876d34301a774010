//! `posture fix`: for findings on manifests, the smallest change that resolves each one where a
//! safe change exists ([`catalog`]), written into the file it was found in with everything else
//! kept as written ([`yaml_edit`]), or, for objects a chart or kustomization renders, as a
//! strategic-merge patch to apply with kustomize. What posture cannot prove safe it leaves
//! alone and says why, per finding.
//!
//! Every edit is checked before it is offered: the edited file is read again and the object
//! must come out exactly as the wanted change applied to the original object, or the file is
//! left unchanged and its findings say so. Reading and writing files is the caller's.

pub mod catalog;
mod desired;
pub mod proposal;
mod yaml_edit;

use crate::finding::Finding;
use crate::resource::{ObjectRef, Origin, Resource, Segment, SourcePath};
use desired::{Node, Tree};
use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// One object's wanted changes (by its index among the resources) and the findings they fix.
type ObjectFix<'a> = (usize, Tree, Vec<&'a Finding>);

/// What `posture fix` does about one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rule_id: String,
    pub object: ObjectRef,
    /// Where the finding is, as reports show it.
    pub location: String,
    pub result: Result<Applied, String>,
}

/// How a finding is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// By an edit of this file.
    Edited(String),
    /// By this new patch file (a rendered object).
    Patch(String),
}

/// A file as it is and as the fixes leave it; `before` is empty for a new patch file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    pub before: String,
    pub after: String,
}

impl FileChange {
    /// A unified diff of the change, as `git diff` shows it (`/dev/null` for a new file).
    pub fn unified_diff(&self) -> String {
        let path = self.path.trim_start_matches('/');
        let old = if self.before.is_empty() {
            "/dev/null".to_owned()
        } else {
            format!("a/{path}")
        };
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&old, &format!("b/{path}"))
            .to_string()
    }
}

/// Everything a fix run would do.
#[derive(Debug, Default)]
pub struct Plan {
    pub outcomes: Vec<Outcome>,
    pub changes: Vec<FileChange>,
}

impl Plan {
    pub fn fixed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }
}

/// The fixes of `findings`, made on `resources` (the objects they were found on). `read` gives
/// a file's text; `patch_dir` is where patches for rendered objects go.
pub fn plan(
    findings: &[Finding],
    resources: &[Resource],
    read: &(dyn Fn(&SourcePath) -> std::io::Result<String> + Sync),
    patch_dir: &Path,
) -> Plan {
    let mut by_object: BTreeMap<usize, Vec<(&Finding, Vec<desired::Want>)>> = BTreeMap::new();
    let mut plan = Plan::default();
    // Each finding's object, the first of its identity and origin: looked up, not searched
    // for (every finding of a large scan would go over every object).
    let mut index: foldhash::HashMap<(&ObjectRef, &Origin), usize> = foldhash::HashMap::default();
    for (i, r) in resources.iter().enumerate() {
        index.entry((&r.id, &r.origin)).or_insert(i);
    }
    for f in findings {
        let found = index.get(&(&*f.object, &*f.origin)).copied();
        let decision = match found {
            None => Err("posture cannot find the object again".to_owned()),
            Some(i) => catalog::decide(f, &resources[i].object).map(|w| (i, w)),
        };
        match decision {
            Ok((i, wants)) => by_object.entry(i).or_default().push((f, wants)),
            Err(why) => plan.outcomes.push(outcome(f, Err(why))),
        }
    }
    // Per file: the edits of each of its objects, then the file checked as a whole.
    let mut files: BTreeMap<&SourcePath, Vec<ObjectFix<'_>>> = BTreeMap::new();
    for (i, fixes) in by_object {
        let resource = &resources[i];
        let mut tree = Tree::default();
        let mut conflict = None;
        for (_, wants) in &fixes {
            for want in wants {
                if let Err(e) = tree.add(want.clone()) {
                    conflict = Some(e.to_string());
                }
            }
        }
        let of_object: Vec<&Finding> = fixes.iter().map(|(f, _)| *f).collect();
        if let Some(why) = conflict {
            refuse(&mut plan, &of_object, &why);
            continue;
        }
        match &*resource.origin {
            Origin::File { path, .. } if path.as_str() != "-" => {
                files.entry(path).or_default().push((i, tree, of_object));
            }
            Origin::File { .. } => refuse(
                &mut plan,
                &of_object,
                "read from standard input: there is no file to edit",
            ),
            Origin::Rendered { dir, .. } => match patch(resource, &tree) {
                Ok(text) => {
                    let name = patch_dir
                        .join(patch_name(&resource.id))
                        .display()
                        .to_string();
                    for f in &of_object {
                        plan.outcomes
                            .push(outcome(f, Ok(Applied::Patch(name.clone()))));
                    }
                    plan.changes.push(FileChange {
                        path: name,
                        before: String::new(),
                        after: format!(
                            "# posture fix: a strategic-merge patch for {} as {} renders it. Apply \
                             it from a kustomization whose resources include that output \
                             (names are as rendered).\n{text}",
                            resource.id.display_name(),
                            dir.as_str()
                        ),
                    });
                }
                Err(why) => refuse(&mut plan, &of_object, &why),
            },
            Origin::Cluster { .. } => refuse(
                &mut plan,
                &of_object,
                "an object of a live cluster; fix the manifests it is deployed from",
            ),
        }
    }
    // Each file's objects in input order, to check an edited file against.
    let mut in_file: foldhash::HashMap<&SourcePath, Vec<&Resource>> = foldhash::HashMap::default();
    for r in resources {
        if let Origin::File { path, .. } = &*r.origin {
            in_file.entry(path).or_default().push(r);
        }
    }
    // Files are edited and checked on every core, and merged in order.
    let edited: Vec<(Vec<Outcome>, Option<FileChange>)> = files
        .into_par_iter()
        .map(|(path, objects)| {
            let originals = in_file.get(path).map_or(&[][..], Vec::as_slice);
            fix_file(path, &objects, resources, originals, read)
        })
        .collect();
    for (outcomes, change) in edited {
        plan.outcomes.extend(outcomes);
        plan.changes.extend(change);
    }
    plan.outcomes.sort_by(|a, b| {
        (&a.rule_id, &a.object, &a.location).cmp(&(&b.rule_id, &b.object, &b.location))
    });
    plan
}

/// The edits of one file's objects, checked as a whole: each object's outcomes, and the
/// file's change when any edit was made. `originals` are the file's objects in input order.
fn fix_file(
    path: &SourcePath,
    objects: &[ObjectFix<'_>],
    resources: &[Resource],
    originals: &[&Resource],
    read: &(dyn Fn(&SourcePath) -> std::io::Result<String> + Sync),
) -> (Vec<Outcome>, Option<FileChange>) {
    let mut plan = Plan::default();
    let before = match read(path) {
        Ok(text) => text,
        Err(e) => {
            for (_, _, fs) in objects {
                refuse(
                    &mut plan,
                    fs,
                    &format!("cannot read {}: {e}", path.as_str()),
                );
            }
            return (plan.outcomes, None);
        }
    };
    let mut edits = yaml_edit::Edits::default();
    // Split once: a file of many objects is edited object by object.
    let lines: Vec<&str> = before.lines().collect();
    let mut done: Vec<(usize, &Tree, &Vec<&Finding>)> = Vec::new();
    for (i, tree, fs) in objects {
        let resource = &resources[*i];
        let Some(spans) = &resource.spans else {
            refuse(&mut plan, fs, "posture has no positions for this object");
            continue;
        };
        let mut own = yaml_edit::Edits::default();
        match yaml_edit::Document::new(&lines, spans, &resource.object).edit(tree, &mut own) {
            Ok(()) => {
                edits.absorb(own);
                done.push((*i, tree, fs));
            }
            Err(why) => refuse(&mut plan, fs, &why),
        }
    }
    if done.is_empty() {
        return (plan.outcomes, None);
    }
    let after = edits.apply(&before);
    match verify(path, &after, resources, originals, &done) {
        Ok(()) => {
            for (_, _, fs) in &done {
                for f in fs.iter() {
                    plan.outcomes
                        .push(outcome(f, Ok(Applied::Edited(path.as_str().to_owned()))));
                }
            }
            let change = FileChange {
                path: path.as_str().to_owned(),
                before,
                after,
            };
            (plan.outcomes, Some(change))
        }
        Err(why) => {
            for (_, _, fs) in &done {
                refuse(&mut plan, fs, &why);
            }
            (plan.outcomes, None)
        }
    }
}

fn outcome(f: &Finding, result: Result<Applied, String>) -> Outcome {
    Outcome {
        rule_id: f.rule_id.to_string(),
        object: (*f.object).clone(),
        location: f.location().line(),
        result,
    }
}

fn refuse(plan: &mut Plan, findings: &[&Finding], why: &str) {
    for f in findings {
        plan.outcomes.push(outcome(f, Err(why.to_owned())));
    }
}

/// The edited file, read again, must hold each edited object exactly as the wanted change
/// applied to the original, and every other object unchanged.
fn verify(
    path: &SourcePath,
    after: &str,
    resources: &[Resource],
    originals: &[&Resource],
    done: &[(usize, &Tree, &Vec<&Finding>)],
) -> Result<(), String> {
    let reread = crate::collect::manifests::load_text(Path::new(path.as_str()), after);
    if reread.problems.iter().any(|p| p.is_error()) {
        return Err(format!(
            "the edit would not parse ({}); the file is left as it is",
            reread
                .problems
                .iter()
                .find(|p| p.is_error())
                .map(|p| p.message.clone())
                .unwrap_or_default()
        ));
    }
    if originals.len() != reread.resources.len() {
        return Err("the edit would change the objects in the file; it is left as it is".into());
    }
    for (original, again) in originals.iter().zip(&reread.resources) {
        let wanted = done
            .iter()
            .find(|(i, _, _)| std::ptr::eq(&resources[*i], *original))
            .map_or_else(
                || original.object.clone(),
                |(_, tree, _)| tree.apply(&original.object),
            );
        if again.object != wanted {
            return Err(
                "posture could not make the edit it meant here; the file is left as it is".into(),
            );
        }
    }
    Ok(())
}

fn patch_name(id: &ObjectRef) -> String {
    let mut name = id.kind.to_ascii_lowercase();
    if let Some(ns) = &id.namespace {
        name.push('-');
        name.push_str(ns);
    }
    name.push('-');
    name.push_str(&id.name);
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{safe}.yaml")
}

/// A strategic-merge patch that makes a rendered object hold `tree`: the object's identity,
/// then the wanted fields, with list items named by their merge key (containers by name).
fn patch(resource: &Resource, tree: &Tree) -> Result<String, String> {
    let doc = patch_value(resource, tree)?;
    serde_saphyr::to_string(&Value::Object(doc)).map_err(|e| e.to_string())
}

/// The patch of [`patch`] as a value: identity first, then the wanted fields.
fn patch_value(resource: &Resource, tree: &Tree) -> Result<Map<String, Value>, String> {
    let applied = tree.apply(&resource.object);
    let mut doc = Map::new();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = resource.object.get(k) {
            doc.insert(k.to_owned(), v.clone());
        }
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(resource.id.name));
    if let Some(ns) = &resource.id.namespace {
        metadata.insert("namespace".into(), json!(ns));
    }
    doc.insert("metadata".into(), Value::Object(metadata));
    let body = patch_map(tree, &applied)?;
    for (k, v) in body {
        if k != "metadata" {
            doc.insert(k, v);
        }
    }
    Ok(doc)
}

fn patch_map(tree: &Tree, applied: &Value) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let mut by_index: BTreeMap<String, Vec<(usize, &Node)>> = BTreeMap::new();
    for (segment, node) in &tree.0 {
        let Segment::Key(k) = segment else {
            return Err("a list item at the top of a patch".into());
        };
        let value = applied.get(k.as_str()).cloned().unwrap_or(Value::Null);
        match node {
            Node::Map(t) => {
                // containers[i] and the like: a map keyed by index under a list.
                if t.0.keys().all(|s| matches!(s, Segment::Index(_))) && !t.0.is_empty() {
                    for (s, n) in &t.0 {
                        if let Segment::Index(i) = s {
                            by_index.entry(k.to_string()).or_default().push((*i, n));
                        }
                    }
                    continue;
                }
                out.insert(k.to_string(), Value::Object(patch_map(t, &value)?));
            }
            Node::Scalar(v) => {
                out.insert(k.to_string(), v.clone());
            }
            Node::Items(items) => {
                let keyed = items.iter().all(|(_, key)| key.is_some());
                if keyed {
                    // Merged by their key: only the new items.
                    out.insert(
                        k.to_string(),
                        Value::Array(items.iter().map(|(item, _)| item.clone()).collect()),
                    );
                } else {
                    // A list of scalars is replaced whole by a strategic merge.
                    out.insert(k.to_string(), value);
                }
            }
        }
    }
    for (k, items) in by_index {
        let list = applied.get(&k).and_then(Value::as_array);
        let mut entries = Vec::new();
        for (i, node) in items {
            let item = list.and_then(|l| l.get(i)).cloned().unwrap_or(Value::Null);
            let name = item
                .get("name")
                .cloned()
                .ok_or_else(|| format!("{k}[{i}] has no name to merge a patch by"))?;
            let mut entry = Map::new();
            entry.insert("name".into(), name);
            match node {
                Node::Map(t) => entry.extend(patch_map(t, &item)?),
                _ => return Err(format!("{k}[{i}] is replaced, not patched")),
            }
            entries.push(Value::Object(entry));
        }
        out.insert(k, Value::Array(entries));
    }
    Ok(out)
}
