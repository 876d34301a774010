//! The `# METADATA` block at the top of a rule file (OPA's annotation format).
//!
//! regorus does not expose `rego.metadata.*`, so the block is parsed here. Our own fields live
//! under OPA's `custom:` key, so OPA tooling still reads the file; unknown fields are rejected
//! so a typo cannot silently drop a mapping.

use crate::severity::Severity;
use serde::{Deserialize, Serialize};

/// The metadata block as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub title: String,
    pub description: String,
    /// OPA's annotation scope; rules use `package`.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub related_resources: Vec<RelatedResource>,
    pub custom: Custom,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RelatedResource {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custom {
    pub id: String,
    pub severity: Severity,
    pub remediation: String,
    /// The input type the rule reads (`kubernetes` when absent): it runs only on resources of
    /// that type.
    #[serde(default)]
    pub input: crate::resource::InputType,
    /// Object kinds the rule applies to; lower-case names are groups (see [`super::kinds`]).
    pub kinds: Vec<String>,
    /// Where the objects the rule judges come from (`file`, `rendered`, `cluster`); absent means
    /// everywhere.
    #[serde(default)]
    pub origins: Vec<crate::resource::OriginKind>,
    #[serde(default)]
    pub frameworks: Frameworks,
}

/// Where a rule sits in the benchmarks and standards users report against.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Frameworks {
    /// CIS Kubernetes Benchmark v1.12 recommendation ids.
    #[serde(default, rename = "cis-1.12", skip_serializing_if = "Vec::is_empty")]
    pub cis_1_12: Vec<String>,
    /// Pod Security Standards profile whose control this rule implements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security: Option<PodSecurityLevel>,
    /// NSA/CISA Kubernetes Hardening Guidance sections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nsa: Vec<String>,
    /// CIS Docker Benchmark recommendation ids (section 4: images, 5: container runtime), for
    /// rules on Compose services.
    #[serde(default, rename = "cis-docker", skip_serializing_if = "Vec::is_empty")]
    pub cis_docker: Vec<String>,
    /// MITRE ATT&CK technique ids (`T1610`, `T1552.007`) of the containers matrix that the
    /// pattern enables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mitre: Vec<String>,
    /// AWS Foundational Security Best Practices control ids (`ECS.4`), for rules on ECS task
    /// definitions.
    #[serde(default, rename = "aws-fsbp", skip_serializing_if = "Vec::is_empty")]
    pub aws_fsbp: Vec<String>,
}

/// One standard a rule is mapped to, as reporters name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The standard's full name, for rule help ("CIS Docker Benchmark").
    pub standard: &'static str,
    /// Its short name, for listings ("CIS Docker").
    pub short: &'static str,
    /// The SARIF tag prefix; each id becomes `{prefix}-{id}` ("CIS-Docker-5.4").
    pub tag: &'static str,
    pub ids: Vec<&'a str>,
}

impl Frameworks {
    /// Every standard the rule is mapped to, in one fixed order, so SARIF tags, rule help and
    /// `posture rules` list them alike.
    pub fn references(&self) -> Vec<Reference<'_>> {
        let level = self.pod_security.map(|l| match l {
            PodSecurityLevel::Baseline => "Baseline",
            PodSecurityLevel::Restricted => "Restricted",
        });
        let all = [
            (
                "CIS Kubernetes Benchmark 1.12",
                "CIS",
                "CIS-1.12",
                ids(&self.cis_1_12),
            ),
            (
                "Pod Security Standards",
                "PSS",
                "PSS",
                level.into_iter().collect(),
            ),
            (
                "NSA/CISA Kubernetes Hardening Guidance",
                "NSA",
                "NSA-CISA",
                ids(&self.nsa),
            ),
            (
                "CIS Docker Benchmark",
                "CIS Docker",
                "CIS-Docker",
                ids(&self.cis_docker),
            ),
            ("MITRE ATT&CK", "MITRE", "MITRE", ids(&self.mitre)),
            (
                "AWS Foundational Security Best Practices",
                "AWS FSBP",
                "AWS-FSBP",
                ids(&self.aws_fsbp),
            ),
        ];
        all.into_iter()
            .filter(|(_, _, _, ids)| !ids.is_empty())
            .map(|(standard, short, tag, ids)| Reference {
                standard,
                short,
                tag,
                ids,
            })
            .collect()
    }
}

fn ids(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    Baseline,
    Restricted,
}

/// Errors in a metadata block, with the 1-based line in the rule file.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MetadataError {
    #[error("line {line}: no `# METADATA` comment block before the package")]
    Missing { line: u32 },
    #[error("line {line}: invalid METADATA: {message}")]
    Invalid { line: u32, message: String },
}

/// Finds the first `# METADATA` block and parses it.
pub fn parse(rego: &str) -> Result<Metadata, MetadataError> {
    let mut lines = rego.lines().enumerate();
    let start = lines
        .by_ref()
        .find(|(_, l)| l.trim() == "# METADATA")
        .map(|(i, _)| i)
        .ok_or(MetadataError::Missing { line: 1 })?;
    let mut yaml = String::new();
    for (_, line) in lines {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            break;
        };
        // OPA strips one space after '#'; indentation past that is YAML's.
        yaml.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        yaml.push('\n');
    }
    let block_line = start as u32 + 2;
    serde_saphyr::from_str::<Metadata>(&yaml).map_err(|e| MetadataError::Invalid {
        line: block_line
            + e.location()
                .map_or(0, |l| l.line().saturating_sub(1) as u32),
        message: e
            .to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_rejected_with_its_line() {
        let rego = "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: X-1\n#   severity: high\n#   remediation: R\n#   kinds: [Pod]\n#   severty: low\npackage x\n";
        let err = parse(rego).unwrap_err().to_string();
        assert!(err.contains("severty"), "{err}");
        assert!(err.starts_with("line 9"), "{err}");
    }

    #[test]
    fn parses_frameworks() {
        let rego = "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: X-1\n#   severity: high\n#   remediation: R\n#   kinds: [workloads]\n#   frameworks:\n#     cis-1.12: [\"5.2.2\"]\n#     pod-security: baseline\npackage x\n";
        let m = parse(rego).unwrap();
        assert_eq!(m.custom.frameworks.cis_1_12, vec!["5.2.2"]);
        assert_eq!(
            m.custom.frameworks.pod_security,
            Some(PodSecurityLevel::Baseline)
        );
    }

    #[test]
    fn references_list_every_mapped_standard_in_a_fixed_order() {
        let rego = "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: X-1\n#   severity: high\n#   remediation: R\n#   kinds: [workloads]\n#   frameworks:\n#     aws-fsbp: [ECS.4]\n#     mitre: [T1610, T1611]\n#     pod-security: restricted\npackage x\n";
        let m = parse(rego).unwrap();
        let refs = m.custom.frameworks.references();
        let tags: Vec<_> = refs.iter().map(|r| (r.tag, r.ids.clone())).collect();
        assert_eq!(
            tags,
            vec![
                ("PSS", vec!["Restricted"]),
                ("MITRE", vec!["T1610", "T1611"]),
                ("AWS-FSBP", vec!["ECS.4"]),
            ]
        );
    }
}

#[cfg(test)]
mod input_tests {
    use super::*;
    use crate::resource::InputType;

    fn with_input(line: &str) -> String {
        format!(
            "# METADATA\n# title: T\n# description: D\n# custom:\n#   id: X-1\n#   severity: high\n\
             #   remediation: R\n{line}#   kinds: [Pod]\npackage x\n"
        )
    }

    #[test]
    fn a_rule_reads_kubernetes_unless_it_names_its_input() {
        assert_eq!(
            parse(&with_input("")).unwrap().custom.input,
            InputType::Kubernetes
        );
        let named = parse(&with_input("#   input: kubernetes\n")).unwrap();
        assert_eq!(named.custom.input, InputType::Kubernetes);
    }

    #[test]
    fn an_unknown_input_type_is_rejected_with_its_line() {
        let err = parse(&with_input("#   input: terraform\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("terraform") && err.contains("kubernetes"),
            "{err}"
        );
        assert!(err.starts_with("line 8"), "{err}");
    }
}
