//! The review ([`super::review`]) as one self-contained HTML page: inline CSS, no script, no
//! external asset, a collapsible block per workload. Every string that comes from the scan is
//! escaped; a Content-Security-Policy that allows nothing but the inline style keeps a page
//! that a bug let markup into from loading or running anything.

use super::review::{
    inline_code, plural, problems_line, state_label, BenchmarkSummary, Group, Inline, Review,
    Scope, Section, Source, Subject,
};
use crate::compliance::{State, Tally};
use crate::resource::ObjectRef;
use crate::scan::ScanReport;
use crate::severity::Severity;
use std::fmt::Write as _;
use std::io::{self, Write};

const STYLE: &str = "
body { font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1f2328;
  margin: 0 auto; padding: 1.5em; max-width: 72em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
nav a { margin-right: 1em; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa;
  padding: .1em .3em; border-radius: 4px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #d0d7de; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.n { text-align: right; font-variant-numeric: tabular-nums; }
table.findings { width: 100%; }
table.findings td:last-child { width: 30%; }
.badge { display: inline-block; color: #fff; border-radius: 1em; padding: 0 .6em; font-size: .85em;
  font-weight: 600; white-space: nowrap; }
.critical { background: #6f1d8a; } .high { background: #c62828; }
.medium { background: #a35200; } .low { background: #2f5fb3; }
details { border: 1px solid #d0d7de; border-radius: 6px; margin: .6em 0; padding: .3em .8em; }
summary { cursor: pointer; font-weight: 600; }
summary .badge { margin-left: .3em; }
.kind { color: #59636e; font-weight: 400; }
.muted { color: #59636e; }
li { margin: .3em 0; }
";

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let review = Review::build(report);
    let mut doc = String::with_capacity(1 << 16);
    render(&review, &mut doc);
    out.write_all(doc.as_bytes())
}

fn render(review: &Review<'_>, doc: &mut String) {
    let title = esc(&review.title);
    let _ = write!(
        doc,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n<title>{title}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<h1>{title}</h1>\n"
    );
    scope(review, doc);
    nav(review, doc);
    doc.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    summary(review, doc);
    if let Some(b) = &review.benchmark {
        let _ = writeln!(doc, "<h3>{}</h3>", esc(&b.heading));
        benchmark(b, doc);
    }
    doc.push_str("</section>\n<section id=\"priorities\">\n<h2>Top priorities</h2>\n");
    priorities(review, doc);
    doc.push_str("</section>\n");
    for s in &review.sections {
        section(s, doc);
    }
    if !review.suppressed.is_empty() {
        doc.push_str("<section id=\"accepted\">\n<h2>Accepted risks</h2>\n");
        accepted(review, doc);
        doc.push_str("</section>\n");
    }
    doc.push_str("<section id=\"problems\">\n<h2>Problems and gaps</h2>\n");
    problems(review, doc);
    doc.push_str("</section>\n</body>\n</html>\n");
}

/// Findings exceptions cover: what was accepted, why and until when.
fn accepted(review: &Review<'_>, doc: &mut String) {
    doc.push_str(
        "<p>These findings are excepted (by <code>.posture.yaml</code> or a \
         <code>posture.io/ignore</code> annotation) and not counted above.</p>\n<table>\n\
         <thead><tr><th>Severity</th><th>Rule</th><th>Object</th><th>Reason</th><th>Until</th>\
         </tr></thead>\n<tbody>\n",
    );
    for s in review.suppressed {
        let f = &s.finding;
        let _ = writeln!(
            doc,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
            badge(f.severity, f.severity.as_str()),
            code(&f.rule_id),
            esc(&f.rule_title),
            object(&f.object),
            esc(&s.suppression.reason),
            esc(&s.suppression.exception),
            s.suppression
                .expires
                .map_or("-".to_owned(), |d| d.to_string())
        );
    }
    doc.push_str("</tbody>\n</table>\n");
}

fn scope(review: &Review<'_>, doc: &mut String) {
    doc.push_str("<p>");
    match &review.scope {
        Scope::Manifests {
            directory,
            files,
            more_files,
        } => {
            let n = files.len() + more_files;
            let mut named: Vec<String> = files.iter().map(|f| code(f)).collect();
            if *more_files > 0 {
                named.push(format!("and {more_files} more"));
            }
            let dir = directory
                .as_ref()
                .map_or(String::new(), |d| format!(" in {}", code(d)));
            let _ = write!(
                doc,
                "Manifests: {n} file{}{dir}{}{}.",
                plural(n),
                if named.is_empty() { "" } else { ": " },
                named.join(", ")
            );
        }
        Scope::Cluster {
            name,
            context,
            version,
            platform,
            collected_at,
        } => {
            let context = context.map_or(String::new(), |c| format!(" (context {})", code(c)));
            let _ = write!(
                doc,
                "Cluster {}{context}, Kubernetes {} on {}, collected {}.",
                code(name),
                esc(version),
                esc(platform),
                esc(collected_at)
            );
        }
    }
    doc.push_str(&esc(&review.objects_sentence()));
    doc.push_str(".</p>\n");
}

fn nav(review: &Review<'_>, doc: &mut String) {
    doc.push_str("<nav><a href=\"#summary\">Summary</a><a href=\"#priorities\">Top priorities</a>");
    for s in &review.sections {
        let _ = write!(
            doc,
            "<a href=\"#{}\">{} ({})</a>",
            s.kind.id(),
            s.kind.title(),
            s.groups
                .iter()
                .map(|g| g.counts.iter().sum::<usize>())
                .sum::<usize>()
        );
    }
    doc.push_str("<a href=\"#problems\">Problems and gaps</a></nav>\n");
}

fn summary(review: &Review<'_>, doc: &mut String) {
    doc.push_str(
        "<table>\n<thead><tr><th>Severity</th><th>Findings</th><th>Objects</th></tr></thead>\n<tbody>\n",
    );
    for row in &review.by_severity {
        let _ = writeln!(
            doc,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            badge(row.severity, row.severity.as_str()),
            row.findings,
            row.objects
        );
    }
    let _ = writeln!(
        doc,
        "<tr><th>Total</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr>\n</tbody>\n</table>",
        review.findings, review.objects_with_findings
    );
    if let Some(line) = problems_line(review.errors, review.warnings) {
        let _ = writeln!(doc, "<p><strong>{}</strong></p>", esc(&line));
    }
    if !review.suppressed.is_empty() {
        let _ = writeln!(
            doc,
            "<p>{} more finding{} accepted by exceptions (see <a href=\"#accepted\">Accepted \
             risks</a>).</p>",
            review.suppressed.len(),
            plural(review.suppressed.len())
        );
    }
    if let Some(line) = &review.baseline {
        let _ = writeln!(doc, "<p>{}.</p>", esc(line));
    }
}

fn benchmark(b: &BenchmarkSummary<'_>, doc: &mut String) {
    let c = b.compliance;
    let judged = c.automated.pass + c.automated.fail;
    match c.score {
        Some(score) => {
            let _ = writeln!(
                doc,
                "<p>Score {score:.1}%: {} of {judged} judged automated check{} passed.</p>",
                c.automated.pass,
                plural(judged)
            );
        }
        None => doc.push_str("<p>No automated check could be judged, so there is no score.</p>\n"),
    }
    doc.push_str("<table>\n<thead><tr><th>Section</th>");
    for state in State::ALL {
        let _ = write!(doc, "<th>{}</th>", state_label(state));
    }
    doc.push_str("<th>Score</th></tr></thead>\n<tbody>\n");
    for s in &c.sections {
        let indent = "&nbsp;&nbsp;".repeat(s.id.matches('.').count());
        let name = format!("{indent}{} {}", esc(&s.id), esc(&s.title));
        match &s.note {
            Some(note) if s.counts.total() == 0 => {
                let _ = writeln!(
                    doc,
                    "<tr><td>{name}<br><span class=\"muted\">{}</span></td>{}</tr>",
                    esc(note),
                    "<td class=\"n\">—</td>".repeat(State::ALL.len() + 1)
                );
            }
            _ => {
                let _ = writeln!(
                    doc,
                    "<tr><td>{name}</td>{}</tr>",
                    tally_cells(&s.counts, s.score)
                );
            }
        }
    }
    let _ = writeln!(
        doc,
        "<tr><th>Total</th>{}</tr>\n</tbody>\n</table>",
        tally_cells(&c.total, c.score)
    );
    if !b.failed.is_empty() {
        doc.push_str("<p>Failed checks:</p>\n<ul>\n");
        for r in &b.failed {
            let _ = writeln!(
                doc,
                "<li><strong>{}</strong> {}: {}</li>",
                esc(&r.id),
                esc(&r.title),
                inline(&inline_code(&r.detail))
            );
        }
        doc.push_str("</ul>\n");
    }
}

fn tally_cells(t: &Tally, score: Option<f64>) -> String {
    let mut cells: String = State::ALL
        .iter()
        .map(|s| format!("<td class=\"n\">{}</td>", t.get(*s)))
        .collect();
    let _ = write!(
        cells,
        "<td class=\"n\">{}</td>",
        score.map_or("—".to_owned(), |s| format!("{s:.1}%"))
    );
    cells
}

fn priorities(review: &Review<'_>, doc: &mut String) {
    if review.priorities.is_empty() {
        doc.push_str("<p>No critical or high findings.</p>\n");
        return;
    }
    doc.push_str(
        "<p>Critical and high findings by rule, most severe and widespread first.</p>\n<ol>\n",
    );
    for p in &review.priorities {
        let (named, more) = p.named_objects();
        let mut objects: Vec<String> = named.iter().map(|o| object(o)).collect();
        if more > 0 {
            objects.push(format!("{more} more"));
        }
        let _ = write!(
            doc,
            "<li>{} {} {}: {} finding{} in {} object{}: {}.",
            badge(p.rule.severity, p.rule.severity.as_str()),
            code(p.rule.id),
            esc(p.rule.title),
            p.findings,
            plural(p.findings),
            p.objects.len(),
            plural(p.objects.len()),
            objects.join(", ")
        );
        if !p.rule.remediation.is_empty() {
            let _ = write!(doc, "<br>Fix: {}", inline(&p.rule.remediation));
        }
        doc.push_str("</li>\n");
    }
    doc.push_str("</ol>\n");
}

fn section(section: &Section<'_>, doc: &mut String) {
    let _ = writeln!(
        doc,
        "<section id=\"{}\">\n<h2>{}</h2>",
        section.kind.id(),
        section.kind.title()
    );
    if section.groups.is_empty() {
        let _ = writeln!(
            doc,
            "<p>{}</p>",
            match section.evaluated {
                0 => "No objects of these kinds were scanned.".to_owned(),
                n => format!("No findings among {n} evaluated object{}.", plural(n)),
            }
        );
    } else {
        let _ = writeln!(
            doc,
            "<p>{} Findings on {} of {} evaluated object{}.</p>",
            esc(section.kind.about()),
            section.objects_with_findings,
            section.evaluated,
            plural(section.evaluated)
        );
        for g in &section.groups {
            group(g, doc);
        }
    }
    doc.push_str("</section>\n");
}

fn group(g: &Group<'_>, doc: &mut String) {
    // Blocks with something critical or high start open; the rest are a click away.
    let open = if g.worst() >= Some(Severity::High) {
        " open"
    } else {
        ""
    };
    let title = match g.subject {
        Subject::Object(o) => object(o),
        Subject::Namespace(Some(ns)) => {
            format!("<span class=\"kind\">Namespace</span> {}", code(ns))
        }
        Subject::Namespace(None) => "Cluster-scoped and unnamespaced objects".to_owned(),
        Subject::Rule { id, title } => format!("{} {}", code(id), esc(title)),
    };
    let badges: String = Severity::ALL
        .iter()
        .filter(|s| g.count(**s) > 0)
        .map(|s| badge(*s, &format!("{} {}", g.count(*s), s.as_str())))
        .collect();
    let _ = writeln!(doc, "<details{open}>\n<summary>{title} {badges}</summary>");
    if let Some(s) = &g.source {
        let _ = writeln!(doc, "<p>{}</p>", source(s));
    }
    let rule_header = if g.rule_column() { "<th>Rule</th>" } else { "" };
    let _ = writeln!(
        doc,
        "<table class=\"findings\">\n<thead><tr><th>Severity</th>{rule_header}<th>Finding</th>\
         <th>Location</th></tr></thead>\n<tbody>"
    );
    for r in &g.rules {
        for item in &r.items {
            let mut location: Vec<String> = item.location_lines().map(code).collect();
            if location.is_empty() {
                location.push("—".to_owned());
            }
            let rule = if g.rule_column() {
                format!("<td>{} {}</td>", code(r.rule.id), esc(r.rule.title))
            } else {
                String::new()
            };
            let _ = writeln!(
                doc,
                "<tr><td>{}</td>{rule}<td>{}</td><td>{}</td></tr>",
                badge(r.rule.severity, r.rule.severity.as_str()),
                esc(&item.finding.message),
                location.join("<br>")
            );
        }
    }
    doc.push_str("</tbody>\n</table>\n");
    let fixes: Vec<String> = g
        .rules
        .iter()
        .filter(|r| !r.rule.remediation.is_empty())
        .map(|r| {
            format!(
                "{} {}: {}",
                code(r.rule.id),
                esc(r.rule.title),
                inline(&r.rule.remediation)
            )
        })
        .collect();
    match fixes.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(doc, "<p>Fix for {one}</p>");
        }
        many => {
            let _ = writeln!(
                doc,
                "<p>How to fix:</p>\n<ul>\n<li>{}</li>\n</ul>",
                many.join("</li>\n<li>")
            );
        }
    }
    doc.push_str("</details>\n");
}

fn problems(review: &Review<'_>, doc: &mut String) {
    let not_collected = review
        .benchmark
        .as_ref()
        .map_or(&[][..], |b| &b.not_collected[..]);
    if review.problems.is_empty() && not_collected.is_empty() {
        doc.push_str("<p>None: every input was read and evaluated.</p>\n");
        return;
    }
    if !review.problems.is_empty() {
        doc.push_str(
            "<table>\n<thead><tr><th>Level</th><th>Code</th><th>Where</th><th>Message</th></tr>\
             </thead>\n<tbody>\n",
        );
        for p in review.problems {
            let place = match &p.file {
                Some(file) => {
                    let mut place = super::display_path(file);
                    if let Some(pos) = p.position {
                        let _ = write!(place, ":{}:{}", pos.line, pos.column);
                    }
                    code(&place)
                }
                None => "—".to_owned(),
            };
            let level = match p.level {
                crate::problem::Level::Error => "error",
                crate::problem::Level::Warning => "warning",
                crate::problem::Level::Note => "note",
            };
            let _ = writeln!(
                doc,
                "<tr><td>{level}</td><td>{}</td><td>{place}</td><td>{}</td></tr>",
                code(p.code.as_str()),
                esc(&p.message)
            );
        }
        doc.push_str("</tbody>\n</table>\n");
    }
    if !not_collected.is_empty() {
        doc.push_str("<p>Benchmark checks that could not be judged:</p>\n<ul>\n");
        for (reason, ids) in not_collected {
            let _ = writeln!(
                doc,
                "<li>{}: {}</li>",
                esc(&ids.join(", ")),
                inline(&inline_code(reason))
            );
        }
        doc.push_str("</ul>\n");
    }
}

fn badge(severity: Severity, label: &str) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        severity.as_str(),
        esc(label)
    )
}

fn source(s: &Source<'_>) -> String {
    match s.template {
        Some(t) => format!("{} (Helm template {})", code(&s.location), code(t)),
        None => code(&s.location),
    }
}

fn object(o: &ObjectRef) -> String {
    let name = match &o.namespace {
        Some(ns) => format!("{ns}/{}", o.name),
        None => o.name.clone(),
    };
    format!(
        "<span class=\"kind\">{}</span> {}",
        esc(&o.kind),
        code(&name)
    )
}

fn inline(parts: &[Inline<'_>]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Inline::Text(t) => esc(t),
            Inline::Code(c) => code(c),
        })
        .collect()
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

/// Text and attribute values alike: the five characters HTML gives meaning to become
/// references, and NUL (which parsers drop or replace) becomes U+FFFD.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
