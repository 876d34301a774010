//! The security review behind the markdown and HTML reports, as one [`Document`]: what was
//! scanned, the assessment ([`super::assessment`]: verdict, risk score, top attack paths, the
//! fix list), counts by severity (charted in HTML), the benchmark's summary, the top
//! priorities, the findings grouped into sections (workloads, RBAC, network exposure, the
//! rest) and the problems.
//!
//! All grouping, ordering and wording is decided here, once, so that `markdown` and `html`
//! only write blocks out and cannot drift apart; nothing here knows markdown or HTML syntax or
//! escaping. Counts come from `report.findings` alone; findings a later feature sets aside
//! (suppressed, baselined) belong here as one more section, not in the serializers.

use super::assessment;
use super::blocks::{Align, Block, Cell, Chart, Document, Inline, Link, Table, Tone};
use crate::compliance::{Compliance, State, Tally};
use crate::finding::Finding;
use crate::location::Location;
use crate::policy::kinds;
use crate::problem::{Level, Problem};
use crate::resource::{ObjectRef, Origin, Segment};
use crate::scan::{ScanReport, Target};
use crate::severity::Severity;
use rayon::prelude::*;
use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Objects a priority names before "and N more".
pub const NAMED_OBJECTS: usize = 5;
/// Files the scope names before "and N more".
pub const NAMED_FILES: usize = 20;

/// Where the two documents say different things, not only in different syntax: the page folds
/// each group of findings, its counts as badges in the fold's summary, and names each fix with
/// its rule's title; the markdown gives each group a heading and a counts line, and folds a
/// group's fixes instead when there are several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Markdown,
    Html,
}

/// The review of `report`, for a serializer to write.
pub fn document(report: &ScanReport, flavor: Flavor) -> Document {
    // The findings' sections, and beside them the parts that go over all findings once.
    let (sections, head) = rayon::join(
        || sections(report),
        || {
            [
                section("verdict", "Verdict", assessment::verdict(report)),
                section("paths", "Top attack paths", assessment::top_paths(report)),
                section("fixes", "Fix first", assessment::fix_list(report)),
                section("summary", "Summary", summary(report, flavor)),
                section("priorities", "Top priorities", priority_blocks(report)),
            ]
        },
    );
    let mut contents = vec![
        link("#verdict", "Verdict"),
        link("#paths", "Top attack paths"),
        link("#fixes", "Fix first"),
        link("#summary", "Summary"),
        link("#priorities", "Top priorities"),
    ];
    contents.extend(sections.iter().map(|s| {
        let findings: usize = s.groups.iter().flat_map(|g| g.counts).sum();
        link(
            &format!("#{}", s.kind.id()),
            &format!("{} ({findings})", s.kind.title()),
        )
    }));
    contents.push(link("#problems", "Problems and gaps"));

    let mut blocks = vec![
        Block::Paragraph(scope_line(report)),
        Block::Contents(contents),
    ];
    blocks.extend(head);
    for s in &sections {
        blocks.push(section(s.kind.id(), s.kind.title(), s.blocks(flavor)));
    }
    if !report.suppressed.is_empty() {
        blocks.push(section("accepted", "Accepted risks", accepted(report)));
    }
    blocks.push(section("problems", "Problems and gaps", problems(report)));
    Document {
        title: title(report),
        blocks,
    }
}

/// What was scanned, and how much of it the rules ran on.
fn scope_line(report: &ScanReport) -> Vec<Inline> {
    let mut line = Vec::new();
    match &report.target {
        Target::Cluster { info, collected_at } => {
            line.extend([text("Cluster "), code(&info.name)]);
            if let Some(c) = info.context.as_deref().filter(|c| *c != info.name) {
                line.extend([text(" (context "), code(c), text(")")]);
            }
            line.extend([
                text(", Kubernetes "),
                text(&info.server_version.git_version),
                text(" on "),
                text(info.platform.kind.as_str()),
                text(", collected "),
                text(collected_at),
            ]);
        }
        Target::Manifests => {
            let all = files(report);
            let directory = common_directory(&all);
            line.push(text(format!(
                "Manifests: {} file{}",
                all.len(),
                plural(all.len())
            )));
            if let Some(d) = &directory {
                line.extend([text(" in "), code(d)]);
            }
            let mut named: Vec<Vec<Inline>> = all
                .iter()
                .take(NAMED_FILES)
                .map(|f| match &directory {
                    Some(dir) => vec![code(&f[dir.len() + 1..])],
                    None => vec![code(f)],
                })
                .collect();
            if all.len() > NAMED_FILES {
                named.push(vec![text(format!("and {} more", all.len() - NAMED_FILES))]);
            }
            if !named.is_empty() {
                line.push(text(": "));
                line.extend(join(named, text(", ")));
            }
        }
    }
    let (read, evaluated) = (report.objects, report.evaluated.len());
    let mut sentence = format!(
        ". {read} object{} read, {evaluated} evaluated",
        plural(read)
    );
    if read != evaluated {
        sentence.push_str(
            " (Pods and ReplicaSets that a scanned controller owns are reported through it)",
        );
    }
    sentence.push('.');
    line.push(text(sentence));
    line
}

/// Counts by severity, the problems, exceptions and baseline in a line each, the benchmark.
/// The page charts findings by namespace and the benchmark's sections.
fn summary(report: &ScanReport, flavor: Flavor) -> Vec<Block> {
    let findings = &report.findings;
    let number = |n: usize| Cell::new(vec![text(n.to_string())]);
    let mut rows: Vec<Vec<Cell>> = Severity::ALL
        .iter()
        .map(|&s| {
            let of = || findings.iter().filter(move |f| f.severity == s);
            vec![
                Cell::new(vec![Inline::Severity(s)]),
                number(of().count()),
                number(distinct_objects(of())),
            ]
        })
        .collect();
    rows.push(
        [
            "Total".to_owned(),
            findings.len().to_string(),
            distinct_objects(findings.iter()).to_string(),
        ]
        .map(|s| Cell::heading(vec![text(s)]))
        .into(),
    );
    let mut blocks = vec![Block::Table(Table {
        wide: false,
        columns: vec![
            ("Severity", Align::Left),
            ("Findings", Align::Right),
            ("Objects", Align::Right),
        ],
        rows,
    })];
    if flavor == Flavor::Html && !findings.is_empty() {
        blocks.push(Block::Chart(namespace_chart(report)));
    }
    let errors = count_level(&report.problems, Level::Error);
    if let Some(line) = problems_line(errors, count_level(&report.problems, Level::Warning)) {
        blocks.push(Block::Paragraph(vec![Inline::Strong(line)]));
    }
    let suppressed = report.suppressed.len();
    if suppressed > 0 {
        blocks.push(Block::Paragraph(vec![
            text(format!(
                "{suppressed} more finding{} accepted by exceptions (see ",
                plural(suppressed)
            )),
            Inline::Link(link("#accepted", "Accepted risks")),
            text(")."),
        ]));
    }
    if let Some(line) = super::baseline_line(report) {
        blocks.push(Block::Paragraph(vec![text(line), text(".")]));
    }
    if let Some(c) = &report.compliance {
        blocks.push(Block::Heading {
            level: 3,
            text: vec![text(super::compliance::heading(c))],
        });
        blocks.extend(benchmark(c));
        if flavor == Flavor::Html {
            if let Some(chart) = benchmark_chart(c) {
                blocks.push(Block::Chart(chart));
            }
        }
    }
    blocks
}

/// Rows a chart shows before it sums the rest into one.
const CHART_ROWS: usize = 15;

/// Findings by namespace, stacked by severity; most findings first.
fn namespace_chart(report: &ScanReport) -> Chart {
    let mut counts: BTreeMap<Option<&str>, [usize; 4]> = BTreeMap::new();
    for f in &report.findings {
        counts.entry(f.object.namespace.as_deref()).or_default()[f.severity as usize] += 1;
    }
    // Most severe first, as the table reads.
    let series: Vec<Severity> = Severity::ALL.to_vec();
    let mut rows: Vec<(String, Vec<usize>)> = counts
        .into_iter()
        .map(|(ns, c)| {
            let label = ns.map_or("(cluster-scoped)".to_owned(), str::to_owned);
            (label, series.iter().map(|s| c[*s as usize]).collect())
        })
        .collect();
    rows.sort_by(|a, b| {
        let total = |r: &(String, Vec<usize>)| r.1.iter().sum::<usize>();
        total(b).cmp(&total(a)).then_with(|| a.0.cmp(&b.0))
    });
    if rows.len() > CHART_ROWS {
        let rest = rows.split_off(CHART_ROWS - 1);
        let mut sum = vec![0; series.len()];
        for (_, c) in &rest {
            for (s, n) in sum.iter_mut().zip(c) {
                *s += n;
            }
        }
        rows.push((format!("{} more namespaces", rest.len()), sum));
    }
    Chart {
        id: "chart-namespaces",
        title: "Findings by namespace and severity".to_owned(),
        description: format!(
            "A bar per namespace, most findings first, stacked by severity: {}.",
            rows.iter()
                .map(|(ns, c)| format!("{ns} {}", c.iter().sum::<usize>()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        label: "Namespace",
        series: series
            .iter()
            .map(|s| (s.as_str(), Tone::Severity(*s)))
            .collect(),
        rows,
    }
}

/// The benchmark's top-level sections: checks passed, failed and not collected.
fn benchmark_chart(c: &Compliance) -> Option<Chart> {
    let states = [State::Pass, State::Fail, State::NotCollected];
    let rows: Vec<(String, Vec<usize>)> = c
        .sections
        .iter()
        .filter(|s| !s.id.contains('.'))
        .map(|s| {
            (
                format!("{} {}", s.id, s.title),
                states
                    .iter()
                    .map(|st| s.counts.get(*st))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, n)| n.iter().any(|n| *n > 0))
        .collect();
    if rows.is_empty() {
        return None;
    }
    Some(Chart {
        id: "chart-benchmark",
        title: format!("{}: results by section", c.benchmark),
        description: format!(
            "A bar per section of the benchmark, stacked by result: {}.",
            rows.iter()
                .map(|(s, n)| format!("{s}: {} pass, {} fail, {} not collected", n[0], n[1], n[2]))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        label: "Section",
        series: vec![
            ("Pass", Tone::Pass),
            ("Fail", Tone::Fail),
            ("Not collected", Tone::Muted),
        ],
        rows,
    })
}

/// The applied benchmark: its counts per section, and the failed checks.
fn benchmark(c: &Compliance) -> Vec<Block> {
    let judged = c.results.pass + c.results.fail;
    let score = match c.score {
        Some(score) => format!(
            "Score {score:.1}%: {} of {judged} judged result{} of automated checks passed \
             (a check judged per node or component run counts once for each).",
            c.results.pass,
            plural(judged)
        ),
        None => "No automated check could be judged, so there is no score.".to_owned(),
    };
    let mut columns = vec![("Section", Align::Left)];
    columns.extend(State::ALL.map(|s| (state_label(s), Align::Right)));
    columns.push(("Score", Align::Right));
    let mut rows: Vec<Vec<Cell>> = c
        .sections
        .iter()
        .map(|s| {
            // Non-breaking spaces indent subsections; ordinary ones would be trimmed.
            let indent = "\u{a0}\u{a0}".repeat(s.id.matches('.').count());
            let mut name = vec![text(indent), text(&s.id), text(" "), text(&s.title)];
            match &s.note {
                Some(note) if s.counts.total() == 0 => {
                    name.extend([Inline::Break, Inline::Note(note.clone())]);
                    let dashes = (0..=State::ALL.len()).map(|_| Cell::new(vec![text("—")]));
                    [Cell::new(name)].into_iter().chain(dashes).collect()
                }
                _ => [Cell::new(name)]
                    .into_iter()
                    .chain(tally_cells(&s.counts, s.score))
                    .collect(),
            }
        })
        .collect();
    let total = [Cell::heading(vec![text("Total")])].into_iter();
    rows.push(total.chain(tally_cells(&c.total, c.score)).collect());
    let mut blocks = vec![
        paragraph(&score),
        Block::Table(Table {
            wide: false,
            columns,
            rows,
        }),
    ];
    let failed: Vec<Vec<Inline>> = c
        .checks
        .iter()
        .filter(|r| r.state == State::Fail)
        .map(|r| {
            let mut item = vec![
                Inline::Strong(r.id.clone()),
                text(format!("{} ", super::compliance::level_tag(r.level))),
                text(&r.title),
            ];
            if let Some(note) = &r.note {
                item.push(text(format!(" ({note})")));
            }
            item.push(text(": "));
            item.extend(inline_code(&r.detail));
            item
        })
        .collect();
    if !failed.is_empty() {
        blocks.push(paragraph("Failed checks:"));
        blocks.push(list(false, failed));
    }
    blocks
}

fn tally_cells(t: &Tally, score: Option<f64>) -> impl Iterator<Item = Cell> + '_ {
    let score = score.map_or("—".to_owned(), |s| format!("{s:.1}%"));
    State::ALL
        .iter()
        .map(|s| t.get(*s).to_string())
        .chain([score])
        .map(|n| Cell::new(vec![text(n)]))
}

fn priority_blocks(report: &ScanReport) -> Vec<Block> {
    let priorities = priorities(report);
    if priorities.is_empty() {
        return vec![paragraph("No critical or high findings.")];
    }
    let items = priorities
        .iter()
        .map(|p| {
            let mut objects: Vec<Vec<Inline>> = p
                .objects
                .iter()
                .take(NAMED_OBJECTS)
                .map(|o| object(o))
                .collect();
            if p.objects.len() > NAMED_OBJECTS {
                objects.push(vec![text(format!(
                    "{} more",
                    p.objects.len() - NAMED_OBJECTS
                ))]);
            }
            let mut item = vec![
                Inline::Severity(p.rule.severity),
                text(" "),
                code(p.rule.id),
                text(" "),
                text(p.rule.title),
                text(format!(
                    ": {} finding{} in {} object{}: ",
                    p.findings,
                    plural(p.findings),
                    p.objects.len(),
                    plural(p.objects.len())
                )),
            ];
            item.extend(join(objects, text(", ")));
            item.push(text("."));
            if !p.rule.remediation.is_empty() {
                item.extend([Inline::Break, text("Fix: ")]);
                item.extend(p.rule.remediation.iter().cloned());
            }
            item
        })
        .collect();
    vec![
        paragraph("Critical and high findings by rule, most severe and widespread first."),
        list(true, items),
    ]
}

/// Findings exceptions cover: what was accepted, why and until when.
fn accepted(report: &ScanReport) -> Vec<Block> {
    let rows = report
        .suppressed
        .iter()
        .map(|s| {
            let (f, why) = (&s.finding, &s.suppression);
            let until = why.expires.map_or("-".to_owned(), |d| d.to_string());
            vec![
                Cell::new(vec![Inline::Severity(f.severity)]),
                Cell::new(vec![
                    code(f.rule_id.as_str()),
                    text(" "),
                    text(f.rule_title.as_str()),
                ]),
                Cell::new(object(&f.object)),
                Cell::new(vec![
                    text(&why.reason),
                    text(" ("),
                    text(&why.exception),
                    text(")"),
                ]),
                Cell::new(vec![text(until)]),
            ]
        })
        .collect();
    vec![
        Block::Paragraph(vec![
            text("These findings are excepted (by "),
            code(".posture.yaml"),
            text(" or a "),
            code("posture.io/ignore"),
            text(" annotation) and not counted above."),
        ]),
        Block::Table(Table::left(
            &["Severity", "Rule", "Object", "Reason", "Until"],
            rows,
        )),
    ]
}

/// Every problem, and the benchmark checks that could not be judged, by reason.
fn problems(report: &ScanReport) -> Vec<Block> {
    let not_collected = report
        .compliance
        .as_ref()
        .map(super::compliance::not_collected_by_reason)
        .unwrap_or_default();
    if report.problems.is_empty() && not_collected.is_empty() {
        return vec![paragraph("None: every input was read and evaluated.")];
    }
    let mut blocks = Vec::new();
    if !report.problems.is_empty() {
        let rows = report
            .problems
            .iter()
            .map(|p| {
                let place = match p.place() {
                    Some(place) => code(place),
                    None => text("—"),
                };
                let level = match p.level {
                    Level::Error => "error",
                    Level::Warning => "warning",
                    Level::Note => "note",
                };
                [text(level), code(p.code.as_str()), place, text(&p.message)]
                    .map(|i| Cell::new(vec![i]))
                    .into()
            })
            .collect();
        blocks.push(Block::Table(Table::left(
            &["Level", "Code", "Where", "Message"],
            rows,
        )));
    }
    if !not_collected.is_empty() {
        blocks.push(paragraph("Benchmark checks that could not be judged:"));
        let items = not_collected
            .iter()
            .map(|(reason, ids)| {
                let mut item = vec![text(ids.join(", ")), text(": ")];
                item.extend(inline_code(reason));
                item
            })
            .collect();
        blocks.push(list(false, items));
    }
    blocks
}

impl Section<'_> {
    fn blocks(&self, flavor: Flavor) -> Vec<Block> {
        if self.groups.is_empty() {
            return vec![paragraph(&match self.evaluated {
                0 => "No objects of these kinds were scanned.".to_owned(),
                n => format!("No findings among {n} evaluated object{}.", plural(n)),
            })];
        }
        let mut blocks = vec![paragraph(&format!(
            "{} Findings on {} of {} evaluated object{}.",
            self.kind.about(),
            self.objects_with_findings,
            self.evaluated,
            plural(self.evaluated)
        ))];
        let groups: Vec<Vec<Block>> = self.groups.par_iter().map(|g| g.blocks(flavor)).collect();
        blocks.extend(groups.into_iter().flatten());
        blocks
    }
}

impl Group<'_> {
    /// Its title, where its findings were read, their table and each rule's fix once.
    fn blocks(&self, flavor: Flavor) -> Vec<Block> {
        let title = match self.subject {
            Subject::Object(o) => object(o),
            Subject::Container(o, index, name) => {
                let mut title = object(o);
                let name = match name {
                    "" => format!("#{index}"),
                    name => name.to_owned(),
                };
                title.extend([text(", container "), code(name)]);
                title
            }
            Subject::Namespace(Some(ns)) => {
                vec![Inline::Kind("Namespace".into()), text(" "), code(ns)]
            }
            Subject::Namespace(None) => vec![text("Cluster-scoped and unnamespaced objects")],
            Subject::Rule { id, title } => vec![code(id), text(" "), text(title)],
        };
        let source = self.source.as_ref().map(|s| {
            let mut line = vec![code(&s.location)];
            if let Some(t) = s.template {
                line.extend([text(" (Helm template "), code(t), text(")")]);
            }
            line
        });
        let severities = Severity::ALL.into_iter().filter(|s| self.count(*s) > 0);
        let label = |s: Severity| format!("{} {}", self.count(s), s.as_str());
        // An object in the fix list has its fixes there, said once.
        let fixes: Vec<&RuleGroup<'_>> = self
            .rules
            .iter()
            .filter(|r| !r.rule.remediation.is_empty() && self.fix.is_none())
            .collect();
        let see_fix = self.fix.map(|n| {
            Block::Paragraph(vec![
                text("Fix: see "),
                Inline::Link(link("#fixes", "Fix first")),
                text(format!(", fix {n}.")),
            ])
        });
        let fix = |r: &RuleGroup<'_>| {
            let mut item = vec![code(r.rule.id), text(" "), text(r.rule.title), text(": ")];
            item.extend(r.rule.remediation.iter().cloned());
            item
        };
        let fix_list = || list(false, fixes.iter().map(|r| fix(r)).collect());
        match flavor {
            Flavor::Markdown => {
                let mut line = source.map_or(Vec::new(), |mut s| {
                    s.push(text(" · "));
                    s
                });
                let counts: Vec<String> = severities.map(label).collect();
                line.push(text(counts.join(", ")));
                let mut blocks = vec![
                    Block::Heading {
                        level: 3,
                        text: title,
                    },
                    Block::Paragraph(line),
                    Block::Table(self.table()),
                ];
                blocks.extend(see_fix);
                match fixes.as_slice() {
                    [] => {}
                    [one] => {
                        let mut line = if self.rule_column() {
                            vec![text("Fix for "), code(one.rule.id), text(": ")]
                        } else {
                            vec![text("Fix: ")]
                        };
                        line.extend(one.rule.remediation.iter().cloned());
                        blocks.push(Block::Paragraph(line));
                    }
                    // Folded: the table is what differs between workloads, the fixes often do
                    // not.
                    many => blocks.push(Block::Details {
                        open: false,
                        summary: vec![text(format!("How to fix ({} rules)", many.len()))],
                        blocks: vec![fix_list()],
                    }),
                }
                blocks
            }
            Flavor::Html => {
                let mut summary = title;
                summary.push(text(" "));
                summary.extend(severities.map(|s| Inline::Badge {
                    severity: s,
                    label: label(s),
                }));
                let mut blocks: Vec<Block> = source.map(Block::Paragraph).into_iter().collect();
                blocks.push(Block::Table(self.table()));
                blocks.extend(see_fix);
                match fixes.as_slice() {
                    [] => {}
                    [one] => blocks.push(Block::Paragraph(
                        [text("Fix for ")].into_iter().chain(fix(one)).collect(),
                    )),
                    _ => blocks.extend([paragraph("How to fix:"), fix_list()]),
                }
                // Blocks with something critical or high start open; the rest are a click
                // away.
                vec![Block::Details {
                    open: self.worst() >= Some(Severity::High),
                    summary,
                    blocks,
                }]
            }
        }
    }

    fn table(&self) -> Table {
        let mut columns = vec!["Severity"];
        if self.rule_column() {
            columns.push("Rule");
        }
        columns.extend(["Finding", "Location"]);
        let mut rows = Vec::new();
        for r in &self.rules {
            for item in &r.items {
                let mut row = vec![Cell::new(vec![Inline::Severity(r.rule.severity)])];
                if self.rule_column() {
                    row.push(Cell::new(vec![
                        code(r.rule.id),
                        text(" "),
                        text(r.rule.title),
                    ]));
                }
                let lines: Vec<Vec<Inline>> =
                    item.location_lines().map(|l| vec![code(l)]).collect();
                let location = match lines.is_empty() {
                    true => vec![text("—")],
                    false => join(lines, Inline::Break),
                };
                row.extend([
                    Cell::new(vec![text(&item.finding.message)]),
                    Cell::new(location),
                ]);
                rows.push(row);
            }
        }
        Table {
            wide: true,
            ..Table::left(&columns, rows)
        }
    }
}

pub(super) fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

pub(super) fn code(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}

pub(super) fn paragraph(s: &str) -> Block {
    Block::Paragraph(vec![text(s)])
}

pub(super) fn list(ordered: bool, items: Vec<Vec<Inline>>) -> Block {
    Block::List { ordered, items }
}

fn link(href: &str, label: &str) -> Link {
    Link {
        href: href.to_owned(),
        text: label.to_owned(),
    }
}

fn section(id: &'static str, title: &str, blocks: Vec<Block>) -> Block {
    Block::Section {
        id,
        level: 2,
        title: title.to_owned(),
        blocks,
    }
}

/// `Deployment ratingsapp/ratings-api`: the kind, then the namespace and name as code.
pub(super) fn object(o: &ObjectRef) -> Vec<Inline> {
    let name = match &o.namespace {
        Some(ns) => format!("{ns}/{}", o.name),
        None => o.name.clone(),
    };
    vec![Inline::Kind(o.kind.clone()), text(" "), code(name)]
}

pub(super) fn join(parts: Vec<Vec<Inline>>, separator: Inline) -> Vec<Inline> {
    let mut out = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(separator.clone());
        }
        out.extend(part);
    }
    out
}

/// A rule as the review names it.
struct RuleInfo<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    /// Empty when the report does not describe the rule.
    remediation: Vec<Inline>,
}

struct Priority<'a> {
    rule: RuleInfo<'a>,
    findings: usize,
    /// Distinct objects, in report order.
    objects: Vec<&'a ObjectRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SectionKind {
    Workloads,
    Rbac,
    Network,
    Other,
}

impl SectionKind {
    const ALL: [SectionKind; 4] = [
        SectionKind::Workloads,
        SectionKind::Rbac,
        SectionKind::Network,
        SectionKind::Other,
    ];

    fn title(self) -> &'static str {
        match self {
            SectionKind::Workloads => "Workloads",
            SectionKind::Rbac => "RBAC and service accounts",
            SectionKind::Network => "Network exposure",
            SectionKind::Other => "Other findings",
        }
    }

    /// What the section holds, for its first line.
    fn about(self) -> &'static str {
        match self {
            SectionKind::Workloads => {
                "Pods and their controllers, one per block, most severe finding first; each \
                 rule's fix is given once per workload."
            }
            SectionKind::Rbac => {
                "Roles, bindings and service accounts: who can do what in the cluster."
            }
            SectionKind::Network => {
                "Services, Ingresses and NetworkPolicies, and every finding of the network \
                 rules (workloads no NetworkPolicy covers), by namespace."
            }
            SectionKind::Other => {
                "Secrets, namespaces, configuration, and the benchmark's checks on the control \
                 plane and the nodes."
            }
        }
    }

    /// A stable id for links and HTML anchors.
    fn id(self) -> &'static str {
        match self {
            SectionKind::Workloads => "workloads",
            SectionKind::Rbac => "rbac",
            SectionKind::Network => "network",
            SectionKind::Other => "other",
        }
    }

    /// The section of an evaluated object, by its kind alone. Compose services and ECS task
    /// definitions are workloads.
    fn of_object(id: &ObjectRef) -> SectionKind {
        let group = kinds::api_group(&id.api_version);
        if kinds::is_workload(id)
            || id.api_version == crate::collect::compose::API_VERSION
            || id.api_version == crate::collect::ecs::API_VERSION
        {
            SectionKind::Workloads
        } else if matches!(
            (group, id.kind.as_str()),
            ("rbac.authorization.k8s.io", _) | ("", "ServiceAccount")
        ) {
            SectionKind::Rbac
        } else if matches!(
            id.kind.as_str(),
            "Service" | "Ingress" | "IngressClass" | "NetworkPolicy" | "Gateway" | "HTTPRoute"
        ) {
            SectionKind::Network
        } else {
            SectionKind::Other
        }
    }
}

struct Section<'a> {
    kind: SectionKind,
    /// Evaluated objects of this section's kinds, or that its rules ran on.
    evaluated: usize,
    /// Distinct objects with a finding in this section.
    objects_with_findings: usize,
    groups: Vec<Group<'a>>,
}

/// What a group is about: one object (workloads, other findings), a namespace (network
/// exposure) or a rule (RBAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject<'a> {
    Object(&'a ObjectRef),
    /// One container of an object that holds several under one name (an ECS task definition).
    Container(&'a ObjectRef, usize, &'a str),
    /// `None`: cluster-scoped objects, or manifests that leave the namespace to deploy time.
    Namespace(Option<&'a str>),
    Rule {
        id: &'a str,
        title: &'a str,
    },
}

/// Where every finding of a group was read from, when they share it.
struct Source<'a> {
    /// A file path, or a cluster object's `k8s://` address.
    location: String,
    /// The chart template named by Helm's `# Source:` comment.
    template: Option<&'a str>,
}

struct Group<'a> {
    subject: Subject<'a>,
    source: Option<Source<'a>>,
    /// Findings per severity.
    counts: [usize; 4],
    /// Most severe rule first.
    rules: Vec<RuleGroup<'a>>,
    /// The object's entry in the fix list, which gives its fixes instead.
    fix: Option<usize>,
}

impl Group<'_> {
    fn count(&self, severity: Severity) -> usize {
        self.counts[severity as usize]
    }

    fn worst(&self) -> Option<Severity> {
        self.rules.first().map(|r| r.rule.severity)
    }

    /// Whether rows need a rule column: not when the group is one rule's.
    fn rule_column(&self) -> bool {
        !matches!(self.subject, Subject::Rule { .. })
    }
}

struct RuleGroup<'a> {
    rule: RuleInfo<'a>,
    items: Vec<Item<'a>>,
}

struct Item<'a> {
    finding: &'a Finding,
    /// `file:line:column` for manifests; the object's address for a cluster object when the
    /// group's source does not already give it; `None` otherwise.
    place: Option<String>,
    /// The offending field, or empty.
    field: String,
}

impl Item<'_> {
    /// What the location cell shows, one entry a line: the place, then the field.
    fn location_lines(&self) -> impl Iterator<Item = &str> {
        self.place
            .as_deref()
            .into_iter()
            .chain(Some(self.field.as_str()).filter(|f| !f.is_empty()))
    }
}
/// The findings by section and group, every section listed, empty ones included.
fn sections<'a>(report: &'a ScanReport) -> Vec<Section<'a>> {
    let benchmark_prefix = report
        .compliance
        .as_ref()
        .map(|c| format!("{}/", c.benchmark));
    let is_benchmark = |f: &Finding| {
        benchmark_prefix
            .as_deref()
            .is_some_and(|p| f.rule_id.starts_with(p))
    };
    let mut rules = Rules::default();
    for r in &report.rules {
        rules.entry(r.id.as_str()).or_insert(r);
    }
    let section_of = |f: &Finding| {
        if is_benchmark(f) {
            SectionKind::Other
        } else if rules
            .get(f.rule_id.as_str())
            .is_some_and(|r| r.group == "network")
        {
            SectionKind::Network
        } else {
            SectionKind::of_object(&f.object)
        }
    };

    // Grouped by sorting on every core; stable, so that a group's findings keep the report's
    // order.
    let mut keyed: Vec<((SectionKind, GroupKey<'a>), &'a Finding)> = report
        .findings
        .par_iter()
        .map(|f| {
            let section = section_of(f);
            ((section, GroupKey::of(section, f)), f)
        })
        .collect();
    keyed.par_sort_by(|a, b| a.0.cmp(&b.0));
    let mut grouped: Vec<((SectionKind, GroupKey<'a>), Vec<&'a Finding>)> = Vec::new();
    for (key, f) in keyed {
        match grouped.last_mut() {
            Some((last, findings)) if *last == key => findings.push(f),
            _ => grouped.push((key, vec![f])),
        }
    }
    // Network rules also look at workloads (is a NetworkPolicy selecting them?), so the
    // objects they ran on count as evaluated for the network section.
    let network_rules: Vec<&crate::policy::RuleInfo> = report
        .rules
        .iter()
        .filter(|r| r.group == "network")
        .collect();
    let in_section = |kind: SectionKind, o: &ObjectRef| {
        SectionKind::of_object(o) == kind
            || (kind == SectionKind::Network && network_rules.iter().any(|r| r.kinds.matches(o)))
    };
    let mut sections: Vec<Section<'a>> = SectionKind::ALL
        .iter()
        .map(|&kind| Section {
            kind,
            evaluated: report
                .evaluated
                .iter()
                .filter(|e| in_section(kind, &e.object))
                .count(),
            objects_with_findings: 0,
            groups: Vec::new(),
        })
        .collect();
    let fix_numbers = assessment::fix_numbers(report);
    let mut with_findings: Vec<foldhash::HashSet<(&ObjectRef, Cow<'_, str>)>> =
        vec![foldhash::HashSet::default(); SectionKind::ALL.len()];
    for ((kind, _), findings) in &grouped {
        with_findings[*kind as usize]
            .extend(findings.iter().map(|f| (&*f.object, f.origin.source())));
    }
    // A group's rows (each finding's place and field) on every core.
    let groups: Vec<(SectionKind, Group<'a>)> = grouped
        .into_par_iter()
        .map(|((kind, key), findings)| (kind, group(&rules, key.subject(), findings, &fix_numbers)))
        .collect();
    for (kind, group) in groups {
        sections[kind as usize].groups.push(group);
    }
    for (section, objects) in sections.iter_mut().zip(with_findings) {
        section.objects_with_findings = objects.len();
    }

    sections
}

/// How findings are grouped, and in which order: objects by namespace, then name; namespaces
/// by name; rules most severe first. The object key holds where the object was read, so that
/// the same Deployment in two overlays stays two groups.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey<'a> {
    Object {
        namespace: Option<&'a str>,
        name: &'a str,
        kind: &'a str,
        api_version: &'a str,
        source: Cow<'a, str>,
        /// The container of an ECS task definition the finding is about, by its index.
        container: Option<(usize, &'a str)>,
        object: &'a ObjectRef,
    },
    Namespace(Option<&'a str>),
    Rule(Reverse<Severity>, &'a str, &'a str),
}

impl<'a> GroupKey<'a> {
    /// Workloads and the rest are fixed object by object; network exposure is a namespace's
    /// matter; RBAC findings are mostly one per object, and one fix serves them all.
    fn of(section: SectionKind, f: &'a Finding) -> GroupKey<'a> {
        let o = &f.object;
        match section {
            SectionKind::Network => GroupKey::Namespace(o.namespace.as_deref()),
            SectionKind::Rbac => GroupKey::Rule(Reverse(f.severity), &f.rule_id, &f.rule_title),
            SectionKind::Workloads | SectionKind::Other => GroupKey::Object {
                namespace: o.namespace.as_deref(),
                name: &o.name,
                kind: &o.kind,
                api_version: &o.api_version,
                source: f.origin.source(),
                container: container_of(f),
                object: o,
            },
        }
    }

    fn subject(&self) -> Subject<'a> {
        match *self {
            GroupKey::Object {
                object, container, ..
            } => match container {
                Some((index, name)) => Subject::Container(object, index, name),
                None => Subject::Object(object),
            },
            GroupKey::Namespace(ns) => Subject::Namespace(ns),
            GroupKey::Rule(_, id, title) => Subject::Rule { id, title },
        }
    }
}

/// The container an ECS finding is about: its index in `containerDefinitions` and its name as
/// the ECS rules' messages give it (`Container 'api' of task definition ...`), else `#index`.
fn container_of(f: &Finding) -> Option<(usize, &str)> {
    if f.object.api_version != crate::collect::ecs::API_VERSION {
        return None;
    }
    let index = match f.path.0.as_slice() {
        [Segment::Key(k), Segment::Index(i), ..] if k == "containerDefinitions" => *i,
        _ => return None,
    };
    const BEFORE: &str = "Container '";
    let name = f
        .message
        .text()
        .strip_prefix(BEFORE)
        .and_then(|rest| rest.split_once("' of "))
        .map(|(name, _)| BEFORE.len()..BEFORE.len() + name.len())
        .and_then(|at| f.message.get(at))
        .unwrap_or("");
    Some((index, name))
}

/// Where a finding was read: the file (with its chart template) or the object's address.
fn source_of(f: &Finding) -> Source<'_> {
    let location = f.location();
    match location {
        Location::File {
            file,
            helm_template,
            ..
        } => Source {
            location: file.to_string(),
            template: helm_template,
        },
        Location::Rendered { file, .. } => Source {
            location: file.to_string(),
            template: None,
        },
        Location::Cluster { .. } => Source {
            location: location.line(),
            template: None,
        },
    }
}

/// The report's rules by id, the first of each id as `ScanReport::rule` finds it.
type Rules<'a> = foldhash::HashMap<&'a str, &'a crate::policy::RuleInfo>;

fn group<'a>(
    rules_by_id: &Rules<'_>,
    subject: Subject<'a>,
    findings: Vec<&'a Finding>,
    fix_numbers: &std::collections::HashMap<(&ObjectRef, &Origin), usize>,
) -> Group<'a> {
    let fix = match subject {
        Subject::Object(_) | Subject::Container(..) => fix_numbers
            .get(&(&findings[0].object, &findings[0].origin))
            .copied(),
        _ => None,
    };
    // A shared source is shown once, above the rows: for one object's group. A namespace's
    // or a rule's group names each finding's object in its row even when there is one.
    let first = source_of(findings[0]);
    let shared = matches!(subject, Subject::Object(_) | Subject::Container(..))
        && findings.iter().all(|f| {
            let s = source_of(f);
            s.location == first.location && s.template == first.template
        });
    let mut counts = [0; 4];
    // Most severe rule first, then by id; findings keep the report's order within a rule.
    let mut by_rule: BTreeMap<(Reverse<Severity>, &str), Vec<&'a Finding>> = BTreeMap::new();
    for f in findings {
        counts[f.severity as usize] += 1;
        by_rule
            .entry((Reverse(f.severity), &f.rule_id))
            .or_default()
            .push(f);
    }
    let rules = by_rule
        .into_values()
        .map(|findings| RuleGroup {
            rule: rule_info(
                rules_by_id.get(findings[0].rule_id.as_str()).copied(),
                findings[0],
            ),
            items: findings
                .into_iter()
                .map(|f| Item {
                    finding: f,
                    place: place(f, shared),
                    field: f.path.to_string(),
                })
                .collect(),
        })
        .collect();
    Group {
        subject,
        source: shared.then_some(first),
        counts,
        rules,
        fix,
    }
}

/// The finding's place in its row; what the group's shared source already says is left out.
fn place(f: &Finding, shared_source: bool) -> Option<String> {
    let location = f.location();
    match location {
        Location::File { .. } if shared_source => Some(location.without_template().line()),
        Location::File { .. } | Location::Rendered { .. } => Some(location.line()),
        Location::Cluster { .. } => (!shared_source).then(|| location.line()),
    }
}

/// What the review says of `f`'s rule; `rule` is the report's rule of its id.
fn rule_info<'a>(rule: Option<&crate::policy::RuleInfo>, f: &'a Finding) -> RuleInfo<'a> {
    RuleInfo {
        id: &f.rule_id,
        title: &f.rule_title,
        severity: f.severity,
        remediation: rule
            .map(|r| inline_code(&r.remediation))
            .unwrap_or_default(),
    }
}

fn count_level(problems: &[Problem], level: Level) -> usize {
    problems.iter().filter(|p| p.level == level).count()
}

fn distinct_objects<'a>(findings: impl Iterator<Item = &'a Finding>) -> usize {
    findings
        .map(|f| (&*f.object, f.origin.source()))
        .collect::<foldhash::HashSet<_>>()
        .len()
}

/// Critical and high findings by rule: most severe first, then the rule on most objects.
fn priorities(report: &ScanReport) -> Vec<Priority<'_>> {
    let mut by_rule: BTreeMap<&str, Priority<'_>> = BTreeMap::new();
    // Which objects each rule's priority lists already: a rule can be on every object.
    let mut seen: foldhash::HashSet<(&ObjectRef, &str)> = foldhash::HashSet::default();
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
    {
        let p = by_rule.entry(&f.rule_id).or_insert_with(|| Priority {
            rule: rule_info(report.rule(&f.rule_id), f),
            findings: 0,
            objects: Vec::new(),
        });
        p.findings += 1;
        if seen.insert((&*f.object, &*f.rule_id)) {
            p.objects.push(&*f.object);
        }
    }
    let mut priorities: Vec<Priority<'_>> = by_rule.into_values().collect();
    priorities.sort_by(|a, b| {
        (
            Reverse(a.rule.severity),
            Reverse(a.objects.len()),
            a.rule.id,
        )
            .cmp(&(
                Reverse(b.rule.severity),
                Reverse(b.objects.len()),
                b.rule.id,
            ))
    });
    priorities
}

fn files(report: &ScanReport) -> Vec<String> {
    let files: BTreeSet<String> = report
        .evaluated
        .iter()
        .filter_map(|e| match &*e.origin {
            Origin::File { path, .. } => Some(path.to_string()),
            // The chart or kustomization that was rendered, as the user named it.
            Origin::Rendered { dir, .. } => Some(dir.to_string()),
            Origin::Cluster { .. } => None,
        })
        .collect();
    files.into_iter().collect()
}

fn title(report: &ScanReport) -> String {
    if let Target::Cluster { info, .. } = &report.target {
        return format!("Security review of cluster {}", info.name);
    }
    let files = files(report);
    let subject = match files.as_slice() {
        [] => "manifests".to_owned(),
        [one] if one == "-" => "standard input".to_owned(),
        [one] => one.clone(),
        many => match common_directory(many) {
            Some(dir) => dir,
            None => format!("{} manifest files", many.len()),
        },
    };
    format!("Security review of {subject}")
}

/// The longest directory every path is under (`fixtures/ratings`), if there is one.
fn common_directory(paths: &[String]) -> Option<String> {
    let dirs: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            let mut parts: Vec<&str> = p.split('/').collect();
            parts.pop();
            parts
        })
        .collect();
    let first = dirs.first()?;
    let depth = (0..first.len())
        .take_while(|&i| dirs.iter().all(|d| d.get(i) == first.get(i)))
        .count();
    let dir = first[..depth].join("/");
    (!dir.is_empty()).then_some(dir)
}

/// `s` for a count other than one.
pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `1 error and 4 warnings: ...`, for the summary, when there are problems to look at.
fn problems_line(errors: usize, warnings: usize) -> Option<String> {
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(format!("{errors} error{}", plural(errors)));
    }
    if warnings > 0 {
        parts.push(format!("{warnings} warning{}", plural(warnings)));
    }
    if parts.is_empty() {
        return None;
    }
    let why = if errors > 0 {
        "part of the input was not scanned; "
    } else {
        ""
    };
    Some(format!(
        "{}: {why}see Problems and gaps.",
        parts.join(" and ")
    ))
}

/// A benchmark state as a column heading.
fn state_label(s: State) -> &'static str {
    match s {
        State::Pass => "Pass",
        State::Fail => "Fail",
        State::Manual => "Manual",
        State::NotApplicable => "Not applicable",
        State::NotCollected => "Not collected",
    }
}

/// Splits metadata text at its `code` spans (CommonMark: a run of n backticks up to the next
/// run of exactly n). Text with an unclosed run stays text.
pub(super) fn inline_code(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut plain_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
        let content_start = i + run;
        let mut j = content_start;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let other = bytes[j..].iter().take_while(|&&b| b == b'`').count();
                if other == run {
                    close = Some(j);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                if plain_start < i {
                    out.push(Inline::text(&text[plain_start..i]));
                }
                let code = &text[content_start..end];
                // One space on each side is padding (so a span can start with a backtick).
                let code = match code.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                    Some(inner) if !inner.trim().is_empty() => inner,
                    _ => code,
                };
                out.push(Inline::code(code));
                i = end + run;
                plain_start = i;
            }
            None => i = content_start,
        }
    }
    if plain_start < text.len() {
        out.push(Inline::text(&text[plain_start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_are_split_out() {
        assert_eq!(
            inline_code("Set `a: b` and ``x`y`` then `unclosed"),
            vec![
                Inline::text("Set "),
                Inline::code("a: b"),
                Inline::text(" and "),
                Inline::code("x`y"),
                Inline::text(" then `unclosed"),
            ]
        );
        assert_eq!(inline_code(""), vec![]);
        assert_eq!(inline_code("``"), vec![Inline::text("``")]);
    }

    #[test]
    fn common_directory_of_paths() {
        let paths = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            common_directory(&paths(&["a/b/x.yaml", "a/b/c/y.yaml"])),
            Some("a/b".to_owned())
        );
        assert_eq!(common_directory(&paths(&["x.yaml", "a/y.yaml"])), None);
        assert_eq!(
            common_directory(&paths(&["ab/x.yaml", "a/y.yaml"])),
            None,
            "components, not characters"
        );
    }
}
