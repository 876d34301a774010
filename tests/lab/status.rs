//! The `Status` bodies kube-apiserver answers errors with, worded as v1.28
//! words them. The body's `code` is the HTTP status it is sent with.

use serde_json::{json, Value};

/// The apiserver's message for a `continue` token older than the last etcd
/// compaction (k8s.io/apiserver storage/etcd3 `continueExpired`).
const CONTINUE_EXPIRED: &str = "The provided continuation parameter is too old to display a \
consistent list result. You can start a new list without the continue parameter, or use the \
continue token in this response to retrieve the remainder of the results. Continuing with the \
provided token results in an inconsistent list - objects that were created, modified, or \
deleted between the time the first chunk was returned and now may show up in the list.";

/// The identity the recording's 403 names: the scanner's read-only user.
const RECORDED_USER: &str = "posture-reader";

fn failure(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

/// A URL no handler serves.
pub fn not_found() -> Value {
    failure(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// A named object that does not exist, e.g. `nodes "x" not found`.
pub fn object_not_found(plural: &str, name: &str) -> Value {
    let mut status = failure(404, "NotFound", &format!("{plural} \"{name}\" not found"));
    status["details"] = json!({"name": name, "kind": plural});
    status
}

/// RBAC denying `list`, adapted from the recorded 403 for Secrets.
pub fn forbidden(
    recorded: &Value,
    key: &str,
    group: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Value {
    let scope = match namespace {
        Some(namespace) => format!("in the namespace \"{namespace}\""),
        None => "at the cluster scope".to_string(),
    };
    let mut status = recorded.clone();
    status["message"] = json!(format!(
        "{key} is forbidden: User \"{RECORDED_USER}\" cannot list resource \"{plural}\" in API group \"{group}\" {scope}"
    ));
    status["details"] = if group.is_empty() {
        json!({"kind": plural})
    } else {
        json!({"group": group, "kind": plural})
    };
    status
}

/// API Priority and Fairness rejecting a request.
pub fn too_many_requests(retry_after_secs: u64) -> Value {
    let mut status = failure(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
    );
    status["details"] = json!({"retryAfterSeconds": retry_after_secs});
    status
}

/// 410 Gone for a compacted `continue`; `resume` continues inconsistently.
pub fn continue_expired(resume: &str) -> Value {
    let mut status = failure(410, "Expired", CONTINUE_EXPIRED);
    status["metadata"] = json!({"continue": resume});
    status
}

pub fn bad_request(message: &str) -> Value {
    failure(400, "BadRequest", message)
}

/// No bearer token: the recorded cluster allowed no anonymous requests.
pub fn unauthorized() -> Value {
    failure(401, "Unauthorized", "Unauthorized")
}

/// Anything but GET: the lab is read-only.
pub fn method_not_allowed() -> Value {
    failure(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    )
}
