//! One GET against the API server, bounded: a deadline over the whole exchange (connecting,
//! retries and their waits, the headers and every byte of the body), a cap on the body once
//! gzip is decoded, and failures as [`RequestError`]s whose [`reason`](RequestError::reason) is
//! one short line. Every request of a collection goes through [`Api::get`].
//!
//! A connection's read timeout is not used: it also counts the time a pooled keep-alive
//! connection sat idle, so a request sent on it after another list was slow failed early.

use http::StatusCode;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// How much of an error answer is read to explain it: a Status is a few hundred bytes; an HTML
/// error page is cut here, and the rest is never read.
const ERROR_BODY_BYTES: usize = 64 * 1024;

/// Longest text taken from an answer (a Status message, a body snippet) into a reason.
const SNIPPET_CHARS: usize = 200;

/// Longest reason, transport error chains included.
const REASON_CHARS: usize = 400;

/// Which API server, through which context: what a message about the cluster names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The server URL as the kubeconfig gives it, without a trailing `/`.
    pub server: String,
    /// `None` for the in-cluster service account.
    pub context: Option<String>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.context {
            Some(context) => write!(f, "the API server {} of context '{context}'", self.server),
            None => write!(
                f,
                "the API server {} (in-cluster service account)",
                self.server
            ),
        }
    }
}

/// A client with the bounds every request keeps.
pub struct Api {
    client: kube::Client,
    pub endpoint: Endpoint,
    timeout: Duration,
    max_response_bytes: u64,
}

/// Why one request gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no complete answer within {} (raise --request-timeout)", duration_text(*.0))]
    TimedOut(Duration),
    #[error("the answer is larger than {} once decoded (raise --max-response-bytes)", size_text(*.0))]
    TooLarge(u64),
    #[error("{0}")]
    Status(ApiStatus),
    #[error(transparent)]
    Transport(kube::Error),
    #[error("the answer is not the JSON expected")]
    Decode(#[source] serde_json::Error),
}

impl RequestError {
    /// One line of at most a few hundred characters, for a `not_collected` entry.
    pub fn reason(&self) -> String {
        one_line(&crate::problem::error_chain(self), REASON_CHARS)
    }

    /// Whether the server answered (with an error) rather than not at all.
    pub fn answered(&self) -> bool {
        matches!(
            self,
            RequestError::Status(_) | RequestError::TooLarge(_) | RequestError::Decode(_)
        )
    }
}

/// An error answer: its status code, the Status's reason (`Forbidden`) or the code's canonical
/// text (`Bad Gateway`), and the Status's message or the start of whatever else the body held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiStatus {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

impl fmt::Display for ApiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.reason.is_empty() {
            write!(f, " {}", self.reason)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl ApiStatus {
    /// Reads a `metav1.Status` when the body is one; a proxy's HTML page or any other body
    /// gives the HTTP status and a snippet of its text instead.
    fn from_body(status: StatusCode, body: &[u8]) -> ApiStatus {
        let canonical = status.canonical_reason().unwrap_or_default().to_owned();
        if let Ok(value) = serde_json::from_slice::<Value>(body) {
            if value["kind"] == "Status" {
                let code = value["code"]
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .filter(|c| *c != 0)
                    .unwrap_or(status.as_u16());
                let reason = value["reason"].as_str().unwrap_or_default();
                return ApiStatus {
                    code,
                    reason: one_line(reason, SNIPPET_CHARS),
                    message: one_line(value["message"].as_str().unwrap_or_default(), SNIPPET_CHARS),
                };
            }
        }
        let text = String::from_utf8_lossy(body);
        let text = if text.trim_start().starts_with('<') {
            html_text(&text)
        } else {
            text.into_owned()
        };
        ApiStatus {
            code: status.as_u16(),
            reason: canonical,
            message: one_line(&text, SNIPPET_CHARS),
        }
    }
}

impl Api {
    pub fn new(
        client: kube::Client,
        endpoint: Endpoint,
        timeout: Duration,
        max_response_bytes: u64,
    ) -> Api {
        Api {
            client,
            endpoint,
            timeout,
            max_response_bytes,
        }
    }

    /// The client under the bounds, for long-running watches that [`Api::get`]'s deadline
    /// would cut (they are bounded by the server's `timeoutSeconds` instead).
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// Sends `request` and decodes its JSON answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<T, RequestError> {
        let body = tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .unwrap_or(Err(RequestError::TimedOut(self.timeout)))?;
        serde_json::from_slice(&body).map_err(RequestError::Decode)
    }

    async fn exchange(&self, request: http::Request<Vec<u8>>) -> Result<Vec<u8>, RequestError> {
        let response = self
            .client
            .send(request.map(kube::client::Body::from))
            .await
            .map_err(RequestError::Transport)?;
        let status = response.status();
        let mut body = response.into_body();
        if status.is_success() {
            let limit = usize::try_from(self.max_response_bytes).unwrap_or(usize::MAX);
            let (bytes, complete) = read(&mut body, limit).await?;
            if complete {
                Ok(bytes)
            } else {
                Err(RequestError::TooLarge(self.max_response_bytes))
            }
        } else {
            // Only the start explains the error; the rest is left unread.
            let (bytes, _) = read(&mut body, ERROR_BODY_BYTES).await?;
            Err(RequestError::Status(ApiStatus::from_body(status, &bytes)))
        }
    }
}

/// Reads up to `limit` bytes of `body` (decoded, since kube's stack inflates gzip before it);
/// `false` when there was more.
async fn read(
    body: &mut kube::client::Body,
    limit: usize,
) -> Result<(Vec<u8>, bool), RequestError> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(RequestError::Transport)?;
        if let Ok(data) = frame.into_data() {
            if data.len() > limit - bytes.len() {
                let room = limit - bytes.len();
                bytes.extend_from_slice(&data[..room]);
                return Ok((bytes, false));
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok((bytes, true))
}

/// `text` on one line: whitespace runs become one space, ANSI escape sequences, control and
/// bidirectional-override characters are dropped (a server's text must not rewrite a terminal or a report), and at most
/// `max` characters are kept, `…` marking a cut.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut kept = 0;
    let mut pending_space = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // An ANSI escape sequence (colour, cursor movement): skip it whole, as far as its
            // final byte.
            if chars.clone().next() == Some('[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
            continue;
        }
        if kept + usize::from(pending_space) >= max {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            kept += 1;
            pending_space = false;
        }
        out.push(c);
        kept += 1;
    }
    out
}

/// The readable text of an HTML error page: its `<title>` when it has one, else the text
/// between its tags.
fn html_text(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if let Some(start) = lower.find("<title>") {
        let start = start + "<title>".len();
        if let Some(len) = lower[start..].find("</title>") {
            let title = &html[start..start + len];
            if !title.trim().is_empty() {
                return title.to_owned();
            }
        }
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// `30s`, `500ms`, `2m`: as the duration flags take it.
pub fn duration_text(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms >= 3_600_000 && ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

/// `128MiB`, `4KiB`, `1000 bytes`: as `--max-response-bytes` takes it.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_one_short_clean_line() {
        assert_eq!(one_line("  a\n\tb  c \r\n", 50), "a b c");
        assert_eq!(
            one_line("x\u{1b}[1;31mred\u{1b}[0m\u{202E}\u{7}", 50),
            "xred"
        );
        let long = "é".repeat(500);
        let cut = one_line(&long, 200);
        assert_eq!(cut.chars().count(), 201);
        assert!(cut.ends_with('…'));
        assert_eq!(one_line("abc", 3), "abc");
    }

    #[test]
    fn error_bodies_give_code_and_snippet() {
        let status = br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"secrets is forbidden","reason":"Forbidden","code":403}"#;
        assert_eq!(
            ApiStatus::from_body(StatusCode::FORBIDDEN, status).to_string(),
            "403 Forbidden: secrets is forbidden"
        );
        // Any JSON parses as kube's Status (every field is optional), which gave `0: `.
        assert_eq!(
            ApiStatus::from_body(StatusCode::BAD_GATEWAY, br#"{"error":"upstream down"}"#)
                .to_string(),
            r#"502 Bad Gateway: {"error":"upstream down"}"#
        );
        let page = format!(
            "<!DOCTYPE html>\n<html><head><title>403 Forbidden - WAF</title></head><body>{}</body></html>",
            "x".repeat(1 << 20)
        );
        assert_eq!(
            ApiStatus::from_body(StatusCode::FORBIDDEN, page.as_bytes()).to_string(),
            "403 Forbidden: 403 Forbidden - WAF"
        );
        assert_eq!(
            ApiStatus::from_body(StatusCode::NOT_FOUND, b"<html><body><h1>Nope</h1></body>")
                .to_string(),
            "404 Not Found: Nope"
        );
        assert_eq!(
            ApiStatus::from_body(StatusCode::SERVICE_UNAVAILABLE, b"").to_string(),
            "503 Service Unavailable"
        );
    }

    #[test]
    fn bounds_read_as_their_flags_take_them() {
        assert_eq!(duration_text(Duration::from_millis(500)), "500ms");
        assert_eq!(duration_text(Duration::from_secs(30)), "30s");
        assert_eq!(duration_text(Duration::from_secs(120)), "2m");
        assert_eq!(duration_text(Duration::from_secs(90)), "90s");
        assert_eq!(duration_text(Duration::from_secs(3600)), "1h");
        assert_eq!(size_text(128 << 20), "128MiB");
        assert_eq!(size_text(1 << 30), "1GiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
