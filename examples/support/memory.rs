//! Resident memory for the timing examples.

/// Resident and peak resident memory, from /proc (Linux; empty elsewhere).
pub fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    format!("rss {}, peak {}", field("VmRSS:"), field("VmHWM:"))
}
