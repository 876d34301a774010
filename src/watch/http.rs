//! `posture watch --listen`: `/metrics`, `/healthz`, `/readyz` and `/findings` on a small hyper
//! server. hyper is already in the tree through kube's client, so serving four fixed paths needs
//! no framework (axum would add a router, tower-http and their versions to keep in step).
//! `/findings` is rendered by the function the caller passes: reporters live in `report/`,
//! which nothing outside it imports.

use super::metrics::Metrics;
use super::WatchState;
use crate::scan::ScanReport;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Renders a report as `scan --format json` does.
pub type RenderReport = dyn Fn(&ScanReport) -> Vec<u8> + Send + Sync;

/// What the endpoints read.
pub struct Shared {
    pub state: Arc<Mutex<WatchState>>,
    pub metrics: Metrics,
    pub render: Box<RenderReport>,
}

/// Serves until `shutdown` completes; connections in flight are left to finish on their own.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A connection that failed before it was accepted concerns no one else.
                Err(_) => continue,
            },
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, std::convert::Infallible>(answer(&shared, &request)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(shared: &Shared, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("a response of a status, one header and a body is valid")
    };
    const TEXT: &str = "text/plain; charset=utf-8";
    if request.method() != http::Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, TEXT, b"GET only\n".to_vec());
    }
    // A poisoned lock means the evaluation thread panicked: nothing it holds can be trusted.
    let Ok(mut state) = shared.state.lock() else {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            TEXT,
            b"failed\n".to_vec(),
        );
    };
    match request.uri().path() {
        "/healthz" => reply(StatusCode::OK, TEXT, b"ok\n".to_vec()),
        "/readyz" if state.ready() => reply(StatusCode::OK, TEXT, b"ready\n".to_vec()),
        "/readyz" => reply(StatusCode::SERVICE_UNAVAILABLE, TEXT, b"listing\n".to_vec()),
        "/metrics" => {
            shared.metrics.update(&mut state);
            reply(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                shared.metrics.encode().into_bytes(),
            )
        }
        "/findings" => {
            let now = jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now());
            let report = state.report(&now.to_string());
            drop(state);
            reply(StatusCode::OK, "application/json", (shared.render)(&report))
        }
        _ => reply(StatusCode::NOT_FOUND, TEXT, b"not found\n".to_vec()),
    }
}
