//! What the project tells the rules beyond the objects themselves, handed to the engine as
//! `data.settings`: for now the registries images may come from (`.posture.yaml`'s
//! `registries.allowed`). Parsed once into validated types; rules receive only the result.

use serde_json::{json, Value};

/// Settings for the built-in rules; the default configures nothing, so the rules that need a
/// setting report nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSettings {
    /// `registries.allowed`; `None` when no config file sets it.
    pub registries: Option<RegistryAllowList>,
}

impl RuleSettings {
    /// The settings as `data.settings` shows them to rules.
    pub fn to_data(&self) -> Value {
        let mut settings = serde_json::Map::new();
        if let Some(list) = &self.registries {
            let allowed: Vec<Value> = list
                .patterns
                .iter()
                .map(|p| json!({"pattern": p.text, "regex": p.regex}))
                .collect();
            settings.insert("registries".into(), json!({ "allowed": allowed }));
        }
        Value::Object(settings)
    }

    /// Adds the settings of another config file: allow-lists are joined.
    pub fn merge(&mut self, other: RuleSettings) {
        if let Some(list) = other.registries {
            match &mut self.registries {
                Some(mine) => {
                    for p in list.patterns {
                        if !mine.patterns.contains(&p) {
                            mine.patterns.push(p);
                        }
                    }
                }
                None => self.registries = Some(list),
            }
        }
    }
}

/// The registries container images may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryAllowList {
    pub patterns: Vec<RegistryPattern>,
}

/// One allowed registry: `host[:port][/path]`, where `*` stands for any run of characters
/// within one DNS label of the host (`*.dkr.ecr.*.amazonaws.com`) or one component of the
/// path. Without a port any port matches; with a path, only images below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryPattern {
    /// As written in the config.
    pub text: String,
    /// Anchored regex over `<domain>/<repository path>` of a normalised image reference.
    pub regex: String,
}

impl RegistryPattern {
    pub fn parse(text: &str) -> Result<RegistryPattern, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("an allowed registry is empty".to_owned());
        }
        if trimmed.contains("://") {
            return Err(format!(
                "allowed registry '{trimmed}' has a URL scheme: write the host only (`registry.example.com`)"
            ));
        }
        let (host_port, path) = match trimmed.split_once('/') {
            Some((h, p)) => (h, Some(p.trim_end_matches('/'))),
            None => (trimmed, None),
        };
        let (host, port) = match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        };
        let host = host.to_ascii_lowercase();
        let mut regex = String::from("^");
        for (i, label) in host.split('.').enumerate() {
            if label.is_empty()
                || !label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '_')
            {
                return Err(format!(
                    "allowed registry '{trimmed}': '{label}' is not a host name label (letters, digits, '-' and '*' within one label)"
                ));
            }
            if i > 0 {
                regex.push_str(r"\.");
            }
            regex.push_str(&glob(
                label,
                if label == "*" { "[^./:]+" } else { "[^./:]*" },
            ));
        }
        match port {
            None => regex.push_str("(?::[0-9]+)?"),
            Some("*") => regex.push_str(":[0-9]+"),
            Some(p) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                regex.push(':');
                regex.push_str(p);
            }
            Some(p) => {
                return Err(format!(
                    "allowed registry '{trimmed}': port '{p}' is not a number"
                ))
            }
        }
        match path {
            None | Some("") => regex.push_str("/.+$"),
            Some(p) => {
                for component in p.split('/') {
                    if component.is_empty() {
                        return Err(format!(
                            "allowed registry '{trimmed}' has an empty path component"
                        ));
                    }
                    regex.push('/');
                    regex.push_str(&glob(component, "[^/]*"));
                }
                regex.push_str("(?:/.+)?$");
            }
        }
        Ok(RegistryPattern {
            text: trimmed.to_owned(),
            regex,
        })
    }
}

/// `part` with each `*` replaced by `star` and everything else matched literally.
fn glob(part: &str, star: &str) -> String {
    part.split('*')
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join(star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, image: &str) -> bool {
        let p = RegistryPattern::parse(pattern).unwrap();
        regex::Regex::new(&p.regex).unwrap().is_match(image)
    }

    #[test]
    fn patterns_match_label_by_label() {
        let ecr = "*.dkr.ecr.*.amazonaws.com";
        assert!(matches(
            ecr,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
        ));
        assert!(!matches(
            ecr,
            "evil.com/x.dkr.ecr.us-east-1.amazonaws.com/app"
        ));
        assert!(!matches(ecr, "a.b.dkr.ecr.us-east-1.amazonaws.com/app"));
        assert!(!matches(
            ecr,
            "dkr.ecr.us-east-1.amazonaws.com.evil.com/app"
        ));
        assert!(matches(
            "MyRegistry.azurecr.io",
            "myregistry.azurecr.io/team/app"
        ));
        assert!(!matches(
            "myregistry.azurecr.io",
            "myregistry.azurecr.io.evil.com/app"
        ));
        assert!(matches(
            "registry-*.example.com",
            "registry-eu.example.com/app"
        ));
        assert!(matches("localhost", "localhost:5000/app"));
        assert!(matches("localhost:5000", "localhost:5000/app"));
        assert!(!matches("localhost:5000", "localhost:5001/app"));
    }

    #[test]
    fn a_path_limits_the_repositories() {
        assert!(matches("ghcr.io/acme", "ghcr.io/acme/api"));
        assert!(!matches("ghcr.io/acme", "ghcr.io/acme-evil/api"));
        assert!(!matches("ghcr.io/acme", "ghcr.io/other/api"));
        assert!(matches("docker.io/library", "docker.io/library/nginx"));
        assert!(!matches("docker.io/library", "docker.io/someone/nginx"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "",
            "https://ghcr.io",
            "ghcr..io",
            "ghcr.io:abc",
            "reg istry.io",
            "ghcr.io//x",
        ] {
            assert!(RegistryPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
