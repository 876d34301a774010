//! `posture watch`'s writes to the cluster, the only ones posture makes: PolicyReports by
//! server-side apply (`--policy-reports`) and Events (`--emit-events`). What to write is decided
//! by `policy_report` and `events`; this module sends it through kube and reports failures to
//! the caller's function (library code does not print).
//!
//! Server-side apply (`PATCH` with `application/apply-patch+yaml`, field manager `posture`,
//! forced) makes posture the owner of the fields it writes and needs no read first; a report
//! is sent whole, so fields of an older version of it are removed by the apply.

use super::events::{self, PendingEvent, Queue};
use super::policy_report::{self, Action, Builder, Planner, ReportKey};
use super::{DriftEvent, EventKind, WatchState};
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::Api;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub const FIELD_MANAGER: &str = "posture";

/// What to publish, and how often.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub policy_reports: bool,
    pub emit_events: bool,
    /// At most one write per report in this time.
    pub report_interval: Duration,
    /// How often reports are rebuilt when something changed, and queued events sent.
    pub tick: Duration,
    /// `reportingInstance` of the events: this posture's pod name.
    pub instance: String,
    /// Events waiting at most; more are dropped.
    pub event_capacity: usize,
    pub event_burst: u32,
    pub events_per_second: f64,
}

impl Default for PublishOptions {
    fn default() -> PublishOptions {
        PublishOptions {
            policy_reports: false,
            emit_events: false,
            report_interval: Duration::from_secs(10),
            tick: Duration::from_secs(1),
            instance: "posture".to_owned(),
            event_capacity: 1000,
            event_burst: 25,
            events_per_second: 5.0,
        }
    }
}

/// What the evaluation hands over after a batch: its drift events, and whether it was the
/// first evaluation (which opens every finding the cluster already had: no Event for those).
#[derive(Debug, Clone)]
pub struct Notice {
    pub events: Vec<DriftEvent>,
    pub initial: bool,
}

/// Receives a failure's description.
pub type OnError = dyn Fn(&str) + Send + Sync;

pub fn policy_report_resource(namespaced: bool) -> ApiResource {
    let kind = if namespaced {
        "PolicyReport"
    } else {
        "ClusterPolicyReport"
    };
    ApiResource {
        group: "wgpolicyk8s.io".into(),
        version: "v1alpha2".into(),
        api_version: policy_report::API_VERSION.into(),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
    }
}

fn event_resource() -> ApiResource {
    ApiResource {
        group: "events.k8s.io".into(),
        version: "v1".into(),
        api_version: events::API_VERSION.into(),
        kind: "Event".into(),
        plural: "events".into(),
    }
}

/// Writes reports and events for one watch.
pub struct Publisher {
    client: kube::Client,
    options: PublishOptions,
    builder: Builder,
    planner: Planner,
    queue: Queue,
    on_error: Box<OnError>,
}

impl Publisher {
    pub fn new(client: kube::Client, options: PublishOptions, on_error: Box<OnError>) -> Self {
        Publisher {
            client,
            planner: Planner::new(options.report_interval),
            queue: Queue::new(
                options.event_capacity,
                options.event_burst,
                options.events_per_second,
            ),
            builder: Builder::default(),
            options,
            on_error,
        }
    }

    /// Events dropped so far because too many were waiting.
    pub fn dropped_events(&self) -> u64 {
        self.queue.dropped
    }

    fn reports_api(&self, key: &ReportKey) -> Api<DynamicObject> {
        match &key.namespace {
            Some(ns) => {
                Api::namespaced_with(self.client.clone(), ns, &policy_report_resource(true))
            }
            None => Api::all_with(self.client.clone(), &policy_report_resource(false)),
        }
    }

    /// Finds the reports posture wrote before (by label), so that those of namespaces gone or
    /// clean meanwhile are deleted.
    pub async fn adopt(&mut self) {
        let params = ListParams::default().labels(&format!(
            "{}={}",
            policy_report::MANAGED_BY.0,
            policy_report::MANAGED_BY.1
        ));
        for namespaced in [true, false] {
            let api: Api<DynamicObject> =
                Api::all_with(self.client.clone(), &policy_report_resource(namespaced));
            match api.list_metadata(&params).await {
                Ok(list) => self.planner.adopt(
                    list.items
                        .into_iter()
                        .filter(|o| o.metadata.name.as_deref() == Some(policy_report::REPORT_NAME))
                        .map(|o| ReportKey {
                            namespace: o.metadata.namespace,
                            name: policy_report::REPORT_NAME.to_owned(),
                        }),
                ),
                Err(error) => (self.on_error)(&format!(
                    "cannot list {}s (are the PolicyReport CRDs installed?): {}",
                    policy_report_resource(namespaced).kind,
                    crate::problem::error_chain(&error)
                )),
            }
        }
    }

    /// Queues the Events of a batch's finding events.
    pub fn notice(&mut self, notice: &Notice, state: &WatchState) {
        if !self.options.emit_events || notice.initial {
            return;
        }
        let time = jiff::Timestamp::now();
        for drift in &notice.events {
            let uid = state.uid(&drift.object);
            // An object gone takes its events with it: nothing to say about it.
            if drift.event == EventKind::FindingResolved && uid.is_none() {
                continue;
            }
            if let Some(event) = events::event_for(drift, uid, &self.options.instance, time) {
                self.queue.push(event);
            }
        }
    }

    /// Builds the reports from the state and writes or deletes what changed and is due;
    /// `false` when the watch is not ready yet (an empty state would delete every report).
    pub async fn sync_reports(&mut self, state: &Mutex<WatchState>) -> bool {
        let now = Instant::now();
        let wanted = {
            let Ok(state) = state.lock() else {
                return false;
            };
            if !state.ready() {
                return false;
            }
            let findings = state.open_findings();
            let uid = |id: &crate::resource::ObjectRef| state.uid(id).map(str::to_owned);
            self.builder.build(
                &findings,
                state.rules(),
                &uid,
                jiff::Timestamp::now().as_second(),
            )
        };
        for action in self.planner.plan(wanted, now) {
            if let Err(error) = self.send(&action).await {
                self.planner.failed(&action, now);
                let (verb, key) = match &action {
                    Action::Apply(r) => ("apply", &r.key),
                    Action::Delete(k) => ("delete", k),
                };
                (self.on_error)(&format!(
                    "cannot {verb} {} {}: {}",
                    key.kind(),
                    shown(key),
                    crate::problem::error_chain(&error)
                ));
            }
        }
        true
    }

    /// Whether a report change waits for its interval.
    pub fn reports_deferred(&self) -> bool {
        self.planner.deferred()
    }

    async fn send(&self, action: &Action) -> Result<(), kube::Error> {
        match action {
            Action::Apply(report) => {
                let params = PatchParams::apply(FIELD_MANAGER).force();
                self.reports_api(&report.key)
                    .patch(&report.key.name, &params, &Patch::Apply(&report.body))
                    .await
                    .map(|_| ())
            }
            Action::Delete(key) => {
                match self
                    .reports_api(key)
                    .delete(&key.name, &DeleteParams::default())
                    .await
                {
                    Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
                    other => other.map(|_| ()),
                }
            }
        }
    }

    /// Creates the queued events the rate allows now.
    pub async fn send_events(&mut self) {
        for PendingEvent { namespace, body } in self.queue.due(Instant::now()) {
            let object: DynamicObject = match serde_json::from_value(body) {
                Ok(o) => o,
                Err(error) => {
                    (self.on_error)(&format!("cannot build an Event: {error}"));
                    continue;
                }
            };
            let api: Api<DynamicObject> =
                Api::namespaced_with(self.client.clone(), &namespace, &event_resource());
            match api.create(&PostParams::default(), &object).await {
                Ok(_) => {}
                // The same event twice (a name is per finding, reason and time): once is enough.
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(error) => (self.on_error)(&format!(
                    "cannot create an Event in namespace {namespace}: {}",
                    crate::problem::error_chain(&error)
                )),
            }
        }
    }
}

fn shown(key: &ReportKey) -> String {
    match &key.namespace {
        Some(ns) => format!("{ns}/{}", key.name),
        None => key.name.clone(),
    }
}

/// Publishes until `stop` completes or the evaluation's channel closes: every `tick`, the
/// reports when something changed (or a change waits for its interval), and the events due.
pub async fn run(
    mut publisher: Publisher,
    state: Arc<Mutex<WatchState>>,
    mut notices: mpsc::Receiver<Notice>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    if publisher.options.policy_reports {
        publisher.adopt().await;
    }
    let mut ticker = tokio::time::interval(publisher.options.tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut dirty = true;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            notice = notices.recv() => match notice {
                None => return,
                Some(notice) => {
                    dirty = true;
                    if let Ok(state) = state.lock() {
                        publisher.notice(&notice, &state);
                    }
                }
            },
            _ = ticker.tick() => {
                if publisher.options.policy_reports && (dirty || publisher.reports_deferred()) {
                    dirty = !publisher.sync_reports(&state).await;
                }
                publisher.send_events().await;
            }
        }
    }
}
