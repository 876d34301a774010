//! Options shared by the commands that read a live cluster (`scan`, `snapshot`), and running
//! a collection with a progress bar.

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use posture::collect::cluster::{ClusterOptions, ConnectOptions, Progress};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file; otherwise KUBECONFIG (several files merged), then ~/.kube/config, then
    /// the in-cluster service account.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Only these namespaces (repeat or comma-separate). Cluster-scoped objects are always read.
    #[arg(
        short = 'n',
        long = "namespace",
        value_name = "NS",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,
    /// All namespaces (the default).
    #[arg(short = 'A', long, conflicts_with = "namespaces")]
    pub all_namespaces: bool,
    /// Namespaces to leave out (repeat or comma-separate).
    #[arg(long, value_name = "NS", value_delimiter = ',')]
    pub exclude_namespaces: Vec<String>,
    /// Time limit for one API request, like kubectl's: `30s`, `2m`, or seconds.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
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
    if seconds <= 0.0 {
        return Err("the request timeout must be positive".to_owned());
    }
    Ok(Duration::from_secs_f64(seconds))
}

impl ClusterArgs {
    pub fn options(&self) -> ClusterOptions {
        ClusterOptions {
            connect: ConnectOptions {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                request_timeout: self.request_timeout,
            },
            namespaces: (!self.namespaces.is_empty()).then(|| self.namespaces.clone()),
            exclude_namespaces: self.exclude_namespaces.clone(),
            concurrency: usize::from(self.concurrency),
            page_size: 500,
        }
    }
}

/// A progress bar on stderr when it is a terminal; nothing otherwise.
pub struct Bar(ProgressBar);

impl Bar {
    pub fn new() -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{spinner} collecting [{bar:30}] {pos}/{len} {msg}")
                .expect("the progress template is valid")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar(bar)
    }
}

impl Progress for Bar {
    fn add_steps(&self, total: usize) {
        self.0.inc_length(total as u64);
    }

    fn step(&self, what: &str) {
        self.0.set_message(what.to_owned());
        self.0.inc(1);
    }
}

impl Bar {
    /// Clears the bar, so that what is printed next starts on a clean line.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
