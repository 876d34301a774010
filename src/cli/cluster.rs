//! Options shared by the commands that read a live cluster (`scan`, `snapshot`), and running
//! a collection with a progress bar.

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use posture::collect::cluster::{ClusterOptions, ConnectOptions, Progress};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The longest `--request-timeout` and `--exec-timeout`: beyond it a wait is a hang.
const MAX_DURATION: Duration = Duration::from_secs(3600);

/// The largest `--max-response-bytes`.
const MAX_RESPONSE_BYTES: u64 = 16 << 30;

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file; otherwise KUBECONFIG (several files merged), then ~/.kube/config, then
    /// the in-cluster service account.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context). `scan` takes several
    /// (`--context a,b,c`) and scans each cluster, in parallel, into one report.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub context: Vec<String>,
    /// Only these namespaces (repeat or comma-separate). Cluster-scoped objects are always read.
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        value_delimiter = ',',
        value_parser = parse_namespace
    )]
    pub namespaces: Vec<String>,
    /// All namespaces (the default).
    #[arg(short = 'A', long, conflicts_with = "namespaces")]
    pub all_namespaces: bool,
    /// Namespaces to leave out (repeat or comma-separate).
    #[arg(long, value_name = "NS", value_delimiter = ',', value_parser = parse_namespace)]
    pub exclude_namespaces: Vec<String>,
    /// Time limit for one API request, from sending it to the last byte of the answer, retries
    /// included: `30s`, `2m`, `500ms`, or seconds (at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Time limit for the kubeconfig's exec credential plugin (kubelogin, aws eks get-token) to
    /// print a credential; raise it for interactive logins.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    pub exec_timeout: Duration,
    /// Largest API answer read, after gzip decoding: `128MiB`, `1GiB`, or bytes.
    #[arg(long, value_name = "SIZE", default_value = "128MiB", value_parser = parse_size)]
    pub max_response_bytes: u64,
    /// Pages read per list before the server's continue tokens are given up on.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pages: u32,
    /// Objects read per list (per type, and per namespace with -n).
    #[arg(long, value_name = "N", default_value_t = 250_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_list_items: u32,
    /// API requests in flight at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (try 30s, 2m or 90)"))?;
    let seconds = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{s}' (use ms, s, m or h)"
            ))
        }
    };
    // Compared as f64 first: `Duration::from_secs_f64` panics on values it cannot hold.
    if seconds > MAX_DURATION.as_secs_f64() {
        return Err(format!("'{s}' is longer than the limit of 1h"));
    }
    let duration = Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("'{s}' is not a duration (try 30s, 2m or 90)"))?;
    if duration < Duration::from_millis(1) {
        return Err(format!("'{s}' is shorter than 1ms"));
    }
    Ok(duration)
}

/// Bytes, or a number with `KiB`, `MiB` or `GiB` (`Ki`, `Mi`, `Gi` as in Kubernetes quantities).
pub(super) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let shift = match unit.trim() {
        "" => 0,
        "Ki" | "KiB" => 10,
        "Mi" | "MiB" => 20,
        "Gi" | "GiB" => 30,
        other => {
            return Err(format!(
                "unknown unit '{other}' in '{s}' (use KiB, MiB or GiB, or bytes)"
            ))
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{s}' is not a size (try 128MiB, 1GiB or 1048576)"))?;
    let bytes = n
        .checked_mul(1 << shift)
        .filter(|b| *b <= MAX_RESPONSE_BYTES)
        .ok_or_else(|| format!("'{s}' is larger than the limit of 16GiB"))?;
    if bytes < 1024 {
        return Err(format!("'{s}' is smaller than 1KiB"));
    }
    Ok(bytes)
}

/// A namespace name is a DNS-1123 label; anything else cannot name a namespace, and would go
/// into request paths.
fn parse_namespace(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if valid {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "'{s}' is not a namespace name: at most 63 lowercase letters, digits and '-', \
             starting and ending with a letter or digit"
        ))
    }
}

impl ClusterArgs {
    /// The options for the one context given (or the current one).
    pub fn options(&self) -> anyhow::Result<ClusterOptions> {
        match self.context.as_slice() {
            [] => Ok(self.options_for(None)),
            [one] => Ok(self.options_for(Some(one))),
            _ => anyhow::bail!("--context takes one context here; `posture scan` takes several"),
        }
    }

    /// The options for `context` (the kubeconfig's current one when `None`).
    pub fn options_for(&self, context: Option<&str>) -> ClusterOptions {
        ClusterOptions {
            connect: ConnectOptions {
                kubeconfig: self.kubeconfig.clone(),
                context: context.map(str::to_owned),
                request_timeout: self.request_timeout,
                exec_timeout: self.exec_timeout,
                max_response_bytes: self.max_response_bytes,
            },
            namespaces: (!self.namespaces.is_empty()).then(|| self.namespaces.clone()),
            exclude_namespaces: self.exclude_namespaces.clone(),
            concurrency: usize::from(self.concurrency),
            page_size: 500,
            max_pages: self.max_pages as usize,
            max_list_items: self.max_list_items as usize,
        }
    }
}

/// A progress bar on stderr when it is a terminal; nothing otherwise. A spinner with what
/// collection waits for (`connecting to <server>`) until the number of steps is known: a bar
/// of `0/0` looks finished while a server has not answered yet.
pub struct Bar {
    bar: ProgressBar,
    counting: AtomicBool,
}

impl Bar {
    pub fn new() -> Bar {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bar::to(target)
    }

    fn to(target: ProgressDrawTarget) -> Bar {
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .expect("the spinner template is valid"),
        );
        bar.set_message("reading the kubeconfig");
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar {
            bar,
            counting: AtomicBool::new(false),
        }
    }
}

impl Progress for Bar {
    fn add_steps(&self, total: usize) {
        if !self.counting.swap(true, Ordering::Relaxed) {
            self.bar.set_style(
                ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
                    .expect("the progress template is valid")
                    .progress_chars("=> "),
            );
            self.bar.set_message("");
            self.bar.set_length(0);
        }
        self.bar.inc_length(total as u64);
    }

    fn step(&self, what: &str) {
        self.bar.set_message(what.to_owned());
        self.bar.inc(1);
    }

    fn phase(&self, what: &str) {
        if !self.counting.load(Ordering::Relaxed) {
            self.bar.set_message(what.to_owned());
        }
    }
}

impl Bar {
    /// Clears the bar, so that what is printed next starts on a clean line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        cluster: ClusterArgs,
    }

    fn parse(args: &[&str]) -> Result<ClusterArgs, String> {
        Cli::try_parse_from(std::iter::once("posture").chain(args.iter().copied()))
            .map(|c| c.cluster)
            .map_err(|e| e.to_string())
    }

    /// The flags' defaults are the library's: documented once, in the flag definitions.
    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let options = parse(&[]).unwrap().options_for(None);
        let library = ClusterOptions::default();
        let c = (&options.connect, &library.connect);
        assert_eq!(c.0.request_timeout, c.1.request_timeout);
        assert_eq!(c.0.exec_timeout, c.1.exec_timeout);
        assert_eq!(c.0.max_response_bytes, c.1.max_response_bytes);
        assert_eq!(options.max_pages, library.max_pages);
        assert_eq!(options.max_list_items, library.max_list_items);
        assert_eq!(options.concurrency, library.concurrency);
        assert_eq!(options.page_size, library.page_size);
    }

    /// `Duration::from_secs_f64` panicked on `--request-timeout 99999999999999999999s`.
    #[test]
    fn huge_or_tiny_durations_are_rejected_not_panicked_on() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1h"), Ok(MAX_DURATION));
        for huge in ["99999999999999999999s", "1e400", "61m", "2h"] {
            assert!(parse_duration(huge).is_err(), "{huge}");
        }
        assert_eq!(
            parse_duration("99999999999999999999s").unwrap_err(),
            "'99999999999999999999s' is longer than the limit of 1h"
        );
        for tiny in ["0", "0s", "0.0001ms", "-1s"] {
            assert!(parse_duration(tiny).is_err(), "{tiny}");
        }
    }

    #[test]
    fn sizes_take_binary_units_within_bounds() {
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("1 GiB"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("17GiB").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("100").is_err());
        assert!(parse_size("1MB").is_err());
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn namespaces_must_be_dns_labels() {
        assert!(parse(&["-n", "ratingsapp,kube-system"]).is_ok());
        for bad in [
            "a/b",
            "../secrets",
            "Web",
            "a b",
            "-x",
            "x-",
            "a%2Fb",
            &"a".repeat(64),
        ] {
            let error = parse(&[&format!("--namespace={bad}")]).unwrap_err();
            assert!(error.contains("is not a namespace name"), "{bad}: {error}");
        }
        assert!(parse(&["--exclude-namespaces", "a?b"]).is_err());
    }

    /// The bar showed a full `0/0` while a hung server had not answered.
    #[test]
    fn the_bar_is_a_spinner_until_steps_are_known() {
        let bar = Bar::to(ProgressDrawTarget::hidden());
        bar.phase("connecting to https://127.0.0.1:6443");
        assert_eq!(bar.bar.length(), None);
        assert_eq!(bar.bar.message(), "connecting to https://127.0.0.1:6443");
        bar.add_steps(24);
        bar.phase("late");
        assert_eq!(bar.bar.length(), Some(24));
        bar.step("pods");
        bar.add_steps(4);
        assert_eq!((bar.bar.position(), bar.bar.length()), (1, Some(28)));
        assert_eq!(bar.bar.message(), "pods");
    }
}
