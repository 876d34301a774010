//! The human-readable table: findings grouped by severity, the benchmark's compliance summary,
//! problems, then summary lines.

use super::Style;
use crate::baseline::State;
use crate::exceptions::UsageState;
use crate::finding::Finding;
use crate::problem::Level;
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use std::io::{self, Write};

fn color_of(severity: Severity) -> Color {
    match severity {
        Severity::Critical => Color::Magenta,
        Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
    }
}

/// The message, then the offending field on its own line.
fn finding_text(f: &Finding) -> String {
    if f.path.is_empty() {
        f.message.clone()
    } else {
        format!("{}\n→ {}", f.message, f.path)
    }
}

fn object(f: &Finding) -> String {
    match &f.object.namespace {
        Some(ns) => format!("{}\n{}/{}", f.object.kind, ns, f.object.name),
        None => format!("{}\n{}", f.object.kind, f.object.name),
    }
}

pub fn new_table(style: Style) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width);
    if style.color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

pub(super) fn heading(text: &str, color: Option<Color>, style: Style) -> String {
    match (style.color, color) {
        (true, Some(c)) => {
            let code = match c {
                Color::Magenta => 35,
                Color::Red => 31,
                Color::Yellow => 33,
                Color::Cyan => 36,
                _ => 34,
            };
            format!("\x1b[1;{code}m{text}\x1b[0m")
        }
        _ => text.to_owned(),
    }
}

/// `Cluster aks-prod (context aks), Kubernetes v1.28.0 on AKS, collected 2026-11-22T10:00:00Z`
fn cluster_line(report: &ScanReport) -> Option<String> {
    let Target::Cluster { info, collected_at } = &report.target else {
        return None;
    };
    let context = match &info.context {
        Some(c) if *c != info.name => format!(" (context {c})"),
        _ => String::new(),
    };
    Some(format!(
        "Cluster {}{context}, Kubernetes {} on {}, collected {collected_at}",
        info.name,
        info.server_version.git_version,
        info.platform.kind.as_str()
    ))
}

fn findings_table(
    title: &str,
    severity: Severity,
    findings: &[&Finding],
    report: &ScanReport,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let title = format!("{title} ({})", findings.len());
    writeln!(out, "{}", heading(&title, Some(color_of(severity)), style))?;
    let mut table = new_table(style);
    // A cluster scan names its cluster once, above the tables; files need a column.
    let with_location = matches!(report.target, Target::Manifests);
    if with_location {
        table.set_header(vec!["Rule", "Object", "Location", "Finding"]);
    } else {
        table.set_header(vec!["Rule", "Object", "Finding"]);
    }
    for f in findings {
        let rule = Cell::new(format!("{}\n{}", f.rule_id, f.rule_title));
        let rule = if style.color {
            rule.fg(color_of(severity))
        } else {
            rule
        };
        let mut row = vec![rule, Cell::new(object(f))];
        if with_location {
            row.push(Cell::new(f.location().cell()));
        }
        row.push(Cell::new(finding_text(f)));
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    writeln!(out)
}

pub fn write(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if let Some(line) = cluster_line(report) {
        writeln!(out, "{line}\n")?;
    }
    // With a baseline, what a change introduced comes first: that is what the gate judges.
    let states: &[Option<State>] = if report.baseline.is_some() {
        &[Some(State::New), Some(State::Unchanged)]
    } else {
        &[None]
    };
    for state in states {
        for severity in Severity::ALL {
            let findings: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.severity == severity && report.baseline_state(f) == *state)
                .collect();
            if findings.is_empty() {
                continue;
            }
            let mut title = severity.as_str().to_uppercase();
            match state {
                Some(State::New) => title.insert_str(0, "NEW "),
                Some(State::Unchanged) => title.insert_str(0, "UNCHANGED "),
                None => {}
            }
            findings_table(&title, severity, &findings, report, style, out)?;
        }
    }
    match report.suppressed.len() {
        0 => {}
        _ if style.show_suppressed => suppressed_table(report, style, out)?,
        n => writeln!(
            out,
            "{n} finding{} suppressed by exceptions (--show-suppressed lists them)\n",
            if n == 1 { " is" } else { "s are" }
        )?,
    }
    if style.audit_exceptions {
        exceptions_table(report, style, out)?;
    }
    if let Some(compliance) = &report.compliance {
        super::compliance::write(compliance, style, out)?;
    }
    if !report.problems.is_empty() {
        writeln!(
            out,
            "{}",
            heading(
                &format!("PROBLEMS ({})", report.problems.len()),
                Some(Color::Red),
                style
            )
        )?;
        for p in &report.problems {
            writeln!(out, "  {p}")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", summary(report))?;
    if let Some(line) = super::baseline_line(report) {
        writeln!(out, "{line}")?;
    }
    if let Some(compliance) = &report.compliance {
        writeln!(out, "{}", super::compliance::summary(compliance))?;
    }
    Ok(())
}

/// `12 findings (1 critical, 3 high, 6 medium, 2 low) in 9 objects; 1 error`
pub fn summary(report: &ScanReport) -> String {
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|s| format!("{} {}", report.count(*s), s.as_str()))
        .collect();
    let n = report.findings.len();
    let mut s = format!(
        "{n} finding{} ({}) in {} object{}",
        if n == 1 { "" } else { "s" },
        counts.join(", "),
        report.objects,
        if report.objects == 1 { "" } else { "s" }
    );
    let k = report.suppressed.len();
    if k > 0 {
        s.push_str(&format!("; {k} suppressed"));
    }
    for (level, word) in [(Level::Error, "error"), (Level::Warning, "warning")] {
        let k = report.problems.iter().filter(|p| p.level == level).count();
        if k > 0 {
            s.push_str(&format!("; {k} {word}{}", if k == 1 { "" } else { "s" }));
        }
    }
    s
}

fn suppressed_table(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let title = format!("SUPPRESSED ({})", report.suppressed.len());
    writeln!(out, "{}", heading(&title, Some(Color::Cyan), style))?;
    let mut table = new_table(style);
    table.set_header(vec!["Rule", "Object", "Finding", "Accepted because"]);
    for s in &report.suppressed {
        let f = &s.finding;
        let mut why = format!("{}\n({}", s.suppression.reason, s.suppression.exception);
        if let Some(d) = s.suppression.expires {
            why.push_str(&format!(", until {d}"));
        }
        why.push(')');
        table.add_row(vec![
            Cell::new(format!("{}\n{}", f.rule_id, f.severity.as_str())),
            Cell::new(object(f)),
            Cell::new(finding_text(f)),
            Cell::new(why),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out)
}

fn exceptions_table(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let title = format!("EXCEPTIONS ({})", report.exceptions.len());
    writeln!(out, "{}", heading(&title, Some(Color::Cyan), style))?;
    if report.exceptions.is_empty() {
        writeln!(
            out,
            "  none: no .posture.yaml exceptions and no posture.io/ignore annotations\n"
        )?;
        return Ok(());
    }
    let mut table = new_table(style);
    table.set_header(vec!["Exception", "Rules", "Uses", "State", "Reason"]);
    for u in &report.exceptions {
        let e = &u.exception;
        let mut name = e.name.clone().unwrap_or_default();
        if !name.is_empty() {
            name.push('\n');
        }
        name.push_str(&e.source.describe());
        let state = match (u.state, e.expires) {
            (UsageState::Active, Some(d)) => format!("active until {d}"),
            (UsageState::Active, None) => "active".to_owned(),
            (UsageState::Expired, Some(d)) => format!("expired {d}"),
            (UsageState::Expired, None) => "expired".to_owned(),
            (UsageState::Unused, _) => "unused".to_owned(),
        };
        let rules: Vec<&str> = e.rules.iter().map(|p| p.as_str()).collect();
        table.add_row(vec![
            Cell::new(name),
            Cell::new(rules.join("\n")),
            Cell::new(u.uses),
            Cell::new(state),
            Cell::new(&e.reason),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out)
}
