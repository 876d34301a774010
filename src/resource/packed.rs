//! An object kept as JSON text while nothing reads it. A large scan holds its reduced objects
//! (`scan::stream::reduce`) from their first reading to its end; as `serde_json` values (with
//! `preserve_order`, about 400 B for a map of two entries) they take some twelve times the
//! memory of their text: measured on `examples/gen_manifests.rs`'s mix, 3.2 KB an object
//! against 255 B, and 4.7 KB against 354 B for a reduced Deployment.

use serde_json::Value;

/// JSON text of a value that holds no floating-point number, so that unpacking gives it back
/// exactly (serde_json's default float parsing may be off in the last digit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed(Box<str>);

impl Packed {
    /// `value` as text; `None` when it holds a floating-point number.
    pub fn of(value: &Value) -> Option<Packed> {
        if has_float(value) {
            return None;
        }
        // Writing a `Value` to a string fails for no input.
        let text = serde_json::to_string(value).ok()?;
        Some(Packed(text.into_boxed_str()))
    }

    /// The value packed, as parsed: for reading it a moment.
    pub fn read(&self) -> Value {
        serde_json::from_str(&self.0)
            .unwrap_or_else(|e| unreachable!("the text `Packed::of` writes parses: {e}"))
    }
}

fn has_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(has_float),
        Value::Object(map) => map.values().any(has_float),
        Value::Null | Value::Bool(_) | Value::String(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_packed_value_reads_as_itself_in_its_order() {
        let value = json!({
            "z": {"b": [1, -2, {"c": null}], "a": true},
            "a": "text with \"quotes\", \\ and \u{e9}",
            "m": u64::MAX,
        });
        let packed = Packed::of(&value).expect("no float");
        let back = packed.read();
        assert_eq!(back, value);
        let keys: Vec<&String> = back.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a", "m"], "the keys keep their order");
    }

    #[test]
    fn a_value_with_a_float_is_not_packed() {
        assert!(Packed::of(&json!({"a": [{"b": 0.1}]})).is_none());
        assert!(Packed::of(&json!({"a": [{"b": 1}]})).is_some());
    }
}
