//! GitHub-flavoured markdown: the review model ([`super::review`]) as a document a reviewer can
//! act on. Only rendering and escaping live here; what goes where is the model's decision.

use super::review::{
    inline_code, plural, problems_line, state_label, BenchmarkSummary, Group, Inline, Review,
    RuleGroup, Scope, Section, Source, Subject,
};
use crate::compliance::{State, Tally};
use crate::resource::ObjectRef;
use crate::scan::ScanReport;
use crate::severity::Severity;
use std::io::{self, Write};

/// The report as a standalone document, its title a level-1 heading.
pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    write_at(report, 1, out)
}

/// The report with its title at heading `level` (1–4), to be embedded in a larger document.
pub fn write_at(report: &ScanReport, level: usize, out: &mut dyn Write) -> io::Result<()> {
    let review = Review::build(report);
    let mut doc = String::new();
    render(&review, level.clamp(1, 4), &mut doc);
    out.write_all(doc.as_bytes())
}

fn render(review: &Review<'_>, level: usize, doc: &mut String) {
    let h = |n: usize| "#".repeat(level + n);
    doc.push_str(&format!("{} {}\n\n", h(0), text(&review.title)));
    scope(review, doc);
    doc.push_str(&format!("{} Summary\n\n", h(1)));
    summary(review, doc);
    if let Some(b) = &review.benchmark {
        doc.push_str(&format!("{} {}\n\n", h(2), text(&b.heading)));
        benchmark(b, doc);
    }
    doc.push_str(&format!("{} Top priorities\n\n", h(1)));
    priorities(review, doc);
    for section in &review.sections {
        doc.push_str(&format!("{} {}\n\n", h(1), section.kind.title()));
        self::section(section, &h(2), doc);
    }
    if !review.suppressed.is_empty() {
        doc.push_str(&format!("{} Accepted risks\n\n", h(1)));
        accepted(review, doc);
    }
    doc.push_str(&format!("{} Problems and gaps\n\n", h(1)));
    problems(review, doc);
}

/// Findings exceptions cover: what was accepted, why and until when.
fn accepted(review: &Review<'_>, doc: &mut String) {
    doc.push_str(
        "These findings are excepted (by `.posture.yaml` or a `posture.io/ignore` annotation) \
         and not counted above.\n\n| Severity | Rule | Object | Reason | Until |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for s in review.suppressed {
        let f = &s.finding;
        doc.push_str(&format!(
            "| {} | {} {} | {} | {} ({}) | {} |\n",
            severity_word(f.severity),
            cell_code(&f.rule_id),
            text(&f.rule_title),
            object(&f.object),
            text(&s.suppression.reason),
            text(&s.suppression.exception),
            s.suppression
                .expires
                .map_or("-".to_owned(), |d| d.to_string())
        ));
    }
    doc.push('\n');
}

fn scope(review: &Review<'_>, doc: &mut String) {
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
            doc.push_str(&format!(
                "Manifests: {n} file{}{dir}{}{}.",
                plural(n),
                if named.is_empty() { "" } else { ": " },
                named.join(", ")
            ));
        }
        Scope::Cluster {
            name,
            context,
            version,
            platform,
            collected_at,
        } => {
            let context = context.map_or(String::new(), |c| format!(" (context {})", code(c)));
            doc.push_str(&format!(
                "Cluster {}{context}, Kubernetes {} on {}, collected {}.",
                code(name),
                text(version),
                text(platform),
                text(collected_at)
            ));
        }
    }
    doc.push_str(&text(&review.objects_sentence()));
    doc.push_str(".\n\n");
}

fn summary(review: &Review<'_>, doc: &mut String) {
    doc.push_str("| Severity | Findings | Objects |\n| --- | ---: | ---: |\n");
    for row in &review.by_severity {
        doc.push_str(&format!(
            "| {} | {} | {} |\n",
            severity_word(row.severity),
            row.findings,
            row.objects
        ));
    }
    doc.push_str(&format!(
        "| **Total** | **{}** | **{}** |\n\n",
        review.findings, review.objects_with_findings
    ));
    if let Some(line) = problems_line(review.errors, review.warnings) {
        doc.push_str(&format!("**{line}**\n\n"));
    }
    if !review.suppressed.is_empty() {
        doc.push_str(&format!(
            "{} more finding{} accepted by exceptions (see Accepted risks).

",
            review.suppressed.len(),
            plural(review.suppressed.len())
        ));
    }
    if let Some(line) = &review.baseline {
        doc.push_str(&format!("{}.\n\n", text(line)));
    }
}

fn benchmark(b: &BenchmarkSummary<'_>, doc: &mut String) {
    let c = b.compliance;
    let judged = c.automated.pass + c.automated.fail;
    match c.score {
        Some(score) => doc.push_str(&format!(
            "Score {score:.1}%: {} of {judged} judged automated check{} passed.\n\n",
            c.automated.pass,
            plural(judged)
        )),
        None => doc.push_str("No automated check could be judged, so there is no score.\n\n"),
    }
    doc.push_str("| Section |");
    for state in State::ALL {
        doc.push_str(&format!(" {} |", state_label(state)));
    }
    doc.push_str(" Score |\n| --- |");
    doc.push_str(&" ---: |".repeat(State::ALL.len() + 1));
    doc.push('\n');
    for s in &c.sections {
        // Non-breaking spaces indent subsections; ordinary ones would be trimmed.
        let indent = "&nbsp;&nbsp;".repeat(s.id.matches('.').count());
        let mut name = format!("{indent}{} {}", text(&s.id), text(&s.title));
        if let (Some(note), 0) = (&s.note, s.counts.total()) {
            name.push_str(&format!("<br>*{}*", text(note)));
            doc.push_str(&format!(
                "| {name} |{}\n",
                " — |".repeat(State::ALL.len() + 1)
            ));
        } else {
            doc.push_str(&format!("| {name} |{}\n", tally_cells(&s.counts, s.score)));
        }
    }
    doc.push_str(&format!(
        "| **Total** |{}\n\n",
        tally_cells(&c.total, c.score)
    ));
    if !b.failed.is_empty() {
        doc.push_str("Failed checks:\n\n");
        for r in &b.failed {
            doc.push_str(&format!(
                "- **{}** {}: {}\n",
                text(&r.id),
                text(&r.title),
                inline(&inline_code(&r.detail), false)
            ));
        }
        doc.push('\n');
    }
}

fn tally_cells(t: &Tally, score: Option<f64>) -> String {
    let mut cells: String = State::ALL
        .iter()
        .map(|s| format!(" {} |", t.get(*s)))
        .collect();
    cells.push_str(&format!(
        " {} |",
        score.map_or("—".to_owned(), |s| format!("{s:.1}%"))
    ));
    cells
}

fn priorities(review: &Review<'_>, doc: &mut String) {
    if review.priorities.is_empty() {
        doc.push_str("No critical or high findings.\n\n");
        return;
    }
    doc.push_str("Critical and high findings by rule, most severe and widespread first.\n\n");
    for (i, p) in review.priorities.iter().enumerate() {
        let (named, more) = p.named_objects();
        let mut objects: Vec<String> = named.iter().map(|o| object(o)).collect();
        if more > 0 {
            objects.push(format!("{more} more"));
        }
        doc.push_str(&format!(
            "{}. {} {} {}: {} finding{} in {} object{}: {}.\n",
            i + 1,
            severity_word(p.rule.severity),
            code(p.rule.id),
            text(p.rule.title),
            p.findings,
            plural(p.findings),
            p.objects.len(),
            plural(p.objects.len()),
            objects.join(", ")
        ));
        if !p.rule.remediation.is_empty() {
            // Indented to stay inside the list item.
            doc.push_str(&format!("   Fix: {}\n", inline(&p.rule.remediation, false)));
        }
    }
    doc.push('\n');
}

fn section(section: &Section<'_>, heading: &str, doc: &mut String) {
    if section.groups.is_empty() {
        doc.push_str(&match section.evaluated {
            0 => "No objects of these kinds were scanned.\n\n".to_owned(),
            n => format!("No findings among {n} evaluated object{}.\n\n", plural(n)),
        });
        return;
    }
    doc.push_str(&format!(
        "{} Findings on {} of {} evaluated object{}.\n\n",
        section.kind.about(),
        section.objects_with_findings,
        section.evaluated,
        plural(section.evaluated)
    ));
    for g in &section.groups {
        group(g, heading, doc);
    }
}

fn group(g: &Group<'_>, heading: &str, doc: &mut String) {
    let title = match g.subject {
        Subject::Object(o) => object(o),
        Subject::Namespace(Some(ns)) => format!("Namespace {}", code(ns)),
        Subject::Namespace(None) => "Cluster-scoped and unnamespaced objects".to_owned(),
        Subject::Rule { id, title } => format!("{} {}", code(id), text(title)),
    };
    doc.push_str(&format!("{heading} {title}\n\n"));
    let mut line = Vec::new();
    if let Some(s) = &g.source {
        line.push(source(s));
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| g.count(**s) > 0)
        .map(|s| format!("{} {}", g.count(*s), s.as_str()))
        .collect();
    line.push(counts.join(", "));
    doc.push_str(&line.join(" · "));
    if g.rule_column() {
        doc.push_str("\n\n| Severity | Rule | Finding | Location |\n| --- | --- | --- | --- |\n");
    } else {
        doc.push_str("\n\n| Severity | Finding | Location |\n| --- | --- | --- |\n");
    }
    for r in &g.rules {
        for item in &r.items {
            let mut location: Vec<String> = item.location_lines().map(cell_code).collect();
            if location.is_empty() {
                location.push("—".to_owned());
            }
            let rule = if g.rule_column() {
                format!(" {} {} |", cell_code(r.rule.id), text(r.rule.title))
            } else {
                String::new()
            };
            doc.push_str(&format!(
                "| {} |{rule} {} | {} |\n",
                severity_word(r.rule.severity),
                text(&item.finding.message),
                location.join("<br>")
            ));
        }
    }
    doc.push('\n');
    let fixes: Vec<&RuleGroup<'_>> = g
        .rules
        .iter()
        .filter(|r| !r.rule.remediation.is_empty())
        .collect();
    match fixes.as_slice() {
        [] => {}
        [one] if !g.rule_column() => {
            doc.push_str(&format!(
                "Fix: {}\n\n",
                inline(&one.rule.remediation, false)
            ));
        }
        [one] => {
            doc.push_str(&format!(
                "Fix for {}: {}\n\n",
                code(one.rule.id),
                inline(&one.rule.remediation, false)
            ));
        }
        many => {
            // Folded: the table is what differs between workloads, the fixes often do not.
            // GitHub renders markdown inside <details> after a blank line.
            doc.push_str(&format!(
                "<details><summary>How to fix ({} rules)</summary>\n\n",
                many.len()
            ));
            for r in many {
                doc.push_str(&format!(
                    "- {} {}: {}\n",
                    code(r.rule.id),
                    text(r.rule.title),
                    inline(&r.rule.remediation, false)
                ));
            }
            doc.push_str("\n</details>\n\n");
        }
    }
}

fn problems(review: &Review<'_>, doc: &mut String) {
    let not_collected = review
        .benchmark
        .as_ref()
        .map_or(&[][..], |b| &b.not_collected[..]);
    if review.problems.is_empty() && not_collected.is_empty() {
        doc.push_str("None: every input was read and evaluated.\n");
        return;
    }
    if !review.problems.is_empty() {
        doc.push_str("| Level | Code | Where | Message |\n| --- | --- | --- | --- |\n");
        for p in review.problems {
            let place = match &p.file {
                Some(file) => {
                    let mut place = super::display_path(file);
                    if let Some(pos) = p.position {
                        place.push_str(&format!(":{}:{}", pos.line, pos.column));
                    }
                    cell_code(&place)
                }
                None => "—".to_owned(),
            };
            doc.push_str(&format!(
                "| {} | {} | {place} | {} |\n",
                level_word(p.level),
                cell_code(p.code.as_str()),
                text(&p.message)
            ));
        }
        doc.push('\n');
    }
    if !not_collected.is_empty() {
        doc.push_str("Benchmark checks that could not be judged:\n\n");
        for (reason, ids) in not_collected {
            doc.push_str(&format!(
                "- {}: {}\n",
                text(&ids.join(", ")),
                inline(&inline_code(reason), false)
            ));
        }
        doc.push('\n');
    }
}

fn source(s: &Source<'_>) -> String {
    match s.template {
        Some(t) => format!("{} (Helm template {})", code(&s.location), code(t)),
        None => code(&s.location),
    }
}

/// `Deployment `ratingsapp/ratings-api``
fn object(o: &ObjectRef) -> String {
    let name = match &o.namespace {
        Some(ns) => format!("{ns}/{}", o.name),
        None => o.name.clone(),
    };
    format!("{} {}", text(&o.kind), code(&name))
}

fn inline(parts: &[Inline<'_>], in_table: bool) -> String {
    parts
        .iter()
        .map(|p| match (p, in_table) {
            (Inline::Text(t), _) => text(t),
            (Inline::Code(c), false) => code(c),
            (Inline::Code(c), true) => cell_code(c),
        })
        .collect()
}

pub(super) fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "**Critical**",
        Severity::High => "**High**",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

fn level_word(l: crate::problem::Level) -> &'static str {
    match l {
        crate::problem::Level::Error => "error",
        crate::problem::Level::Warning => "warning",
        crate::problem::Level::Note => "note",
    }
}

/// Text that markdown must show as written: characters that would start emphasis, code, links,
/// HTML or a table cell are backslash-escaped (CommonMark allows it before any ASCII
/// punctuation), and line breaks become spaces so that a cell or list item stays one line.
/// `_` inside a word (`MONGODB_PASSWORD`) cannot start emphasis in GFM, so it stays readable.
pub fn text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                let inside_word = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if !inside_word {
                    out.push('\\');
                }
                out.push('_');
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span showing `s` literally: the fence is one backtick longer than any run inside,
/// padded with a space when `s` starts or ends with a backtick.
pub fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code span inside a table cell: GFM splits cells at `|` before it reads code spans, so a
/// pipe needs its backslash even there (and the backslash is not shown).
pub fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_markdown_would_interpret() {
        assert_eq!(text("a|b"), "a\\|b");
        assert_eq!(text("<script>x</script>"), "\\<script\\>x\\</script\\>");
        assert_eq!(text("`*[x]*`"), "\\`\\*\\[x\\]\\*\\`");
        assert_eq!(text("MONGODB_PASSWORD"), "MONGODB_PASSWORD");
        assert_eq!(text("_x_"), "\\_x\\_");
        assert_eq!(text("one\ntwo"), "one two");
    }

    #[test]
    fn code_spans_survive_backticks_and_pipes() {
        assert_eq!(code("a.b"), "`a.b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        assert_eq!(code(""), "");
    }
}
