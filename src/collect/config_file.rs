//! Finding posture's config files (`.posture.yaml`): where they are looked for, and which
//! files a directory walk must leave to the exceptions loader instead of scanning them.

use std::path::{Path, PathBuf};

/// The names a config file is found by, in a scanned directory or the working directory.
pub const FILE_NAMES: [&str; 2] = [".posture.yaml", ".posture.yml"];

/// Whether `path` is a posture config file, which a directory walk must not scan as a manifest.
pub fn is_config_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// The config files that apply when none is named: one in each scanned directory, else one in
/// the working directory.
pub fn discover(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let in_dir = |dir: &Path| FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file());
    let mut found: Vec<PathBuf> = inputs
        .iter()
        .filter(|i| i.is_dir())
        .filter_map(|d| in_dir(d))
        .collect();
    if found.is_empty() {
        found.extend(
            in_dir(Path::new(".")).map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p)),
        );
    }
    let mut seen = Vec::new();
    found.retain(|p| {
        let canonical = p.canonicalize().unwrap_or_else(|_| p.clone());
        let new = !seen.contains(&canonical);
        seen.push(canonical);
        new
    });
    found
}
