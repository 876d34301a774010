//! `posture diff` as a table or JSON (diff schema [`DIFF_SCHEMA_VERSION`]): findings
//! introduced, fixed and unchanged, and for snapshots the objects added, removed and changed.

use super::table::new_table;
use super::Style;
use crate::baseline::{self, PriorFinding};
use crate::diff::{DiffReport, Drift, FindingsDiff, DIFF_SCHEMA_VERSION};
use crate::resource::ObjectRef;
use comfy_table::Cell;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct JsonDiff<'a> {
    schema_version: &'static str,
    old: &'a str,
    new: &'a str,
    summary: Summary,
    findings: &'a FindingsDiff,
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<&'a Drift>,
}

#[derive(Serialize)]
struct Summary {
    introduced: usize,
    fixed: usize,
    unchanged: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_added: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_removed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    objects_changed: Option<usize>,
}

pub fn json(diff: &DiffReport, out: &mut dyn Write) -> io::Result<()> {
    let drift = diff.drift.as_ref();
    let findings = &diff.findings;
    let doc = JsonDiff {
        schema_version: DIFF_SCHEMA_VERSION,
        old: &diff.old,
        new: &diff.new,
        summary: Summary {
            introduced: findings.introduced.len(),
            fixed: findings.fixed.len(),
            unchanged: findings.unchanged.len(),
            objects_added: drift.map(|d| d.added.len()),
            objects_removed: drift.map(|d| d.removed.len()),
            objects_changed: drift.map(|d| d.changed.len()),
        },
        findings,
        drift,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn findings_table(
    title: &str,
    findings: &[PriorFinding],
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "{title} ({})", findings.len())?;
    if findings.is_empty() {
        return writeln!(out);
    }
    let mut t = new_table(style);
    t.set_header(vec!["Severity", "Rule", "Object", "Location", "Finding"]);
    for f in findings {
        t.add_row(vec![
            Cell::new(f.severity.map(|s| s.as_str()).unwrap_or("-")),
            Cell::new(&f.rule_id),
            Cell::new(&f.object),
            Cell::new(&f.location),
            Cell::new(&f.message),
        ]);
    }
    writeln!(out, "{t}\n")
}

fn object_name(o: &ObjectRef) -> String {
    baseline::object_label(&o.kind, o.namespace.as_deref(), &o.name)
}

pub fn table(diff: &DiffReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let findings = &diff.findings;
    writeln!(out, "Comparing {} with {}\n", diff.old, diff.new)?;
    findings_table("INTRODUCED", &findings.introduced, style, out)?;
    findings_table("FIXED", &findings.fixed, style, out)?;
    writeln!(out, "UNCHANGED ({})\n", findings.unchanged.len())?;
    if let Some(d) = &diff.drift {
        writeln!(
            out,
            "DRIFT: {} added, {} removed, {} changed",
            d.added.len(),
            d.removed.len(),
            d.changed.len()
        )?;
        if !d.is_empty() {
            let mut t = new_table(style);
            t.set_header(vec!["Change", "Object", "Fields"]);
            for (change, o) in d
                .added
                .iter()
                .map(|o| ("added", o))
                .chain(d.removed.iter().map(|o| ("removed", o)))
            {
                t.add_row(vec![
                    Cell::new(change),
                    Cell::new(object_name(o)),
                    Cell::new(""),
                ]);
            }
            for c in &d.changed {
                // A long list helps nobody in a table; JSON has them all.
                const SHOWN: usize = 8;
                let mut fields = c.fields.iter().take(SHOWN).cloned().collect::<Vec<_>>();
                if c.fields.len() > SHOWN {
                    fields.push(format!("... {} more", c.fields.len() - SHOWN));
                }
                t.add_row(vec![
                    Cell::new("changed"),
                    Cell::new(object_name(&c.object)),
                    Cell::new(fields.join("\n")),
                ]);
            }
            writeln!(out, "{t}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{} introduced, {} fixed, {} unchanged",
        findings.introduced.len(),
        findings.fixed.len(),
        findings.unchanged.len()
    )
}
