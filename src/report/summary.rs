//! `--format summary`: the scan on one screen (about 40 lines at 100 columns, however many
//! findings): counts by severity, the rules and objects with most findings, the few things to
//! fix first, the benchmark's score per section, and how many problems there were. It only
//! counts and picks; the table lists every finding.

use super::table::{color_of, heading};
use super::Style;
use crate::compliance::{Compliance, State};
use crate::finding::Finding;
use crate::problem::Level;
use crate::resource::{ObjectRef, SourcePath};
use crate::scan::ScanReport;
use crate::severity::Severity;
use comfy_table::Color;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// Rules listed with their counts.
const TOP_RULES: usize = 6;
/// Objects listed with their counts.
const TOP_OBJECTS: usize = 6;
/// Attack paths listed, best first.
const TOP_PATHS: usize = 3;
/// Rules listed under "fix first", each with its fix.
const FIX_FIRST: usize = 3;

/// Where a "fix first" rule's text starts: after `  critical  `.
const FIX_INDENT: usize = 12;

/// `s` cut to `width` characters, with `…` where it was cut.
fn fit(s: &str, width: usize) -> String {
    let s: &str = &super::terminal_safe(s);
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A path cut to `width` characters from the start, whole segments first (`…/ratings/api.yaml`):
/// its end is what tells two files apart.
fn fit_path(path: &str, width: usize) -> String {
    let path: &str = &super::terminal_safe(path);
    if path.chars().count() <= width {
        return path.to_owned();
    }
    let mut rest = path;
    while let Some((_, tail)) = rest.split_once('/') {
        rest = tail;
        if rest.chars().count() + 2 <= width {
            return format!("…/{rest}");
        }
    }
    let n = rest.chars().count();
    let tail: String = rest
        .chars()
        .skip((n + 1).saturating_sub(width.max(1)))
        .collect();
    format!("…{tail}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `high` in its table colour, padded to the widest severity.
fn severity_word(severity: Severity, style: Style) -> String {
    let word = format!("{:<8}", severity.as_str());
    heading(&word, Some(color_of(severity)), style)
}

/// An object as the summary counts it: manifests often leave the namespace out, so two
/// Deployments `api` of two files are two objects.
type ObjectKey<'a> = (&'a ObjectRef, Option<&'a SourcePath>);

fn object_key(f: &Finding) -> ObjectKey<'_> {
    (&f.object, f.origin.file())
}

/// A rule's findings: how many, on how many objects.
struct RuleCount<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    findings: usize,
    objects: BTreeSet<ObjectKey<'a>>,
}

fn by_rule(findings: &[Finding]) -> Vec<RuleCount<'_>> {
    let mut rules: BTreeMap<&str, RuleCount<'_>> = BTreeMap::new();
    for f in findings {
        let r = rules.entry(&f.rule_id).or_insert_with(|| RuleCount {
            id: &f.rule_id,
            title: &f.rule_title,
            severity: f.severity,
            findings: 0,
            objects: BTreeSet::new(),
        });
        r.findings += 1;
        r.objects.insert(object_key(f));
    }
    rules.into_values().collect()
}

/// An object's findings per severity, most severe first.
struct ObjectCount<'a> {
    object: &'a ObjectRef,
    /// The file it was read from; none for a cluster object.
    file: Option<&'a SourcePath>,
    counts: [usize; 4],
}

impl ObjectCount<'_> {
    fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    fn label(&self) -> String {
        let o = self.object;
        match &o.namespace {
            Some(ns) => format!("{} {ns}/{}", o.kind, o.name),
            None => format!("{} {}", o.kind, o.name),
        }
    }
}

fn by_object(findings: &[Finding]) -> Vec<ObjectCount<'_>> {
    let mut objects: BTreeMap<ObjectKey<'_>, ObjectCount<'_>> = BTreeMap::new();
    for f in findings {
        let entry = objects.entry(object_key(f)).or_insert_with(|| ObjectCount {
            object: &f.object,
            file: f.origin.file(),
            counts: [0; 4],
        });
        let slot = Severity::ALL.iter().position(|s| *s == f.severity);
        if let Some(i) = slot {
            entry.counts[i] += 1;
        }
    }
    let mut objects: Vec<ObjectCount<'_>> = objects.into_values().collect();
    objects.sort_by_key(|o| (Reverse(o.total()), Reverse(o.counts)));
    objects
}

/// A rule's remediation on one line: its first sentence, cut to `width`.
fn one_line_fix(remediation: &str, width: usize) -> String {
    let flat = remediation.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = match flat.find(". ") {
        Some(end) => &flat[..=end],
        None => flat.as_str(),
    };
    fit(first, width)
}

fn section_heading(text: &str, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", heading(text, Some(Color::Cyan), style))
}

fn rules_section(rules: &[RuleCount<'_>], style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut top: Vec<&RuleCount<'_>> = rules.iter().collect();
    top.sort_by_key(|r| (Reverse(r.findings), Reverse(r.severity), r.id));
    let shown = top.len().min(TOP_RULES);
    section_heading(
        &format!("RULES WITH MOST FINDINGS ({shown} of {})", rules.len()),
        style,
        out,
    )?;
    let digits = top.first().map_or(1, |r| r.findings.to_string().len());
    let id_width = top
        .iter()
        .take(shown)
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0);
    let width = usize::from(style.width);
    for r in top.iter().take(shown) {
        let lead = format!("  {:>digits$}  ", r.findings);
        let title_room = width.saturating_sub(lead.len() + 8 + 2 + id_width + 2);
        writeln!(
            out,
            "{lead}{}  {:<id_width$}  {}",
            severity_word(r.severity, style),
            r.id,
            fit(r.title, title_room)
        )?;
    }
    let rest = &top[shown..];
    if !rest.is_empty() {
        let n: usize = rest.iter().map(|r| r.findings).sum();
        writeln!(
            out,
            "  {} more rule{} with {n} finding{}",
            rest.len(),
            plural(rest.len()),
            plural(n)
        )?;
    }
    writeln!(out)
}

fn objects_section(
    objects: &[ObjectCount<'_>],
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let shown = objects.len().min(TOP_OBJECTS);
    section_heading(
        &format!("OBJECTS WITH MOST FINDINGS ({shown} of {})", objects.len()),
        style,
        out,
    )?;
    let width = usize::from(style.width);
    let mut namespaces: BTreeMap<&str, usize> = BTreeMap::new();
    for o in objects {
        if let Some(ns) = &o.object.namespace {
            *namespaces.entry(ns).or_default() += o.total();
        }
    }
    if !namespaces.is_empty() {
        let mut namespaces: Vec<(&str, usize)> = namespaces.into_iter().collect();
        namespaces.sort_by_key(|(ns, n)| (Reverse(*n), *ns));
        let list: Vec<String> = namespaces
            .iter()
            .map(|(ns, n)| format!("{ns} {n}"))
            .collect();
        let line = format!("  by namespace: {}", list.join(", "));
        writeln!(out, "{}", fit(&line, width))?;
    }
    let digits = objects.first().map_or(1, |o| o.total().to_string().len());
    let labels: Vec<String> = objects.iter().take(shown).map(|o| o.label()).collect();
    // The object names line up, but a very long one does not push the counts off the screen.
    let label_width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(width / 2);
    let counts: Vec<String> = objects
        .iter()
        .take(shown)
        .map(|o| {
            let counts: Vec<String> = Severity::ALL
                .iter()
                .zip(o.counts)
                .filter(|(_, n)| *n > 0)
                .map(|(s, n)| format!("{n} {}", s.as_str()))
                .collect();
            counts.join(", ")
        })
        .collect();
    let counts_width = counts.iter().map(String::len).max().unwrap_or(0);
    for ((o, label), counts) in objects.iter().zip(&labels).zip(&counts) {
        let mut line = format!(
            "  {:>digits$}  {:<label_width$}  {:<counts_width$}",
            o.total(),
            fit(label, label_width),
            counts
        );
        if let Some(file) = o.file {
            let room = width.saturating_sub(line.chars().count() + 2);
            line.push_str(&format!("  {}", fit_path(file.as_str(), room)));
        }
        writeln!(out, "{}", fit(line.trim_end(), width))?;
    }
    let rest = &objects[shown..];
    if !rest.is_empty() {
        let n: usize = rest.iter().map(ObjectCount::total).sum();
        writeln!(
            out,
            "  {} more object{} with {n} finding{}",
            rest.len(),
            plural(rest.len()),
            plural(n)
        )?;
    }
    writeln!(out)
}

/// Critical and high findings by rule, most severe first, then the rule on most objects; each
/// with its fix.
fn fix_first_section(
    report: &ScanReport,
    rules: &[RuleCount<'_>],
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut urgent: Vec<&RuleCount<'_>> = rules
        .iter()
        .filter(|r| r.severity >= Severity::High)
        .collect();
    urgent.sort_by_key(|r| (Reverse(r.severity), Reverse(r.objects.len()), r.id));
    section_heading("FIX FIRST", style, out)?;
    if urgent.is_empty() {
        writeln!(out, "  No critical or high findings.\n")?;
        return Ok(());
    }
    let width = usize::from(style.width);
    for r in urgent.iter().take(FIX_FIRST) {
        let what = format!(
            "{} {}: {} finding{} on {} object{}",
            r.id,
            r.title,
            r.findings,
            plural(r.findings),
            r.objects.len(),
            plural(r.objects.len())
        );
        writeln!(
            out,
            "  {}  {}",
            severity_word(r.severity, style),
            fit(&what, width.saturating_sub(FIX_INDENT))
        )?;
        let remediation = report
            .rules
            .iter()
            .find(|info| info.id == r.id)
            .map(|info| info.remediation.as_str())
            .unwrap_or_default();
        if !remediation.is_empty() {
            writeln!(
                out,
                "{:FIX_INDENT$}{}",
                "",
                one_line_fix(remediation, width.saturating_sub(FIX_INDENT))
            )?;
        }
    }
    let rest = &urgent[FIX_FIRST.min(urgent.len())..];
    if !rest.is_empty() {
        writeln!(
            out,
            "  and {} more critical or high rule{}",
            rest.len(),
            plural(rest.len())
        )?;
    }
    writeln!(out)
}

/// `12.5%  1 pass, 7 fail, 3 manual`: a tally's score and its non-zero counts.
fn tally_line(t: &crate::compliance::Tally, score: Option<f64>) -> String {
    let counts: Vec<String> = State::ALL
        .iter()
        .filter(|s| t.get(**s) > 0)
        .map(|s| format!("{} {}", t.get(*s), s.as_str()))
        .collect();
    let score = score.map_or("—".to_owned(), |s| format!("{s:.1}%"));
    format!("{score:>6}  {}", counts.join(", "))
}

/// The overall score and each top-level section's, one line each.
fn benchmark_section(c: &Compliance, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let width = usize::from(style.width);
    section_heading(
        &fit(&super::compliance::heading(c).to_uppercase(), width),
        style,
        out,
    )?;
    let top: Vec<_> = c.sections.iter().filter(|s| !s.id.contains('.')).collect();
    let names: Vec<String> = top
        .iter()
        .map(|s| format!("{} {}", s.id, s.title))
        .collect();
    let name_width = names
        .iter()
        .map(|n| n.chars().count())
        .chain(["Overall".len()])
        .max()
        .unwrap_or(0)
        .min(width / 3);
    writeln!(
        out,
        "{}",
        fit(
            &format!(
                "  {:<name_width$}  {}",
                "Overall",
                tally_line(&c.total, c.score)
            ),
            width
        )
    )?;
    for (s, name) in top.iter().zip(&names) {
        let rest = match &s.note {
            Some(note) if s.counts.total() == 0 => format!("{:>6}  {note}", "—"),
            _ => tally_line(&s.counts, s.score),
        };
        let line = format!("  {:<name_width$}  {rest}", fit(name, name_width));
        writeln!(out, "{}", fit(&line, width))?;
    }
    writeln!(out)
}

pub fn write(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if let Some(line) = super::table::cluster_line(report) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}\n", super::table::summary(report))?;
    super::paths::write(&report.attack_paths, TOP_PATHS, false, style, out)?;
    if !report.findings.is_empty() {
        let rules = by_rule(&report.findings);
        rules_section(&rules, style, out)?;
        objects_section(&by_object(&report.findings), style, out)?;
        fix_first_section(report, &rules, style, out)?;
    }
    if let Some(c) = &report.compliance {
        benchmark_section(c, style, out)?;
    }
    let count = |level: Level| report.problems.iter().filter(|p| p.level == level).count();
    let (errors, warnings) = (count(Level::Error), count(Level::Warning));
    if !report.problems.is_empty() {
        let others = report.problems.len() - errors - warnings;
        let mut parts = vec![
            format!("{errors} error{}", plural(errors)),
            format!("{warnings} warning{}", plural(warnings)),
        ];
        if others > 0 {
            parts.push(format!("{others} note{}", plural(others)));
        }
        let color = if errors > 0 {
            Color::Red
        } else {
            Color::Yellow
        };
        let title = format!("PROBLEMS ({})", report.problems.len());
        writeln!(
            out,
            "{}: {}; --format table lists them",
            heading(&title, Some(color), style),
            parts.join(", "),
        )?;
    }
    if let Some(line) = super::baseline_line(report) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
