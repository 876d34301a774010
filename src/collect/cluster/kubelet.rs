//! Each node's live kubelet configuration, read through the API server's node proxy
//! (`/api/v1/nodes/{node}/proxy/configz`), so no privileged pod is needed.

use super::request::Api;
use crate::snapshot::KubeletConfig;
use serde_json::Value;

/// Reads one node's configuration; a kubelet that cannot be reached (managed nodes often refuse
/// the proxy) gives the reason instead.
pub async fn configz(api: &Api, node: &str) -> KubeletConfig {
    let path = format!(
        "/api/v1/nodes/{}/proxy/configz",
        crate::resource::uri_component(node)
    );
    let request = match http::Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
    {
        Ok(r) => r,
        Err(e) => {
            return KubeletConfig::NotCollected {
                reason: e.to_string(),
            }
        }
    };
    match api.get::<Value>(request).await {
        Ok(mut body) => match body.get_mut("kubeletconfig").map(Value::take) {
            Some(config @ Value::Object(_)) => KubeletConfig::Collected {
                source: "configz".to_owned(),
                config,
            },
            _ => KubeletConfig::NotCollected {
                reason: "the kubelet's /configz answer has no kubeletconfig object".to_owned(),
            },
        },
        Err(e) => KubeletConfig::NotCollected { reason: e.reason() },
    }
}
