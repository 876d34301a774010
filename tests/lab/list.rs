//! Answering a List as kube-apiserver's generic registry does: namespace and
//! selector filtering, `limit`/`continue` paging over one resourceVersion, and
//! the metadata-only view. Pure functions over recorded items; no HTTP.

use serde_json::{json, Value};

/// The query parameters of a List request that change its answer.
#[derive(Debug, Default)]
pub struct ListQuery {
    pub limit: Option<usize>,
    pub continue_token: Option<ContinueToken>,
    labels: Vec<Requirement>,
    fields: Vec<Requirement>,
}

#[derive(Debug, PartialEq)]
pub enum ListError {
    /// A `continue` token this server did not issue.
    BadContinue,
    /// A selector the apiserver would reject, with its message.
    BadSelector(String),
}

impl ListQuery {
    pub fn parse(query: &str) -> Result<ListQuery, ListError> {
        let mut parsed = ListQuery::default();
        for (name, value) in query_pairs(query) {
            match name.as_str() {
                // `limit=0` means no limit, as on the apiserver.
                "limit" => parsed.limit = value.parse().ok().filter(|&limit| limit > 0),
                "continue" if !value.is_empty() => {
                    let token = ContinueToken::decode(&value).ok_or(ListError::BadContinue)?;
                    parsed.continue_token = Some(token);
                }
                "labelSelector" => parsed.labels = parse_selector(&value, Requirement::label)?,
                "fieldSelector" => parsed.fields = parse_selector(&value, Requirement::field)?,
                _ => {}
            }
        }
        Ok(parsed)
    }

    /// With a selector the apiserver cannot know how many items remain.
    fn selects_all(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    fn matches(&self, item: &Value) -> bool {
        let labels = &item["metadata"]["labels"];
        self.labels
            .iter()
            .all(|r| r.matches(labels[&r.key].as_str()))
            && self
                .fields
                .iter()
                .all(|r| r.matches(Some(field(item, &r.key))))
    }
}

/// A field selector's value: a missing field reads as "".
fn field<'a>(item: &'a Value, path: &str) -> &'a str {
    let pointer = format!("/{}", path.replace('.', "/"));
    item.pointer(&pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Decoded `name=value` pairs of a URL query.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name), percent_decode(value))
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                decoded.push(byte);
                i += 3;
                continue;
            }
            (None, b'+') => decoded.push(b' '),
            (None, byte) => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[derive(Debug, PartialEq)]
enum Operator {
    Equals(String),
    NotEquals(String),
    Exists,
    NotExists,
}

/// One comma-separated term of a label or field selector.
#[derive(Debug, PartialEq)]
struct Requirement {
    key: String,
    operator: Operator,
}

/// The fields the lab filters on: the apiserver's generic ones and the
/// Pod field a node-scoped collector uses.
const SELECTABLE_FIELDS: [&str; 3] = ["metadata.name", "metadata.namespace", "spec.nodeName"];

impl Requirement {
    /// `k=v`, `k==v`, `k!=v`, `k`, `!k`; set-based terms are not served.
    fn label(term: &str) -> Result<Requirement, ListError> {
        let requirement = match equality(term) {
            Some(requirement) => requirement,
            None => match term.strip_prefix('!') {
                Some(key) => Requirement {
                    key: key.trim().to_string(),
                    operator: Operator::NotExists,
                },
                None => Requirement {
                    key: term.to_string(),
                    operator: Operator::Exists,
                },
            },
        };
        let valid =
            !requirement.key.is_empty() && !requirement.key.contains([' ', '(', ')', '!', '=']);
        valid
            .then_some(requirement)
            .ok_or_else(|| ListError::BadSelector(format!("unable to parse requirement: {term}")))
    }

    /// `field=v`, `field==v`, `field!=v` on a selectable field.
    fn field(term: &str) -> Result<Requirement, ListError> {
        let requirement = equality(term)
            .ok_or_else(|| ListError::BadSelector(format!("invalid selector: '{term}'")))?;
        if !SELECTABLE_FIELDS.contains(&requirement.key.as_str()) {
            let message = format!("field label not supported: {}", requirement.key);
            return Err(ListError::BadSelector(message));
        }
        Ok(requirement)
    }

    fn matches(&self, value: Option<&str>) -> bool {
        match &self.operator {
            Operator::Equals(wanted) => value == Some(wanted.as_str()),
            Operator::NotEquals(unwanted) => value != Some(unwanted.as_str()),
            Operator::Exists => value.is_some(),
            Operator::NotExists => value.is_none(),
        }
    }
}

fn equality(term: &str) -> Option<Requirement> {
    let (key, operator) = if let Some((key, value)) = term.split_once("!=") {
        (key, Operator::NotEquals(value.trim().to_string()))
    } else {
        let (key, value) = term.split_once("==").or_else(|| term.split_once('='))?;
        (key, Operator::Equals(value.trim().to_string()))
    };
    Some(Requirement {
        key: key.trim().to_string(),
        operator,
    })
}

fn parse_selector(
    selector: &str,
    term: fn(&str) -> Result<Requirement, ListError>,
) -> Result<Vec<Requirement>, ListError> {
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(term)
        .collect()
}

/// Where the next page starts, bound to the resourceVersion of the first.
/// Opaque to clients: hex of a small JSON object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinueToken {
    resource_version: i64,
    offset: usize,
}

impl ContinueToken {
    /// The apiserver's marker for "continue at the newest resourceVersion",
    /// handed out with a 410 so a client may finish an inconsistent list.
    const ANY_RESOURCE_VERSION: i64 = -1;

    /// A token for `offset` in the snapshot at `resource_version`.
    pub fn new(resource_version: u64, offset: usize) -> ContinueToken {
        ContinueToken {
            resource_version: i64::try_from(resource_version).unwrap_or(i64::MAX),
            offset,
        }
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the server can still serve this token's snapshot.
    pub fn is_current(&self, resource_version: u64) -> bool {
        self.resource_version == Self::ANY_RESOURCE_VERSION
            || u64::try_from(self.resource_version) == Ok(resource_version)
    }

    /// The same position without the snapshot, for a 410's `metadata.continue`.
    pub fn inconsistent(self) -> ContinueToken {
        ContinueToken {
            resource_version: Self::ANY_RESOURCE_VERSION,
            ..self
        }
    }

    pub fn encode(&self) -> String {
        let json = json!({"rv": self.resource_version, "offset": self.offset}).to_string();
        json.bytes().map(|byte| format!("{byte:02x}")).collect()
    }

    fn decode(token: &str) -> Option<ContinueToken> {
        if !token.is_ascii() || !token.len().is_multiple_of(2) {
            return None;
        }
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let fields: Value = serde_json::from_slice(&bytes).ok()?;
        Some(ContinueToken {
            resource_version: fields["rv"].as_i64()?,
            offset: usize::try_from(fields["offset"].as_u64()?).ok()?,
        })
    }
}

/// The items of `items` in `namespace` (all if `None`) that `query` selects.
pub fn select<'a>(
    items: &'a [Value],
    namespace: Option<&str>,
    query: &ListQuery,
) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|item| namespace.is_none_or(|namespace| item["metadata"]["namespace"] == namespace))
        .filter(|item| query.matches(item))
        .collect()
}

/// One page of a List, and how to ask for the rest.
pub struct Page<'a> {
    items: &'a [&'a Value],
    resource_version: u64,
    continue_token: Option<ContinueToken>,
    remaining: Option<usize>,
}

impl<'a> Page<'a> {
    /// Up to `limit` of `selected` from `start`.
    pub fn cut(
        selected: &'a [&'a Value],
        start: usize,
        limit: Option<usize>,
        resource_version: u64,
        query: &ListQuery,
    ) -> Page<'a> {
        let start = start.min(selected.len());
        let end = limit.map_or(selected.len(), |limit| {
            start.saturating_add(limit).min(selected.len())
        });
        let more = end < selected.len();
        let continue_token = more.then(|| ContinueToken {
            resource_version: i64::try_from(resource_version).unwrap_or(i64::MAX),
            offset: end,
        });
        Page {
            items: &selected[start..end],
            resource_version,
            continue_token,
            remaining: (more && query.selects_all()).then(|| selected.len() - end),
        }
    }

    /// The typed List, e.g. `DeploymentList` in `apps/v1`.
    pub fn to_list(&self, kind: &str, api_version: &str) -> Value {
        json!({
            "kind": format!("{kind}List"),
            "apiVersion": api_version,
            "metadata": self.list_metadata(),
            "items": self.items,
        })
    }

    /// The `meta.k8s.io/v1` PartialObjectMetadataList: metadata only.
    pub fn to_metadata_list(&self) -> Value {
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| {
                json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": item["metadata"],
                })
            })
            .collect();
        json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": self.list_metadata(),
            "items": items,
        })
    }

    fn list_metadata(&self) -> Value {
        let mut metadata = json!({"resourceVersion": self.resource_version.to_string()});
        if let Some(token) = self.continue_token {
            metadata["continue"] = json!(token.encode());
        }
        if let Some(remaining) = self.remaining {
            metadata["remainingItemCount"] = json!(remaining);
        }
        metadata
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn continue_tokens_round_trip_and_reject_foreign_ones() {
        let token = super::ContinueToken {
            resource_version: 1321,
            offset: 3,
        };
        assert_eq!(super::ContinueToken::decode(&token.encode()), Some(token));
        assert_eq!(super::ContinueToken::decode("not-a-token"), None);
        // A real apiserver's token is base64, not ours.
        assert_eq!(
            super::ContinueToken::decode("eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"),
            None
        );
    }

    #[test]
    fn selectors_decode_and_parse() {
        let query = super::ListQuery::parse(
            "labelSelector=app%3Dratings-api%2Ctier%21%3Dweb%2C%21gone&limit=3",
        )
        .expect("the selector parses");
        assert_eq!(query.limit, Some(3));
        let pod = serde_json::json!({"metadata": {"labels": {"app": "ratings-api"}}});
        assert!(query.matches(&pod));
        let other =
            serde_json::json!({"metadata": {"labels": {"app": "ratings-api", "gone": "x"}}});
        assert!(!query.matches(&other));
    }

    #[test]
    fn unsupported_selectors_are_bad_requests() {
        let set_based = super::ListQuery::parse("labelSelector=app+in+(a,b)");
        assert!(matches!(set_based, Err(super::ListError::BadSelector(_))));
        let unknown_field = super::ListQuery::parse("fieldSelector=status.phase%3DRunning");
        let message = "field label not supported: status.phase".to_string();
        assert_eq!(
            unknown_field.err(),
            Some(super::ListError::BadSelector(message))
        );
    }
}
