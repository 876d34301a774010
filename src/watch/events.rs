//! `posture watch --emit-events`: a finding opened or resolved as a Kubernetes Event
//! (`events.k8s.io/v1`) on the object, so that `kubectl describe` and `kubectl events` show it,
//! and the queue that keeps their rate and number bounded. No I/O: `watch::publish` creates
//! the events [`Queue::due`] hands out.
//!
//! An event's note names the rule, its title, the severity and the field — never the finding's
//! message or any value of the object, so nothing of a Secret can reach it.

use super::{DriftEvent, EventKind};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::time::Instant;

pub const API_VERSION: &str = "events.k8s.io/v1";
pub const REPORTING_CONTROLLER: &str = "posture";
pub const OPENED: &str = "PostureFindingOpened";
pub const RESOLVED: &str = "PostureFindingResolved";
/// Where events about cluster-scoped objects go, as the kubelet puts those about Nodes.
pub const CLUSTER_SCOPED_NAMESPACE: &str = "default";
/// The API server rejects a note over 1 kB.
const NOTE_LIMIT: usize = 1024;

/// One Event to create, in `namespace`.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub namespace: String,
    pub body: Value,
}

/// The Event of a finding's drift event; `None` for object events. `uid` is the object's,
/// when known; `instance` names this posture (its pod), as `reportingInstance`.
pub fn event_for(
    drift: &DriftEvent,
    uid: Option<&str>,
    instance: &str,
    time: jiff::Timestamp,
) -> Option<PendingEvent> {
    let finding = drift.finding.as_ref()?;
    let (reason, kind, verb) = match drift.event {
        EventKind::FindingOpened => (OPENED, "Warning", "opened"),
        EventKind::FindingResolved => (RESOLVED, "Normal", "resolved"),
        _ => return None,
    };
    let object = &drift.object;
    let namespace = object
        .namespace
        .clone()
        .unwrap_or_else(|| CLUSTER_SCOPED_NAMESPACE.to_owned());
    let mut regarding = Map::new();
    regarding.insert("apiVersion".into(), object.api_version.clone().into());
    regarding.insert("kind".into(), object.kind.clone().into());
    regarding.insert("name".into(), object.name.clone().into());
    if let Some(ns) = &object.namespace {
        regarding.insert("namespace".into(), ns.clone().into());
    }
    if let Some(uid) = uid {
        regarding.insert("uid".into(), uid.into());
    }
    let path = finding.path.to_string();
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    };
    let mut note = format!(
        "{} ({}) {verb}: {}{at}",
        finding.rule, finding.severity, finding.title
    );
    truncate(&mut note, NOTE_LIMIT);
    let name = event_name(&object.name, &finding.fingerprint.text(), reason, time);
    let body = json!({
        "apiVersion": API_VERSION,
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "posture"},
        },
        "eventTime": micro_time(time),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": instance,
        "action": "Evaluate",
        "reason": reason,
        "type": kind,
        "regarding": Value::Object(regarding),
        "note": note,
    });
    Some(PendingEvent { namespace, body })
}

/// `<object>.<hash>`, as the Kubernetes event recorder names events (`<object>.<time>`); the
/// object's name is made a valid one first (RBAC names may hold `:`).
fn event_name(object: &str, fingerprint: &str, reason: &str, time: jiff::Timestamp) -> String {
    let mut h = Sha256::new();
    for part in [fingerprint, reason, &time.as_nanosecond().to_string()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let suffix: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut base: String = object
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
            _ => '-',
        })
        .take(253 - suffix.len() - 1)
        .collect();
    base = base.trim_matches(['-', '.']).to_owned();
    if base.is_empty() {
        base.push_str("object");
    }
    format!("{base}.{suffix}")
}

/// `metav1.MicroTime`: RFC 3339 with microseconds.
fn micro_time(time: jiff::Timestamp) -> String {
    let micros = time.subsec_microsecond();
    let seconds = jiff::Timestamp::from_second(time.as_second()).unwrap_or(time);
    let whole = seconds.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    format!("{whole}.{micros:06}Z")
}

fn truncate(text: &mut String, limit: usize) {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// A token bucket in front of a bounded queue: at most `burst` events at once, then
/// `per_second`; past `capacity` waiting events new ones are dropped and counted. A watch that
/// opens a thousand findings at once must not flood the API server (nor keep them all).
pub struct Queue {
    waiting: VecDeque<PendingEvent>,
    capacity: usize,
    burst: f64,
    per_second: f64,
    tokens: f64,
    last: Option<Instant>,
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

impl Queue {
    pub fn new(capacity: usize, burst: u32, per_second: f64) -> Queue {
        Queue {
            waiting: VecDeque::new(),
            capacity,
            burst: f64::from(burst),
            per_second,
            tokens: f64::from(burst),
            last: None,
            dropped: 0,
        }
    }

    pub fn push(&mut self, event: PendingEvent) {
        if self.waiting.len() >= self.capacity {
            self.dropped += 1;
        } else {
            self.waiting.push_back(event);
        }
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The events the bucket allows at `now`, oldest first.
    pub fn due(&mut self, now: Instant) -> Vec<PendingEvent> {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        }
        self.last = Some(now);
        let mut out = Vec::new();
        while self.tokens >= 1.0 {
            let Some(event) = self.waiting.pop_front() else {
                break;
            };
            self.tokens -= 1.0;
            out.push(event);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{FieldPath, ObjectRef};
    use crate::severity::Severity;
    use crate::watch::FindingFields;
    use std::time::Duration;

    fn drift(event: EventKind, namespace: Option<&str>, name: &str) -> DriftEvent {
        DriftEvent {
            event,
            time: "2025-01-01T00:00:00Z".into(),
            cluster: "lab".into(),
            object: ObjectRef {
                api_version: "rbac.authorization.k8s.io/v1".into(),
                kind: "ClusterRole".into(),
                namespace: namespace.map(str::to_owned),
                name: name.into(),
            },
            finding: Some(FindingFields {
                rule: "PST-0100".into(),
                title: "Wildcard verbs".into(),
                severity: Severity::High,
                message: "the message, which may name a value: not used".into(),
                path: FieldPath::default(),
                fingerprint: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            }),
        }
    }

    fn time() -> jiff::Timestamp {
        "2025-01-01T00:00:00.123456789Z".parse().unwrap()
    }

    #[test]
    fn opened_is_a_warning_and_resolved_is_normal_on_the_object() {
        let opened = event_for(
            &drift(EventKind::FindingOpened, Some("web"), "r"),
            Some("u-1"),
            "posture-0",
            time(),
        )
        .unwrap();
        assert_eq!(opened.namespace, "web");
        let b = &opened.body;
        assert_eq!(b["reason"], OPENED);
        assert_eq!(b["type"], "Warning");
        assert_eq!(b["reportingController"], "posture");
        assert_eq!(b["reportingInstance"], "posture-0");
        assert_eq!(b["regarding"]["uid"], "u-1");
        assert_eq!(b["eventTime"], "2025-01-01T00:00:00.123456Z");
        assert_eq!(b["note"], "PST-0100 (high) opened: Wildcard verbs");
        assert!(!b.to_string().contains("the message"));

        let resolved = event_for(
            &drift(EventKind::FindingResolved, None, "system:aggregate-to-edit"),
            None,
            "posture-0",
            time(),
        )
        .unwrap();
        assert_eq!(resolved.namespace, CLUSTER_SCOPED_NAMESPACE);
        assert_eq!(resolved.body["type"], "Normal");
        let name = resolved.body["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("system-aggregate-to-edit."), "{name}");
        assert!(resolved.body["regarding"].get("uid").is_none());
    }

    #[test]
    fn object_events_make_no_kubernetes_event() {
        let mut d = drift(EventKind::ObjectAdded, Some("web"), "r");
        d.finding = None;
        assert_eq!(event_for(&d, None, "p", time()), None);
    }

    #[test]
    fn the_queue_allows_a_burst_then_the_rate_and_drops_beyond_its_capacity() {
        let mut q = Queue::new(5, 2, 1.0);
        let e = event_for(
            &drift(EventKind::FindingOpened, Some("web"), "r"),
            None,
            "p",
            time(),
        )
        .unwrap();
        for _ in 0..7 {
            q.push(e.clone());
        }
        assert_eq!((q.len(), q.dropped), (5, 2));
        let t0 = Instant::now();
        assert_eq!(q.due(t0).len(), 2);
        assert_eq!(q.due(t0 + Duration::from_millis(500)).len(), 0);
        assert_eq!(q.due(t0 + Duration::from_millis(1000)).len(), 1);
        // Long idle refills to the burst, not beyond.
        assert_eq!(q.due(t0 + Duration::from_secs(100)).len(), 2);
        assert!(q.is_empty());
    }
}
