//! What a `LabServer` replays, and which of a real cluster's failures it
//! injects. Plain data; the behaviour lives in `api`.

use std::path::PathBuf;
use std::time::Duration;

/// How the lab API server behaves. `Default` is the recorded v1.28 cluster as
/// the read-only scanner identity saw it: Secrets forbidden, aggregated
/// discovery and metadata-only lists served, three kubelets unreachable.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The recording: `<lab_dir>/api/...`.
    pub lab_dir: PathBuf,
    /// Resource keys as in `counts.json` (`secrets`, `deployments.apps`) whose
    /// lists answer 403 Forbidden.
    pub forbidden: Vec<String>,
    /// Serve `apidiscovery.k8s.io/v2beta1` at `/api` and `/apis` when asked
    /// (as 1.28 does; v2 came in 1.30). `false` is a server before 1.26.
    pub aggregated_discovery: bool,
    /// Honour `Accept: ...;as=PartialObjectMetadataList`. `false` is a server
    /// or proxy that ignores it and sends full objects.
    pub metadata_lists: bool,
    /// Largest page the server sends, whatever `limit` the client asks for
    /// (also without one).
    pub max_page: Option<usize>,
    /// The first request that carries a valid `continue` token answers
    /// 410 Expired, as after an etcd compaction.
    pub expire_continue_once: bool,
    /// The first N list requests answer 429 Too Many Requests.
    pub throttle_first: usize,
    /// The `Retry-After` header (seconds) of those 429s.
    pub retry_after_secs: u64,
    /// The first N list requests get no answer: the connection closes under them, as when a
    /// load balancer drops an idle keep-alive connection.
    pub reset_first: usize,
    /// Node proxy `configz` answers the recorded 400 for every node except
    /// `lab-kubelet-0`, the one kubelet that ran. `false` serves its
    /// configuration for every node.
    pub unreachable_kubelets: bool,
    /// Misbehaviour of one target: a resource key as in `counts.json`
    /// (`deployments.apps`) for every list of that type, or an exact path
    /// (`/version`, `/apis`) for other requests. The first match applies.
    pub faults: Vec<(String, Fault)>,
    /// Types the recorded cluster did not have (a CRD such as Cilium's), served in discovery
    /// and listed with these objects, as if their CRDs were installed.
    pub custom: Vec<CustomResource>,
}

/// A custom resource type and its objects, added to the recording.
#[derive(Debug, Clone)]
pub struct CustomResource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    /// Full objects; `apiVersion` and `kind` are dropped as in a List's items.
    pub items: Vec<serde_json::Value>,
}

/// A way a real API server, proxy or load balancer fails that no recorded
/// answer shows. Each is bounded: nothing outlives the `LabServer`.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers (headers and all) only after this long.
    Delay(Duration),
    /// Accepts the request and never answers, until the client gives up or
    /// the server stops (and at most `HANG_LIMIT`).
    Hang,
    /// Sends the headers at once, then the body one byte per interval.
    Trickle(Duration),
    /// Closes the connection under every request, without an answer.
    Reset,
    /// Every page carries a continue token, so the list never ends.
    EndlessContinue,
    /// Ignores `limit` and answers this many synthetic objects in one page.
    Items(usize),
    /// A gzip-encoded List (whatever the client accepts) that inflates to
    /// this many bytes, mostly spaces.
    GzipBomb(usize),
    /// Answers this status, content type and body instead.
    Error {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
}

/// `shared/` beside the repository (`$POSTURE_SHARED_DIR` when set): the lab recording, the
/// corpus and the benchmark references. A fresh clone has none of it.
pub fn shared_root() -> PathBuf {
    match std::env::var_os("POSTURE_SHARED_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// Whether the lab recording is there. When it is not, a test that needs it returns early:
/// it fails under CI=true (CI must run every test) and elsewhere says why it skipped.
pub fn recorded() -> bool {
    let dir = shared_root().join("lab/api");
    if dir.is_dir() {
        return true;
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "CI=true but the lab recording {} is missing",
        dir.display()
    );
    eprintln!(
        "skipping: the lab recording {} is not there (clone the project beside its shared/ \
         directory, or set POSTURE_SHARED_DIR)",
        dir.display()
    );
    false
}

/// The longest a `Fault::Hang` holds a request.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

impl LabOptions {
    /// The recording served with every list answered, Secrets included (by default their
    /// list answers 403).
    pub fn every_list_allowed() -> LabOptions {
        LabOptions {
            forbidden: Vec::new(),
            ..LabOptions::default()
        }
    }
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            lab_dir: shared_root().join("lab"),
            forbidden: vec!["secrets".to_string()],
            aggregated_discovery: true,
            metadata_lists: true,
            max_page: None,
            expire_continue_once: false,
            throttle_first: 0,
            retry_after_secs: 0,
            reset_first: 0,
            unreachable_kubelets: true,
            faults: Vec::new(),
            custom: Vec::new(),
        }
    }
}
