//! A finding: one rule failing on one object, located at the offending field.

use crate::resource::{FieldPath, ObjectRef, Origin, Position};
use crate::severity::Severity;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule_id: String,
    pub rule_title: String,
    pub severity: Severity,
    pub message: String,
    pub object: ObjectRef,
    pub origin: Origin,
    /// The offending field (or the nearest field that exists, when the fix is to add one).
    pub path: FieldPath,
    /// Where `path` is in the source, when the source has positions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// Stable across runs, line shifts and re-ordering: rule, source file, object and field.
    pub fingerprint: String,
}

impl Finding {
    pub fn fingerprint_of(
        rule_id: &str,
        object: &ObjectRef,
        origin: &Origin,
        path: &FieldPath,
    ) -> String {
        let mut h = Sha256::new();
        let source = origin.source_key();
        for part in [
            rule_id,
            &source,
            crate::policy::kinds::api_group(&object.api_version),
            &object.kind,
            object.namespace.as_deref().unwrap_or(""),
            &object.name,
            &path.to_string(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
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
        Origin::Cluster { cluster } => (cluster, std::path::Path::new(""), 0, None),
    }
}

/// Sorts findings into the one deterministic order all output uses.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()).then_with(|| cmp_rest(a, b)));
}

fn cmp_rest(a: &Finding, b: &Finding) -> Ordering {
    a.fingerprint.cmp(&b.fingerprint)
}
