//! `GET <collection>?watch=true`: a watch stream read from the store's log, as kube-apiserver
//! sends one: newline-delimited JSON events (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` when
//! `allowWatchBookmarks=true`, `ERROR` with a 410 Status for a resourceVersion too old), ending
//! after `timeoutSeconds`. A test can expire resourceVersions (the stream sends the 410 and
//! ends) or drop connections (the body fails mid-stream, so the client sees a broken
//! connection, not a clean end).

use super::store::{metadata_only, Logged, Store};
use bytes::Bytes;
use hyper::body::Frame;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What a watch request asked for.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub ty: usize,
    pub namespace: Option<String>,
    /// `resourceVersion`; `None` for "" and "0" (start with the current objects).
    pub from: Option<u64>,
    pub bookmarks: bool,
    pub timeout: Duration,
    /// `Accept` asked for `PartialObjectMetadata`.
    pub metadata_only: bool,
}

impl WatchRequest {
    /// Parses the query of a watch; `None` when it is not one (`watch` absent or false).
    pub fn parse(query: &str, ty: usize, namespace: Option<&str>, accept: &str) -> Option<Self> {
        let mut watch = false;
        let mut request = WatchRequest {
            ty,
            namespace: namespace.map(str::to_owned),
            from: None,
            bookmarks: false,
            // The apiserver's default upper bound (--min-request-timeout 1800s, randomised).
            timeout: Duration::from_secs(1800),
            metadata_only: accept.contains("as=PartialObjectMetadata"),
        };
        for (key, value) in form_pairs(query) {
            match key.as_str() {
                "watch" => watch = value == "true" || value == "1",
                "resourceVersion" => {
                    request.from = value.parse().ok().filter(|v| *v != 0);
                }
                "allowWatchBookmarks" => request.bookmarks = value == "true",
                "timeoutSeconds" => {
                    if let Ok(seconds) = value.parse() {
                        request.timeout = Duration::from_secs(seconds);
                    }
                }
                _ => {}
            }
        }
        watch.then_some(request)
    }
}

/// `key=value` pairs of a query, percent-decoded.
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub type WatchFrames = futures::stream::BoxStream<'static, Result<Frame<Bytes>, std::io::Error>>;

struct Streaming {
    store: Arc<Store>,
    request: WatchRequest,
    revision: u64,
    pending: VecDeque<Bytes>,
    /// Ends after `pending` is sent.
    ending: bool,
    deadline: Instant,
    next_bookmark: Instant,
    wake: tokio::sync::watch::Receiver<u64>,
    generations: (u64, u64),
}

/// The watch's body: events from the store until the timeout, a drop or an expiry.
pub fn stream(store: Arc<Store>, request: WatchRequest) -> WatchFrames {
    let now = Instant::now();
    let mut pending = VecDeque::new();
    let (revision, ending) = match request.from {
        // "Any" resourceVersion: the current objects as ADDED, then what follows.
        None => {
            let (items, revision) = store.list(request.ty, request.namespace.as_deref());
            for object in items {
                pending.push_back(line("ADDED", &shown(&object, &request)));
            }
            (revision, false)
        }
        Some(revision) => (revision, false),
    };
    let state = Streaming {
        wake: store.subscribe(),
        generations: store.generations(),
        deadline: now + request.timeout,
        next_bookmark: now + store.options.bookmark_interval,
        store,
        request,
        revision,
        pending,
        ending,
    };
    Box::pin(futures::stream::unfold(state, next_frame))
}

async fn next_frame(mut s: Streaming) -> Option<(Result<Frame<Bytes>, std::io::Error>, Streaming)> {
    loop {
        if let Some(bytes) = s.pending.pop_front() {
            return Some((Ok(Frame::data(bytes)), s));
        }
        if s.ending {
            return None;
        }
        let (dropped, expired) = s.store.generations();
        if dropped != s.generations.0 {
            // An error frame makes hyper abort the connection without the final chunk.
            let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped");
            s.ending = true;
            return Some((Err(cut), s));
        }
        if expired != s.generations.1 {
            s.pending.push_back(gone(s.revision));
            s.ending = true;
            continue;
        }
        if !catch_up(&mut s) {
            continue;
        }
        if !s.pending.is_empty() {
            continue;
        }
        let now = Instant::now();
        if now >= s.deadline {
            return None;
        }
        let bookmark_at = if s.request.bookmarks {
            s.next_bookmark
        } else {
            s.deadline
        };
        tokio::select! {
            _ = s.wake.changed() => {}
            _ = tokio::time::sleep_until(bookmark_at.min(s.deadline)) => {
                if s.request.bookmarks && Instant::now() >= s.next_bookmark {
                    s.next_bookmark = Instant::now() + s.store.options.bookmark_interval;
                    if catch_up(&mut s) && s.pending.is_empty() {
                        s.pending.push_back(bookmark(&s));
                    }
                }
            }
        }
    }
}

/// Queues the changes after the stream's revision; false (with the 410 queued) when the log no
/// longer reaches back to it.
fn catch_up(s: &mut Streaming) -> bool {
    match s
        .store
        .changes_after(s.request.ty, s.request.namespace.as_deref(), s.revision)
    {
        Ok((changes, revision)) => {
            for Logged { event, object, .. } in changes {
                s.pending
                    .push_back(line(event, &shown(&object, &s.request)));
            }
            s.revision = revision;
            true
        }
        Err(_) => {
            s.pending.push_back(gone(s.revision));
            s.ending = true;
            false
        }
    }
}

fn shown(object: &Value, request: &WatchRequest) -> Value {
    if request.metadata_only {
        metadata_only(object)
    } else {
        object.clone()
    }
}

fn line(event: &str, object: &Value) -> Bytes {
    let mut text = serde_json::to_vec(&json!({"type": event, "object": object}))
        .expect("a JSON value serializes");
    text.push(b'\n');
    Bytes::from(text)
}

fn bookmark(s: &Streaming) -> Bytes {
    let ty = &s.store.options.types[s.request.ty];
    let (api_version, kind) = if s.request.metadata_only {
        (
            "meta.k8s.io/v1".to_owned(),
            "PartialObjectMetadata".to_owned(),
        )
    } else {
        (ty.api_version(), ty.kind.clone())
    };
    line(
        "BOOKMARK",
        &json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"resourceVersion": s.revision.to_string()},
        }),
    )
}

/// The ERROR event kube-apiserver sends for a resourceVersion older than its watch cache keeps.
fn gone(revision: u64) -> Bytes {
    line(
        "ERROR",
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": format!("too old resource version: {revision}"),
            "reason": "Expired",
            "code": 410,
        }),
    )
}
