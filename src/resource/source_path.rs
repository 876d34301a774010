//! [`SourcePath`]: a file's path as posture names it everywhere — in origins, locations,
//! fingerprints, exception selectors and every report.
//!
//! The shape is decided once, where a source creates an origin, so that `-f fixtures/app`,
//! `-f ./fixtures/app` and `-f "$PWD/fixtures/app"` name the same files and give the same
//! fingerprints (a baseline taken one way must not report everything "new" the other way).
//! Nothing downstream normalises a path again.

use serde::Serialize;
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// A normalised file path: `/` between segments, no `.` segments (so no leading `./`), and
/// relative to the working directory when the file is under it, however the user named it.
/// `..` segments are kept: resolving them lexically would be wrong across symbolic links.
/// Standard input is `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SourcePath(String);

impl SourcePath {
    /// `path` normalised against the process's working directory.
    pub fn new(path: impl AsRef<Path>) -> SourcePath {
        let path = path.as_ref();
        if path.is_absolute() {
            SourcePath::under(path, std::env::current_dir().ok().as_deref())
        } else {
            SourcePath::under(path, None)
        }
    }

    /// `path` normalised against `cwd`: an absolute path under `cwd` becomes relative to it.
    pub fn under(path: &Path, cwd: Option<&Path>) -> SourcePath {
        if path.as_os_str() == "-" {
            return SourcePath::stdin();
        }
        // `cwd/../x` is not under the working directory, though it starts with it.
        let under = |rest: &Path| !rest.components().any(|c| c == Component::ParentDir);
        let relative = cwd.filter(|_| path.is_absolute()).and_then(|cwd| {
            let lexical = path.strip_prefix(cwd).ok().filter(|r| under(r));
            lexical.map(Path::to_path_buf).or_else(|| {
                // `$PWD` may spell the working directory through a symbolic link that
                // getcwd resolved; compare the resolved forms too.
                let real = path.canonicalize().ok()?;
                let real_cwd = cwd.canonicalize().ok()?;
                real.strip_prefix(real_cwd).ok().map(Path::to_path_buf)
            })
        });
        let path = relative.as_deref().unwrap_or(path);
        let mut text = String::new();
        for component in path.components() {
            match component {
                Component::CurDir => continue,
                Component::RootDir => {
                    text.push('/');
                    continue;
                }
                Component::Prefix(p) => text.push_str(&p.as_os_str().to_string_lossy()),
                Component::ParentDir => push_segment(&mut text, ".."),
                Component::Normal(s) => push_segment(&mut text, &s.to_string_lossy()),
            }
        }
        if text.is_empty() {
            text.push('.');
        }
        SourcePath(text)
    }

    /// Standard input, shown as `-`.
    pub fn stdin() -> SourcePath {
        SourcePath("-".to_owned())
    }

    pub fn is_stdin(&self) -> bool {
        self.0 == "-"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path to open: the same file as the path the user gave.
    pub fn as_path(&self) -> &Path {
        Path::new(&self.0)
    }

    /// Whether the path is relative (to the working directory): SARIF gives such files a
    /// relative URI under `%SRCROOT%`, and others a `file://` URI.
    pub fn is_relative(&self) -> bool {
        !self.as_path().is_absolute()
    }

    pub fn to_path_buf(&self) -> PathBuf {
        PathBuf::from(&self.0)
    }
}

fn push_segment(text: &mut String, segment: &str) {
    if !text.is_empty() && !text.ends_with('/') {
        text.push('/');
    }
    text.push_str(segment);
}

impl fmt::Display for SourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&Path> for SourcePath {
    fn from(path: &Path) -> SourcePath {
        SourcePath::new(path)
    }
}

impl From<PathBuf> for SourcePath {
    fn from(path: PathBuf) -> SourcePath {
        SourcePath::new(path)
    }
}

impl From<&PathBuf> for SourcePath {
    fn from(path: &PathBuf) -> SourcePath {
        SourcePath::new(path)
    }
}

impl From<&str> for SourcePath {
    fn from(path: &str) -> SourcePath {
        SourcePath::new(path)
    }
}

impl From<&SourcePath> for SourcePath {
    fn from(path: &SourcePath) -> SourcePath {
        path.clone()
    }
}

/// A source path is a path: `Path`'s queries (`starts_with`, `extension`, `display`) read it.
impl std::ops::Deref for SourcePath {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.as_path()
    }
}

impl PartialEq<Path> for SourcePath {
    fn eq(&self, other: &Path) -> bool {
        self.as_path() == other
    }
}

impl PartialEq<PathBuf> for SourcePath {
    fn eq(&self, other: &PathBuf) -> bool {
        self.as_path() == other
    }
}

impl AsRef<Path> for SourcePath {
    fn as_ref(&self) -> &Path {
        self.as_path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(path: &str, cwd: &str) -> String {
        SourcePath::under(Path::new(path), Some(Path::new(cwd))).0
    }

    #[test]
    fn dot_slash_and_absolute_paths_under_the_working_directory_name_the_same_file() {
        for given in [
            "fixtures/app/a.yaml",
            "./fixtures/app/a.yaml",
            "fixtures/./app//a.yaml",
            "/repo/fixtures/app/a.yaml",
            "/repo/./fixtures/app/a.yaml",
        ] {
            assert_eq!(norm(given, "/repo"), "fixtures/app/a.yaml", "{given}");
        }
    }

    #[test]
    fn paths_outside_the_working_directory_stay_absolute_and_parents_stay() {
        assert_eq!(norm("/elsewhere/a.yaml", "/repo"), "/elsewhere/a.yaml");
        assert_eq!(norm("../b/a.yaml", "/repo"), "../b/a.yaml");
        assert_eq!(norm("./", "/repo"), ".");
        assert_eq!(norm("/repo", "/repo"), ".");
        assert_eq!(norm("-", "/repo"), "-");
        assert_eq!(
            norm("/repo/../shared/a.yaml", "/repo"),
            "/repo/../shared/a.yaml"
        );
    }
}
