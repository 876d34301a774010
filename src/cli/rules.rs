//! `posture rules` and `posture explain`.

use super::args::PolicyArgs;
use super::exit;
use anyhow::bail;
use clap::Args;
use comfy_table::{presets, ContentArrangement, Table};
use posture::benchmark::{Assessment, Benchmark};
use posture::policy::Rule;
use std::io::Write;

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Print the catalog as JSON.
    #[arg(long)]
    pub json: bool,
    /// List a CIS benchmark's recommendations instead, with how posture judges each
    /// (cis-1.12, cis-aks-1.8, cis-eks-1.8, cis-gke-1.6).
    #[arg(long, value_name = "NAME")]
    pub benchmark: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule id (PST-0003), slug (privileged_container), or a benchmark check as its findings
    /// name it (cis-1.12/1.2.15).
    pub rule: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

fn frameworks(rule: &Rule) -> String {
    rule.frameworks
        .references()
        .iter()
        .map(|r| match r.tag {
            "NSA-CISA" => r.short.to_owned(),
            "PSS" => format!("{} {}", r.short, r.ids.join(", ").to_lowercase()),
            _ => format!("{} {}", r.short, r.ids.join(", ")),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A plain listing table, the terminal's width or `width` when piped.
fn listing(header: Vec<&str>, width: u16) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .set_header(header);
    if table.width().is_none() {
        table.set_width(width);
    }
    table
}

fn list_benchmark(name: &str, json: bool) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    let benchmark = Benchmark::builtin(name)?;
    if json {
        let checks: Vec<_> = benchmark
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id, "title": c.title, "assessment": c.assessment,
                    "level": c.level, "level_source": benchmark.level_source_of(c),
                    "scored": c.scored, "evidence": c.evidence, "severity": c.severity(),
                    "judged_by_posture": c.judged_by_posture(), "method": c.method(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&checks)?)?;
        return Ok(exit::CLEAN);
    }
    let mut table = listing(
        vec![
            "ID",
            "Level",
            "Assessment",
            "Title",
            "How posture judges it",
        ],
        160,
    );
    for c in &benchmark.checks {
        let method = if c.judged_beyond_cis() {
            format!(
                "{} ({})",
                c.method(),
                posture::compliance::JUDGED_BEYOND_CIS
            )
        } else {
            c.method()
        };
        table.add_row(vec![
            c.id.clone(),
            c.level.map_or("—".to_owned(), |l| format!("L{l}")),
            c.assessment.as_str().to_owned(),
            c.title.clone(),
            method,
        ]);
    }
    writeln!(
        out,
        "{} {} ({})",
        benchmark.title, benchmark.version, benchmark.benchmark
    )?;
    writeln!(out, "{table}")?;
    let automated = benchmark
        .checks
        .iter()
        .filter(|c| c.assessment == Assessment::Automated)
        .count();
    let judged = benchmark
        .checks
        .iter()
        .filter(|c| c.judged_by_posture())
        .count();
    writeln!(
        out,
        "{} recommendations ({automated} automated, {} manual); posture judges {judged}",
        benchmark.checks.len(),
        benchmark.checks.len() - automated
    )?;
    if let Some(source) = &benchmark.level_source {
        writeln!(out, "Levels: {source}")?;
    }
    Ok(exit::CLEAN)
}

pub fn list(args: RulesArgs) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    if let Some(name) = &args.benchmark {
        return list_benchmark(name, args.json);
    }
    let catalog = args.policy.catalog()?;
    if args.json {
        let rules: Vec<_> = catalog
            .rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "slug": r.slug, "group": r.group, "severity": r.severity,
                    "title": r.title, "kinds": r.kinds.kinds(), "frameworks": r.frameworks,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&rules)?)?;
        return Ok(exit::CLEAN);
    }
    let mut table = listing(vec!["ID", "Severity", "Frameworks", "Title"], 140);
    for r in &catalog.rules {
        table.add_row(vec![
            r.id.to_string(),
            r.severity.to_string(),
            frameworks(r),
            r.title.to_string(),
        ]);
    }
    writeln!(out, "{table}")?;
    writeln!(out, "{} rules", catalog.rules.len())?;
    Ok(exit::CLEAN)
}

/// A benchmark check named as its findings name it: `cis-1.12/1.2.15`; `None` when `id` does
/// not start with a benchmark's name.
fn benchmark_check(
    id: &str,
) -> Option<anyhow::Result<(&'static Benchmark, &'static posture::benchmark::Check)>> {
    let (name, check_id) = id.split_once('/')?;
    let benchmark = posture::benchmark::Registry::builtin().get(name).ok()?;
    Some(
        benchmark
            .check(check_id)
            .map(|c| (benchmark, c))
            .ok_or_else(|| {
                anyhow::anyhow!(
            "{name} has no recommendation {check_id}: `posture rules --benchmark {name}` lists them"
        )
            }),
    )
}

fn explain_check(
    id: &str,
    benchmark: &Benchmark,
    check: &posture::benchmark::Check,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let severity = check
        .severity()
        .map_or(String::new(), |s| format!(" ({s})"));
    writeln!(out, "{id} {}{severity}", check.title)?;
    writeln!(out, "{} {}", benchmark.title, benchmark.version)?;
    let scored = if check.scored { "scored" } else { "not scored" };
    writeln!(
        out,
        "assessment: {} ({scored}), target: {}",
        check.assessment.as_str(),
        check.target.as_str()
    )?;
    let level = check
        .level
        .map_or("not stated by any source found".to_owned(), |l| {
            format!("Level {l}")
        });
    match benchmark.level_source_of(check) {
        Some(source) => writeln!(out, "profile: {level} (source: {source})")?,
        None => writeln!(out, "profile: {level}")?,
    }
    if check.judged_by_posture() {
        writeln!(out, "judged by posture: {}", check.method())?;
        if check.judged_beyond_cis() {
            writeln!(out, "({})", posture::compliance::JUDGED_BEYOND_CIS)?;
        }
    } else {
        writeln!(out, "judged: {}", check.method())?;
    }
    if !check.rules().is_empty() {
        let catalog = posture::policy::Catalog::builtin()?;
        let role = if check.judged_by_posture() {
            "rules that judge it"
        } else {
            "rules whose findings are evidence"
        };
        writeln!(out, "{role}:")?;
        for id in check.rules() {
            match catalog.find(id) {
                Some(rule) => writeln!(
                    out,
                    "  {id} {} (reads {})",
                    rule.title,
                    rule.kinds.kinds().join(", ")
                )?,
                None => writeln!(out, "  {id}")?,
            }
        }
    }
    let absent = posture::compliance::when_absent(check)
        .map_err(|e| anyhow::anyhow!("cannot judge {id}'s defaults: {e}"))?;
    if !absent.is_empty() {
        writeln!(
            out,
            "\nWhen a setting is absent, the component's default decides:"
        )?;
        for line in absent {
            writeln!(out, "  {line}")?;
        }
    }
    match &check.judgement {
        posture::benchmark::Judgement::Manual { steps, .. } => {
            writeln!(out, "\nWhat to check:\n{steps}")?;
        }
        _ => {
            if let Some(steps) = &check.manual {
                writeln!(out, "\nWhat CIS asks a person to check:\n{steps}")?;
            }
        }
    }
    writeln!(out, "\nRemediation:\n{}", check.remediation)?;
    Ok(())
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    if let Some(found) = benchmark_check(&args.rule) {
        let (benchmark, check) = found?;
        explain_check(&args.rule, benchmark, check, &mut out)?;
        return Ok(exit::CLEAN);
    }
    let catalog = args.policy.catalog()?;
    let Some(rule) = catalog.find(&args.rule) else {
        bail!(
            "no rule '{}': `posture rules` lists the ids, `posture rules --benchmark NAME` \
             a benchmark's (explain them as NAME/ID, e.g. cis-1.12/1.2.15)",
            args.rule
        );
    };
    writeln!(out, "{} {} ({})", rule.id, rule.title, rule.severity)?;
    writeln!(out, "applies to: {}", rule.kinds.kinds().join(", "))?;
    let fw = frameworks(rule);
    if !fw.is_empty() {
        writeln!(out, "frameworks: {fw}")?;
    }
    writeln!(
        out,
        "\n{}\n\nRemediation:\n{}",
        rule.description, rule.remediation
    )?;
    for r in &rule.related {
        writeln!(out, "\nSee {}", r.reference)?;
    }
    Ok(exit::CLEAN)
}
