//! A fleet ([`Fleet`]: several clusters or snapshots scanned at once) in every format: first
//! the fleet — members × severity, benchmark scores side by side, the findings that several
//! members share — then each member as its own report. A member that could not be scanned is
//! a row that says why, in every format.

use super::blocks::{Align, Block, Cell, Document, Inline, Table};
use super::review::{self, Flavor};
use super::{Format, Style};
use crate::scan::fleet::{Fleet, Shared};
use crate::scan::ScanReport;
use crate::severity::Severity;
use comfy_table::{presets, ContentArrangement, Table as Grid};
use serde_json::{json, Value};
use std::io::{self, Write};

/// Shared findings the summary lists (the table and JSON list them all).
const SUMMARY_SHARED: usize = 10;

/// A member of a document of several scans.
pub enum Member<'a> {
    Scanned(&'a str, &'a ScanReport),
    /// A member that could not be scanned, and why.
    Failed(&'a str, String),
}

impl<'a> Member<'a> {
    pub fn of(fleet: &'a Fleet) -> Vec<Member<'a>> {
        fleet
            .members
            .iter()
            .map(|m| match &m.outcome {
                Ok(report) => Member::Scanned(&m.name, report),
                Err(e) => Member::Failed(&m.name, crate::problem::error_chain(e)),
            })
            .collect()
    }

    fn name(&self) -> &str {
        match self {
            Member::Scanned(name, _) | Member::Failed(name, _) => name,
        }
    }
}

pub fn write(format: Format, fleet: &Fleet, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let members = Member::of(fleet);
    match format {
        Format::Table => text(fleet, &members, style, out, super::table::write, usize::MAX),
        Format::Summary => text(
            fleet,
            &members,
            style,
            out,
            super::summary::write,
            SUMMARY_SHARED,
        ),
        Format::Json => json(fleet, &members, out),
        Format::Sarif => super::sarif::write_members(&members, out),
        Format::Junit => super::junit::write_members(&members, out),
        Format::Markdown => out.write_all(
            super::markdown::render(&document(fleet, &members, Flavor::Markdown), 1).as_bytes(),
        ),
        Format::Html => {
            out.write_all(super::html::render(&document(fleet, &members, Flavor::Html)).as_bytes())
        }
    }
}

/// The benchmark's name and score of a report, as `CIS AKS 1.8: 73.2%`.
fn benchmark_score(report: &ScanReport) -> Option<String> {
    let c = report.compliance.as_ref()?;
    Some(match c.score {
        Some(score) => format!("{} {}: {score:.1}%", c.title, c.version),
        None => format!("{} {}: —", c.title, c.version),
    })
}

fn status(m: &Member<'_>) -> String {
    match m {
        Member::Scanned(_, r) if r.has_errors() => "scanned, with errors".to_owned(),
        Member::Scanned(..) => "scanned".to_owned(),
        Member::Failed(_, why) => format!("not scanned: {why}"),
    }
}

fn headline(fleet: &Fleet) -> String {
    let scanned = fleet.scanned().count();
    let failed = fleet.members.len() - scanned;
    let mut line = format!(
        "Fleet of {} (scanned {scanned}",
        plural(fleet.members.len(), "cluster")
    );
    if failed > 0 {
        line.push_str(&format!(", not scanned {failed}"));
    }
    line.push(')');
    line
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn object_label(s: &Shared<'_>) -> String {
    let o = s.object;
    match &o.namespace {
        Some(ns) => format!("{} {ns}/{}", o.kind, o.name),
        None => format!("{} {}", o.kind, o.name),
    }
}

fn grid(header: Vec<&str>, style: Style) -> Grid {
    let mut g = Grid::new();
    g.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width)
        .force_no_tty()
        .set_header(header);
    g
}

type Writer = fn(&ScanReport, Style, &mut dyn Write) -> io::Result<()>;

/// The table and the summary: the fleet's own tables, then each member's report in `each`.
fn text(
    fleet: &Fleet,
    members: &[Member<'_>],
    style: Style,
    out: &mut dyn Write,
    each: Writer,
    shared_limit: usize,
) -> io::Result<()> {
    writeln!(out, "{}\n", headline(fleet))?;
    let mut header = vec!["Cluster", "Status"];
    header.extend(Severity::ALL.iter().map(|s| s.as_str()));
    header.push("Benchmark");
    let mut g = grid(header, style);
    for m in members {
        let mut row = vec![
            super::terminal_safe(m.name()).into_owned(),
            super::terminal_safe(&status(m)).into_owned(),
        ];
        match m {
            Member::Scanned(_, r) => {
                row.extend(Severity::ALL.iter().map(|s| r.count(*s).to_string()));
                row.push(benchmark_score(r).unwrap_or_else(|| "—".to_owned()));
            }
            Member::Failed(..) => row.extend(std::iter::repeat_n("—".to_owned(), 5)),
        }
        g.add_row(row);
    }
    writeln!(out, "{g}\n")?;
    let shared = fleet.shared_findings();
    if !shared.is_empty() {
        writeln!(
            out,
            "In more than one cluster ({}):",
            plural(shared.len(), "finding")
        )?;
        let mut g = grid(
            vec!["Rule", "Severity", "Object", "Field", "Clusters"],
            style,
        );
        for s in shared.iter().take(shared_limit) {
            g.add_row(vec![
                s.rule_id.to_owned(),
                s.severity.as_str().to_owned(),
                super::terminal_safe(&object_label(s)).into_owned(),
                s.path.clone(),
                super::terminal_safe(&s.members.join(", ")).into_owned(),
            ]);
        }
        writeln!(out, "{g}")?;
        if shared.len() > shared_limit {
            writeln!(
                out,
                "… and {} more (the table and JSON list them all)",
                shared.len() - shared_limit
            )?;
        }
        writeln!(out)?;
    }
    for m in members {
        writeln!(out, "━━ {} ━━", super::terminal_safe(m.name()))?;
        match m {
            Member::Scanned(_, report) => each(report, style, out)?,
            Member::Failed(_, why) => writeln!(out, "not scanned: {}", super::terminal_safe(why))?,
        }
        writeln!(out)?;
    }
    Ok(())
}

fn json(fleet: &Fleet, members: &[Member<'_>], out: &mut dyn Write) -> io::Result<()> {
    let mut clusters = Vec::new();
    for m in members {
        clusters.push(match m {
            Member::Scanned(name, report) => {
                let mut buffer = Vec::new();
                super::json::write(report, &mut buffer)?;
                let report: Value = serde_json::from_slice(&buffer).map_err(io::Error::other)?;
                json!({"name": name, "status": "scanned", "report": report})
            }
            Member::Failed(name, why) => {
                json!({"name": name, "status": "not-scanned", "error": why})
            }
        });
    }
    let summary: Vec<Value> = members
        .iter()
        .map(|m| match m {
            Member::Scanned(name, r) => json!({
                "name": name,
                "status": "scanned",
                "findings": r.findings.len(),
                "by_severity": {
                    "critical": r.count(Severity::Critical),
                    "high": r.count(Severity::High),
                    "medium": r.count(Severity::Medium),
                    "low": r.count(Severity::Low),
                },
                "errors": r.problems.iter().filter(|p| p.is_error()).count(),
                "benchmark": r.compliance.as_ref().map(|c| json!({
                    "benchmark": c.benchmark, "score": c.score,
                })),
            }),
            Member::Failed(name, why) => {
                json!({"name": name, "status": "not-scanned", "error": why})
            }
        })
        .collect();
    let shared: Vec<Value> = fleet
        .shared_findings()
        .iter()
        .map(|s| {
            json!({
                "rule_id": s.rule_id,
                "severity": s.severity.as_str(),
                "object": s.object,
                "path": s.path,
                "clusters": s.members,
            })
        })
        .collect();
    let doc = json!({
        "schema_version": super::json::SCHEMA_VERSION,
        "tool": {"name": "posture", "version": env!("CARGO_PKG_VERSION")},
        "fleet": {
            "size": fleet.members.len(),
            "scanned": fleet.scanned().count(),
            "summary": summary,
            "shared_findings": shared,
        },
        "clusters": clusters,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// The review of a fleet: the fleet's tables, then each member's review one level down.
fn document(fleet: &Fleet, members: &[Member<'_>], flavor: Flavor) -> Document {
    let mut columns: Vec<(&'static str, Align)> =
        vec![("Cluster", Align::Left), ("Status", Align::Left)];
    columns.extend(Severity::ALL.iter().map(|s| (s.as_str(), Align::Right)));
    columns.push(("Benchmark", Align::Left));
    let rows = members
        .iter()
        .map(|m| {
            let mut row = vec![
                Cell::heading(vec![Inline::Code(m.name().to_owned())]),
                Cell::new(vec![Inline::Text(status(m))]),
            ];
            match m {
                Member::Scanned(_, r) => {
                    row.extend(
                        Severity::ALL
                            .iter()
                            .map(|s| Cell::new(vec![Inline::Text(r.count(*s).to_string())])),
                    );
                    row.push(Cell::new(vec![Inline::Text(
                        benchmark_score(r).unwrap_or_else(|| "—".to_owned()),
                    )]));
                }
                Member::Failed(..) => {
                    row.extend((0..5).map(|_| Cell::new(vec![Inline::Text("—".to_owned())])))
                }
            }
            row
        })
        .collect();
    let mut blocks = vec![
        Block::Paragraph(vec![Inline::Text(headline(fleet))]),
        Block::Table(Table {
            wide: false,
            columns,
            rows,
        }),
    ];
    let shared = fleet.shared_findings();
    if !shared.is_empty() {
        let rows = shared
            .iter()
            .map(|s| {
                vec![
                    Cell::new(vec![Inline::Code(s.rule_id.to_owned())]),
                    Cell::new(vec![Inline::Severity(s.severity)]),
                    Cell::new(vec![
                        Inline::Kind(s.object.kind.clone()),
                        Inline::Text(" ".to_owned()),
                        Inline::Code(match &s.object.namespace {
                            Some(ns) => format!("{ns}/{}", s.object.name),
                            None => s.object.name.clone(),
                        }),
                    ]),
                    Cell::new(vec![Inline::Text(s.members.join(", "))]),
                ]
            })
            .collect();
        blocks.push(Block::Heading {
            level: 2,
            text: vec![Inline::Text("In more than one cluster".to_owned())],
        });
        blocks.push(Block::Table(Table::left(
            &["Rule", "Severity", "Object", "Clusters"],
            rows,
        )));
    }
    for m in members {
        blocks.push(Block::Heading {
            level: 2,
            text: vec![Inline::Code(m.name().to_owned())],
        });
        match m {
            Member::Scanned(_, report) => {
                let doc = review::document(report, flavor);
                blocks.push(Block::Paragraph(vec![Inline::Strong(doc.title)]));
                blocks.extend(demote(doc.blocks));
            }
            Member::Failed(_, why) => blocks.push(Block::Paragraph(vec![Inline::Text(format!(
                "Not scanned: {why}"
            ))])),
        }
    }
    Document {
        title: format!("posture review: {}", headline(fleet)),
        blocks,
    }
}

/// A member's review one level down, without its contents (whose links would point at the
/// first member's sections) and with its sections as plain headings (their anchors would
/// repeat for every member).
fn demote(blocks: Vec<Block>) -> Vec<Block> {
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        match b {
            Block::Contents(_) => {}
            Block::Heading { level, text } => out.push(Block::Heading {
                level: level + 1,
                text,
            }),
            Block::Section {
                level,
                title,
                blocks,
                ..
            } => {
                out.push(Block::Heading {
                    level: level + 1,
                    text: vec![Inline::Text(title)],
                });
                out.extend(demote(blocks));
            }
            Block::Details {
                open,
                summary,
                blocks,
            } => out.push(Block::Details {
                open,
                summary,
                blocks: demote(blocks),
            }),
            other => out.push(other),
        }
    }
    out
}
