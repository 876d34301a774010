//! `/metrics`: Prometheus text (OpenMetrics) made from a [`WatchState`] when asked for.

use super::WatchState;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The registered metrics; [`Metrics::update`] copies the state's figures into them.
pub struct Metrics {
    registry: Registry,
    open: Family<Labels, Gauge>,
    objects: Family<Labels, Gauge>,
    restarts: Family<Labels, Counter>,
    errors: Family<Labels, Counter>,
    latency: Histogram,
    ready: Gauge,
    score: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    checks: Family<Labels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("posture");
        let open = Family::<Labels, Gauge>::default();
        registry.register(
            "open_findings",
            "Open findings by severity, rule and namespace",
            open.clone(),
        );
        let objects = Family::<Labels, Gauge>::default();
        registry.register(
            "watched_objects",
            "Objects held per watched type",
            objects.clone(),
        );
        let restarts = Family::<Labels, Counter>::default();
        registry.register(
            "watch_restarts",
            "Full lists of a type after its first (410 Gone, errors, resyncs)",
            restarts.clone(),
        );
        let errors = Family::<Labels, Counter>::default();
        registry.register(
            "watch_errors",
            "Failed list or watch requests per type",
            errors.clone(),
        );
        // 1 ms to about 16 s.
        let latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "evaluation_seconds",
            "Time to evaluate the objects a batch of changes affects",
            latency.clone(),
        );
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 once every type was listed and evaluated",
            ready.clone(),
        );
        let score = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "benchmark_score",
            "Passed / (passed + failed) automated benchmark results, in percent, per section \
             (section \"\" is the whole benchmark)",
            score.clone(),
        );
        let checks = Family::<Labels, Gauge>::default();
        registry.register(
            "benchmark_checks",
            "Benchmark recommendations per section and state (pass, fail, manual, \
             not-applicable, not-collected)",
            checks.clone(),
        );
        Metrics {
            registry,
            score,
            checks,
            open,
            objects,
            restarts,
            errors,
            latency,
            ready,
        }
    }

    /// Copies the state's figures in, and takes the evaluation times it recorded.
    pub fn update(&self, state: &mut WatchState) {
        self.open.clear();
        for ((severity, rule, namespace), n) in state.open_counts() {
            let labels = vec![
                ("severity".to_owned(), severity.as_str().to_owned()),
                ("rule".to_owned(), rule),
                ("namespace".to_owned(), namespace),
            ];
            self.open
                .get_or_create(&labels)
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        self.objects.clear();
        let counts = state.counts();
        for ((stream, stats), n) in state.streams().iter().zip(&state.stats).zip(counts) {
            let labels = vec![("type".to_owned(), stream.type_name.clone())];
            // Several streams of one type with -n: their objects add up.
            self.objects
                .get_or_create(&labels)
                .inc_by(i64::try_from(n).unwrap_or(i64::MAX));
            let restarts = self.restarts.get_or_create(&labels);
            restarts.inc_by(stats.restarts.saturating_sub(restarts.get()));
            let errors = self.errors.get_or_create(&labels);
            errors.inc_by(stats.errors.saturating_sub(errors.get()));
        }
        for seconds in state.evaluations.drain(..) {
            self.latency.observe(seconds);
        }
        self.ready.set(i64::from(state.ready()));
        self.score.clear();
        self.checks.clear();
        if let Some(compliance) = state.compliance() {
            let label = |section: &str| {
                vec![
                    ("benchmark".to_owned(), compliance.benchmark.clone()),
                    ("section".to_owned(), section.to_owned()),
                ]
            };
            let tallies = std::iter::once(("", compliance.score, &compliance.total)).chain(
                compliance
                    .sections
                    .iter()
                    .map(|s| (s.id.as_str(), s.score, &s.counts)),
            );
            for (section, score, tally) in tallies {
                if let Some(score) = score {
                    self.score.get_or_create(&label(section)).set(score);
                }
                for state in crate::compliance::State::ALL {
                    let mut labels = label(section);
                    labels.push(("state".to_owned(), state.as_str().to_owned()));
                    self.checks
                        .get_or_create(&labels)
                        .set(i64::try_from(tally.get(state)).unwrap_or(i64::MAX));
                }
            }
        }
    }

    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
