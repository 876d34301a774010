//! Baselines: an earlier scan's findings, so a gate fails only on what a change introduces.
//!
//! A baseline is a posture JSON report or SARIF log. Findings are matched by fingerprint (rule,
//! source file or template, object and field), which survives line shifts and re-ordering.
//! Findings the earlier scan suppressed are not part of its baseline: an exception that expires
//! must bring its findings back to the gate, whatever the baseline says.

use crate::finding::Finding;
use crate::finding::FINGERPRINT_KEY;
use crate::fingerprint::{Fingerprint, FingerprintError};
use crate::severity::Severity;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// A finding of an earlier scan, as much of it as both JSON and SARIF record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriorFinding {
    pub fingerprint: Fingerprint,
    pub rule_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub message: String,
    /// `Kind namespace/name`, or the logical location SARIF gives.
    pub object: String,
    /// `file:line:column` or a `k8s://` address.
    pub location: String,
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped objects: how baselines and diffs
/// name an object, whichever format it was read from.
pub fn object_label(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

impl PriorFinding {
    pub fn of(f: &Finding) -> PriorFinding {
        let o = &f.object;
        let object = object_label(&o.kind, o.namespace.as_deref(), &o.name);
        let location = f.location().line();
        PriorFinding {
            fingerprint: f.fingerprint,
            rule_id: f.rule_id.to_string(),
            severity: Some(f.severity),
            message: f.message.to_string(),
            object,
            location,
        }
    }
}

/// The findings of an earlier scan that counted (not suppressed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PriorScan {
    /// What it was read from, as reports name it.
    pub source: String,
    pub findings: Vec<PriorFinding>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: crate::collect::input::ReadError,
    },
    #[error("{path} is not JSON")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} is neither a posture JSON report nor a SARIF log: write one with \
         `posture scan --format json` or `--format sarif`"
    )]
    Unknown { path: String },
    #[error("{path}: finding {index} has no fingerprint, so it cannot be compared")]
    NoFingerprint { path: String, index: usize },
    #[error("{path}: finding {index} has a fingerprint posture does not write")]
    BadFingerprint {
        path: String,
        index: usize,
        #[source]
        source: FingerprintError,
    },
}

/// Reads a baseline written by `posture scan --format json` or `--format sarif`.
pub fn read(path: &Path, max_input_bytes: u64) -> Result<PriorScan, BaselineError> {
    let shown = crate::resource::SourcePath::new(path).to_string();
    let text = crate::collect::input::read_text(path, max_input_bytes).map_err(|source| {
        BaselineError::Read {
            path: shown.clone(),
            source,
        }
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|source| BaselineError::Json {
        path: shown.clone(),
        source,
    })?;
    from_value(&value, &shown)
}

/// Decodes a JSON report or SARIF log already parsed; `source` names it in messages.
pub fn from_value(value: &Value, source: &str) -> Result<PriorScan, BaselineError> {
    let findings = if let Some(runs) = value.get("runs").and_then(Value::as_array) {
        sarif_findings(runs, source)?
    } else if let (Some(_), Some(findings)) = (
        value.get("schema_version"),
        value.get("findings").and_then(Value::as_array),
    ) {
        json_findings(findings, source)?
    } else {
        return Err(BaselineError::Unknown {
            path: source.to_owned(),
        });
    };
    Ok(PriorScan {
        source: source.to_owned(),
        findings,
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn json_findings(findings: &[Value], source: &str) -> Result<Vec<PriorFinding>, BaselineError> {
    findings
        .iter()
        .enumerate()
        .map(|(index, f)| {
            let fingerprint = fingerprint(f["fingerprint"].as_str(), source, index)?;
            let o = &f["object"];
            let object = object_label(
                &text(&o["kind"]),
                o["namespace"].as_str(),
                &text(&o["name"]),
            );
            let l = &f["location"];
            let location = match (l["file"].as_str(), l["uri"].as_str()) {
                (Some(file), _) => match (l["line"].as_u64(), l["column"].as_u64()) {
                    (Some(line), Some(col)) => format!("{file}:{line}:{col}"),
                    _ => file.to_owned(),
                },
                (None, Some(uri)) => uri.to_owned(),
                (None, None) => String::new(),
            };
            Ok(PriorFinding {
                fingerprint,
                rule_id: text(&f["rule_id"]),
                severity: f["severity"].as_str().and_then(|s| s.parse().ok()),
                message: text(&f["message"]),
                object,
                location,
            })
        })
        .collect()
}

fn sarif_findings(runs: &[Value], source: &str) -> Result<Vec<PriorFinding>, BaselineError> {
    let mut out = Vec::new();
    for run in runs {
        for (index, r) in run["results"].as_array().into_iter().flatten().enumerate() {
            let suppressed = r["suppressions"].as_array().is_some_and(|s| !s.is_empty());
            // Attack paths are not findings: a path is gone when its findings are.
            if suppressed
                || r["partialFingerprints"][crate::paths::PATH_FINGERPRINT_KEY].is_string()
            {
                continue;
            }
            let fingerprint = fingerprint(
                r["partialFingerprints"][FINGERPRINT_KEY].as_str(),
                source,
                index,
            )?;
            let location = &r["locations"][0];
            let physical = &location["physicalLocation"];
            let uri = text(&physical["artifactLocation"]["uri"]);
            let location_text = match (
                physical["region"]["startLine"].as_u64(),
                physical["region"]["startColumn"].as_u64(),
            ) {
                (Some(line), Some(col)) => format!("{uri}:{line}:{col}"),
                _ => uri,
            };
            out.push(PriorFinding {
                fingerprint,
                rule_id: text(&r["ruleId"]),
                severity: r["properties"]["severity"]
                    .as_str()
                    .and_then(|s| s.parse().ok()),
                message: text(&r["message"]["text"]),
                object: sarif_object(&location["logicalLocations"][0]["fullyQualifiedName"]),
                location: location_text,
            });
        }
    }
    Ok(out)
}

/// The fingerprint of the `index`th finding of `source`: every version of posture has written
/// the same 32 hex digits, so anything else is not a baseline posture can compare with.
fn fingerprint(
    text: Option<&str>,
    source: &str,
    index: usize,
) -> Result<Fingerprint, BaselineError> {
    let text = text.ok_or_else(|| BaselineError::NoFingerprint {
        path: source.to_owned(),
        index,
    })?;
    text.parse()
        .map_err(|source_error| BaselineError::BadFingerprint {
            path: source.to_owned(),
            index,
            source: source_error,
        })
}

/// posture's SARIF names objects `namespace/Kind/name` or `Kind/name`; shown as JSON's are.
fn sarif_object(qualified: &Value) -> String {
    let q = qualified.as_str().unwrap_or_default();
    match q.split('/').collect::<Vec<_>>()[..] {
        [ns, kind, name] => object_label(kind, Some(ns), name),
        [kind, name] => object_label(kind, None, name),
        _ => q.to_owned(),
    }
}

/// This scan's comparison with a baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// What the baseline was read from.
    pub source: String,
    known: HashSet<Fingerprint>,
    /// Findings of the baseline this scan no longer has.
    pub fixed: Vec<PriorFinding>,
}

impl Baseline {
    /// Compares `previous` with the findings `present` now (suppressed ones included: a
    /// suppressed finding is not fixed).
    pub fn new<'a>(previous: PriorScan, present: impl Iterator<Item = &'a Finding>) -> Baseline {
        let now: HashSet<Fingerprint> = present.map(|f| f.fingerprint).collect();
        let known = previous.findings.iter().map(|f| f.fingerprint).collect();
        let mut fixed: Vec<PriorFinding> = previous
            .findings
            .into_iter()
            .filter(|f| !now.contains(&f.fingerprint))
            .collect();
        fixed.sort_by(|a, b| {
            (&a.rule_id, &a.object, &a.fingerprint).cmp(&(&b.rule_id, &b.object, &b.fingerprint))
        });
        fixed.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        Baseline {
            source: previous.source,
            known,
            fixed,
        }
    }

    /// Whether the baseline had `f`.
    pub fn knows(&self, f: &Finding) -> bool {
        self.known.contains(&f.fingerprint)
    }
}

/// How a finding relates to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    New,
    Unchanged,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PRINT: &str = "8c1b5e2f0a9d47b36e5f1c2d3a4b5c6d";

    fn json_report(fingerprint: Value) -> Value {
        json!({
            "schema_version": "1.4",
            "findings": [{
                "rule_id": "PST-0001",
                "severity": "high",
                "message": "m",
                "object": {"kind": "Pod", "namespace": "web", "name": "api"},
                "location": {"file": "pod.yaml", "line": 3, "column": 5},
                "fingerprint": fingerprint,
            }],
        })
    }

    fn sarif_log(fingerprint: Value) -> Value {
        json!({"runs": [{"results": [{
            "ruleId": "PST-0001",
            "message": {"text": "m"},
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        }]}]})
    }

    /// Reports written by earlier versions hold the same 32 hex digits, and read back as such.
    #[test]
    fn json_and_sarif_fingerprints_read_back_unchanged() {
        for report in [json_report(json!(PRINT)), sarif_log(json!(PRINT))] {
            let scan = from_value(&report, "old.json").unwrap();
            assert_eq!(scan.findings[0].fingerprint.to_string(), PRINT);
        }
    }

    #[test]
    fn a_fingerprint_posture_does_not_write_is_refused_with_its_place() {
        for report in [
            json_report(json!("abc")),
            sarif_log(json!(PRINT.to_uppercase())),
        ] {
            let err = from_value(&report, "old.json").unwrap_err();
            assert!(matches!(
                err,
                BaselineError::BadFingerprint { index: 0, .. }
            ));
            assert_eq!(
                err.to_string(),
                "old.json: finding 0 has a fingerprint posture does not write"
            );
            let cause = std::error::Error::source(&err).unwrap().to_string();
            assert!(cause.contains("32 lowercase hexadecimal digits"), "{cause}");
        }
        let err = from_value(&json_report(Value::Null), "old.json").unwrap_err();
        assert!(matches!(err, BaselineError::NoFingerprint { index: 0, .. }));
    }
}
