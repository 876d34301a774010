//! A recorded Kubernetes v1.28 API server (`shared/lab`, see its README)
//! replayed on 127.0.0.1, so tests run the live-cluster collector and the
//! real kube client against it without a cluster. GETs only. Not a mock: it
//! answers what the recorded apiserver answered, errors included, plus the
//! failures a test asks for through `LabOptions`, including the faults of
//! `Fault` (slow, endless, oversized and malformed answers).
//!
//! Beside it, `StoreServer` serves a mutable object store (no recording needed) with watch
//! streams, for `posture watch`'s tests (`store`, `watch_stream`, `store_server`).

mod api;
// benches/cluster.rs compiles this module too, with `cfg(test)` but no test
// harness: the `#[test]` functions vanish there and leave their imports unused.
#[allow(unused_imports)]
mod kube_client;
mod list;
mod options;
mod recording;
mod server;
mod status;
mod store;
mod store_server;
mod watch_stream;

// benches/cluster.rs injects no faults.
pub use options::LabOptions;
#[allow(unused_imports)]
pub use options::{recorded, shared_root};
#[allow(unused_imports)]
pub use options::{CustomResource, Fault};
pub use server::{LabServer, RecordedRequest};
#[allow(unused_imports)]
pub use store::{default_types, StoreOptions, StoreType};
#[allow(unused_imports)]
pub use store_server::{ApiRequest, StoreServer};
