//! Argument groups that more than one subcommand takes, each defined once with its docs and
//! its one parser, and flattened into the subcommands (`--policy`; `--format`, `-o`,
//! `--output-<format>`, `--fail-on`), plus writing the reports they ask for.

use anyhow::{bail, Context};
use clap::builder::TypedValueParser as _;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches, ValueEnum};
use posture::pattern::Pattern;
use posture::report::{Format, Style};
use posture::scan::FindingFilter;
use posture::Severity;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// `--policy` and how user rules run: extra Rego rules, conftest namespaces, and the time one
/// rule may take.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// Extra Rego rules (a directory or file): posture rules (a METADATA block and
    /// `deny contains {"msg", "path"}`), or conftest/OPA policies (`deny`, `violation` and
    /// `warn` rules in a `--policy-namespace` package); Rego v1 or v0.
    #[arg(long = "policy", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Packages whose `deny`/`violation` (findings of severity high) and `warn` (severity low)
    /// rules run as conftest runs them (conftest's `--namespace`); repeat for more.
    #[arg(long = "policy-namespace", value_name = "PACKAGE", default_value = posture::policy::conftest::DEFAULT_NAMESPACE)]
    pub policy_namespaces: Vec<String>,
    /// How long one user rule may run on one object before it is stopped (and reported).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = super::cluster::parse_duration)]
    pub rego_timeout: std::time::Duration,
    /// How much memory the user's rules may use beyond their inputs (`512MiB`, `2GiB`), or
    /// `off`. They run in a child process that is stopped at this size; a rule stopped there is
    /// reported and the scan goes on. Enforced on Linux.
    #[arg(long, value_name = "SIZE", default_value = "2GiB", value_parser = parse_memory)]
    pub rego_memory: RegoMemory,
}

/// `--rego-memory`: a size, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegoMemory {
    Off,
    Bytes(u64),
}

fn parse_memory(s: &str) -> Result<RegoMemory, String> {
    match s.trim() {
        "off" => Ok(RegoMemory::Off),
        size => super::cluster::parse_size(size).map(RegoMemory::Bytes),
    }
}

impl PolicyArgs {
    /// The user's policies as the library takes them.
    pub fn user_policies(&self) -> posture::policy::UserPolicies {
        posture::policy::UserPolicies {
            paths: self.policies.clone(),
            namespaces: self.policy_namespaces.clone(),
        }
    }

    /// The bounds on running a user rule.
    pub fn limits(&self) -> posture::engine::Limits {
        posture::engine::Limits {
            timeout: self.rego_timeout,
            memory: self.memory_bound(),
        }
    }

    /// The child process that bounds the user's rules' memory: posture itself. Only where
    /// posture can read the child's memory (Linux); elsewhere the rules run in process.
    fn memory_bound(&self) -> Option<posture::engine::limits::MemoryBound> {
        let RegoMemory::Bytes(bytes) = self.rego_memory else {
            return None;
        };
        if !cfg!(target_os = "linux") || self.policies.is_empty() {
            return None;
        }
        let program = std::env::current_exe().ok()?;
        Some(posture::engine::limits::MemoryBound { bytes, program })
    }

    /// The built-in and the user's rules, for commands that have no report to carry a user
    /// policy's problem: the first one is an error.
    pub fn catalog(&self) -> anyhow::Result<posture::policy::Catalog> {
        posture::scan::load_policies(&self.user_policies())
            .and_then(posture::policy::Catalog::strict)
            .context("cannot load the rules")
    }
}

/// `--pss-version`: which Pod Security admission version the Pod Security rules judge by.
#[derive(Debug, Clone, Default, Args)]
pub struct PodSecurityArgs {
    /// Pod Security admission version to judge the Pod Security rules by: `latest` or
    /// `v1.<minor>` (v1.0 and later; versions newer than posture knows mean latest), as in a
    /// namespace's `pod-security.kubernetes.io/enforce-version` label.
    #[arg(long = "pss-version", value_name = "VERSION", default_value = "latest")]
    pub pss_version: posture::engine::PssVersion,
}

/// `--rule`, `--skip-rule`, `--severity`: which findings to report.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectArgs {
    /// Report only the findings of these rules: ids or globs (`PST-0003`, `PST-01*`,
    /// `cis-1.12/1.2.*`), repeat or comma-separate.
    #[arg(long = "rule", value_name = "ID", value_delimiter = ',', value_parser = parse_pattern)]
    pub rules: Vec<Pattern>,
    /// Leave out the findings of these rules (ids or globs).
    #[arg(long = "skip-rule", value_name = "ID", value_delimiter = ',', value_parser = parse_pattern)]
    pub skip_rules: Vec<Pattern>,
    /// Report only findings of these severities (`high,critical`); the rules still all run.
    #[arg(long = "severity", value_name = "SEVERITY", value_delimiter = ',', value_parser = severity_parser())]
    pub severities: Vec<Severity>,
}

impl SelectArgs {
    pub fn filter(&self) -> FindingFilter {
        FindingFilter {
            rules: self.rules.clone(),
            skip_rules: self.skip_rules.clone(),
            severities: self.severities.clone(),
        }
    }
}

pub fn parse_pattern(s: &str) -> Result<Pattern, String> {
    Pattern::parse(s)
}

/// Severity names, with the possible values shells complete.
fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    clap::builder::PossibleValuesParser::new(["low", "medium", "high", "critical"])
        .try_map(|s| s.parse::<Severity>())
}

/// `--max-input-size`: the bound on every file read whole.
#[derive(Debug, Clone, Args)]
pub struct InputLimitArgs {
    /// The largest file (or standard input) read whole — manifests, baselines, node facts,
    /// snapshots: `256MiB`, `1GiB`, or bytes.
    #[arg(long = "max-input-size", value_name = "SIZE", default_value = "256MiB", value_parser = posture::collect::input::parse_bytes)]
    pub max_input_bytes: u64,
}

/// `-o`: where the one output of a command goes.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputFile {
    /// Write the output to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What a report-writing command (`scan`, `diff`) writes, where, and when it fails.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output formats: one (`table`, `json`, `sarif`, `junit`, `markdown`, `html`), or several
    /// from one run as `FORMAT=FILE` entries separated by commas
    /// (`table,sarif=posture.sarif,json=posture.json`); an entry without a file goes to
    /// standard output (or `-o`). Default `table`; kubectl's `-o json` also works when
    /// `--format` is not given (write `-o ./json` for a file named `json`).
    #[arg(long, value_name = "FORMAT[=FILE],...", value_parser = FormatNames.try_map(|s| parse_outputs(&s)), hide_possible_values = true)]
    pub format: Option<Outputs>,
    #[command(flatten)]
    pub output: OutputFile,
    #[command(flatten)]
    pub also: AlsoWrite,
    /// Exit 1 when a finding that counts is at or above this severity: with `--baseline`, and
    /// in `posture diff`, only new findings count; suppressed ones never do.
    #[arg(long, value_name = "SEVERITY", value_parser = severity_parser())]
    pub fail_on: Option<Severity>,
    /// When to colour the table; `auto` means on a terminal and NO_COLOR unset.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Text, with the format names as the possible values that shell completions offer (an entry
/// may also be `FORMAT=FILE`, so the names are not the only valid values).
#[derive(Debug, Clone, Copy)]
struct FormatNames;

impl clap::builder::TypedValueParser for FormatNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            Format::ALL
                .iter()
                .map(|f| clap::builder::PossibleValue::new(f.name())),
        ))
    }
}

/// The reports to write: formats, each to a file or (at most one) to standard output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs(Vec<(Format, Option<PathBuf>)>);

fn parse_outputs(s: &str) -> Result<Outputs, String> {
    let mut outputs = Vec::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, file) = match entry.split_once('=') {
            Some((name, file)) if !file.is_empty() => (name, Some(PathBuf::from(file))),
            Some((name, _)) => return Err(format!("'{name}=' names no file")),
            None => (entry, None),
        };
        let format = Format::from_str(name, true).map_err(|_| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format '{name}': use {}", names.join(", "))
        })?;
        outputs.push((format, file));
    }
    if outputs.is_empty() {
        return Err("no format given".to_owned());
    }
    if outputs.iter().filter(|(_, f)| f.is_none()).count() > 1 {
        return Err(
            "only one format can go to standard output; give the others a file (json=FILE)"
                .to_owned(),
        );
    }
    Ok(Outputs(outputs))
}

/// `--output-<format> FILE` for every format: one more report from the same run. Generated
/// from [`Format::ALL`], so a new format gets its flag without a line here.
#[derive(Debug, Clone, Default)]
pub struct AlsoWrite(Vec<(Format, PathBuf)>);

impl FromArgMatches for AlsoWrite {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let files = Format::ALL
            .iter()
            .filter_map(|f| {
                let file = matches.get_one::<PathBuf>(f.output_flag())?;
                Some((*f, file.clone()))
            })
            .collect();
        Ok(AlsoWrite(files))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = AlsoWrite::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for AlsoWrite {
    fn augment_args(command: Command) -> Command {
        Format::ALL.iter().fold(command, |command, f| {
            command.arg(
                Arg::new(f.output_flag())
                    .long(f.output_flag())
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help(format!("Also write the {} to FILE", f.description())),
            )
        })
    }

    fn augment_args_for_update(command: Command) -> Command {
        AlsoWrite::augment_args(command)
    }
}

impl OutputArgs {
    /// Every report to write: `--format` entries (the one without a file goes to `-o` or
    /// stdout), then `--output-<format>` files.
    pub fn outputs(&self) -> anyhow::Result<Vec<(Format, Option<PathBuf>)>> {
        let outputs = self.requested()?;
        if outputs.iter().any(|(_, file)| file.is_none()) {
            stdout_is_open()?;
        }
        Ok(outputs)
    }

    fn requested(&self) -> anyhow::Result<Vec<(Format, Option<PathBuf>)>> {
        // kubectl users type `-o json` for JSON on standard output. Without `--format`, an
        // `-o` that is exactly a format name means that; `-o ./json` names a file.
        let habit = match (&self.format, &self.output.output) {
            (None, Some(o)) => o.to_str().and_then(|s| Format::from_str(s, true).ok()),
            _ => None,
        };
        if let Some(format) = habit {
            let mut all = vec![(format, None)];
            all.extend(self.also.0.iter().map(|(f, file)| (*f, Some(file.clone()))));
            return Ok(all);
        }
        let output = &self.output.output;
        let default = Outputs(vec![(Format::Table, None)]);
        let mut all: Vec<(Format, Option<PathBuf>)> = self
            .format
            .as_ref()
            .unwrap_or(&default)
            .0
            .iter()
            .map(|(f, file)| (*f, file.clone().or_else(|| output.clone())))
            .collect();
        all.extend(self.also.0.iter().map(|(f, file)| (*f, Some(file.clone()))));
        if output.is_some() && all.iter().all(|(_, f)| f.as_ref() != output.as_ref()) {
            bail!("-o names a file, but every --format entry has its own; drop -o");
        }
        Ok(all)
    }

    /// Writes each report with `render`, to its file or to standard output, and returns
    /// whether a table went to standard output (it lists the problems itself).
    pub fn write(
        &self,
        outputs: &[(Format, Option<PathBuf>)],
        base: Style,
        render: impl Fn(Format, Style, &mut dyn Write) -> std::io::Result<()>,
    ) -> anyhow::Result<bool> {
        let stdout = std::io::stdout();
        let to_stdout = outputs.iter().any(|(_, file)| file.is_none());
        let on_terminal = to_stdout && stdout.is_terminal();
        // comfy-table ignores NO_COLOR, so it is honoured here (https://no-color.org).
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => on_terminal && !no_color,
        };
        let style = Style {
            color,
            width: width(on_terminal),
            ..base
        };
        // Streamed through a buffer rather than rendered whole first: a large scan's JSON is
        // tens of megabytes, which would otherwise sit in memory twice.
        for (format, file) in outputs {
            match file {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
                    // Colour codes belong on a terminal, never in a file.
                    let style = Style {
                        color: color && self.color == ColorChoice::Always,
                        ..style
                    };
                    render(*format, style, &mut out)
                        .and_then(|()| out.flush())
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                None => {
                    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
                    render(*format, style, &mut out)?;
                    out.flush()?;
                }
            }
        }
        Ok(outputs
            .iter()
            .any(|(f, file)| *f == Format::Table && file.is_none()))
    }
}

/// Fails when standard output was closed (`posture scan ... >&-`): before `main`, Rust's
/// runtime puts `/dev/null` on a closed standard descriptor, so the report would vanish and
/// the run would still exit 0. That `/dev/null` is open for reading and writing, which a
/// shell's `> /dev/null` never is, so a deliberate redirect still works.
fn stdout_is_open() -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let target = std::fs::read_link("/proc/self/fd/1").ok();
        let flags = std::fs::read_to_string("/proc/self/fdinfo/1")
            .ok()
            .and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("flags:"))?;
                u32::from_str_radix(line.trim_start_matches("flags:").trim(), 8).ok()
            });
        const ACCESS_MODE: u32 = 0o3;
        const READ_WRITE: u32 = 0o2;
        if target.as_deref() == Some(std::path::Path::new("/dev/null"))
            && flags.is_some_and(|f| f & ACCESS_MODE == READ_WRITE)
        {
            bail!(
                "standard output is closed, so the report cannot be written; name a file with -o"
            );
        }
    }
    Ok(())
}

/// Width to wrap the table to: the terminal's, else $COLUMNS, else a width that reads well in
/// CI logs.
fn width(on_terminal: bool) -> u16 {
    let from_env = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let terminal = on_terminal
        .then(|| comfy_table::Table::new().width())
        .flatten();
    terminal.or(from_env).unwrap_or(140).clamp(60, 400)
}
