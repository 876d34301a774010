//! `posture rules` and `posture explain`.

use super::exit;
use anyhow::{bail, Context};
use clap::Args;
use comfy_table::{presets, ContentArrangement, Table};
use posture::policy::Rule;
use posture::scan::load_catalog;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Also list the rules in these Rego directories.
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Print the catalog as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Rule id (PST-0003) or slug (privileged_container).
    pub rule: String,
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
}

fn frameworks(rule: &Rule) -> String {
    let f = &rule.frameworks;
    let mut parts = Vec::new();
    if !f.cis_1_12.is_empty() {
        parts.push(format!("CIS {}", f.cis_1_12.join(", ")));
    }
    if let Some(l) = f.pod_security {
        parts.push(format!("PSS {}", format!("{l:?}").to_lowercase()));
    }
    if !f.nsa.is_empty() {
        parts.push("NSA".to_owned());
    }
    parts.join("; ")
}

pub fn list(args: RulesArgs) -> anyhow::Result<u8> {
    let catalog = load_catalog(&args.policies).context("cannot load the rules")?;
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
        println!("{}", serde_json::to_string_pretty(&rules)?);
        return Ok(exit::CLEAN);
    }
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .force_no_tty()
        .set_header(vec!["ID", "Severity", "Frameworks", "Title"]);
    if table.width().is_none() {
        table.set_width(140);
    }
    for r in &catalog.rules {
        table.add_row(vec![
            r.id.clone(),
            r.severity.to_string(),
            frameworks(r),
            r.title.clone(),
        ]);
    }
    println!("{table}");
    println!("{} rules", catalog.rules.len());
    Ok(exit::CLEAN)
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let catalog = load_catalog(&args.policies).context("cannot load the rules")?;
    let Some(rule) = catalog.find(&args.rule) else {
        bail!("no rule '{}': `posture rules` lists the ids", args.rule);
    };
    println!("{} {} ({})", rule.id, rule.title, rule.severity);
    println!("applies to: {}", rule.kinds.kinds().join(", "));
    let fw = frameworks(rule);
    if !fw.is_empty() {
        println!("frameworks: {fw}");
    }
    println!(
        "\n{}\n\nRemediation:\n{}",
        rule.description, rule.remediation
    );
    for r in &rule.related {
        println!("\nSee {}", r.reference);
    }
    Ok(exit::CLEAN)
}
