//! The opening of the review, which reads as an assessment: the verdict (what an attacker can
//! reach from outside, in two sentences, from the attack paths), the risk score with its
//! reasons, the top attack paths step by step, and the fix list (one change per object, from
//! [`crate::fix::proposal`]). Like [`super::review`], it decides words and order only; the
//! serializers write them. The score is defined in docs/attack-paths.md.

use super::blocks::{Block, Inline};
use super::review::{code, inline_code, join, list, object, paragraph, plural, text};
use crate::finding::Finding;
use crate::fix::proposal::{Change, Proposal};
use crate::paths::{AttackPath, Edge};
use crate::resource::{ObjectRef, Origin};
use crate::scan::ScanReport;
use crate::severity::Severity;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// Paths the review explains step by step; the table, JSON and SARIF have them all.
pub const TOP_PATHS: usize = 5;
/// Routes a verdict sentence names before "and N more".
const NAMED_ROUTES: usize = 3;

/// What the findings of a severity add to the risk score, per unit of exposure.
fn risk_weight(s: Severity) -> u32 {
    match s {
        Severity::Critical => 4,
        Severity::High => 1,
        Severity::Medium | Severity::Low => 0,
    }
}

/// The most the findings add to the risk score: paths are what makes it high.
const FINDINGS_CAP: u32 = 40;

/// The risk score, 0 to 100, its grade and the reasons that add up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    pub score: u32,
    pub grade: char,
    pub reasons: Vec<String>,
}

/// The highest exposure of a path through each object (1 when none passes through it).
fn exposures(paths: &[AttackPath]) -> HashMap<&ObjectRef, u8> {
    let mut out: HashMap<&ObjectRef, u8> = HashMap::new();
    for p in paths {
        for s in &p.steps {
            let e = out.entry(&s.object).or_insert(1);
            *e = (*e).max(p.score.exposure);
        }
    }
    out
}

/// `6 × the worst path's score + 2 per further path (at most 10) + Σ weight × exposure of the
/// critical and high findings (at most 40)`, capped at 100; A below 20, then B, C, D by 20s,
/// F from 80.
pub fn risk(report: &ScanReport) -> Risk {
    let paths = &report.attack_paths;
    let mut reasons = Vec::new();
    let mut score = 0;
    match paths.first() {
        Some(worst) => {
            let s = &worst.score;
            let points = 6 * u32::from(s.value);
            score += points;
            reasons.push(format!(
                "+{points}: the worst attack path scores {} of 15 (exposure {} × impact {}): {}",
                s.value, s.exposure, s.impact, worst.title
            ));
            let more = paths.len() - 1;
            if more > 0 {
                let points = 2 * more.min(5) as u32;
                score += points;
                reasons.push(format!(
                    "+{points}: {more} more attack path{} (2 each, at most 10)",
                    plural(more)
                ));
            }
        }
        None => reasons.push("+0: no attack path from an entry point to a crown jewel".into()),
    }
    let exposure = exposures(paths);
    let (mut critical, mut high, mut points) = (0, 0, 0);
    for f in &report.findings {
        match f.severity {
            Severity::Critical => critical += 1,
            Severity::High => high += 1,
            _ => continue,
        }
        let e = exposure.get(&*f.object).copied().unwrap_or(1);
        points += risk_weight(f.severity) * u32::from(e);
    }
    if critical + high > 0 {
        let capped = points.min(FINDINGS_CAP);
        score += capped;
        let cap = if points > FINDINGS_CAP {
            format!(", {points} capped at {FINDINGS_CAP}")
        } else {
            String::new()
        };
        reasons.push(format!(
            "+{capped}: {critical} critical and {high} high finding{}, weighted by the exposure \
             of their objects (critical 4, high 1, times 1 to 3{cap})",
            plural(high)
        ));
    } else {
        reasons.push("+0: no critical or high finding".into());
    }
    // The critical findings by rule, so that one off every path is still named.
    let mut critical_rules: Vec<(&str, &str, Vec<String>)> = Vec::new();
    // Which (rule, object) pairs are named already: a rule can fire on thousands of objects.
    let mut named_once: std::collections::HashSet<(&str, String)> = Default::default();
    for f in report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
    {
        let name = f.object.display_name();
        if !named_once.insert((f.rule_id.as_str(), name.clone())) {
            continue;
        }
        match critical_rules.iter_mut().find(|(id, ..)| *id == f.rule_id) {
            Some((.., objects)) => objects.push(name),
            None => critical_rules.push((&f.rule_id, &f.rule_title, vec![name])),
        }
    }
    for (id, title, objects) in critical_rules {
        let more = objects.len().saturating_sub(NAMED_ROUTES);
        let mut named = objects[..objects.len().min(NAMED_ROUTES)].join(", ");
        if more > 0 {
            named.push_str(&format!(" and {more} more"));
        }
        reasons.push(format!("critical: {title} ({id}) on {named}"));
    }
    let score = score.min(100);
    let grade = match score {
        0..=19 => 'A',
        20..=39 => 'B',
        40..=59 => 'C',
        60..=79 => 'D',
        _ => 'F',
    };
    Risk {
        score,
        grade,
        reasons,
    }
}

/// The verdict's two sentences, then the risk score and its reasons.
pub fn verdict(report: &ScanReport) -> Vec<Block> {
    let (outside, inside) = verdict_sentences(report);
    let risk = risk(report);
    vec![
        Block::Paragraph(vec![Inline::Strong(outside), text(" "), text(inside)]),
        Block::Paragraph(vec![
            text("Risk score: "),
            Inline::Strong(format!("{} of 100 (grade {})", risk.score, risk.grade)),
            text(
                ", from the exposure × impact of the attack paths and the severity × exposure \
                  of the findings:",
            ),
        ]),
        list(
            false,
            risk.reasons.into_iter().map(|r| vec![text(r)]).collect(),
        ),
    ]
}

/// What an attacker reaches from the internet; then what else, from inside.
fn verdict_sentences(report: &ScanReport) -> (String, String) {
    let paths = &report.attack_paths;
    if paths.is_empty() {
        let serious = report
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::High)
            .count();
        let second = match serious {
            0 => "No critical or high finding remains either.".to_owned(),
            n => format!(
                "{n} critical or high finding{} remain{} to be fixed; the fix list puts them in \
                 order.",
                plural(n),
                if n == 1 { "s" } else { "" }
            ),
        };
        return (
            "posture found no route from outside the cluster, or from a foothold in it, to a \
             crown jewel (cluster-admin, every Secret, the nodes, credentials)."
                .to_owned(),
            second,
        );
    }
    let outside: Vec<&AttackPath> = paths.iter().filter(|p| p.score.exposure >= 3).collect();
    let inside: Vec<&AttackPath> = paths.iter().filter(|p| p.score.exposure < 3).collect();
    let first = if outside.is_empty() {
        "Nothing is reachable from the internet along a route posture can follow.".to_owned()
    } else {
        let mut seen = BTreeSet::new();
        let routes: Vec<String> = outside
            .iter()
            .filter(|p| seen.insert(&p.target))
            .map(|p| format!("{} through {}", p.target, p.entry().display_name()))
            .collect();
        let no_policy = outside.iter().flat_map(|p| &p.steps).any(|s| {
            s.edge == Edge::Selects && s.explanation.contains("no NetworkPolicy isolates")
        });
        let tokens = outside.iter().flat_map(|p| &p.steps).any(|s| {
            s.evidence
                .iter()
                .any(|e| e.rule_id.as_deref() == Some("PST-0106"))
        });
        let qualifier = match (no_policy, tokens) {
            (true, true) => {
                ", with no NetworkPolicy in the way and ServiceAccount tokens mounted on the way"
            }
            (true, false) => ", with no NetworkPolicy in the way",
            (false, true) => ", with ServiceAccount tokens mounted on the way",
            (false, false) => "",
        };
        format!(
            "From the internet, an attacker can reach {}{qualifier}.",
            named(routes, " and ")
        )
    };
    let second = if inside.is_empty() {
        "No other route to a crown jewel was found.".to_owned()
    } else {
        let routes: Vec<String> = inside.iter().map(|p| inside_route(p)).collect();
        let lead = if outside.is_empty() {
            "From inside the cluster"
        } else {
            "Inside the cluster"
        };
        format!("{lead}, {}.", named(routes, "; and "))
    };
    (first, second)
}

/// How a route from inside starts, in words.
fn inside_route(p: &AttackPath) -> String {
    let entry = p.entry().display_name();
    match p.steps[0].edge {
        Edge::GrantsEveryone => format!(
            "any authenticated user reaches {} through {entry}",
            p.target
        ),
        Edge::GrantsSubject => format!("the users or groups {entry} names reach {}", p.target),
        Edge::LeaksToken => format!("whoever copies the token in {entry} gets {}", p.target),
        Edge::Foothold => format!("code running in {entry} reaches {}", p.target),
        _ => format!(
            "from the nodes' network, {entry}{} leads to {}",
            escape_words(p),
            p.target
        ),
    }
}

/// How the path's last step breaks out to the node, in a parenthesis, when it does.
fn escape_words(p: &AttackPath) -> String {
    let Some(last) = p.steps.last().filter(|s| s.edge == Edge::EscapesToNode) else {
        return String::new();
    };
    let mut words: Vec<&str> = last
        .evidence
        .iter()
        .filter_map(|e| match e.rule_id.as_deref()? {
            "PST-0001" => Some("a Windows host process"),
            "PST-0002" => Some("sharing the host's processes"),
            "PST-0003" => Some("privileged"),
            "PST-0006" => Some("with added capabilities"),
            "PST-0007" => Some("with a host directory mounted"),
            _ => None,
        })
        .collect();
    words.sort_by_key(|w| match *w {
        "privileged" => 0,
        _ => 1,
    });
    words.dedup();
    match words.is_empty() {
        true => String::new(),
        false => format!(" ({})", words.join(", ")),
    }
}

/// The first few of `items` joined, then how many more.
fn named(items: Vec<String>, last: &str) -> String {
    let more = items.len().saturating_sub(NAMED_ROUTES);
    let shown: Vec<String> = items.into_iter().take(NAMED_ROUTES).collect();
    let mut out = match shown.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., end] => format!("{}{last}{end}", rest.join(", ")),
    };
    if more > 0 {
        out.push_str(&format!(" (and {more} more, below)"));
    }
    out
}

/// The best paths, each step explained.
pub fn top_paths(report: &ScanReport) -> Vec<Block> {
    let paths = &report.attack_paths;
    if paths.is_empty() {
        return vec![paragraph(
            "No attack path: posture follows entry points (Ingresses, exposed Services, the host \
             network, bindings open to everyone, long-lived tokens) through workloads and their \
             weaknesses to cluster-admin, every Secret, the nodes and credentials, and found no \
             route.",
        )];
    }
    let mut blocks = Vec::new();
    for (i, p) in paths.iter().take(TOP_PATHS).enumerate() {
        blocks.push(Block::Heading {
            level: 3,
            text: vec![text(format!("{}. {}", i + 1, p.title))],
        });
        blocks.push(Block::Paragraph(vec![
            text(format!(
                "Score {} (exposure {} × impact {}): {}. ",
                p.score.value,
                p.score.exposure,
                p.score.impact,
                p.score.reasons.join("; ")
            )),
            code(&p.id),
        ]));
        blocks.push(list(
            true,
            p.steps.iter().map(|s| vec![text(&s.explanation)]).collect(),
        ));
    }
    if paths.len() > TOP_PATHS {
        let more = paths.len() - TOP_PATHS;
        blocks.push(Block::Paragraph(vec![
            text(format!(
                "{more} more path{}: every one is in the table, in the JSON report (",
                plural(more)
            )),
            code("attack_paths"),
            text(") and in the SARIF log (rule "),
            code("PST-PATH"),
            text(")."),
        ]));
    }
    blocks
}

/// The fix list's proposals that still have a finding in the report, with their findings.
fn shown(report: &ScanReport) -> Vec<(&Proposal, Vec<&Finding>)> {
    // The fix list is short: its fingerprints are looked for among the findings, not the
    // findings indexed by fingerprint.
    let wanted: foldhash::HashSet<&crate::fingerprint::Fingerprint> =
        report.fixes.iter().flat_map(|p| &p.findings).collect();
    let by_print: foldhash::HashMap<crate::fingerprint::Fingerprint, &Finding> = report
        .findings
        .iter()
        .filter(|f| wanted.contains(&f.fingerprint))
        .map(|f| (f.fingerprint, f))
        .collect();
    report
        .fixes
        .iter()
        .map(|p| {
            let fs: Vec<&Finding> = p
                .findings
                .iter()
                .filter_map(|f| by_print.get(f).copied())
                .collect();
            (p, fs)
        })
        .filter(|(_, fs)| !fs.is_empty())
        .collect()
}

/// The number (from 1) of each object's entry in the fix list.
pub fn fix_numbers(report: &ScanReport) -> HashMap<(&ObjectRef, &Origin), usize> {
    shown(report)
        .iter()
        .enumerate()
        .map(|(i, (p, _))| ((&p.object, &p.origin), i + 1))
        .collect()
}

/// Reasons posture gives that say no more than "there is no automatic fix".
fn generic(why: &str) -> bool {
    why.ends_with("has no automatic fix") || why.starts_with("posture has no fix for a")
}

/// One change per object, best first, each with its patch and what is left to do by hand.
pub fn fix_list(report: &ScanReport) -> Vec<Block> {
    let shown = shown(report);
    if shown.is_empty() {
        return vec![paragraph(match report.findings.is_empty() {
            true => "Nothing to fix: there are no findings.",
            false => {
                "No change was worked out for this report; the details below give each \
                      rule's fix."
            }
        })];
    }
    let mut blocks = vec![paragraph(
        "One change per object, all of its findings together: first the changes that cut \
         attack paths, then by severity × exposure. Each gives the safe change posture can make, \
         or says there is none, and what is left to do by hand.",
    )];
    let titles: HashMap<&str, &str> = report
        .attack_paths
        .iter()
        .map(|p| (p.id.as_str(), p.title.as_str()))
        .collect();
    // Where a rule's fix was first given, so that the list says it once.
    let mut described: HashMap<&str, usize> = HashMap::new();
    for (i, (p, findings)) in shown.iter().enumerate() {
        let number = i + 1;
        let mut heading = vec![text(format!("{number}. "))];
        heading.extend(object(&p.object));
        blocks.push(Block::Heading {
            level: 3,
            text: heading,
        });
        let mut line = Vec::new();
        let cuts: Vec<(&str, &str)> = p
            .cuts
            .iter()
            .filter_map(|id| titles.get(id.as_str()).map(|t| (id.as_str(), *t)))
            .collect();
        if !cuts.is_empty() {
            line.push(text(format!(
                "Resolving its findings cuts {} attack path{}: ",
                cuts.len(),
                plural(cuts.len())
            )));
            let parts = cuts
                .iter()
                .map(|(id, title)| vec![code(*id), text(" "), text(*title)])
                .collect();
            line.extend(join(parts, text("; ")));
            line.push(text(". "));
        }
        let counts: Vec<String> = Severity::ALL
            .iter()
            .filter_map(|&s| {
                let n = findings.iter().filter(|f| f.severity == s).count();
                (n > 0).then(|| format!("{n} {}", s.as_str()))
            })
            .collect();
        line.push(text(format!(
            "{} finding{} ({}); {}.",
            findings.len(),
            plural(findings.len()),
            counts.join(", "),
            match p.exposure {
                3 => "on a path from the internet",
                2 => "on a path from the nodes' network or every authenticated user",
                _ => "on no path from outside",
            }
        )));
        blocks.push(Block::Paragraph(line));

        let resolved: Vec<&&Finding> = findings
            .iter()
            .filter(|f| p.resolves(&f.fingerprint))
            .collect();
        let mut rules: Vec<&str> = resolved.iter().map(|f| f.rule_id.as_str()).collect();
        rules.dedup();
        let mut lead = vec![text("Safe change, resolving ")];
        lead.extend(join(
            rules.iter().map(|r| vec![code(*r)]).collect(),
            text(", "),
        ));
        let manual: Vec<(&Finding, &str)> = findings
            .iter()
            .filter_map(|f| {
                p.outcomes
                    .iter()
                    .find(|(print, _)| *print == f.fingerprint)
                    .and_then(|(_, r)| r.as_ref().err())
                    .map(|why| (*f, why.as_str()))
            })
            .collect();
        // One reason for all (a Pod cannot be changed in place) is said once.
        let common = match manual.as_slice() {
            [(_, why), rest @ ..] if rest.iter().all(|(_, w)| w == why) && !generic(why) => {
                Some(*why)
            }
            _ => None,
        };
        match (&p.change, resolved.is_empty()) {
            (Some(Change::Edit(c)), false) => {
                lead.extend([
                    text(": "),
                    code(format!("posture fix -f {} --write", c.path)),
                    text(" makes this edit:"),
                ]);
                blocks.push(Block::Paragraph(lead));
                blocks.push(Block::Code {
                    language: "diff",
                    text: c.unified_diff(),
                });
            }
            (Some(Change::Kustomize(c)), false) => {
                lead.push(text(
                    ": a strategic-merge patch of the object as rendered, to apply from a \
                     kustomization whose resources include the rendered output:",
                ));
                blocks.push(Block::Paragraph(lead));
                blocks.push(Block::Code {
                    language: "yaml",
                    text: c.after.clone(),
                });
            }
            (Some(Change::Kubectl { command }), false) => {
                lead.push(text(
                    ": patch the live object, and change the manifests it is deployed from, or \
                     the next deployment undoes it:",
                ));
                blocks.push(Block::Paragraph(lead));
                blocks.push(Block::Code {
                    language: "sh",
                    text: format!("{command}\n"),
                });
            }
            _ => {
                let line = match common {
                    Some(why) => vec![
                        Inline::Strong("No safe automatic change:".into()),
                        text(format!(" {why}.")),
                    ],
                    None => vec![Inline::Strong("No safe automatic change.".into())],
                };
                blocks.push(Block::Paragraph(line));
            }
        }
        if manual.is_empty() {
            continue;
        }
        let mut by_rule: Vec<(&str, Vec<(&Finding, &str)>)> = Vec::new();
        for (f, why) in &manual {
            match by_rule.iter_mut().find(|(r, _)| *r == f.rule_id) {
                Some((_, list)) => list.push((f, why)),
                None => by_rule.push((&f.rule_id, vec![(f, why)])),
            }
        }
        let items = by_rule
            .iter()
            .map(|(rule, of_rule)| {
                let f = of_rule[0].0;
                let mut item = vec![code(*rule), text(" "), text(f.rule_title.as_str())];
                if of_rule.len() > 1 {
                    item.push(text(format!(" ({} findings)", of_rule.len())));
                }
                item.push(text(": "));
                let remediation = report.rule(rule).map_or("", |r| r.remediation.as_str());
                match described.get(rule) {
                    Some(n) => item.push(text(format!("as in fix {n}."))),
                    None if remediation.is_empty() => item.push(text("see the rule.")),
                    None => item.extend(inline_code(remediation)),
                }
                let why = of_rule[0].1;
                if common.is_none() && !generic(why) {
                    item.extend([
                        Inline::Break,
                        Inline::Note(format!("Not automatic: {why}.")),
                    ]);
                }
                item
            })
            .collect();
        for (rule, _) in &by_rule {
            described.entry(rule).or_insert(number);
        }
        blocks.push(paragraph("By hand:"));
        blocks.push(list(false, items));
    }
    let listed: foldhash::HashSet<(&ObjectRef, Cow<'_, str>)> = shown
        .iter()
        .map(|(p, _)| (&p.object, p.origin.source()))
        .collect();
    let rest = report
        .findings
        .iter()
        .map(|f| (&*f.object, f.origin.source()))
        .filter(|k| !listed.contains(k))
        .collect::<foldhash::HashSet<_>>()
        .len();
    if rest > 0 {
        blocks.push(paragraph(&format!(
            "{rest} more object{} with findings follow in the details, each with its rules' \
             fixes.",
            plural(rest)
        )));
    }
    blocks
}
