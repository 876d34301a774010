//! A finding: one rule failing on one object, located at the offending field.

use crate::fingerprint::Fingerprint;
use crate::message::Message;
use crate::resource::{FieldPath, ObjectRef, Origin, Position, Written};
use crate::severity::Severity;
use crate::shared_text::SharedText;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::sync::Arc;

/// The rule's id and title, object and origin are shared: an object's findings point at one
/// copy of its identity and origin, and a rule's at one copy of its id and title (a large
/// scan holds hundreds of thousands of findings, and a watch copies them on every change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule_id: SharedText,
    pub rule_title: SharedText,
    pub severity: Severity,
    pub message: Message,
    pub object: Arc<ObjectRef>,
    pub origin: Arc<Origin>,
    /// The offending field (or the nearest field that exists, when the fix is to add one).
    /// Shared: the findings of one rule on many objects mostly name the same few fields.
    pub path: Arc<FieldPath>,
    /// Where `path` is in the source, when the source has positions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// For an object rendered from a chart or kustomization: where `path` is written in the
    /// repository, when that can be told (`position` is then a line of the tool's output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<Box<Written>>,
    /// Stable across runs, line shifts and re-ordering: rule, source file, object and field.
    pub fingerprint: Fingerprint,
}

/// The empty path (a finding on the whole object), one copy shared by every finding with it.
pub fn empty_path() -> Arc<FieldPath> {
    static EMPTY: std::sync::OnceLock<Arc<FieldPath>> = std::sync::OnceLock::new();
    Arc::clone(EMPTY.get_or_init(Arc::default))
}

/// The key of a finding's fingerprint in SARIF `partialFingerprints`, read back by
/// `--baseline` and `posture diff`. Versioned: a change to [`Finding::fingerprint_of`] that
/// moves fingerprints must change it.
pub const FINGERPRINT_KEY: &str = "postureFinding/v1";

impl Finding {
    /// Where the finding is, in the forms reporters show.
    pub fn location(&self) -> crate::location::Location<'_> {
        crate::location::Location::new(
            &self.origin,
            &self.object,
            self.position,
            self.written.as_deref(),
        )
    }

    /// `value` is the object, when at hand: elements of named lists (containers, volumes, env)
    /// are then fingerprinted by name, so re-ordering them changes nothing.
    pub fn fingerprint_of(
        rule_id: &str,
        object: &ObjectRef,
        origin: &Origin,
        path: &FieldPath,
        value: Option<&serde_json::Value>,
    ) -> Fingerprint {
        let mut h = Sha256::new();
        let source = origin.source_key();
        for part in [
            rule_id,
            &source,
            object.group(),
            &object.kind,
            object.namespace.as_deref().unwrap_or(""),
            &object.name,
            &stable_path(path, value),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        let mut bytes = [0; Fingerprint::BYTES];
        bytes.copy_from_slice(&digest[..Fingerprint::BYTES]);
        Fingerprint::from_bytes(bytes)
    }

    /// The order every reporter sees: rule, namespace, kind, name, path, then source.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.rule_id,
            &self.object.namespace,
            &self.object.kind,
            &self.object.name,
            &self.path,
            origin_key(&self.origin),
            self.position,
            &self.message,
        )
    }
}

/// Orders origins: cluster, then file, document and item.
pub(crate) fn origin_key(o: &Origin) -> (&str, &std::path::Path, usize, Option<usize>) {
    match o {
        Origin::File {
            path,
            document,
            item,
            ..
        } => ("", path.as_path(), *document, *item),
        Origin::Rendered {
            tool,
            dir,
            document,
            item,
            ..
        } => (tool.as_str(), dir.as_path(), *document, *item),
        Origin::Cluster { cluster } => (cluster, std::path::Path::new(""), 0, None),
    }
}

/// `path` as text, with `[name=<name>]` for the elements of lists whose items have names.
fn stable_path(path: &FieldPath, value: Option<&serde_json::Value>) -> String {
    use crate::resource::Segment;
    use std::fmt::Write;
    let Some(mut node) = value else {
        return path.to_string();
    };
    let mut out = String::new();
    let mut present = true;
    for segment in &path.0 {
        let next = if present {
            match segment {
                Segment::Key(k) => node.get(k.as_str()),
                Segment::Index(i) => node.get(*i),
            }
        } else {
            None
        };
        match (
            segment,
            next.and_then(|n| n.get("name")).and_then(|n| n.as_str()),
        ) {
            (Segment::Index(_), Some(name)) => {
                let _ = write!(out, "[name={name}]");
            }
            (Segment::Index(i), None) => {
                let _ = write!(out, "[{i}]");
            }
            (Segment::Key(k), _) if crate::resource::path::is_plain(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            (Segment::Key(k), _) => {
                let _ = write!(out, "[{k:?}]");
            }
        }
        match next {
            Some(n) => node = n,
            None => present = false,
        }
    }
    out
}

/// Sorts findings into the one deterministic order all output uses, on every core: a large
/// scan sorts half a million findings. Findings the order cannot tell apart have the same rule,
/// object, place, message and fingerprint, and so say the same everywhere; which comes first
/// cannot show, so the sort need not be stable. A stable one holds a copy of every finding
/// while it merges (some 70 MB at 100,000 objects); this one sorts in place.
pub fn sort(findings: &mut [Finding]) {
    use rayon::slice::ParallelSliceMut;
    findings
        .par_sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()).then_with(|| cmp_rest(a, b)));
}

fn cmp_rest(a: &Finding, b: &Finding) -> Ordering {
    a.fingerprint.cmp(&b.fingerprint)
}
