//! The human-readable table: findings grouped by severity, the benchmark's compliance summary,
//! problems, then summary lines.

use super::Style;
use crate::baseline::State;
use crate::exceptions::UsageState;
use crate::finding::Finding;
use crate::problem::Level;
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use comfy_table::{presets, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::io::{self, Write};

mod draw;
mod wrap;

use wrap::Breaks;

pub(super) fn color_of(severity: Severity) -> Color {
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
        f.message.to_string()
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

/// From this width on, the findings tables give the location a column of its own and the rule
/// its title. Narrower, four columns leave the finding a sliver (30 findings took 399 lines
/// at 80 columns), so the location goes under the object and the titles under the table.
pub const WIDE: u16 = 140;

/// Rows of a table drawn as one piece (see [`Fitted::draw`]).
const ROWS_PER_PIECE: usize = 512;

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

/// A table whose cells are wrapped here (see [`wrap`]) to widths chosen from their content, so
/// that drawing it ([`draw`], or comfy-table) breaks nothing.
struct Fitted {
    header: Vec<String>,
    breaks: Vec<Breaks>,
    rows: Vec<Vec<(String, Option<Color>)>>,
}

impl Fitted {
    fn new(header: &[&str]) -> Self {
        Fitted {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            breaks: vec![Breaks::Paths; header.len()],
            rows: Vec::new(),
        }
    }

    /// Column `i` holds identifiers (rule ids, `cis-aks-1.8/3.2.6`) that break only when wider
    /// than the column.
    fn whole_words(mut self, i: usize) -> Self {
        self.breaks[i] = Breaks::Words;
        self
    }

    fn row(&mut self, cells: Vec<(String, Option<Color>)>) {
        self.rows.push(Fitted::safe(cells));
    }

    /// Cells as the terminal may show them.
    fn safe(cells: Vec<(String, Option<Color>)>) -> Vec<(String, Option<Color>)> {
        cells
            .into_iter()
            .map(|(text, color)| match super::terminal_safe(&text) {
                std::borrow::Cow::Borrowed(_) => (text, color),
                std::borrow::Cow::Owned(safe) => (safe, color),
            })
            .collect()
    }

    fn render(&self, style: Style) -> String {
        self.render_with(&Fitted::widths(&[self], style), style)
    }

    /// The table's text, in columns of `widths`.
    fn render_with(&self, widths: &[usize], style: Style) -> String {
        self.pieces(widths, style).concat()
    }

    /// [`Fitted::render_with`] written to `out`, then a line break.
    fn write_with(&self, widths: &[usize], style: Style, out: &mut dyn Write) -> io::Result<()> {
        for piece in self.pieces(widths, style) {
            out.write_all(piece.as_bytes())?;
        }
        writeln!(out)
    }

    /// The table's text in pieces: drawn here, or, when a line is wider than its column,
    /// laid out by comfy-table (which breaks such a line again).
    fn pieces(&self, widths: &[usize], style: Style) -> Vec<String> {
        self.draw(widths, style, ROWS_PER_PIECE)
            .unwrap_or_else(|draw::TooWide| {
                vec![self.render_in_pieces(widths, style, ROWS_PER_PIECE)]
            })
    }

    /// The table drawn here (see [`draw`]) in pieces of `rows_per_piece` rows on every core;
    /// their concatenation is the table's text.
    fn draw(
        &self,
        widths: &[usize],
        style: Style,
        rows_per_piece: usize,
    ) -> Result<Vec<String>, draw::TooWide> {
        let mut head = String::new();
        draw::rule(&mut head, widths, draw::TOP);
        let header: Vec<(std::borrow::Cow<'_, str>, Option<Color>)> = self
            .header
            .iter()
            .zip(widths)
            .zip(&self.breaks)
            .map(|((h, w), b)| (wrap::wrap(h, *w, *b), None))
            .collect();
        draw::row(&mut head, &header, widths, &mut draw::Palette::default())?;
        draw::rule(&mut head, widths, draw::UNDER_HEADER);
        let body = self.rows.par_chunks(rows_per_piece).map(|rows| {
            let mut piece = String::new();
            let mut palette = draw::Palette::default();
            let mut cells = Vec::with_capacity(widths.len());
            for row in rows {
                cells.clear();
                cells.extend(row.iter().zip(widths).zip(&self.breaks).map(
                    |(((text, color), w), b)| {
                        (wrap::wrap(text, *w, *b), color.filter(|_| style.color))
                    },
                ));
                draw::row(&mut piece, &cells, widths, &mut palette)?;
            }
            Ok(piece)
        });
        let mut pieces: Vec<String> = rayon::iter::once(Ok(head))
            .chain(body)
            .collect::<Result<_, _>>()?;
        let mut foot = String::new();
        draw::rule(&mut foot, widths, draw::BOTTOM);
        // The text ends without a line break, as comfy-table's does.
        foot.pop();
        pieces.push(foot);
        Ok(pieces)
    }

    /// The table's text as comfy-table lays it out, in pieces of `rows_per_piece` rows on
    /// every core: their columns have the same fixed widths, so dropping the bottom border of
    /// each piece and the top border of the next gives the whole table's text.
    fn render_in_pieces(&self, widths: &[usize], style: Style, rows_per_piece: usize) -> String {
        if self.rows.len() <= rows_per_piece {
            return self.table_with(widths, style, true, &self.rows).to_string();
        }
        let pieces: Vec<String> = self
            .rows
            .par_chunks(rows_per_piece)
            .enumerate()
            .map(|(i, rows)| self.table_with(widths, style, i == 0, rows).to_string())
            .collect();
        let last = pieces.len() - 1;
        let mut text = String::with_capacity(pieces.iter().map(String::len).sum());
        for (i, piece) in pieces.iter().enumerate() {
            // A piece's lines end in `\n` but its last; cut whole lines, not line by line (a
            // long table is tens of megabytes, joined on one thread).
            let start = match i {
                0 => 0,
                _ => piece.find('\n').map_or(piece.len(), |n| n + 1),
            };
            let end = match i < last {
                true => piece.rfind('\n').unwrap_or(0),
                false => piece.len(),
            };
            if start < end {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&piece[start..end]);
            }
        }
        text
    }

    /// Widths that suit every table of `tables` (which have the same columns), so that they
    /// line up one under another.
    fn widths(tables: &[&Fitted], style: Style) -> Vec<usize> {
        let n = tables.first().map_or(0, |t| t.header.len());
        // `│ a ┆ b │`: a border and a space either side of each column.
        let budget = usize::from(style.width).saturating_sub(3 * n + 1).max(n);
        let columns: Vec<wrap::Column<'_>> = (0..n)
            .map(|i| {
                let header = tables.iter().map(|t| t.header[i].as_str());
                let cells = tables
                    .iter()
                    .flat_map(|t| t.rows.iter().filter_map(move |r| r.get(i)))
                    .map(|c| c.0.as_str());
                wrap::Column {
                    cells: header.take(1).chain(cells).collect(),
                    breaks: tables.first().map_or(Breaks::Paths, |t| t.breaks[i]),
                }
            })
            .collect();
        wrap::column_widths(&columns, budget)
    }

    fn table_with(
        &self,
        widths: &[usize],
        style: Style,
        header: bool,
        rows: &[Vec<(String, Option<Color>)>],
    ) -> Table {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if style.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        if header {
            table.set_header(
                self.header
                    .iter()
                    .zip(widths)
                    .zip(&self.breaks)
                    .map(|((h, w), b)| Cell::new(wrap::wrap(h, *w, *b))),
            );
        }
        // Wrapping is much of a long table's cost (50,000 findings: a row each) and each cell
        // wraps alone, so the cells wrap in parallel; the rows go in in their order.
        let wrapped: Vec<Vec<std::borrow::Cow<'_, str>>> = rows
            .par_iter()
            .map(|row| {
                row.iter()
                    .zip(widths)
                    .zip(&self.breaks)
                    .map(|(((text, _), w), b)| wrap::wrap(text, *w, *b))
                    .collect()
            })
            .collect();
        for (row, texts) in rows.iter().zip(wrapped) {
            table.add_row(row.iter().zip(texts).map(|((_, color), text)| {
                let cell = Cell::new(text);
                match color {
                    Some(c) if style.color => cell.fg(*c),
                    _ => cell,
                }
            }));
        }
        // Every column as wide as it was given, so the tables of one report line up; comfy-table
        // counts the padding in a fixed width, and knows the columns once the rows are in.
        table.set_constraints(widths.iter().map(|w| {
            ColumnConstraint::Absolute(Width::Fixed(u16::try_from(w + 2).unwrap_or(u16::MAX)))
        }));
        table
    }
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
pub(super) fn cluster_line(report: &ScanReport) -> Option<String> {
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

/// One severity's findings: the heading, the table, and (when narrow) the rule titles.
struct FindingsTable<'a> {
    heading: String,
    table: Fitted,
    titles: Vec<(&'a str, &'a str)>,
}

fn findings_table<'a>(
    title: &str,
    severity: Severity,
    findings: &[&'a Finding],
    report: &ScanReport,
    style: Style,
) -> FindingsTable<'a> {
    let title = format!("{title} ({})", findings.len());
    // A cluster scan names its cluster once, above the tables; files need a location.
    let with_location = matches!(report.target, Target::Manifests);
    let wide = style.width >= WIDE;
    let mut table = match (wide, with_location) {
        (true, true) => Fitted::new(&["Rule", "Object", "Location", "Finding"]),
        (false, true) => Fitted::new(&["Rule", "Object, location", "Finding"]),
        (_, false) => Fitted::new(&["Rule", "Object", "Finding"]),
    }
    .whole_words(0);
    let mut titles: Vec<(&str, &str)> = Vec::new();
    if !wide {
        // Titles in the order their rules first appear; the set spares a scan of `titles` per
        // row.
        let mut titled: BTreeSet<&str> = BTreeSet::new();
        for f in findings {
            if titled.insert(&f.rule_id) {
                titles.push((&f.rule_id, &f.rule_title));
            }
        }
    }
    let row = |f: &Finding| {
        let rule = if wide {
            format!("{}\n{}", f.rule_id, f.rule_title)
        } else {
            f.rule_id.to_string()
        };
        let mut row = vec![(rule, Some(color_of(severity)))];
        match (wide, with_location) {
            (true, true) => {
                row.push((object(f), None));
                row.push((f.location().cell(), None));
            }
            (false, true) => row.push((format!("{}\n{}", object(f), f.location().cell()), None)),
            (_, false) => row.push((object(f), None)),
        }
        row.push((finding_text(f), None));
        Fitted::safe(row)
    };
    // A row each: tens of thousands for a large scan, each made alone.
    table.rows = findings.par_iter().map(|f| row(f)).collect();
    FindingsTable {
        heading: heading(&title, Some(color_of(severity)), style),
        table,
        titles,
    }
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
    let mut tables = Vec::new();
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
            tables.push(findings_table(&title, severity, &findings, report, style));
        }
    }
    // The routes to what matters come before the rows they are made of, but for a gate
    // (with a baseline) what the change introduced comes first.
    if report.baseline.is_none() {
        super::paths::write(&report.attack_paths, usize::MAX, true, style, out)?;
    }
    let widths = Fitted::widths(&tables.iter().map(|t| &t.table).collect::<Vec<_>>(), style);
    for t in &tables {
        writeln!(out, "{}", t.heading)?;
        t.table.write_with(&widths, style, out)?;
        for (id, title) in &t.titles {
            writeln!(out, "  {id}  {title}")?;
        }
        writeln!(out)?;
    }
    // A row is several strings, tens of thousands of rows in a large scan: freed on every
    // core, not one by one on this thread (a profile showed it alone at the table's end).
    tables
        .into_par_iter()
        .for_each(|t| t.table.rows.into_par_iter().for_each(drop));
    if report.baseline.is_some() {
        super::paths::write(&report.attack_paths, usize::MAX, true, style, out)?;
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
            writeln!(out, "  {}", super::terminal_safe(&p.to_string()))?;
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
    let mut table = Fitted::new(&["Rule", "Object", "Finding", "Accepted because"]).whole_words(0);
    for s in &report.suppressed {
        let f = &s.finding;
        let mut why = format!("{}\n({}", s.suppression.reason, s.suppression.exception);
        if let Some(d) = s.suppression.expires {
            why.push_str(&format!(", until {d}"));
        }
        why.push(')');
        table.row(vec![
            (format!("{}\n{}", f.rule_id, f.severity.as_str()), None),
            (object(f), None),
            (finding_text(f), None),
            (why, None),
        ]);
    }
    writeln!(out, "{}", table.render(style))?;
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
    let mut table = Fitted::new(&["Exception", "Rules", "Uses", "State", "Reason"]).whole_words(1);
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
        table.row(vec![
            (name, None),
            (rules.join("\n"), None),
            (u.uses.to_string(), None),
            (state, None),
            (e.reason.clone(), None),
        ]);
    }
    writeln!(out, "{}", table.render(style))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_rendered_in_pieces_is_the_table_rendered_whole() {
        for color in [false, true] {
            let style = Style {
                color,
                width: 100,
                ..Style::default()
            };
            let mut table = Fitted::new(&["Rule", "Object", "Finding"]).whole_words(0);
            for i in 0..23 {
                table.row(vec![
                    (format!("PST-{i:04}"), Some(Color::Red)),
                    (format!("Deployment\nns/name-{i}"), None),
                    (
                        format!("message {i} long enough to wrap {}", "word ".repeat(i)),
                        None,
                    ),
                ]);
            }
            let widths = Fitted::widths(&[&table], style);
            let whole = table
                .table_with(&widths, style, true, &table.rows)
                .to_string();
            for rows in [1, 5, 22] {
                assert_eq!(table.render_in_pieces(&widths, style, rows), whole);
            }
        }
    }

    /// The tables drawn here against comfy-table's, on generated tables: any number of lines
    /// per cell, empty cells, colour, characters outside ASCII (the arrow of a field path, a
    /// double-width name, which only comfy-table may lay out).
    #[test]
    fn a_table_drawn_here_is_the_table_comfy_table_draws() {
        let words = [
            "a",
            "",
            "Deployment",
            "ratings-api",
            "→ spec.template.spec.containers[0].image",
            "runs as root",
            "privileged",
            "café",
            "x\ny",
            "PST-0001",
            "manifests-00004.yaml:3582:17",
            "a-very-long-identifier-without-spaces-at-all",
        ];
        let colors = [
            None,
            Some(Color::Red),
            Some(Color::Magenta),
            Some(Color::Blue),
        ];
        let mut rng = fastrand::Rng::with_seed(16);
        let (mut drawn, mut too_wide) = (0, 0);
        for _ in 0..400 {
            // One table in eight has a double-width name somewhere.
            let wide = rng.usize(..8) == 0;
            let word = |rng: &mut fastrand::Rng| match rng.usize(..words.len() + 1) {
                i if i < words.len() => words[i],
                _ if wide => "名前空間",
                _ => "",
            };
            let columns = rng.usize(1..=5);
            let header: Vec<&str> = (0..columns).map(|_| words[rng.usize(..6)]).collect();
            let mut table = Fitted::new(&header);
            if rng.bool() {
                table = table.whole_words(0);
            }
            for _ in 0..rng.usize(0..30) {
                let row = (0..columns)
                    .map(|_| {
                        let text: Vec<&str> =
                            (0..rng.usize(0..8)).map(|_| word(&mut rng)).collect();
                        let sep = if rng.bool() { " " } else { "\n" };
                        (text.join(sep), colors[rng.usize(..colors.len())])
                    })
                    .collect();
                table.row(row);
            }
            let style = Style {
                color: rng.bool(),
                width: rng.u16(20..=200),
                ..Style::default()
            };
            let widths = Fitted::widths(&[&table], style);
            let comfy = table.render_in_pieces(&widths, style, usize::MAX);
            match table.draw(&widths, style, rng.usize(1..=8)) {
                Ok(pieces) => {
                    assert_eq!(pieces.concat(), comfy, "widths {widths:?}");
                    drawn += 1;
                }
                Err(draw::TooWide) => too_wide += 1,
            }
            assert_eq!(table.render_with(&widths, style), comfy);
        }
        // Both ways were taken, the drawing most of the time.
        assert!(
            drawn > 300 && too_wide > 10,
            "{drawn} drawn, {too_wide} too wide"
        );
    }
}
