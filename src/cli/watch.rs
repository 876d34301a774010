//! `posture watch`: lists and watches the cluster, writes drift events as JSON lines on stdout,
//! and with `--listen` serves metrics, health and the current findings, until SIGTERM or ctrl-c.

use super::args::{PodSecurityArgs, PolicyArgs};
use super::cluster::{parse_duration, ClusterArgs};
use super::exit;
use anyhow::Context;
use clap::Args;
use posture::collect::cluster::watch::{self, Change};
use posture::scan::NeededTypes;
use posture::watch::http::{self, Shared};
use posture::watch::metrics::Metrics;
use posture::watch::publish::{self, Notice, PublishOptions, Publisher};
use posture::watch::WatchState;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Changes applied in one evaluation at most; more wait for the next.
const BATCH: usize = 4096;

/// How long a batch waits for more changes after its first, so that a burst (a Deployment's
/// rollout) is evaluated once.
const SETTLE: Duration = Duration::from_millis(50);

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How often every type is listed afresh, repairing what a missed event left wrong:
    /// `10m`, `30s`, or seconds (at most 1h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub resync: Duration,
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
}

pub fn run(args: WatchArgs) -> anyhow::Result<u8> {
    let options = args.cluster.options()?;
    let catalog = posture::scan::load_policies(&args.policy.user_policies())?;
    let mut evaluator = posture::engine::Evaluator::with_limits(&catalog, args.policy.limits())?;
    evaluator.set_pss_version(args.pod_security.pss_version);
    let needed = NeededTypes::of(&catalog);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let (sink, changes) = mpsc::channel::<Change>(BATCH);
        let watching = watch::start(&options, &needed, args.resync, sink).await?;
        let state = Arc::new(Mutex::new(WatchState::new(
            evaluator,
            watching.cluster.cluster.clone(),
            watching.cluster.context.clone(),
            watching.version.clone(),
            watching.streams.clone(),
        )));
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
            std::thread::spawn(move || evaluate(changes, &state, notify))
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

/// Applies changes in batches and writes their events, one JSON object a line; with
/// `notify`, hands each batch's events to the publisher too.
fn evaluate(
    mut changes: mpsc::Receiver<Change>,
    state: &Mutex<WatchState>,
    notify: Option<mpsc::Sender<Notice>>,
) {
    let stdout = std::io::stdout();
    while let Some(first) = changes.blocking_recv() {
        let mut batch = vec![first];
        std::thread::sleep(SETTLE);
        while batch.len() < BATCH {
            match changes.try_recv() {
                Ok(change) => batch.push(change),
                Err(_) => break,
            }
        }
        let now = jiff::Timestamp::now().to_string();
        let (events, initial) = match state.lock() {
            Ok(mut state) => {
                let initial = !state.ready();
                (state.apply(batch, &now), initial)
            }
            Err(_) => return,
        };
        if let Some(notify) = &notify {
            let notice = Notice {
                events: events.clone(),
                initial,
            };
            // The publisher gone (shut down) leaves stdout to go on.
            let _ = notify.blocking_send(notice);
        }
        let mut out = stdout.lock();
        for event in events {
            let line = serde_json::to_string(&event).unwrap_or_default();
            if writeln!(out, "{line}").is_err() {
                return;
            }
        }
        let _ = out.flush();
    }
}
