//! `posture watch --policy-reports` and `--emit-events` through kube against a small API server
//! on 127.0.0.1 that records what it is sent: the server-side apply of PolicyReports (content
//! type, field manager, force, body), the deletion of reports without findings, and Events
//! for findings opened after the first evaluation — and never a Secret's value in any of them.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use posture::collect::cluster::watch::{Change, WatchedStream};
use posture::snapshot::ServerVersion;
use posture::watch::publish::{Notice, PublishOptions, Publisher};
use posture::watch::WatchState;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Planted in a Pod's environment; must reach no request.
const PLANTED: &str = "planted-credential-4f1c9a";

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: String,
    content_type: String,
    body: String,
}

/// Records every request; answers lists with `existing` reports, PATCH and POST with the body
/// sent, DELETE with a Status.
struct Capture {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Capture {
    async fn start(existing: Vec<Value>) -> Capture {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        let existing = Arc::new(existing);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                let existing = Arc::clone(&existing);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let log = Arc::clone(&log);
                        let existing = Arc::clone(&existing);
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let body = String::from_utf8_lossy(&body).into_owned();
                            let recorded = Recorded {
                                method: parts.method.to_string(),
                                path: parts.uri.path().to_owned(),
                                query: parts.uri.query().unwrap_or("").to_owned(),
                                content_type: parts
                                    .headers
                                    .get(hyper::header::CONTENT_TYPE)
                                    .map(|v| v.to_str().unwrap().to_owned())
                                    .unwrap_or_default(),
                                body: body.clone(),
                            };
                            let (status, answer) = answer(&recorded, &existing);
                            log.lock().unwrap().push(recorded);
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(answer.to_string())))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Capture { url, requests }
    }

    fn client(&self) -> kube::Client {
        let config = kube::Config::new(self.url.parse().unwrap());
        kube::Client::try_from(config).unwrap()
    }

    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }
}

fn answer(r: &Recorded, existing: &[Value]) -> (u16, Value) {
    match r.method.as_str() {
        "GET" => {
            let kind = if r.path.ends_with("/clusterpolicyreports") {
                "ClusterPolicyReport"
            } else {
                "PolicyReport"
            };
            let items: Vec<Value> = existing
                .iter()
                .filter(|o| o["kind"] == kind)
                .cloned()
                .collect();
            (
                200,
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                    "metadata": {"resourceVersion": "1"}, "items": items}),
            )
        }
        "DELETE" => (
            200,
            json!({"apiVersion": "v1", "kind": "Status", "status": "Success", "metadata": {}}),
        ),
        _ => (
            if r.method == "POST" { 201 } else { 200 },
            serde_json::from_str(&r.body).unwrap_or(Value::Null),
        ),
    }
}

fn state() -> WatchState {
    let catalog =
        posture::policy::Catalog::builtin_from_dir(&crate::common::repo().join("policies"))
            .unwrap();
    let evaluator = posture::engine::Evaluator::new(&catalog).unwrap();
    let pods = WatchedStream {
        api_version: "v1".into(),
        kind: "Pod".into(),
        type_name: "pods".into(),
        namespace: None,
    };
    WatchState::new(
        evaluator,
        "lab".into(),
        None,
        ServerVersion::default(),
        vec![pods],
    )
}

fn pod(namespace: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": format!("uid-{name}")},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
            "env": [{"name": "AWS_SECRET_ACCESS_KEY", "value": PLANTED}],
            "securityContext": {"privileged": true}}]}})
}

fn publisher(capture: &Capture, interval: Duration) -> Publisher {
    let options = PublishOptions {
        policy_reports: true,
        emit_events: true,
        report_interval: interval,
        instance: "posture-7d9f".into(),
        ..PublishOptions::default()
    };
    let errors = |message: &str| panic!("publishing failed: {message}");
    Publisher::new(capture.client(), options, Box::new(errors))
}

fn existing_report(namespace: &str) -> Value {
    json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
        "metadata": {"name": "posture", "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "posture"}}})
}

fn assert_no_value(requests: &[Recorded]) {
    for r in requests {
        assert!(
            !r.body.contains(PLANTED),
            "{} {} carries the value",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn reports_are_applied_server_side_only_when_changed_and_deleted_when_clean() {
    let capture = Capture::start(vec![existing_report("gone")]).await;
    let state = Mutex::new(state());
    let initial = state.lock().unwrap().apply(
        vec![
            Change::Relisting { stream: 0 },
            Change::Applied {
                stream: 0,
                object: pod("web", "loud"),
            },
            Change::Listed { stream: 0 },
        ],
        "2025-01-01T00:00:00Z",
    );
    let mut p = publisher(&capture, Duration::ZERO);
    p.adopt().await;
    {
        let s = state.lock().unwrap();
        p.notice(
            &Notice {
                events: initial,
                initial: true,
            },
            &s,
        );
    }
    assert!(p.sync_reports(&state).await);
    p.send_events().await;
    let requests = capture.take();
    assert_no_value(&requests);
    let shown: Vec<String> = requests
        .iter()
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    assert_eq!(
        shown,
        [
            "GET /apis/wgpolicyk8s.io/v1alpha2/policyreports?&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dposture",
            "GET /apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports?&labelSelector=app.kubernetes.io%2Fmanaged-by%3Dposture",
            "PATCH /apis/wgpolicyk8s.io/v1alpha2/namespaces/web/policyreports/posture?&force=true&fieldManager=posture",
            "DELETE /apis/wgpolicyk8s.io/v1alpha2/namespaces/gone/policyreports/posture?",
        ],
        "the first evaluation's findings make no Event"
    );
    let patch = &requests[2];
    assert_eq!(patch.content_type, "application/apply-patch+yaml");
    let mut body: Value = serde_json::from_str(&patch.body).unwrap();
    for result in body["results"].as_array_mut().unwrap() {
        result["timestamp"]["seconds"] = json!("[seconds]");
    }
    insta::assert_json_snapshot!("policy_report_of_a_privileged_pod", body);

    // Nothing changed: nothing is sent.
    assert!(p.sync_reports(&state).await);
    assert!(capture.take().is_empty());

    // A finding opened after the first evaluation: an Event on the Pod, and the report again.
    let opened = state.lock().unwrap().apply(
        vec![Change::Applied {
            stream: 0,
            object: pod("web", "louder"),
        }],
        "2025-01-01T00:00:01Z",
    );
    {
        let s = state.lock().unwrap();
        p.notice(
            &Notice {
                events: opened,
                initial: false,
            },
            &s,
        );
    }
    p.sync_reports(&state).await;
    p.send_events().await;
    let requests = capture.take();
    assert_no_value(&requests);
    let events: Vec<&Recorded> = requests.iter().filter(|r| r.method == "POST").collect();
    assert!(!events.is_empty());
    for e in &events {
        assert_eq!(e.path, "/apis/events.k8s.io/v1/namespaces/web/events");
        let body: Value = serde_json::from_str(&e.body).unwrap();
        assert_eq!(body["reason"], "PostureFindingOpened");
        assert_eq!(body["type"], "Warning");
        assert_eq!(body["reportingController"], "posture");
        assert_eq!(body["reportingInstance"], "posture-7d9f");
        assert_eq!(body["regarding"]["name"], "louder");
        assert_eq!(body["regarding"]["uid"], "uid-louder");
    }
    assert_eq!(
        requests.iter().filter(|r| r.method == "PATCH").count(),
        1,
        "one apply of web's report"
    );

    // Both pods gone: web's report is deleted, and resolved findings of gone objects make no
    // Event.
    let resolved = state.lock().unwrap().apply(
        vec![
            Change::Deleted {
                stream: 0,
                object: pod("web", "loud"),
            },
            Change::Deleted {
                stream: 0,
                object: pod("web", "louder"),
            },
        ],
        "2025-01-01T00:00:02Z",
    );
    {
        let s = state.lock().unwrap();
        p.notice(
            &Notice {
                events: resolved,
                initial: false,
            },
            &s,
        );
    }
    p.sync_reports(&state).await;
    p.send_events().await;
    let shown: Vec<String> = capture
        .take()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        shown,
        ["DELETE /apis/wgpolicyk8s.io/v1alpha2/namespaces/web/policyreports/posture"]
    );
}

#[tokio::test]
async fn a_burst_of_changes_makes_one_write_per_interval() {
    let capture = Capture::start(vec![]).await;
    let state = Mutex::new(state());
    state.lock().unwrap().apply(
        vec![
            Change::Relisting { stream: 0 },
            Change::Applied {
                stream: 0,
                object: pod("web", "p0"),
            },
            Change::Listed { stream: 0 },
        ],
        "t0",
    );
    let mut p = publisher(&capture, Duration::from_secs(3600));
    p.sync_reports(&state).await;
    for i in 1..5 {
        state.lock().unwrap().apply(
            vec![Change::Applied {
                stream: 0,
                object: pod("web", &format!("p{i}")),
            }],
            "t1",
        );
        p.sync_reports(&state).await;
    }
    let patches = capture
        .take()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches, 1);
    assert!(
        p.reports_deferred(),
        "the later changes wait for the interval"
    );
}

/// Before the first full list the state is empty: syncing then would delete every report.
#[tokio::test]
async fn nothing_is_written_before_the_watch_is_ready() {
    let capture = Capture::start(vec![existing_report("web")]).await;
    let state = Mutex::new(state());
    let mut p = publisher(&capture, Duration::ZERO);
    p.adopt().await;
    capture.take();
    assert!(!p.sync_reports(&state).await);
    assert!(capture.take().is_empty());
}

/// The loop the CLI runs: finds earlier reports, writes once the watch is ready and a batch
/// was evaluated, queues Events of later batches, and ends when told to stop.
#[tokio::test]
async fn the_publisher_loop_writes_after_a_notice_and_stops() {
    let capture = Capture::start(vec![]).await;
    let state = Arc::new(Mutex::new(state()));
    let options = PublishOptions {
        policy_reports: true,
        emit_events: true,
        report_interval: Duration::ZERO,
        tick: Duration::from_millis(20),
        ..PublishOptions::default()
    };
    let publisher = Publisher::new(
        capture.client(),
        options,
        Box::new(|message: &str| panic!("publishing failed: {message}")),
    );
    let (notify, notices) = tokio::sync::mpsc::channel(8);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(posture::watch::publish::run(
        publisher,
        Arc::clone(&state),
        notices,
        async move {
            let _ = stopped.await;
        },
    ));
    let initial = state.lock().unwrap().apply(
        vec![
            Change::Relisting { stream: 0 },
            Change::Listed { stream: 0 },
        ],
        "t0",
    );
    notify
        .send(Notice {
            events: initial,
            initial: true,
        })
        .await
        .unwrap();
    let opened = state.lock().unwrap().apply(
        vec![Change::Applied {
            stream: 0,
            object: pod("web", "loud"),
        }],
        "t1",
    );
    notify
        .send(Notice {
            events: opened,
            initial: false,
        })
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen.extend(capture.take());
        if seen.iter().any(|r| r.method == "PATCH") && seen.iter().any(|r| r.method == "POST") {
            break;
        }
    }
    assert_no_value(&seen);
    assert!(seen.iter().any(|r| r.method == "PATCH"
        && r.path == "/apis/wgpolicyk8s.io/v1alpha2/namespaces/web/policyreports/posture"));
    assert!(seen
        .iter()
        .any(|r| r.method == "POST" && r.path == "/apis/events.k8s.io/v1/namespaces/web/events"));
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the loop stops")
        .unwrap();
}
