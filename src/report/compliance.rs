//! The benchmark's compliance summary as the table shows it: counts per section, the failed
//! checks, and what could not be collected, grouped by reason.

use super::Style;
use crate::compliance::{Compliance, Selection, State, Tally};
use comfy_table::{Cell, CellAlignment, Color};
use std::io::{self, Write};

fn cells(t: &Tally, score: Option<f64>) -> Vec<Cell> {
    let mut row: Vec<Cell> = State::ALL
        .iter()
        .map(|s| Cell::new(t.get(*s)).set_alignment(CellAlignment::Right))
        .collect();
    row.push(
        Cell::new(score.map_or("—".to_owned(), |s| format!("{s:.1}%")))
            .set_alignment(CellAlignment::Right),
    );
    row
}

/// `CIS Kubernetes Benchmark 1.12.0 (cis-1.12, chosen automatically: AKS detected)`
pub fn heading(c: &Compliance) -> String {
    let how = match &c.selection {
        Selection::Auto { reason } => format!("chosen automatically: {reason}"),
        Selection::Named => "as requested".to_owned(),
    };
    let profile = c
        .profile_level
        .map_or(String::new(), |l| format!(", Level {l} profile"));
    format!(
        "{} {} ({}{profile}, {how})",
        c.title, c.version, c.benchmark
    )
}

/// A check's CIS profile level as the summaries show it after its id: ` [L1]`, ` [L2]`, or
/// nothing where no published source states it.
pub fn level_tag(level: Option<u8>) -> String {
    level.map_or(String::new(), |l| format!(" [L{l}]"))
}

pub fn write(c: &Compliance, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{}",
        super::table::heading(&heading(c).to_uppercase(), Some(Color::Cyan), style)
    )?;
    let mut table = super::table::new_table(style);
    let mut header = vec!["Section".to_owned()];
    header.extend(State::ALL.iter().map(|s| s.as_str().to_owned()));
    header.push("score".to_owned());
    table.set_header(header);
    for s in &c.sections {
        let depth = s.id.matches('.').count();
        // No-break spaces: the table trims ordinary leading spaces when it wraps a cell.
        let mut name = format!("{}{} {}", "\u{a0}\u{a0}".repeat(depth), s.id, s.title);
        let mut row = Vec::new();
        match &s.note {
            Some(note) if s.counts.total() == 0 => {
                name = format!("{name}\n{note}");
                row.push(Cell::new(name));
                row.extend(
                    (0..=State::ALL.len())
                        .map(|_| Cell::new("—").set_alignment(CellAlignment::Right)),
                );
            }
            _ => {
                row.push(Cell::new(name));
                row.extend(cells(&s.counts, s.score));
            }
        }
        table.add_row(row);
    }
    let mut total = vec![Cell::new("Total")];
    total.extend(cells(&c.total, c.score));
    table.add_row(total);
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "Score: passed / (passed + failed) of the automated checks' results, one per node or \
         component run ({} of {}).",
        c.results.pass,
        c.results.pass + c.results.fail
    )?;
    let failed: Vec<_> = c.checks.iter().filter(|r| r.state == State::Fail).collect();
    if !failed.is_empty() {
        writeln!(out, "Failed:")?;
        for r in failed {
            let note = r
                .note
                .as_deref()
                .map_or(String::new(), |n| format!(" ({n})"));
            writeln!(out, "  {}{} {}{note}", r.id, level_tag(r.level), r.title)?;
        }
    }
    let not_collected = not_collected_by_reason(c);
    if !not_collected.is_empty() {
        writeln!(out, "Not collected:")?;
        for (detail, ids) in not_collected {
            writeln!(out, "  {}: {detail}", ids.join(", "))?;
        }
    }
    writeln!(out)
}

/// The checks that could not be judged, one entry per reason, not per check: eleven kubelet
/// checks share one unreachable node.
pub fn not_collected_by_reason(c: &Compliance) -> Vec<(&str, Vec<&str>)> {
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in c.checks.iter().filter(|r| r.state == State::NotCollected) {
        match by_reason.iter_mut().find(|(d, _)| *d == r.detail) {
            Some((_, ids)) => ids.push(&r.id),
            None => by_reason.push((&r.detail, vec![&r.id])),
        }
    }
    by_reason
}

/// `cis-aks-1.8: 6 of 6 judged automated checks failed; 6 of 12 results passed (one per node
/// or component run), score 50.0%`
pub fn summary(c: &Compliance) -> String {
    let judged = c.automated.pass + c.automated.fail;
    format!(
        "{}: {} of {judged} judged automated check{} failed{}",
        c.benchmark,
        c.automated.fail,
        if judged == 1 { "" } else { "s" },
        c.score.map_or(String::new(), |s| format!(
            "; {} of {} results passed (one per node or component run), score {s:.1}%",
            c.results.pass,
            c.results.pass + c.results.fail
        ))
    )
}
