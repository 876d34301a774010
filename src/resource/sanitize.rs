//! Removes values that must never be stored or reported, before an object becomes a Resource.
//!
//! Secret values are dropped (their keys stay, since rules may ask which keys exist), and the
//! `last-applied-configuration` annotation is removed from every object because `kubectl apply`
//! copies whole objects, Secrets included, into it.

use serde_json::Value;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Placeholder for a dropped Secret value; says what happened without hinting at the value.
pub const REDACTED: &str = "(redacted)";

pub fn sanitize(object: &mut Value) {
    if let Some(annotations) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(LAST_APPLIED);
    }
    let is_secret = object.get("kind").and_then(Value::as_str) == Some("Secret")
        && object
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| v == "v1");
    if is_secret {
        for field in ["data", "stringData"] {
            match object.get_mut(field) {
                Some(Value::Object(map)) => {
                    // An empty value holds nothing, and rules tell a Secret whose values are
                    // left to deploy time from one that carries them.
                    for value in map.values_mut() {
                        if !is_empty(value) {
                            *value = Value::String(REDACTED.to_owned());
                        }
                    }
                }
                Some(other) => *other = Value::Null,
                None => {}
            }
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_values_and_last_applied_are_dropped() {
        let mut o = json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED: "{\"data\":{\"p\":\"aHVudGVyMg==\"}}", "keep": "x"}},
            "data": {"p": "aHVudGVyMg=="}, "stringData": {"q": "hunter2"}
        });
        sanitize(&mut o);
        let text = o.to_string();
        assert!(!text.contains("aHVudGVyMg=="));
        assert!(!text.contains("hunter2"));
        assert_eq!(o["data"]["p"], REDACTED);
        assert_eq!(o["metadata"]["annotations"]["keep"], "x");
    }

    #[test]
    fn empty_secret_values_stay_empty() {
        let mut o = json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "", "b": null, "c": "aHVudGVyMg=="}, "stringData": {"d": ""}
        });
        sanitize(&mut o);
        assert_eq!(o["data"], json!({"a": "", "b": null, "c": REDACTED}));
        assert_eq!(o["stringData"], json!({"d": ""}));
    }
}
