//! Connecting like kubectl: which kubeconfig, which context, which cluster name, its exec
//! credential plugin run under a time limit, and a client whose requests retry throttled or
//! failed attempts. How long a request may take and how large its answer may be is
//! [`super::request::Api`]'s business.

use super::exec;
use super::request::{Api, Endpoint};
use super::{ClusterError, Progress};
use http::{Request, Response, StatusCode};
use kube::client::{Body, ClientBuilder};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::Config;
use std::path::PathBuf;
use std::time::Duration;
use tower::retry::{Policy, RetryLayer};
use tower::BoxError;

/// Where to find the cluster, and the bounds of every request to it.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `--kubeconfig`; otherwise KUBECONFIG (several files merged), then ~/.kube/config, then the
    /// in-cluster service account.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; otherwise the kubeconfig's current context.
    pub context: Option<String>,
    /// Limit for one request from sending it to the last byte of its answer, retries and their
    /// waits included.
    pub request_timeout: Duration,
    /// Limit for an exec credential plugin to print its credential.
    pub exec_timeout: Duration,
    /// Largest answer read, counted after gzip decoding.
    pub max_response_bytes: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            kubeconfig: None,
            context: None,
            request_timeout: Duration::from_secs(30),
            exec_timeout: Duration::from_secs(60),
            // A page of 500 large objects (Pods with long specs, ConfigMaps of dashboards) is
            // tens of MiB; a server that ignores `limit` or a gzip bomb stops here.
            max_response_bytes: 128 << 20,
        }
    }
}

/// The names a cluster is reported under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterName {
    pub cluster: String,
    pub context: Option<String>,
}

/// Builds a client the way kubectl resolves its configuration, exec credential plugins included.
pub async fn connect(
    options: &ConnectOptions,
    progress: &dyn Progress,
) -> Result<(Api, ClusterName), ClusterError> {
    let (mut config, name) = config(options).await?;
    let endpoint = Endpoint {
        server: config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned(),
        context: name.context.clone(),
    };
    progress.phase(&format!("connecting to {}", endpoint.server));
    if let Some(plugin) = config.auth_info.exec.take() {
        let credential = exec::run(&plugin, options.exec_timeout)
            .await
            .map_err(|source| ClusterError::Credential {
                endpoint: endpoint.clone(),
                source,
            })?;
        credential.apply(&mut config.auth_info);
    }
    config.connect_timeout = Some(options.request_timeout);
    // No read timeout on connections: `Api` bounds each request as a whole, and a read timeout
    // also counts the time a pooled keep-alive connection sat idle.
    config.read_timeout = None;
    // Our own retry layer below retries every 5xx and caps waits; kube's default retries for up
    // to 15 attempts with waits up to 1,000 s, too long for a scan.
    config.default_retry = false;
    let builder = ClientBuilder::try_from(config).map_err(|source| ClusterError::Client {
        endpoint: endpoint.clone(),
        source,
    })?;
    let client = builder
        .with_layer(&tower::buffer::BufferLayer::new(1024))
        .with_layer(&RetryLayer::new(RetryPolicy::default()))
        .build();
    let api = Api::new(
        client,
        endpoint,
        options.request_timeout,
        options.max_response_bytes,
    );
    Ok((api, name))
}

/// The error for a machine with no kubeconfig at all (no KUBECONFIG, no `~/.kube/config`):
/// most likely someone who meant to scan files, so the message says how.
fn no_kubeconfig() -> Option<ClusterError> {
    if std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) {
        return None;
    }
    let default = std::path::PathBuf::from(std::env::var_os("HOME")?).join(".kube/config");
    (!default.exists()).then_some(ClusterError::NoKubeconfig(default))
}

/// The names of every context of the kubeconfig (`path`, else KUBECONFIG's files merged, else
/// `~/.kube/config`), in the file's order, for `--all-contexts`.
pub fn context_names(path: Option<&std::path::Path>) -> Result<Vec<String>, ClusterError> {
    let kubeconfig = match path {
        Some(path) => Kubeconfig::read_from(path).map_err(ClusterError::Kubeconfig)?,
        None => Kubeconfig::read()
            .map_err(|e| no_kubeconfig().unwrap_or(ClusterError::Kubeconfig(e)))?,
    };
    Ok(kubeconfig.contexts.into_iter().map(|c| c.name).collect())
}

async fn config(options: &ConnectOptions) -> Result<(Config, ClusterName), ClusterError> {
    let kubeconfig = match &options.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(ClusterError::Kubeconfig)?),
        None => match Kubeconfig::read() {
            Ok(kc) => Some(kc),
            // No kubeconfig at all: inside a cluster, use the pod's service account.
            Err(_) if options.context.is_none() && in_cluster() => None,
            Err(e) => return Err(no_kubeconfig().unwrap_or(ClusterError::Kubeconfig(e))),
        },
    };
    let Some(kubeconfig) = kubeconfig else {
        let config = Config::incluster().map_err(ClusterError::InCluster)?;
        let name = ClusterName {
            cluster: "in-cluster".to_owned(),
            context: None,
        };
        return Ok((config, name));
    };
    let context = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .ok_or(ClusterError::NoContext)?;
    let cluster = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone())
        .ok_or_else(|| ClusterError::UnknownContext(context.clone()))?;
    // kube reads `certificate-authority-data` before `certificate-authority`.
    let ca_field = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| {
            if c.certificate_authority_data.is_some() {
                Some("certificate-authority-data")
            } else {
                c.certificate_authority
                    .as_ref()
                    .map(|_| "certificate-authority")
            }
        });
    let bad_ca = |source| ClusterError::CertificateAuthority {
        cluster: cluster.clone(),
        field: ca_field.unwrap_or("certificate-authority-data"),
        source,
    };
    let kube_options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
        .await
        .map_err(|e| match e {
            KubeconfigError::LoadCertificateAuthority(_)
            | KubeconfigError::ParseCertificates(_) => bad_ca(Some(e)),
            e => ClusterError::Kubeconfig(e),
        })?;
    // Data that decodes but holds no PEM certificate leaves an empty trust store: every TLS
    // handshake would then fail with an unknown issuer, and nothing would say why.
    if config.root_cert.as_ref().is_some_and(Vec::is_empty) {
        return Err(bad_ca(None));
    }
    Ok((
        config,
        ClusterName {
            cluster,
            context: Some(context),
        },
    ))
}

fn in_cluster() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

/// Retries GETs answered 429 or 5xx (not 501), or whose connection closed under them, with
/// exponential backoff, or after the server's `Retry-After` when it gives one (capped, so a
/// scan never stalls for minutes). Each request's own deadline ([`super::request::Api`])
/// still bounds all its attempts.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    attempt: u32,
    max_retries: u32,
    base: Duration,
    max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempt: 0,
            max_retries: 4,
            base: Duration::from_millis(250),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    fn retryable(status: StatusCode) -> bool {
        status == StatusCode::TOO_MANY_REQUESTS
            || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
    }

    /// The wait before the next attempt: the server's `Retry-After` seconds, else
    /// 250 ms doubled per attempt.
    fn wait(&self, retry_after: Option<u64>) -> Duration {
        let backoff = self.base * 2u32.saturating_pow(self.attempt);
        retry_after
            .map(Duration::from_secs)
            .unwrap_or(backoff)
            .min(self.max_wait)
    }
}

/// Whether a request failed because its connection closed or was reset before the answer
/// came: a load balancer dropping an idle keep-alive connection (Azure's do after four
/// minutes), an API server restarting. client-go retries GETs on these too.
fn dropped(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    std::iter::successors(Some(error), |e| e.source()).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled())
            || e.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    ErrorKind::ConnectionReset
                        | ErrorKind::ConnectionAborted
                        | ErrorKind::BrokenPipe
                        | ErrorKind::UnexpectedEof
                )
            })
    })
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        if req.method() != http::Method::GET || self.attempt >= self.max_retries {
            return None;
        }
        let retry_after = match result {
            Ok(response) if Self::retryable(response.status()) => response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok()),
            Err(error) if dropped(error.as_ref()) => None,
            Ok(_) | Err(_) => return None,
        };
        let wait = self.wait(retry_after);
        self.attempt += 1;
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        let body = req.body().try_clone()?;
        let mut clone = Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone())
            .version(req.version())
            .body(body)
            .ok()?;
        *clone.headers_mut() = req.headers().clone();
        *clone.extensions_mut() = req.extensions().clone();
        Some(clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_wins_over_backoff_but_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait(None), Duration::from_millis(250));
        assert_eq!(p.wait(Some(2)), Duration::from_secs(2));
        assert_eq!(p.wait(Some(3600)), Duration::from_secs(30));
        assert!(RetryPolicy::retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(RetryPolicy::retryable(StatusCode::BAD_GATEWAY));
        assert!(!RetryPolicy::retryable(StatusCode::NOT_IMPLEMENTED));
        assert!(!RetryPolicy::retryable(StatusCode::FORBIDDEN));
    }

    fn response(status: u16, retry_after: Option<&str>) -> Result<Response<()>, BoxError> {
        let mut r = Response::builder().status(status);
        if let Some(v) = retry_after {
            r = r.header(http::header::RETRY_AFTER, v);
        }
        Ok(r.body(()).unwrap())
    }

    #[tokio::test]
    async fn throttled_gets_wait_for_retry_after_then_give_up() {
        let mut policy = RetryPolicy::default();
        let mut get = Request::get("/api/v1/pods").body(Body::empty()).unwrap();
        let start = tokio::time::Instant::now();
        let sleep = policy
            .retry(&mut get, &mut response(429, Some("2")))
            .expect("a 429 is retried");
        let waited = sleep.deadline() - start;
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
            "{waited:?}"
        );
        for _ in 1..4 {
            assert!(policy.retry(&mut get, &mut response(503, None)).is_some());
        }
        assert!(
            policy.retry(&mut get, &mut response(503, None)).is_none(),
            "four retries at most"
        );
        let mut fresh = RetryPolicy::default();
        assert!(fresh.retry(&mut get, &mut response(403, None)).is_none());
        let mut post = Request::post("/api/v1/pods").body(Body::empty()).unwrap();
        assert!(
            fresh.retry(&mut post, &mut response(503, None)).is_none(),
            "only GETs are retried"
        );
    }
}
