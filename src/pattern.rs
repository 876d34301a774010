//! Name patterns (exceptions, `--rule`, `--skip-rule`, `--skip-path`): a glob (`ratings-*`,
//! `charts/**`) or, after `regex:`, a regular expression. Both must match the whole value, so
//! `api` never matches `ratings-api` by accident.

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;
use std::fmt;

#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact,
    Glob(GlobMatcher),
    Regex(Regex),
}

const REGEX_PREFIX: &str = "regex:";

impl Pattern {
    /// Parses `text`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let matcher = if let Some(expr) = text.strip_prefix(REGEX_PREFIX) {
            // Anchored: selectors name whole values, as globs do.
            let regex = Regex::new(&format!("^(?:{expr})$"))
                .map_err(|e| format!("invalid regular expression '{expr}': {e}"))?;
            Matcher::Regex(regex)
        } else if text.contains(['*', '?', '[', '{']) {
            let glob = GlobBuilder::new(text)
                // `*` stays within one path segment (and one `cis-1.12/` id prefix); `**` crosses.
                .literal_separator(true)
                .build()
                .map_err(|e| format!("invalid glob '{text}': {e}"))?;
            Matcher::Glob(glob.compile_matcher())
        } else {
            Matcher::Exact
        };
        Ok(Pattern {
            text: text.to_owned(),
            matcher,
        })
    }

    pub fn matches(&self, value: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => self.text == value,
            Matcher::Glob(g) => g.is_match(value),
            Matcher::Regex(r) => r.is_match(value),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn matches(pattern: &str, value: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(value)
    }

    #[test]
    fn exact_glob_and_regex_match_whole_values() {
        assert!(matches("ratings-api", "ratings-api"));
        assert!(!matches("api", "ratings-api"));
        assert!(matches("ratings-*", "ratings-api"));
        assert!(!matches("ratings-*", "mongodb"));
        assert!(matches("PST-00?1", "PST-0011"));
        assert!(matches("regex:ratings-(api|web)", "ratings-web"));
        assert!(!matches("regex:ratings-(api|web)", "ratings-web-2"));
        assert!(matches("cis-1.12/1.2.*", "cis-1.12/1.2.15"));
        assert!(!matches("charts/*", "charts/mongodb/templates/sts.yaml"));
        assert!(matches("charts/**", "charts/mongodb/templates/sts.yaml"));
    }

    #[test]
    fn invalid_patterns_say_why() {
        assert!(Pattern::parse("regex:(")
            .unwrap_err()
            .contains("invalid regular expression"));
        assert!(Pattern::parse("a[").unwrap_err().contains("invalid glob"));
    }
}
