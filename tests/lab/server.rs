//! `LabServer`: the recorded cluster over plain HTTP/1.1 on 127.0.0.1, from
//! its own thread and tokio runtime so that sync and async tests alike can
//! point kube at it. Owns the transport (including a reply's delay and
//! byte-by-byte trickle), the request log and the kubeconfig; what to answer
//! is `api`'s business.

use super::api::{self, Lab, Reply};
use super::options::LabOptions;
use super::recording::Recording;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{
    HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query, "" if none.
    pub query: String,
    pub accept: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
}

/// A running lab API server; stops when dropped.
pub struct LabServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    kubeconfig: PathBuf,
    _kubeconfig_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// What the serving thread and the test share.
struct Shared {
    lab: Lab,
    requests: Mutex<Vec<RecordedRequest>>,
}

impl LabServer {
    /// Loads the recording and serves it on an ephemeral port of 127.0.0.1.
    pub fn start(options: LabOptions) -> LabServer {
        let mut recording = Recording::load(&options.lab_dir.join("api"));
        for custom in &options.custom {
            recording.add_custom(custom);
        }
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("127.0.0.1 has a free port");
        listener
            .set_nonblocking(true)
            .expect("a fresh listener can be made non-blocking for tokio");
        let address = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            lab: Lab::new(recording, options),
            requests: Mutex::default(),
        });
        let (shutdown, stop) = oneshot::channel();
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("lab-apiserver".to_string())
            .spawn(move || serve(listener, serving, stop))
            .expect("the lab server thread starts");
        let kubeconfig_dir = tempfile::tempdir().expect("a temporary directory for the kubeconfig");
        let kubeconfig = write_kubeconfig(kubeconfig_dir.path(), &format!("http://{address}"));
        LabServer {
            address,
            shared,
            kubeconfig,
            _kubeconfig_dir: kubeconfig_dir,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// A kubeconfig whose current context `lab-aks` reaches this server as
    /// user `lab-reader` with a bearer token.
    pub fn kubeconfig(&self) -> PathBuf {
        self.kubeconfig.clone()
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests().clone()
    }

    /// `api/counts.json`: items per resource key.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.shared.lab.recording.counts.clone()
    }
}

impl Drop for LabServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The thread is gone already if it panicked; join reports that below.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() && !std::thread::panicking() {
                panic!("the lab server thread panicked");
            }
        }
    }
}

/// The serving thread: a runtime of its own until shutdown; dropping it
/// closes every open connection.
fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, stop: oneshot::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the lab server's tokio runtime builds");
    runtime.block_on(accept_until(listener, shared, stop));
}

async fn accept_until(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("a non-blocking std listener converts");
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                // A failed accept (a client gone already) concerns only that client.
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(connection(stream, Arc::clone(&shared)));
                }
            }
        }
    }
}

/// What makes hyper close a connection under a request (`LabOptions::reset_first`).
#[derive(Debug)]
struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the lab closes this connection")
    }
}

impl std::error::Error for Reset {}

/// One keep-alive connection, answering requests until the client closes it.
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let service = service_fn(move |request| {
        let reply = shared.handle(&request);
        async move {
            // A client that gives up drops the connection, and this wait with it.
            tokio::time::sleep(reply.delay).await;
            if reply.reset {
                // hyper closes a connection whose service fails, without an answer.
                return Err(Reset);
            }
            Ok(response(reply))
        }
    });
    // A client that hangs up mid-request is not the server's failure.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

impl Shared {
    fn requests(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn handle(&self, request: &hyper::Request<Incoming>) -> Reply {
        let header = |name| {
            request
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let accept = header(ACCEPT);
        let request_parts = api::Request {
            method: request.method().as_str(),
            path: request.uri().path(),
            query: request.uri().query().unwrap_or_default(),
            accept: accept.unwrap_or_default(),
            has_bearer_token: header(AUTHORIZATION)
                .and_then(|value| value.strip_prefix("Bearer "))
                .is_some_and(|token| !token.trim().is_empty()),
        };
        let reply = api::answer(&self.lab, &request_parts);
        self.requests().push(RecordedRequest {
            method: request_parts.method.to_string(),
            path: request_parts.path.to_string(),
            query: request_parts.query.to_string(),
            accept: accept.map(str::to_string),
            status: reply.status,
        });
        reply
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn response(reply: Reply) -> hyper::Response<Body> {
    let mut builder = hyper::Response::builder()
        .status(reply.status)
        .header(CONTENT_TYPE, reply.content_type);
    if let Some(seconds) = reply.retry_after_secs {
        builder = builder.header(RETRY_AFTER, seconds);
    }
    if let Some(encoding) = reply.content_encoding {
        builder = builder.header(CONTENT_ENCODING, encoding);
    }
    let body = Bytes::from(reply.body);
    let body = match reply.trickle {
        Some(interval) => trickle(body, interval),
        None => Full::new(body).boxed(),
    };
    builder
        .body(body)
        .expect("a Status code and JSON headers make a valid response")
}

/// `body` one byte per `interval`; ends when the body does or when the client
/// hangs up (hyper stops polling a body it cannot send).
fn trickle(body: Bytes, interval: Duration) -> Body {
    let bytes = futures::stream::unfold(0, move |sent| {
        let body = body.clone();
        async move {
            if sent >= body.len() {
                return None;
            }
            tokio::time::sleep(interval).await;
            let frame = Frame::data(body.slice(sent..=sent));
            Some((Ok::<_, Infallible>(frame), sent + 1))
        }
    });
    StreamBody::new(bytes).boxed()
}

/// A kubeconfig with one cluster, user and context, like `az aks get-credentials` writes.
pub(super) fn write_kubeconfig(dir: &Path, server: &str) -> PathBuf {
    let kubeconfig = format!(
        "apiVersion: v1
kind: Config
clusters:
- name: lab-aks
  cluster:
    server: {server}
users:
- name: lab-reader
  user:
    token: lab-reader-token
contexts:
- name: lab-aks
  context:
    cluster: lab-aks
    user: lab-reader
current-context: lab-aks
"
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kubeconfig)
        .expect("the kubeconfig is written to a fresh temporary directory");
    path
}
