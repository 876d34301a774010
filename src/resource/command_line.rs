//! A Kubernetes component's command line read as flags, the way its flag parser (spf13/pflag)
//! reads it: `--flag=value` and `--flag value`, a bare `--flag` for booleans, repeated flags
//! (the last wins for single values; list flags such as `--enable-admission-plugins` also take
//! comma lists). Used for static-pod manifests, mirror pods and node process lists alike.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The program (`kube-apiserver`), when the command line names one.
    pub program: Option<String>,
    /// Flags in order of appearance, with their value (`None` for a bare boolean flag).
    flags: Vec<(String, Option<String>)>,
}

impl CommandLine {
    /// Parses `args`; the first entry is the program unless it is a flag (a container's `args`
    /// without `command`).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> CommandLine {
        let mut iter = args.iter().map(AsRef::as_ref).peekable();
        let program = iter
            .next_if(|a| !a.starts_with('-'))
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned());
        let mut flags = Vec::new();
        while let Some(arg) = iter.next() {
            let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                continue;
            };
            match body.split_once('=') {
                Some((name, value)) => flags.push((format!("--{name}"), Some(value.to_owned()))),
                None => {
                    // Control-plane components take no positional arguments, so a word after a
                    // flag is that flag's value.
                    let value = iter
                        .next_if(|next| !next.starts_with('-'))
                        .map(str::to_owned);
                    flags.push((format!("--{body}"), value));
                }
            }
        }
        CommandLine { program, flags }
    }

    /// The command line of a container: `command` followed by `args`.
    pub fn of_container(container: &Value) -> CommandLine {
        CommandLine::parse(&container_words(container))
    }

    /// Whether `flag` (with its dashes) appears at all.
    pub fn is_set(&self, flag: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == flag)
    }

    /// The effective value of a single-valued flag: the last occurrence wins; a bare boolean
    /// flag reads as `true`.
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(f, _)| f == flag)
            .map(|(_, v)| v.as_deref().unwrap_or("true"))
    }

    /// Every element of a list flag: all occurrences, each split on commas, in order.
    pub fn list(&self, flag: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(f, _)| f == flag)
            .filter_map(|(_, v)| v.as_deref())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Flags in order, for display.
    pub fn flags(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.flags.iter().map(|(f, v)| (f.as_str(), v.as_deref()))
    }
}

/// A container's `command` followed by its `args`, as words.
pub fn container_words(container: &Value) -> Vec<String> {
    ["command", "args"]
        .iter()
        .flat_map(|key| container[*key].as_array().into_iter().flatten())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_flag_forms_bare_booleans_and_repeats() {
        let c = CommandLine::parse(&[
            "/usr/local/bin/kube-apiserver",
            "--profiling",
            "--secure-port",
            "6443",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--enable-admission-plugins",
            "AlwaysPullImages,EventRateLimit",
            "--audit-log-maxage=30",
            "--audit-log-maxage=7",
            "-v=2",
        ]);
        assert_eq!(c.program.as_deref(), Some("kube-apiserver"));
        assert_eq!(c.value("--profiling"), Some("true"));
        assert_eq!(c.value("--secure-port"), Some("6443"));
        assert_eq!(c.value("--audit-log-maxage"), Some("7"));
        assert_eq!(c.value("--v"), Some("2"));
        assert_eq!(
            c.list("--enable-admission-plugins"),
            ["NodeRestriction", "AlwaysPullImages", "EventRateLimit"]
        );
        assert_eq!(c.list("--authorization-mode"), ["Node", "RBAC"]);
        assert!(!c.is_set("--anonymous-auth"));
        assert_eq!(c.value("--anonymous-auth"), None);
    }

    #[test]
    fn container_command_and_args_are_one_command_line() {
        let container = json!({"command": ["etcd"], "args": ["--data-dir=/var/lib/etcd", "--client-cert-auth"]});
        let c = CommandLine::of_container(&container);
        assert_eq!(c.program.as_deref(), Some("etcd"));
        assert_eq!(c.value("--data-dir"), Some("/var/lib/etcd"));
        assert_eq!(c.value("--client-cert-auth"), Some("true"));
        let args_only = CommandLine::of_container(&json!({"args": ["--bind-address=127.0.0.1"]}));
        assert_eq!(args_only.program, None);
        assert_eq!(args_only.value("--bind-address"), Some("127.0.0.1"));
    }

    #[test]
    fn lab_api_server_flags_parse() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/lab/flags/kube-apiserver.args"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("the shared lab recording is needed at {path}: {e}"));
        let mut args = vec!["kube-apiserver"];
        args.extend(text.lines().filter(|l| !l.trim().is_empty()));
        let c = CommandLine::parse(&args);
        assert_eq!(c.list("--authorization-mode"), ["Node", "RBAC"]);
        assert_eq!(c.value("--secure-port"), Some("6443"));
        assert!(!c.is_set("--kubelet-certificate-authority"));
    }
}
