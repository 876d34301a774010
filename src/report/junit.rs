//! JUnit XML for CI dashboards (GitLab, Jenkins, Azure DevOps): a `<testsuite>` per rule, with
//! a `<testcase>` per object the rule applies to (by its kinds) that fails with the object's
//! findings or passes; a suite for the benchmark, a test case per check (manual, not-applicable
//! and not-collected checks are skipped); a `posture attack paths` suite with a failing test
//! case per attack path, its steps in the failure's text; and a `posture problems` suite where
//! errors are `<error>` test cases, so that a file that could not be read shows up red.
//!
//! No timestamps or durations: the same scan gives the same bytes.

use crate::compliance::{self, CheckResult, Compliance, State};
use crate::finding::Finding;
use crate::policy::RuleInfo;
use crate::problem::{Level, Problem};
use crate::resource::{ObjectRef, Origin};
use crate::scan::{EvaluatedObject, ScanReport};
use foldhash::{HashMap, HashSet};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Counts of one suite, or of all of them.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
    }

    fn attributes(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

type ObjectKey<'a> = (&'a ObjectRef, &'a Origin);

/// Evaluated objects a piece of a rule's suite covers, and pieces rendered at once before they
/// are written: a batch is all of the suites that is held (a 10,000-object scan's suites are
/// some 190,000 test cases, 56 MB), and its pieces are rendered on every core.
const OBJECTS_PER_PIECE: usize = 1024;
const PIECES_PER_BATCH: usize = 32;

/// One rule's findings by object, in report order.
struct RuleFindings<'a> {
    order: Vec<ObjectKey<'a>>,
    by_object: HashMap<ObjectKey<'a>, Vec<&'a Finding>>,
}

impl RuleFindings<'_> {
    fn new() -> Self {
        RuleFindings {
            order: Vec::new(),
            by_object: HashMap::default(),
        }
    }
}

/// A rule's suite: its test cases are the evaluated objects its kinds select, plus any object
/// with a finding of it that the selector does not name (so no failure is ever dropped).
struct RuleSuite<'a> {
    rule: &'a RuleInfo,
    /// `{id} {title}`, each test case's name, escaped for an attribute.
    case_name: String,
    findings: RuleFindings<'a>,
    /// The objects with a finding of the rule that no evaluated object it selects is, in
    /// report order: their test cases come after the selected objects'.
    unselected: Vec<ObjectKey<'a>>,
    counts: Counts,
}

impl<'a> RuleSuite<'a> {
    fn new(
        rule: &'a RuleInfo,
        findings: RuleFindings<'a>,
        evaluated: &'a [EvaluatedObject],
    ) -> Self {
        let mut applicable = 0;
        let mut selected_with_findings: HashSet<ObjectKey<'_>> = HashSet::default();
        for e in evaluated.iter().filter(|e| selects(rule, e)) {
            let key = (&*e.object, &*e.origin);
            if findings.by_object.contains_key(&key) {
                selected_with_findings.insert(key);
            } else {
                applicable += 1;
            }
        }
        let unselected = findings
            .order
            .iter()
            .filter(|key| !selected_with_findings.contains(*key))
            .copied()
            .collect();
        let failures = findings.order.len();
        RuleSuite {
            rule,
            case_name: attr(&format!("{} {}", rule.id, rule.title)),
            findings,
            unselected,
            counts: Counts {
                tests: applicable + failures,
                failures,
                ..Counts::default()
            },
        }
    }

    /// Appends the test cases of the evaluated objects in `piece.objects` that the rule
    /// selects; the first piece opens the suite, the last adds the unselected objects' cases
    /// and closes it.
    fn write_piece(
        &self,
        piece: &Piece,
        evaluated: &[EvaluatedObject],
        prefix: &str,
        doc: &mut String,
    ) {
        if piece.first {
            doc.push_str("  <testsuite name=\"");
            escape_into(prefix, true, doc);
            doc.push_str(&self.case_name);
            let _ = writeln!(doc, "\" {}>", self.counts.attributes());
        }
        for e in evaluated[piece.objects.clone()]
            .iter()
            .filter(|e| selects(self.rule, e))
        {
            self.case((&e.object, &e.origin), doc);
        }
        if piece.last {
            for key in &self.unselected {
                self.case(*key, doc);
            }
            doc.push_str("  </testsuite>\n");
        }
    }

    fn case(&self, (object, origin): ObjectKey<'_>, doc: &mut String) {
        doc.push_str("    <testcase classname=\"");
        escape_into(&classname(object), true, doc);
        let _ = write!(doc, "\" name=\"{}\"", self.case_name);
        if let Some(path) = origin.file() {
            doc.push_str(" file=\"");
            escape_into(path.as_str(), true, doc);
            doc.push('"');
        }
        let Some(findings) = self.findings.by_object.get(&(object, origin)) else {
            doc.push_str("/>\n");
            return;
        };
        let mut message = findings[0].message.to_string();
        if findings.len() > 1 {
            let _ = write!(message, " (and {} more)", findings.len() - 1);
        }
        let mut body = String::new();
        for f in findings {
            let _ = writeln!(body, "{}\n  at {}", f.message, location(f));
        }
        if !self.rule.remediation.is_empty() {
            let _ = writeln!(body, "\nRemediation: {}", self.rule.remediation);
        }
        doc.push_str(">\n      <failure message=\"");
        escape_into(&message, true, doc);
        let _ = write!(doc, "\" type=\"{}\">", self.rule.severity.as_str());
        escape_into(&body, false, doc);
        doc.push_str("</failure>\n    </testcase>\n");
    }
}

/// Whether the rule's suite has a test case for `e`.
fn selects(rule: &RuleInfo, e: &EvaluatedObject) -> bool {
    e.input == rule.input && rule.kinds.matches(&e.object)
}

/// Part of one rule's suite: the evaluated objects it covers, and whether it opens or closes
/// the suite (a suite is at least one piece).
struct Piece {
    suite: usize,
    objects: std::ops::Range<usize>,
    first: bool,
    last: bool,
}

/// The pieces of `suites` in order, each covering at most `objects_per_piece` of `evaluated`.
fn pieces(suites: usize, evaluated: usize, objects_per_piece: usize) -> Vec<Piece> {
    let per_suite = evaluated.div_ceil(objects_per_piece).max(1);
    (0..suites)
        .flat_map(|suite| {
            (0..per_suite).map(move |i| Piece {
                suite,
                objects: (i * objects_per_piece).min(evaluated)
                    ..((i + 1) * objects_per_piece).min(evaluated),
                first: i == 0,
                last: i + 1 == per_suite,
            })
        })
        .collect()
}

/// `Deployment/ratingsapp/ratings-api`, or `ClusterRole/view` for cluster-scoped objects.
fn classname(o: &ObjectRef) -> String {
    match &o.namespace {
        Some(ns) => format!("{}/{ns}/{}", o.kind, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

/// `fixtures/app.yaml:19:11, field spec.template...` or `k8s://lab/ns/Kind/name, field spec...`.
fn location(f: &Finding) -> String {
    let mut s = f.location().line();
    if !f.path.is_empty() {
        let _ = write!(s, ", field {}", f.path);
    }
    s
}

fn benchmark_suite(
    c: &Compliance,
    report: &ScanReport,
    findings: &HashMap<&str, RuleFindings<'_>>,
    prefix: &str,
) -> (Counts, String) {
    let mut counts = Counts::default();
    let mut doc = String::new();
    for check in &c.checks {
        counts.tests += 1;
        let section = c
            .sections
            .iter()
            .find(|s| s.id == check.section)
            .map_or(String::new(), |s| format!(" {} {}", s.id, s.title));
        let _ = write!(
            doc,
            "    <testcase classname=\"{}\" name=\"{}\"",
            attr(&format!("{}{section}", c.benchmark)),
            attr(&format!("{} {}", check.id, check.title))
        );
        match check.state {
            State::Pass => doc.push_str("/>\n"),
            State::Fail => {
                counts.failures += 1;
                let _ = writeln!(
                    doc,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    attr(&check.detail),
                    check_severity(check, report),
                    text(&failed_check_body(check, report, findings))
                );
            }
            State::Manual | State::NotApplicable | State::NotCollected => {
                counts.skipped += 1;
                let _ = writeln!(
                    doc,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    attr(&format!("{}: {}", check.state.as_str(), check.detail))
                );
            }
        }
    }
    let name = format!("{prefix}{} {} {}", c.benchmark, c.title, c.version);
    let head = format!(
        "  <testsuite name=\"{}\" {}>\n",
        attr(&name),
        counts.attributes()
    );
    (counts, format!("{head}{doc}  </testsuite>\n"))
}

/// The most severe of the check's rules, as the benchmark's findings carry it.
fn check_severity(check: &CheckResult, report: &ScanReport) -> &'static str {
    check
        .rules
        .iter()
        .filter_map(|id| report.rule(id))
        .map(|r| r.severity)
        .max()
        .map_or("fail", |s| s.as_str())
}

/// The verdict, each finding of the check with its location, and the fix.
fn failed_check_body(
    check: &CheckResult,
    report: &ScanReport,
    findings: &HashMap<&str, RuleFindings<'_>>,
) -> String {
    let mut body = format!("{}\n", check.detail);
    for id in &check.rules {
        let Some(of_rule) = findings.get(id.as_str()) else {
            continue;
        };
        for key in &of_rule.order {
            for f in &of_rule.by_object[key] {
                let _ = writeln!(body, "{}\n  at {}", f.message, location(f));
            }
        }
    }
    let remediation = check
        .rules
        .iter()
        .filter_map(|id| report.rule(id))
        .map(|r| r.remediation.as_str())
        .find(|r| !r.is_empty());
    if let Some(r) = remediation {
        let _ = writeln!(body, "\nRemediation: {r}");
    }
    body
}

/// Where a step of an attack path is: the file and line, or the cluster object's address.
fn step_place(s: &crate::paths::Step) -> String {
    if let Some(w) = &s.written {
        return format!(
            "{}:{}:{}",
            w.file.as_str(),
            w.position.line,
            w.position.column
        );
    }
    match (&s.origin, s.origin.file()) {
        (Origin::Cluster { cluster }, _) => s.object.uri(cluster),
        // A line of the tool's output says nothing in the repository.
        (Origin::Rendered { .. }, Some(file)) => file.to_string(),
        (_, Some(file)) => match s.position {
            Some(p) => format!("{}:{}:{}", file.as_str(), p.line, p.column),
            None => file.to_string(),
        },
        (_, None) => s.object.display_name(),
    }
}

/// A test case per attack path, each a failure: a path is a route an attacker can take now,
/// whatever `--fail-on` gates on (the exit code), as every finding fails its own test case.
/// The failure's type is the path's level as SARIF gives it (error from score 10, warning from
/// 6, else note); its text is the steps, each explained and located.
fn paths_suite(paths: &[crate::paths::AttackPath], prefix: &str) -> (Counts, String) {
    let mut doc = String::new();
    for p in paths {
        let file = p.steps[0].origin.file().map_or(String::new(), |path| {
            format!(" file=\"{}\"", attr(path.as_str()))
        });
        let level = match p.score.value {
            10.. => "error",
            6.. => "warning",
            _ => "note",
        };
        let mut body = String::new();
        for (i, step) in p.steps.iter().enumerate() {
            let _ = writeln!(
                body,
                "{}. {}\n   at {}",
                i + 1,
                step.explanation,
                step_place(step)
            );
        }
        let _ = writeln!(
            body,
            "\nScore {} (exposure {} x impact {}): {}",
            p.score.value,
            p.score.exposure,
            p.score.impact,
            p.score.reasons.join("; ")
        );
        let _ = writeln!(
            doc,
            "    <testcase classname=\"{}\" name=\"{}\"{file}>\n      <failure message=\"{}\" \
             type=\"{level}\">{}</failure>\n    </testcase>",
            attr(&classname(p.entry())),
            attr(&format!("{} {}", p.id, p.title)),
            attr(&format!("{} (score {})", p.title, p.score.value)),
            text(&body)
        );
    }
    let counts = Counts {
        tests: paths.len(),
        failures: paths.len(),
        ..Counts::default()
    };
    let head = format!(
        "  <testsuite name=\"{}\" {}>\n",
        attr(&format!("{prefix}posture attack paths")),
        counts.attributes()
    );
    (counts, format!("{head}{doc}  </testsuite>\n"))
}

fn problems_suite(problems: &[Problem], prefix: &str) -> (Counts, String) {
    let mut counts = Counts::default();
    let mut doc = String::new();
    for p in problems {
        counts.tests += 1;
        let classname = p.file.as_ref().map_or("posture", |f| f.as_str());
        let _ = write!(
            doc,
            "    <testcase classname=\"{}\" name=\"{}\">",
            attr(classname),
            attr(&p.to_string())
        );
        // Errors fail the dashboard; warnings and notes (a cluster type not collected, a file
        // without Kubernetes objects) say what was not checked, which is what skipped means.
        if p.level == Level::Error {
            counts.errors += 1;
            let _ = writeln!(
                doc,
                "\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>",
                attr(&p.message),
                p.code.as_str(),
                text(&p.to_string())
            );
        } else {
            counts.skipped += 1;
            let _ = writeln!(
                doc,
                "\n      <skipped message=\"{}\"/>\n    </testcase>",
                attr(&p.to_string())
            );
        }
    }
    let head = format!(
        "  <testsuite name=\"{}\" {}>\n",
        attr(&format!("{prefix}posture problems")),
        counts.attributes()
    );
    (counts, format!("{head}{doc}  </testsuite>\n"))
}

pub fn write(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    write_members(&[Member::Scanned("", report)], out)
}

use super::fleet::Member;

/// One scan's suites, ready to write.
struct Suites<'a> {
    report: &'a ScanReport,
    prefix: String,
    rules: Vec<RuleSuite<'a>>,
    /// The benchmark's and the problems' suites, rendered.
    others: Vec<(Counts, String)>,
}

impl<'a> Suites<'a> {
    fn new(report: &'a ScanReport, prefix: String) -> Self {
        let mut findings: HashMap<&str, RuleFindings<'_>> = HashMap::default();
        for f in &report.findings {
            let of_rule = findings
                .entry(f.rule_id.as_str())
                .or_insert_with(RuleFindings::new);
            let key = (&*f.object, &*f.origin);
            let list = of_rule.by_object.entry(key).or_default();
            if list.is_empty() {
                of_rule.order.push(key);
            }
            list.push(f);
        }
        // Checks the benchmark judges itself are reported in its suite, not as rules of their
        // own.
        let checks: HashSet<String> =
            report
                .compliance
                .as_ref()
                .map_or_else(HashSet::default, |c| {
                    c.checks
                        .iter()
                        .map(|r| compliance::rule_id(&c.benchmark, &r.id))
                        .collect()
                });
        let mut rules: Vec<&RuleInfo> = report
            .rules
            .iter()
            .filter(|r| !checks.contains(&r.id))
            .collect();
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        let rules: Vec<(&RuleInfo, RuleFindings<'_>)> = rules
            .into_iter()
            .map(|rule| {
                let of_rule = findings
                    .remove(rule.id.as_str())
                    .unwrap_or_else(RuleFindings::new);
                (rule, of_rule)
            })
            .collect();
        // Each rule's suite goes over every evaluated object: on every core.
        let suites: Vec<RuleSuite<'_>> = rules
            .into_par_iter()
            .map(|(rule, of_rule)| RuleSuite::new(rule, of_rule, &report.evaluated))
            // A rule that applied to nothing scanned has nothing to report.
            .filter(|suite| suite.counts.tests > 0)
            .collect();
        let mut others = Vec::new();
        if let Some(c) = &report.compliance {
            others.push(benchmark_suite(c, report, &findings, &prefix));
        }
        if !report.attack_paths.is_empty() {
            others.push(paths_suite(&report.attack_paths, &prefix));
        }
        if !report.problems.is_empty() {
            others.push(problems_suite(&report.problems, &prefix));
        }
        Suites {
            report,
            prefix,
            rules: suites,
            others,
        }
    }

    fn counts(&self) -> Counts {
        let mut total = Counts::default();
        for s in &self.rules {
            total.add(s.counts);
        }
        for (counts, _) in &self.others {
            total.add(*counts);
        }
        total
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_in(out, OBJECTS_PER_PIECE, PIECES_PER_BATCH)
    }

    /// Writes the rule suites a batch of pieces at a time, then the others.
    fn write_in(
        &self,
        out: &mut dyn Write,
        objects_per_piece: usize,
        pieces_per_batch: usize,
    ) -> io::Result<()> {
        let evaluated = &self.report.evaluated;
        let pieces = pieces(self.rules.len(), evaluated.len(), objects_per_piece);
        super::write_in_batches(&pieces, pieces_per_batch, out, |piece, doc| {
            self.rules[piece.suite].write_piece(piece, evaluated, &self.prefix, doc)
        })?;
        for (_, suite) in &self.others {
            out.write_all(suite.as_bytes())?;
        }
        Ok(())
    }
}

/// Several scans in one document: each member's suites' names begin with its name, and a
/// member that could not be scanned is one erroring test case.
pub fn write_members(members: &[Member<'_>], out: &mut dyn Write) -> io::Result<()> {
    let prefix = |name: &str| {
        if name.is_empty() {
            String::new()
        } else {
            format!("{name}: ")
        }
    };
    enum Part<'a> {
        Scanned(Suites<'a>),
        Failed(String),
    }
    let parts: Vec<Part<'_>> = members
        .iter()
        .map(|m| match m {
            Member::Scanned(name, report) => Part::Scanned(Suites::new(report, prefix(name))),
            Member::Failed(name, why) => Part::Failed(format!(
                "  <testsuite name=\"{}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    \
                 <testcase classname=\"posture\" name=\"{}\">\n      <error message=\"{}\" \
                 type=\"not-scanned\">{}</error>\n    </testcase>\n  </testsuite>\n",
                attr(&format!("{}posture problems", prefix(name))),
                attr(&format!("{name}: not scanned")),
                attr(why),
                text(why)
            )),
        })
        .collect();
    let mut total = Counts::default();
    for part in &parts {
        total.add(match part {
            Part::Scanned(s) => s.counts(),
            Part::Failed(_) => Counts {
                tests: 1,
                errors: 1,
                ..Counts::default()
            },
        });
    }
    writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"posture\" {}>",
        total.attributes()
    )?;
    for part in &parts {
        match part {
            Part::Scanned(s) => s.write(out)?,
            Part::Failed(suite) => out.write_all(suite.as_bytes())?,
        }
    }
    out.write_all(b"</testsuites>\n")
}

/// Character data: markup characters escaped, and characters XML 1.0 cannot carry at all
/// (control characters other than tab, newline and carriage return; U+FFFE, U+FFFF) replaced
/// by U+FFFD, so that a message holding one still gives a well-formed document.
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// An attribute value in double quotes. Tabs and line breaks are written as references, since
/// a parser would otherwise normalise them to spaces (XML 1.0 §3.3.3).
pub fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, attribute, &mut out);
    out
}

/// Appends `s` escaped as [`text`] or [`attr`] escape it.
fn escape_into(s: &str, attribute: bool, out: &mut String) {
    // Most texts are printable ASCII with no markup: copied whole.
    let plain = |b: u8| {
        super::printable_ascii(b) && !matches!(b, b'&' | b'<' | b'>') && !(attribute && b == b'"')
    };
    if s.bytes().all(plain) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            // Kept as a reference in text too: parsers turn a literal CR into LF.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule suites are cut into pieces rendered in batches on every core; the document is
    /// the same whatever the sizes. The project's fixtures give suites of many pieces, objects
    /// with several findings of one rule, and (added here) a finding on an object no rule's
    /// selector names, whose test case closes its suite.
    #[test]
    fn the_suites_are_the_same_document_whatever_their_pieces() {
        let catalog = crate::policy::Catalog::builtin().unwrap();
        let evaluator = crate::engine::Evaluator::new(&catalog).unwrap();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let collected = crate::collect::manifests::collect(
            &[
                fixtures.join("ratings"),
                fixtures.join("pss"),
                fixtures.join("paths"),
            ],
            &crate::collect::render::RenderOptions::default(),
        );
        let mut report = crate::scan::evaluate(&evaluator, collected);
        let mut elsewhere = report.findings[0].clone();
        elsewhere.object = std::sync::Arc::new(ObjectRef {
            name: "not-evaluated".into(),
            ..(*elsewhere.object).clone()
        });
        report.findings.push(elsewhere);
        assert!(report.evaluated.len() > 20, "{}", report.evaluated.len());
        let render = |objects_per_piece: usize, pieces_per_batch: usize| {
            let suites = Suites::new(&report, "member: ".into());
            let mut out = Vec::new();
            suites
                .write_in(&mut out, objects_per_piece, pieces_per_batch)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        let whole = render(usize::MAX, 1);
        assert!(whole.contains("name=\"member: "), "{whole}");
        assert!(whole.contains("not-evaluated"), "{whole}");
        assert!(whole.matches("<failure ").count() > 10, "{whole}");
        for objects_per_piece in [1, 2, 3, 7, 20] {
            for pieces_per_batch in [1, 2, 5] {
                assert_eq!(
                    render(objects_per_piece, pieces_per_batch),
                    whole,
                    "{objects_per_piece} objects a piece, {pieces_per_batch} pieces a batch"
                );
            }
        }
    }

    #[test]
    fn escapes_markup_and_unrepresentable_characters() {
        assert_eq!(text("a<b>&c\"d"), "a&lt;b&gt;&amp;c\"d");
        assert_eq!(attr("a\"b\nc\td"), "a&quot;b&#10;c&#9;d");
        assert_eq!(text("bell\u{7}\r\n"), "bell\u{FFFD}&#13;\n");
        assert_eq!(attr("\u{FFFF}"), "\u{FFFD}");
        // Printable ASCII with nothing to escape is copied whole; a quote or an ampersand in
        // such a text is not.
        assert_eq!(attr("plain ~ text"), "plain ~ text");
        assert_eq!(attr("say \"hi\""), "say &quot;hi&quot;");
        assert_eq!(text("say \"hi\" & go"), "say \"hi\" &amp; go");
    }
}
