//! `posture watch`: lists and watches the cluster, writes drift events as JSON lines on stdout,
//! and with `--listen` serves metrics, health and the current findings, until SIGTERM or ctrl-c.

use super::args::{PodSecurityArgs, PolicyArgs};
use super::cluster::{parse_duration, ClusterArgs};
use super::exit;
use anyhow::Context;
use clap::Args;
use posture::collect::cluster::watch::{self, Change};
use posture::scan::{BenchmarkChoice, Judging, NeededTypes};
use posture::watch::http::{self, Shared};
use posture::watch::metrics::Metrics;
use posture::watch::publish::{self, Notice, PublishOptions, Publisher};
use posture::watch::WatchState;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Changes applied in one evaluation at most; more wait for the next.
const BATCH: usize = 4096;

/// How long a batch waits for more changes after its first, so that a burst (a Deployment's
/// rollout) is evaluated once.
const SETTLE: Duration = Duration::from_millis(50);

/// How often the evaluation wakes without changes to see whether the date moved on (an
/// exception that expires stops applying then).
const DAY_CHECK: Duration = Duration::from_secs(60);

/// The least time between two assessments of the benchmark, which reads every object: a steady
/// stream of changes is evaluated between them, not behind them.
const BENCHMARK_SPACING: Duration = Duration::from_secs(2);

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How often every type is listed afresh, repairing what a missed event left wrong:
    /// `10m`, `30s`, or seconds (at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub resync: Duration,
    /// How often every node's kubelet configuration is read again through the node proxy (a
    /// node that appears is read at once): `10m`, `30s`, or seconds (at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub kubelet_interval: Duration,
    /// Serve /metrics, /healthz, /readyz and /findings on this address (`127.0.0.1:9090`);
    /// off by default. Port 0 picks a free port, printed on stderr.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Write the open findings as wgpolicyk8s.io/v1alpha2 PolicyReports (one per namespace)
    /// and a ClusterPolicyReport, by server-side apply; needs the CRDs and write access to
    /// them (deploy/watch/).
    #[arg(long)]
    pub policy_reports: bool,
    /// Create a Kubernetes Event on the object when a finding opens or is resolved
    /// (rate-limited; the findings a cluster has at start make none).
    #[arg(long)]
    pub emit_events: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    #[command(flatten)]
    pub pod_security: PodSecurityArgs,
    /// The config file with exceptions, as `scan --config`; by default `.posture.yaml` in the
    /// working directory.
    #[arg(long = "config", value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore `.posture.yaml` files (annotations on objects still apply).
    #[arg(long)]
    pub no_config: bool,
    /// CIS benchmark to assess, as `scan --benchmark`: `auto` picks the platform's; `none`
    /// watches the rules' findings only.
    #[arg(long, value_name = "NAME", default_value = "auto", value_parser = super::scan::parse_benchmark)]
    pub benchmark: BenchmarkChoice,
    /// Limit the benchmark to one CIS profile: 1 or 2 (as `scan --cis-level`).
    #[arg(long, value_name = "LEVEL", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub cis_level: Option<u8>,
}

pub fn run(args: WatchArgs) -> anyhow::Result<u8> {
    let options = args.cluster.options()?;
    let catalog = posture::scan::load_policies(&args.policy.user_policies())?;
    let mut evaluator = posture::engine::Evaluator::with_limits(&catalog, args.policy.limits())?;
    evaluator.set_pss_version(args.pod_security.pss_version);
    let config_files = match (&args.config, args.no_config) {
        (Some(file), _) if !file.is_file() => {
            anyhow::bail!("the config file {} does not exist", file.display())
        }
        (Some(file), _) => vec![file.clone()],
        (None, true) => Vec::new(),
        (None, false) => posture::exceptions::config::discover(&[]),
    };
    let mut exceptions = Vec::new();
    let mut settings = posture::engine::RuleSettings::default();
    for file in &config_files {
        let loaded = posture::exceptions::config::load_file(file);
        exceptions.extend(loaded.exceptions);
        settings.merge(loaded.settings);
        for problem in loaded.problems {
            eprintln!("posture watch: {problem}");
        }
    }
    evaluator.set_settings(settings);
    let judging = Judging {
        benchmark: args.benchmark.clone(),
        cis_level: args.cis_level,
        exceptions,
        ..Judging::default()
    };
    let intervals = watch::Intervals {
        resync: args.resync,
        kubelet: args.kubelet_interval,
    };
    let needed = NeededTypes::of(&catalog);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let (sink, changes) = mpsc::channel::<Change>(BATCH);
        let watching = watch::start(&options, &needed, intervals, sink).await?;
        let mut watch_state = WatchState::new(
            evaluator,
            watching.cluster.cluster.clone(),
            watching.cluster.context.clone(),
            watching.version.clone(),
            watching.streams.clone(),
        );
        watch_state.set_judging(judging);
        let state = Arc::new(Mutex::new(watch_state));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let (notify, publishing) = if args.policy_reports || args.emit_events {
            let (notify, notices) = mpsc::channel::<Notice>(64);
            let options = PublishOptions {
                policy_reports: args.policy_reports,
                emit_events: args.emit_events,
                instance: instance_name(),
                ..PublishOptions::default()
            };
            let publisher = Publisher::new(
                watching.client.clone(),
                options,
                Box::new(|message| eprintln!("posture watch: {message}")),
            );
            let mut stopped = stopped.clone();
            let task = tokio::spawn(publish::run(
                publisher,
                Arc::clone(&state),
                notices,
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
            ));
            (Some(notify), Some(task))
        } else {
            (None, None)
        };
        let evaluating = {
            let state = Arc::clone(&state);
            let runtime = tokio::runtime::Handle::current();
            std::thread::spawn(move || evaluate(changes, &state, &runtime, notify))
        };
        let server = match args.listen {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr}"))?;
                let bound = listener.local_addr()?;
                eprintln!("posture watch: serving http://{bound}/metrics");
                let shared = Arc::new(Shared {
                    state: Arc::clone(&state),
                    metrics: Metrics::new(),
                    render: Box::new(|report| {
                        let mut out = Vec::new();
                        let _ = posture::report::json::write(report, &mut out);
                        out
                    }),
                });
                let mut stopped = stopped.clone();
                Some(tokio::spawn(http::serve(listener, shared, async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })))
            }
            None => None,
        };
        shutdown_signal().await;
        let _ = stop.send(true);
        // Stops the watchers; the evaluation thread ends when their channel closes.
        drop(watching);
        if let Some(server) = server {
            let _ = server.await;
        }
        if let Some(publishing) = publishing {
            let _ = publishing.await;
        }
        let _ = tokio::task::spawn_blocking(move || evaluating.join()).await;
        Ok(exit::CLEAN)
    })
}

/// SIGTERM (how Kubernetes stops a pod) or ctrl-c.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// This posture's name in the Events it creates: the pod's (`POD_NAME` from the downward API,
/// else the hostname, which is the pod's name too).
fn instance_name() -> String {
    ["POD_NAME", "HOSTNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "posture".to_owned())
}

/// Applies changes in batches and writes their events, one JSON object a line; with `notify`,
/// hands every batch's events to the publisher too. The benchmark is assessed on a thread of its
/// own ([`assess`]), woken when its evidence changed: a change's findings never wait for it.
fn evaluate(
    mut changes: mpsc::Receiver<Change>,
    state: &Arc<Mutex<WatchState>>,
    runtime: &tokio::runtime::Handle,
    notify: Option<mpsc::Sender<Notice>>,
) {
    // One wake-up pending at most: the assessor reads the state as it is when it runs.
    let (wake, woken) = std::sync::mpsc::sync_channel::<()>(1);
    let assessing = {
        let state = Arc::clone(state);
        let notify = notify.clone();
        std::thread::spawn(move || assess(&woken, &state, notify.as_ref()))
    };
    loop {
        let first =
            runtime.block_on(async { tokio::time::timeout(DAY_CHECK, changes.recv()).await });
        let batch = match first {
            Ok(None) => break,
            Ok(Some(first)) => {
                let mut batch = vec![first];
                std::thread::sleep(SETTLE);
                while batch.len() < BATCH {
                    match changes.try_recv() {
                        Ok(change) => batch.push(change),
                        Err(_) => break,
                    }
                }
                batch
            }
            // No change for a while: only the date may have moved on.
            Err(_) => Vec::new(),
        };
        let now = jiff::Timestamp::now().to_string();
        let today = posture::exceptions::today();
        // The first evaluation's events (every finding the cluster has) are written a chunk at
        // a time as they are made, so they never exist all at once; a change's few are written
        // after the lock is released.
        let mut pending = Vec::new();
        let mut written = true;
        let (initial, due) = match state.lock() {
            Ok(mut state) => {
                let initial = !state.ready();
                let mut emit = |events: Vec<posture::watch::DriftEvent>| {
                    if initial {
                        written &= write(&events);
                    } else {
                        pending.extend(events);
                    }
                };
                state.new_day(today, &now, &mut emit);
                if !batch.is_empty() {
                    state.apply_each(batch, &now, &mut emit);
                }
                (initial, state.benchmark_due())
            }
            Err(_) => break,
        };
        if !pending.is_empty() {
            written &= write(&pending);
            publish(notify.as_ref(), pending, initial);
        } else if initial {
            // The publisher learns that the first list is in even when it found nothing.
            publish(notify.as_ref(), Vec::new(), true);
        }
        if !written {
            break;
        }
        if due {
            // Full: a wake-up is already pending, which covers this change too.
            let _ = wake.try_send(());
        }
    }
    // The assessor ends when its wake-ups end.
    drop(wake);
    let _ = assessing.join();
}

/// Assesses the benchmark each time it is woken, at most every [`BENCHMARK_SPACING`]: a
/// snapshot is taken under the lock, assessed without it, and applied under it again (an
/// assessment older than one applied is dropped there).
fn assess(
    woken: &std::sync::mpsc::Receiver<()>,
    state: &Mutex<WatchState>,
    notify: Option<&mpsc::Sender<Notice>>,
) {
    let mut last: Option<std::time::Instant> = None;
    while woken.recv().is_ok() {
        if let Some(last) = last {
            std::thread::sleep(BENCHMARK_SPACING.saturating_sub(last.elapsed()));
        }
        let snapshot = match state.lock() {
            Ok(mut state) => state.benchmark_snapshot(),
            Err(_) => return,
        };
        let Some(snapshot) = snapshot else {
            continue;
        };
        last = Some(std::time::Instant::now());
        let assessed = snapshot.assess();
        let now = jiff::Timestamp::now().to_string();
        let events = match state.lock() {
            Ok(mut state) => state.apply_benchmark(assessed, &now),
            Err(_) => return,
        };
        if !write(&events) {
            return;
        }
        publish(notify, events, false);
    }
}

/// Hands events to the publisher, if there is one; the publisher gone (shut down) leaves stdout
/// to go on. The first evaluation's events make no Kubernetes Events, so none are handed over
/// with `initial`.
fn publish(
    notify: Option<&mpsc::Sender<Notice>>,
    events: Vec<posture::watch::DriftEvent>,
    initial: bool,
) {
    if let Some(notify) = notify {
        let notice = Notice {
            events: if initial { Vec::new() } else { events },
            initial,
        };
        let _ = notify.blocking_send(notice);
    }
}

/// Writes events to stdout, one JSON object a line; false when stdout is gone.
fn write(events: &[posture::watch::DriftEvent]) -> bool {
    let mut out = std::io::stdout().lock();
    for event in events {
        let line = serde_json::to_string(event).unwrap_or_default();
        if writeln!(out, "{line}").is_err() {
            return false;
        }
    }
    out.flush().is_ok()
}
