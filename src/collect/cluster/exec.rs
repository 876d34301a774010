//! Exec credential plugins (kubelogin, `aws eks get-token`, gke-gcloud-auth-plugin): posture
//! runs the kubeconfig's plugin once, under `--exec-timeout`, following kubectl's ExecCredential
//! protocol, and hands the credential it prints to the client as a token or client certificate.
//!
//! kube would run the plugin itself, but blocking and without a time limit (a plugin waiting on
//! a login that never comes hung posture for good), up to three times while building a client,
//! and its failure shows the whole process output as a debug dump.

use kube::config::{AuthInfo, ExecConfig, ExecInteractiveMode};
use serde::Deserialize;
use std::io::IsTerminal;
use std::process::Stdio;
use std::time::Duration;

/// Lines of a failed plugin's stderr shown in the message.
const STDERR_LINES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the kubeconfig's exec credential plugin names no command")]
    NoCommand,
    #[error("cannot start the credential plugin '{command}'{hint}")]
    Start {
        command: String,
        /// The kubeconfig's `installHint`, as `" (hint)"`, or empty.
        hint: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the credential plugin '{command}' did not finish within {} (raise --exec-timeout)",
        super::request::duration_text(*timeout)
    )]
    TimedOut { command: String, timeout: Duration },
    #[error("the credential plugin '{command}' failed ({status}){stderr}")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        /// `"; its stderr begins:"` and its first lines, indented, or a note that it is above.
        stderr: String,
    },
    #[error("the credential plugin '{command}' printed no token or client certificate: {reason}")]
    Output { command: String, reason: String },
}

/// What a plugin handed over.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    Token(String),
    /// PEM certificate and key.
    Certificate {
        certificate: String,
        key: String,
    },
}

impl Credential {
    /// Puts the credential where the kubeconfig would have it, and removes the exec entry, so
    /// the client never runs the plugin itself.
    pub fn apply(self, user: &mut AuthInfo) {
        use base64::Engine;
        user.exec = None;
        match self {
            Credential::Token(token) => user.token = Some(token.into()),
            Credential::Certificate { certificate, key } => {
                let encode = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
                user.client_certificate = None;
                user.client_key = None;
                user.client_certificate_data = Some(encode(&certificate));
                user.client_key_data = Some(encode(&key).into());
            }
        }
    }
}

#[derive(Deserialize)]
struct ExecCredential {
    status: Option<ExecCredentialStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

/// Runs the plugin and reads its ExecCredential; kills it when `timeout` passes.
pub async fn run(exec: &ExecConfig, timeout: Duration) -> Result<Credential, ExecError> {
    let command = exec.command.clone().ok_or(ExecError::NoCommand)?;
    // As kubectl: an interactive plugin (a device-code login) talks to the user on the terminal.
    let interactive = match exec.interactive_mode {
        Some(ExecInteractiveMode::Never) => false,
        Some(ExecInteractiveMode::Always) => true,
        Some(ExecInteractiveMode::IfAvailable) | None => std::io::stdin().is_terminal(),
    };
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(exec.args.iter().flatten())
        .stdout(Stdio::piped())
        .kill_on_drop(true);
    if interactive {
        cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
    } else {
        cmd.stdin(Stdio::null()).stderr(Stdio::piped());
    }
    for var in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (var.get("name"), var.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info {
        if let Some(cluster) = &exec.cluster {
            spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
        }
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version,
        "kind": "ExecCredential",
        "spec": spec,
    });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());

    let child = cmd.spawn().map_err(|source| ExecError::Start {
        command: command.clone(),
        hint: exec
            .install_hint
            .as_deref()
            .map(|h| format!(" ({})", super::request::one_line(h, 300)))
            .unwrap_or_default(),
        source,
    })?;
    // Dropping the child on a timeout kills it (`kill_on_drop`).
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| ExecError::TimedOut {
            command: command.clone(),
            timeout,
        })?
        .map_err(|source| ExecError::Start {
            command: command.clone(),
            hint: String::new(),
            source,
        })?;
    if !output.status.success() {
        return Err(ExecError::Failed {
            command,
            status: output.status,
            stderr: if interactive {
                " (its messages are above)".to_owned()
            } else {
                stderr_lines(&output.stderr)
            },
        });
    }
    credential(&output.stdout).map_err(|reason| ExecError::Output { command, reason })
}

/// `"; its stderr begins:"` and the first non-empty lines, indented, or empty.
fn stderr_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<String> = text
        .lines()
        .map(|l| super::request::one_line(l, 200))
        .filter(|l| !l.is_empty())
        .take(STDERR_LINES)
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let mut out = "; its stderr begins:".to_owned();
    for line in lines {
        out.push_str("\n    ");
        out.push_str(&line);
    }
    out
}

/// The ExecCredential's token or certificate. JSON, or YAML, which client-go accepts too.
fn credential(stdout: &[u8]) -> Result<Credential, String> {
    let text = String::from_utf8_lossy(stdout);
    let parsed: ExecCredential =
        serde_saphyr::from_str(&text).map_err(|e| super::request::one_line(&e.to_string(), 200))?;
    let status = parsed.status.ok_or("its ExecCredential has no status")?;
    match (
        status.token,
        status.client_certificate_data,
        status.client_key_data,
    ) {
        (Some(token), _, _) if !token.is_empty() => Ok(Credential::Token(token)),
        (_, Some(certificate), Some(key)) => Ok(Credential::Certificate { certificate, key }),
        _ => Err(
            "its ExecCredential status has neither a token nor a client certificate and key"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_from_json_or_yaml() {
        let json = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t0k"}}"#;
        assert_eq!(credential(json), Ok(Credential::Token("t0k".into())));
        let yaml =
            b"kind: ExecCredential\nstatus:\n  clientCertificateData: CERT\n  clientKeyData: KEY\n";
        assert_eq!(
            credential(yaml),
            Ok(Credential::Certificate {
                certificate: "CERT".into(),
                key: "KEY".into()
            })
        );
        assert!(credential(b"{\"status\":{}}").is_err());
        assert!(credential(b"not: [json").is_err());
    }

    #[test]
    fn stderr_is_shown_as_its_first_lines() {
        let stderr = b"\nerror: login failed\n\x1b[31mAADSTS700082\x1b[0m: refresh token expired\n\n3\n4\n5\n6\n";
        assert_eq!(
            stderr_lines(stderr),
            "; its stderr begins:\n    error: login failed\n    AADSTS700082: refresh token expired\n    3\n    4\n    5"
        );
        assert_eq!(stderr_lines(b"  \n"), "");
    }
}
