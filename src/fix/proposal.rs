//! The review's fix list: one change per object, all of its findings together, ordered by what
//! it cuts — attack paths first, then severity × exposure — each with the change `posture fix`
//! would make where a safe one exists: an edit of the manifest, a strategic-merge patch for a
//! rendered object, or a `kubectl patch` for a live one. Pure like the rest of `fix`: the
//! caller says how a file is read.

use super::{catalog, desired::Tree, Applied, FileChange};
use crate::finding::Finding;
use crate::fingerprint::Fingerprint;
use crate::paths::{AttackPath, Edge, Step};
use crate::resource::{ObjectRef, Origin, Resource, SourcePath};
use crate::severity::Severity;
use foldhash::{HashMap, HashSet};
use rayon::prelude::*;
use std::cmp::Reverse;
use std::path::Path;

/// Objects the fix list proposes a change for; the review sends the reader to its details for
/// the rest.
pub const MAX_PROPOSALS: usize = 10;

/// One object's change: every finding on it, the paths resolving them cuts, and the patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub object: ObjectRef,
    pub origin: Origin,
    /// The fingerprints of the object's findings, in report order.
    pub findings: Vec<Fingerprint>,
    /// Ids of the attack paths that resolving all of them cuts, best first.
    pub cuts: Vec<String>,
    /// The highest exposure of a path through the object: 3 the internet, 2 node addresses or
    /// every authenticated identity, 1 otherwise (a foothold inside).
    pub exposure: u8,
    /// Σ severity weight × exposure over the findings ([`severity_weight`]).
    pub weight: u32,
    /// The safe change, when there is one.
    pub change: Option<Change>,
    /// Per finding (by fingerprint, in report order): resolved by the change, or why not.
    pub outcomes: Vec<(Fingerprint, Result<(), String>)>,
}

impl Proposal {
    /// Whether the change resolves the finding with this fingerprint.
    pub fn resolves(&self, fingerprint: &Fingerprint) -> bool {
        self.outcomes
            .iter()
            .any(|(f, r)| f == fingerprint && r.is_ok())
    }
}

/// How the change is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `posture fix --write` edits this manifest file.
    Edit(FileChange),
    /// A strategic-merge patch for a rendered object, to apply from a kustomization.
    Kustomize(FileChange),
    /// A live object: `kubectl patch` with a strategic-merge patch.
    Kubectl { command: String },
}

/// What one finding of a severity weighs in the fix list's order.
pub fn severity_weight(s: Severity) -> u32 {
    match s {
        Severity::Critical => 8,
        Severity::High => 4,
        Severity::Medium => 2,
        Severity::Low => 1,
    }
}

/// The fix list: at most `limit` proposals, best first. `resources` are the objects the
/// findings were found on, `paths` the attack paths of the same scan; `read` gives a manifest's
/// text. Objects are ranked, and the chosen ones' changes worked out, on every core: a change
/// reads and checks its whole file again.
pub fn propose(
    resources: &[Resource],
    findings: &[Finding],
    paths: &[AttackPath],
    read: &(dyn Fn(&SourcePath) -> std::io::Result<String> + Sync),
    limit: usize,
) -> Vec<Proposal> {
    let mut order: Vec<(&ObjectRef, &Origin)> = Vec::new();
    let mut groups: HashMap<(&ObjectRef, &Origin), Vec<&Finding>> = HashMap::default();
    for f in findings {
        let key = (&*f.object, &*f.origin);
        let group = groups.entry(key).or_default();
        if group.is_empty() {
            order.push(key);
        }
        group.push(f);
    }
    let mut exposure: HashMap<&ObjectRef, u8> = HashMap::default();
    for p in paths {
        for s in &p.steps {
            let e = exposure.entry(&s.object).or_insert(1);
            *e = (*e).max(p.score.exposure);
        }
    }
    let mut ranked: Vec<Ranked<'_>> = order
        .into_par_iter()
        .map(|key| {
            let fs = &groups[&key];
            let prints: HashSet<Fingerprint> = fs.iter().map(|f| f.fingerprint).collect();
            let cuts: Vec<&AttackPath> = paths
                .iter()
                .filter(|p| p.steps.iter().any(|s| cut_by(s, key.0, &prints)))
                .collect();
            let exposure = exposure.get(key.0).copied().unwrap_or(1);
            let weight = fs
                .iter()
                .map(|f| severity_weight(f.severity) * u32::from(exposure))
                .sum();
            Ranked {
                key,
                findings: fs.clone(),
                cuts,
                exposure,
                weight,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        let best = |r: &Ranked<'_>| r.cuts.iter().map(|p| p.score.value).max().unwrap_or(0);
        (Reverse(a.cuts.len()), Reverse(best(a)), Reverse(a.weight))
            .cmp(&(Reverse(b.cuts.len()), Reverse(best(b)), Reverse(b.weight)))
            .then_with(|| a.key.0.cmp(b.key.0))
            .then_with(|| a.key.1.source_key().cmp(&b.key.1.source_key()))
    });
    ranked.truncate(limit);
    ranked
        .into_par_iter()
        .map(|r| {
            let resource = resources
                .iter()
                .find(|x| *x.id == *r.key.0 && *x.origin == *r.key.1);
            let (change, outcomes) = change_of(resource, &r.findings, resources, read);
            Proposal {
                object: r.key.0.clone(),
                origin: r.key.1.clone(),
                findings: r.findings.iter().map(|f| f.fingerprint).collect(),
                cuts: r.cuts.iter().map(|p| p.id.clone()).collect(),
                exposure: r.exposure,
                weight: r.weight,
                change,
                outcomes,
            }
        })
        .collect()
}

struct Ranked<'a> {
    key: (&'a ObjectRef, &'a Origin),
    findings: Vec<&'a Finding>,
    cuts: Vec<&'a AttackPath>,
    exposure: u8,
    weight: u32,
}

/// Whether resolving the findings `prints` of `object` removes the step: a weakness, a
/// credential or a mounted token the findings are the whole evidence of, a token Secret or an
/// open binding whose findings they are, or the binding that grants the power.
fn cut_by(step: &Step, object: &ObjectRef, prints: &HashSet<Fingerprint>) -> bool {
    let evidence: Vec<&Fingerprint> = step
        .evidence
        .iter()
        .filter_map(|e| e.fingerprint.as_ref())
        .collect();
    match step.edge {
        Edge::EscapesToNode
        | Edge::HoldsCredentials
        | Edge::RunsAs
        | Edge::LeaksToken
        | Edge::GrantsEveryone
        | Edge::GrantsSubject => {
            !evidence.is_empty() && evidence.iter().all(|f| prints.contains(f))
        }
        Edge::GrantedBy => &step.object == object && !prints.is_empty(),
        Edge::Exposes | Edge::RoutesTo | Edge::Selects | Edge::Calls | Edge::Foothold => false,
    }
}

type Outcomes = Vec<(Fingerprint, Result<(), String>)>;

fn change_of(
    resource: Option<&Resource>,
    findings: &[&Finding],
    resources: &[Resource],
    read: &(dyn Fn(&SourcePath) -> std::io::Result<String> + Sync),
) -> (Option<Change>, Outcomes) {
    let refuse_all = |why: &str| -> Outcomes {
        findings
            .iter()
            .map(|f| (f.fingerprint, Err(why.to_owned())))
            .collect()
    };
    let Some(resource) = resource else {
        return (None, refuse_all("posture cannot find the object again"));
    };
    if let Origin::Cluster { .. } = *resource.origin {
        return kubectl(resource, findings);
    }
    let owned: Vec<Finding> = findings.iter().map(|f| (*f).clone()).collect();
    let plan = super::plan(&owned, resources, read, Path::new("posture-patches"));
    let outcomes = findings
        .iter()
        .map(|f| {
            let location = f.location().line();
            let result = plan
                .outcomes
                .iter()
                .find(|o| o.rule_id == f.rule_id && o.location == location)
                .map_or(Err("posture has no decision for it".to_owned()), |o| {
                    o.result.clone().map(|_| ())
                });
            (f.fingerprint, result)
        })
        .collect();
    let patch = plan
        .outcomes
        .iter()
        .any(|o| matches!(o.result, Ok(Applied::Patch(_))));
    let change = plan.changes.into_iter().next().map(|c| match patch {
        true => Change::Kustomize(c),
        false => Change::Edit(c),
    });
    (change, outcomes)
}

/// A live object's change as `kubectl patch --type=strategic`. A running Pod's spec cannot be
/// changed in place, so a Pod gets none.
fn kubectl(resource: &Resource, findings: &[&Finding]) -> (Option<Change>, Outcomes) {
    if resource.id.kind == "Pod" && resource.id.group().is_empty() {
        let why = "a running Pod's spec cannot be changed in place: change what creates it, or \
                   delete the Pod";
        let outcomes = findings
            .iter()
            .map(|f| (f.fingerprint, Err(why.to_owned())))
            .collect();
        return (None, outcomes);
    }
    let mut tree = Tree::default();
    let mut outcomes: Outcomes = Vec::new();
    let mut conflict = None;
    for f in findings {
        match catalog::decide(f, &resource.object) {
            Ok(wants) => {
                for want in wants {
                    if let Err(e) = tree.add(want) {
                        conflict = Some(e.to_string());
                    }
                }
                outcomes.push((f.fingerprint, Ok(())));
            }
            Err(why) => outcomes.push((f.fingerprint, Err(why))),
        }
    }
    let failed = |outcomes: &mut Outcomes, why: String| {
        for (_, r) in outcomes.iter_mut().filter(|(_, r)| r.is_ok()) {
            *r = Err(why.clone());
        }
    };
    if let Some(why) = conflict {
        failed(&mut outcomes, why);
        return (None, outcomes);
    }
    if tree.0.is_empty() {
        return (None, outcomes);
    }
    let body = match super::patch_value(resource, &tree) {
        Ok(mut doc) => {
            for k in ["apiVersion", "kind", "metadata"] {
                doc.remove(k);
            }
            doc
        }
        Err(why) => {
            failed(&mut outcomes, why);
            return (None, outcomes);
        }
    };
    let json = serde_json::Value::Object(body).to_string();
    let mut command = format!(
        "kubectl patch {} {}",
        resource.id.kind.to_ascii_lowercase(),
        shell_word(&resource.id.name)
    );
    if let Some(ns) = &resource.id.namespace {
        command.push_str(&format!(" -n {}", shell_word(ns)));
    }
    command.push_str(&format!(" --type=strategic -p {}", shell_word(&json)));
    (Some(Change::Kubectl { command }), outcomes)
}

/// `s` as one word for a POSIX shell: bare when it is plainly safe, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(super::shell_word("ratings-api"), "ratings-api");
        assert_eq!(super::shell_word("{\"a\":1}"), "'{\"a\":1}'");
        assert_eq!(super::shell_word("it's"), r"'it'\''s'");
    }
}
