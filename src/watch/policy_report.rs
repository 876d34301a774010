//! `posture watch --policy-reports`: the open findings as `wgpolicyk8s.io/v1alpha2` reports —
//! a PolicyReport per namespace for namespaced objects, one ClusterPolicyReport for
//! cluster-scoped ones — the API of the Kubernetes Policy working group that Kyverno,
//! trivy-operator and Policy Reporter read
//! (<https://github.com/kubernetes-sigs/wg-policy-prototypes/tree/master/policy-report>), and
//! the plan of which reports to write or delete. No I/O: `watch::publish` sends what
//! [`Planner::plan`] decides.
//!
//! A report is built from findings and rules only, never from the objects: a finding's message
//! names fields, not their values, so no Secret value can reach a report.

use crate::finding::Finding;
use crate::fingerprint::Fingerprint;
use crate::policy::Rule;
use crate::resource::ObjectRef;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

pub const API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";
/// The name of every report posture writes: one per namespace, one for the cluster.
pub const REPORT_NAME: &str = "posture";
/// The label that marks posture's reports, so that reports of namespaces gone while posture
/// was not running are found and deleted when it starts.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "posture");
/// Results in one report at most, most severe first. An object must stay under etcd's 1.5 MiB
/// request limit; a result takes about 600 bytes. The summary still counts every finding.
pub const MAX_RESULTS: usize = 1000;

/// Which report: `namespace` `None` is the ClusterPolicyReport.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReportKey {
    pub namespace: Option<String>,
    pub name: String,
}

impl ReportKey {
    pub fn kind(&self) -> &'static str {
        match self.namespace {
            Some(_) => "PolicyReport",
            None => "ClusterPolicyReport",
        }
    }
}

/// One report, as it is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub key: ReportKey,
    pub body: Value,
    /// Of `body`: what decides whether it must be written again.
    pub hash: String,
}

/// Builds reports, remembering when each finding was first seen: a result's `timestamp` says
/// when it was found, and must not change on every rebuild (or every report would be
/// rewritten every time).
#[derive(Debug, Default)]
pub struct Builder {
    first_seen: HashMap<Fingerprint, i64>,
}

impl Builder {
    /// The reports of `findings` at `now` (Unix seconds); `uid` gives an object's uid when it
    /// is known. Namespaces without findings get no report.
    pub fn build(
        &mut self,
        findings: &[&Finding],
        rules: &[Rule],
        uid: &dyn Fn(&ObjectRef) -> Option<String>,
        now: i64,
    ) -> Vec<Report> {
        let rules: HashMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
        let open: BTreeSet<Fingerprint> = findings.iter().map(|f| f.fingerprint).collect();
        self.first_seen.retain(|fp, _| open.contains(fp));
        let mut grouped: BTreeMap<Option<&str>, Vec<&Finding>> = BTreeMap::new();
        for f in findings {
            grouped
                .entry(f.object.namespace.as_deref())
                .or_default()
                .push(f);
        }
        grouped
            .into_iter()
            .map(|(namespace, mut list)| {
                // Most severe first, so that a truncated report keeps what matters most.
                list.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then_with(|| a.sort_key().cmp(&b.sort_key()))
                });
                let key = ReportKey {
                    namespace: namespace.map(str::to_owned),
                    name: REPORT_NAME.to_owned(),
                };
                let results: Vec<Value> = list
                    .iter()
                    .take(MAX_RESULTS)
                    .map(|f| {
                        let seen = *self.first_seen.entry(f.fingerprint).or_insert(now);
                        result(f, rules.get(f.rule_id.as_str()).copied(), uid, seen)
                    })
                    .collect();
                report(key, results, list.len())
            })
            .collect()
    }
}

fn report(key: ReportKey, results: Vec<Value>, total: usize) -> Report {
    let mut metadata = Map::new();
    metadata.insert("name".into(), key.name.clone().into());
    if let Some(ns) = &key.namespace {
        metadata.insert("namespace".into(), ns.clone().into());
    }
    metadata.insert(
        "labels".into(),
        json!({ MANAGED_BY.0: MANAGED_BY.1, "app.kubernetes.io/name": "posture" }),
    );
    if total > results.len() {
        metadata.insert(
            "annotations".into(),
            json!({ "posture.dev/results-omitted": (total - results.len()).to_string() }),
        );
    }
    let mut body = Map::new();
    body.insert("apiVersion".into(), API_VERSION.into());
    body.insert("kind".into(), key.kind().into());
    body.insert("metadata".into(), Value::Object(metadata));
    if let Some(ns) = &key.namespace {
        body.insert(
            "scope".into(),
            json!({"apiVersion": "v1", "kind": "Namespace", "name": ns}),
        );
    }
    // posture reports what fails; a pass would need every rule's verdict on every object.
    body.insert(
        "summary".into(),
        json!({"pass": 0, "fail": total, "warn": 0, "error": 0, "skip": 0}),
    );
    body.insert("results".into(), Value::Array(results));
    let body = Value::Object(body);
    let hash = hash(&body);
    Report { key, body, hash }
}

fn result(
    f: &Finding,
    rule: Option<&Rule>,
    uid: &dyn Fn(&ObjectRef) -> Option<String>,
    seen: i64,
) -> Value {
    let mut resource = Map::new();
    resource.insert("apiVersion".into(), f.object.api_version.clone().into());
    resource.insert("kind".into(), f.object.kind.clone().into());
    resource.insert("name".into(), f.object.name.clone().into());
    if let Some(ns) = &f.object.namespace {
        resource.insert("namespace".into(), ns.clone().into());
    }
    if let Some(uid) = uid(&f.object) {
        resource.insert("uid".into(), uid.into());
    }
    json!({
        "source": "posture",
        "policy": f.rule_id,
        "rule": rule.map_or(f.rule_id.as_str(), |r| r.slug.as_str()),
        "category": rule.map_or("custom", |r| r.group.as_str()),
        "severity": f.severity.as_str(),
        "result": "fail",
        "scored": true,
        "message": f.message,
        "timestamp": {"seconds": seen, "nanos": 0},
        "resources": [Value::Object(resource)],
        "properties": {
            "title": f.rule_title,
            "path": f.path.to_string(),
            "fingerprint": f.fingerprint,
        },
    })
}

fn hash(body: &Value) -> String {
    let digest = Sha256::digest(body.to_string().as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What to send to the API server.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Server-side apply of the whole report.
    Apply(Report),
    Delete(ReportKey),
}

struct Written {
    /// `None` for a report found on the server at start, whose content is unknown.
    hash: Option<String>,
    at: Option<Instant>,
}

/// Which reports to write: only those whose content changed since the last write, each at
/// most once per `min_interval` (a burst of changes in one namespace makes one write), and
/// deletions of posture's reports that no longer have findings.
pub struct Planner {
    min_interval: Duration,
    written: BTreeMap<ReportKey, Written>,
    /// Whether the last plan held a change back, so the caller plans again later.
    deferred: bool,
}

impl Planner {
    pub fn new(min_interval: Duration) -> Planner {
        Planner {
            min_interval,
            written: BTreeMap::new(),
            deferred: false,
        }
    }

    /// Reports posture wrote before (found by [`MANAGED_BY`] at start): deleted unless wanted.
    pub fn adopt(&mut self, existing: impl IntoIterator<Item = ReportKey>) {
        for key in existing {
            self.written.entry(key).or_insert(Written {
                hash: None,
                at: None,
            });
        }
    }

    /// Whether a change was held back by the last plan.
    pub fn deferred(&self) -> bool {
        self.deferred
    }

    /// The writes and deletions due at `now` to get from what was written to `wanted`. What is
    /// planned counts as written; call [`Planner::failed`] for a write that failed.
    pub fn plan(&mut self, wanted: Vec<Report>, now: Instant) -> Vec<Action> {
        self.deferred = false;
        let due = |w: &Written| {
            w.at.is_none_or(|at| now.saturating_duration_since(at) >= self.min_interval)
        };
        let mut actions = Vec::new();
        let mut keep: BTreeSet<ReportKey> = BTreeSet::new();
        for report in wanted {
            keep.insert(report.key.clone());
            match self.written.get(&report.key) {
                Some(w) if w.hash.as_deref() == Some(report.hash.as_str()) => {}
                Some(w) if !due(w) => self.deferred = true,
                _ => {
                    self.written.insert(
                        report.key.clone(),
                        Written {
                            hash: Some(report.hash.clone()),
                            at: Some(now),
                        },
                    );
                    actions.push(Action::Apply(report));
                }
            }
        }
        let stale: Vec<ReportKey> = self
            .written
            .iter()
            .filter(|(key, _)| !keep.contains(*key))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if due(&self.written[&key]) {
                self.written.remove(&key);
                actions.push(Action::Delete(key));
            } else {
                self.deferred = true;
            }
        }
        actions
    }

    /// A planned write or deletion failed at `now`: a plan tries it again once the interval
    /// has passed (a missing CRD must not make a request a second).
    pub fn failed(&mut self, action: &Action, now: Instant) {
        let key = match action {
            Action::Apply(report) => &report.key,
            Action::Delete(key) => key,
        };
        self.written.insert(
            key.clone(),
            Written {
                hash: None,
                at: Some(now),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{FieldPath, Origin};
    use crate::severity::Severity;

    fn finding(rule: &str, namespace: Option<&str>, name: &str, severity: Severity) -> Finding {
        let object = ObjectRef {
            api_version: "v1".into(),
            kind: if namespace.is_some() { "Pod" } else { "Node" }.into(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
        };
        let origin = Origin::Cluster {
            cluster: "lab".into(),
        };
        let path = FieldPath::default();
        Finding {
            fingerprint: Finding::fingerprint_of(rule, &object, &origin, &path, None),
            rule_id: rule.into(),
            rule_title: format!("title of {rule}").into(),
            severity,
            message: format!("{name} fails {rule}").into(),
            object: object.into(),
            origin: origin.into(),
            path: path.into(),
            position: None,
            written: None,
        }
    }

    fn build(builder: &mut Builder, findings: &[Finding], now: i64) -> Vec<Report> {
        let refs: Vec<&Finding> = findings.iter().collect();
        builder.build(&refs, &[], &|_| None, now)
    }

    #[test]
    fn one_report_per_namespace_and_one_for_the_cluster() {
        let findings = [
            finding("PST-0001", Some("web"), "a", Severity::Low),
            finding("PST-0002", Some("web"), "b", Severity::High),
            finding("PST-0003", Some("db"), "c", Severity::Medium),
            finding("PST-0004", None, "node-1", Severity::Critical),
        ];
        let reports = build(&mut Builder::default(), &findings, 100);
        let keys: Vec<(&str, Option<&str>)> = reports
            .iter()
            .map(|r| (r.key.kind(), r.key.namespace.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                ("ClusterPolicyReport", None),
                ("PolicyReport", Some("db")),
                ("PolicyReport", Some("web"))
            ]
        );
        let web = &reports[2].body;
        assert_eq!(web["summary"]["fail"], 2);
        // Most severe first.
        assert_eq!(web["results"][0]["policy"], "PST-0002");
        assert_eq!(web["results"][0]["severity"], "high");
        assert_eq!(web["scope"]["name"], "web");
        assert!(reports[0].body.get("scope").is_none());
        assert!(reports[0].body["metadata"].get("namespace").is_none());
    }

    #[test]
    fn a_rebuild_of_the_same_findings_later_has_the_same_hash() {
        let findings = [finding("PST-0001", Some("web"), "a", Severity::Low)];
        let mut builder = Builder::default();
        let first = build(&mut builder, &findings, 100);
        let later = build(&mut builder, &findings, 200);
        assert_eq!(first, later);
        assert_eq!(later[0].body["results"][0]["timestamp"]["seconds"], 100);
    }

    #[test]
    fn results_beyond_the_bound_are_counted_but_left_out() {
        let findings: Vec<Finding> = (0..MAX_RESULTS + 5)
            .map(|i| finding("PST-0001", Some("web"), &format!("p{i}"), Severity::Low))
            .collect();
        let reports = build(&mut Builder::default(), &findings, 1);
        let body = &reports[0].body;
        assert_eq!(body["results"].as_array().unwrap().len(), MAX_RESULTS);
        assert_eq!(body["summary"]["fail"], MAX_RESULTS + 5);
        assert_eq!(
            body["metadata"]["annotations"]["posture.dev/results-omitted"],
            "5"
        );
    }

    #[test]
    fn only_changed_reports_are_written_and_at_most_once_per_interval() {
        let mut builder = Builder::default();
        let mut planner = Planner::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let a = finding("PST-0001", Some("web"), "a", Severity::Low);
        let b = finding("PST-0002", Some("web"), "b", Severity::Low);
        let c = finding("PST-0003", Some("db"), "c", Severity::Low);

        let plan = planner.plan(build(&mut builder, &[a.clone(), c.clone()], 1), t0);
        assert_eq!(plan.len(), 2);
        // Unchanged: nothing.
        let plan = planner.plan(build(&mut builder, &[a.clone(), c.clone()], 2), t0);
        assert_eq!(plan, vec![]);
        // Changed within the interval: held back.
        let changed = build(&mut builder, &[a.clone(), b.clone(), c.clone()], 3);
        assert_eq!(
            planner.plan(changed.clone(), t0 + Duration::from_secs(1)),
            []
        );
        assert!(planner.deferred());
        // Once the interval passed: only the changed report.
        let plan = planner.plan(changed, t0 + Duration::from_secs(10));
        assert!(!planner.deferred());
        assert!(
            matches!(&plan[..], [Action::Apply(r)] if r.key.namespace.as_deref() == Some("web"))
        );
        // db has no finding any more: its report is deleted once due.
        let plan = planner.plan(
            build(&mut builder, &[a.clone(), b.clone()], 4),
            t0 + Duration::from_secs(20),
        );
        assert_eq!(
            plan,
            [Action::Delete(ReportKey {
                namespace: Some("db".into()),
                name: REPORT_NAME.into()
            })]
        );
    }

    #[test]
    fn adopted_reports_are_deleted_unless_wanted_and_failures_are_retried() {
        let mut builder = Builder::default();
        let mut planner = Planner::new(Duration::from_secs(10));
        let key = |ns: &str| ReportKey {
            namespace: Some(ns.into()),
            name: REPORT_NAME.into(),
        };
        planner.adopt([key("gone"), key("web")]);
        let a = finding("PST-0001", Some("web"), "a", Severity::Low);
        let now = Instant::now();
        let plan = planner.plan(build(&mut builder, std::slice::from_ref(&a), 1), now);
        assert_eq!(plan.len(), 2);
        assert!(matches!(&plan[0], Action::Apply(r) if r.key == key("web")));
        assert_eq!(plan[1], Action::Delete(key("gone")));
        planner.failed(&plan[0], now);
        let soon = planner.plan(build(&mut builder, std::slice::from_ref(&a), 1), now);
        assert_eq!(soon, []);
        let later = now + Duration::from_secs(10);
        let again = planner.plan(build(&mut builder, &[a], 1), later);
        assert!(matches!(&again[..], [Action::Apply(r)] if r.key == key("web")));
    }
}
