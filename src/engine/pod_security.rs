//! Which Pod Security admission policy version the Pod Security rules judge by
//! (`--pss-version`). The rules read it as `data.pod_security.version` (the minor number of
//! `v1.<minor>`); what each version allows is data in `policies/lib/pod_security.rego`.

use std::fmt;
use std::str::FromStr;

/// The newest policy version posture knows. Pod Security admission treats a version newer
/// than its newest check revision as that revision, and `latest` as the newest, so both map
/// here. Keep in step with `memo_newest` in `policies/lib/pod_security.rego`.
pub const NEWEST_MINOR: u32 = 37;

/// A Pod Security policy version: `latest` or `v1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PssVersion {
    #[default]
    Latest,
    /// `v1.<minor>`, as given (it may be newer than [`NEWEST_MINOR`]).
    Minor(u32),
}

/// A `--pss-version` value that names no Pod Security policy version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a Pod Security version: use latest or v1.<minor> (v1.0 to v1.{NEWEST_MINOR}; newer versions mean latest)")]
pub struct InvalidPssVersion(pub String);

impl PssVersion {
    /// The policy version the rules evaluate: the minor number, newer versions and `latest`
    /// mapped to the newest known.
    pub fn minor(self) -> u32 {
        match self {
            PssVersion::Latest => NEWEST_MINOR,
            PssVersion::Minor(m) => m.min(NEWEST_MINOR),
        }
    }
}

impl FromStr for PssVersion {
    type Err = InvalidPssVersion;

    /// `latest`, `v1.28` or `1.28`. Pod Security versions start at v1.0; there is no v0.x or
    /// v2.x policy.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPssVersion(s.to_owned());
        if s == "latest" {
            return Ok(PssVersion::Latest);
        }
        let rest = s.strip_prefix('v').unwrap_or(s);
        let (major, minor) = rest.split_once('.').ok_or_else(invalid)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if major != "1" || !digits(minor) || (minor.len() > 1 && minor.starts_with('0')) {
            return Err(invalid());
        }
        minor.parse().map(PssVersion::Minor).map_err(|_| invalid())
    }
}

impl fmt::Display for PssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PssVersion::Latest => f.write_str("latest"),
            PssVersion::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_latest_and_versions() {
        assert_eq!("latest".parse(), Ok(PssVersion::Latest));
        assert_eq!("v1.28".parse(), Ok(PssVersion::Minor(28)));
        assert_eq!("1.0".parse(), Ok(PssVersion::Minor(0)));
        assert_eq!(PssVersion::Minor(99).minor(), NEWEST_MINOR);
        assert_eq!(PssVersion::Latest.minor(), NEWEST_MINOR);
    }

    #[test]
    fn rejects_what_admission_would_not_parse() {
        for bad in [
            "", "v", "v1", "v0.9", "v2.0", "1.x", "v1.-1", "v1.01", "Latest", "v1.2.3",
        ] {
            assert!(bad.parse::<PssVersion>().is_err(), "{bad}");
        }
    }
}
