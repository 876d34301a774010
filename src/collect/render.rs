//! Charts and kustomizations: which directories a tool must render before they can be scanned,
//! running `helm template` or `kubectl kustomize` (or `kustomize build`) on them, and mapping what
//! the tool says about an object's source back to a file on disk.
//!
//! Every process posture starts is started here. Decoding the output is `manifests`' job; no
//! policy knowledge lives here.

use super::yaml;
use crate::problem::Code;
use crate::resource::Renderer;
use serde_json::Value;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How charts are rendered (`--helm-*`), and which binaries render. Kustomizations take no
/// options: `kubectl kustomize` builds what the kustomization file says.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Release name (`.Release.Name`); `None` is the chart's name, as in the common
    /// `helm install demo ./demo`, so names built from release and chart name come out short.
    pub helm_release: Option<String>,
    /// `.Release.Namespace`; `None` is [`DEFAULT_NAMESPACE`], as for `helm install` without `-n`.
    pub helm_namespace: Option<String>,
    /// Values files, in order (`helm template -f`), relative to the working directory.
    pub helm_values: Vec<PathBuf>,
    /// `KEY=VALUE` overrides, in order (`helm template --set`).
    pub helm_set: Vec<String>,
    /// Extra `.Capabilities.APIVersions` (`helm template --api-versions`).
    pub helm_api_versions: Vec<String>,
    /// `.Capabilities.KubeVersion` (`helm template --kube-version`).
    pub helm_kube_version: Option<String>,
    /// The helm binary; `None` is `$POSTURE_HELM`, else `helm` on PATH.
    pub helm: Option<PathBuf>,
    /// The kubectl binary; `None` is `$POSTURE_KUBECTL`, else `kubectl` on PATH, else
    /// `kustomize build` with `kustomize` from PATH.
    pub kubectl: Option<PathBuf>,
}

pub const DEFAULT_NAMESPACE: &str = "default";
/// The release name when the chart's `Chart.yaml` names no chart (helm then fails on it anyway).
const FALLBACK_RELEASE: &str = "release";
pub const HELM_VAR: &str = "POSTURE_HELM";
const INSTALL_HELM: &str = "install Helm 3 (https://helm.sh/docs/intro/install/)";
pub const KUBECTL_VAR: &str = "POSTURE_KUBECTL";
/// A generous bound: a remote kustomize base is a git clone, but a tool that hangs must not
/// hang the scan.
const TIMEOUT: Duration = Duration::from_secs(300);
/// The names kustomize itself accepts, in its order of preference.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
/// How much of a failing tool's stderr goes into the problem: its error is on the first lines,
/// and the rest (Go stack traces, usage text) would drown the report.
const STDERR_LINES: usize = 6;

/// Whether `path` is named as kustomize names its kustomization files.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| KUSTOMIZATION_FILES.iter().any(|k| n == *k))
}

/// A directory that a tool renders instead of posture walking it: a chart or a kustomization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renderable {
    pub tool: Renderer,
    pub dir: PathBuf,
    /// `Chart.yaml` or the kustomization file: where a finding points when the tool does not
    /// say which file an object comes from.
    pub marker: PathBuf,
}

impl Renderable {
    /// The chart or kustomization in `dir`, if it holds one. A directory with both is a chart:
    /// its templates are not YAML, so kustomize could not build it, while helm can render it.
    pub fn detect(dir: &Path) -> Option<Renderable> {
        let chart = dir.join("Chart.yaml");
        if chart.is_file() {
            return Some(Renderable {
                tool: Renderer::Helm,
                dir: dir.to_path_buf(),
                marker: chart,
            });
        }
        KUSTOMIZATION_FILES
            .iter()
            .map(|name| dir.join(name))
            .find(|f| f.is_file())
            .map(|marker| Renderable {
                tool: Renderer::Kustomize,
                dir: dir.to_path_buf(),
                marker,
            })
    }
}

/// Why a chart or kustomization was not rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The tool is not installed, or not where the options or environment say.
    #[error("{what}: {advice}")]
    ToolMissing { what: String, advice: String },
    #[error("cannot run `{command}`")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: ExitStatus,
        /// The first lines of the tool's stderr.
        stderr: String,
    },
    #[error("`{command}` did not finish within {} seconds and was stopped", .limit.as_secs())]
    TimedOut { command: String, limit: Duration },
    #[error("cannot read the output of `{command}`")]
    Output {
        command: String,
        #[source]
        source: std::io::Error,
    },
}

impl RenderError {
    /// The problem code reporters show for this error.
    pub fn code(&self) -> Code {
        match self {
            RenderError::ToolMissing { .. } => Code::ToolMissing,
            _ => Code::RenderError,
        }
    }
}

/// What a tool that succeeded wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Standard output: a YAML stream.
    pub text: String,
    /// The first lines of stderr, when the tool wrote any: warnings such as a deprecated
    /// kustomization field.
    pub warnings: Option<String>,
}

/// Renders `target` with the tool its kind needs.
pub fn render(target: &Renderable, options: &RenderOptions) -> Result<Output, RenderError> {
    let invocation = match target.tool {
        Renderer::Helm => helm(target, options)?,
        Renderer::Kustomize => kustomize(target, options)?,
    };
    invocation.run()
}

/// A command and how messages show it.
struct Invocation {
    command: Command,
    shown: String,
}

fn helm(target: &Renderable, options: &RenderOptions) -> Result<Invocation, RenderError> {
    let release = options
        .helm_release
        .clone()
        .or_else(|| chart_name(&target.marker))
        .unwrap_or_else(|| FALLBACK_RELEASE.to_owned());
    let namespace = options
        .helm_namespace
        .as_deref()
        .unwrap_or(DEFAULT_NAMESPACE);
    let mut args: Vec<String> = vec![
        "template".into(),
        release,
        target.dir.to_string_lossy().into_owned(),
        "--namespace".into(),
        namespace.into(),
    ];
    for file in &options.helm_values {
        args.extend(["-f".into(), file.to_string_lossy().into_owned()]);
    }
    for set in &options.helm_set {
        args.extend(["--set".into(), set.clone()]);
    }
    for version in &options.helm_api_versions {
        args.extend(["--api-versions".into(), version.clone()]);
    }
    if let Some(version) = &options.helm_kube_version {
        args.extend(["--kube-version".into(), version.clone()]);
    }
    let shown = shown_command("helm", &args);
    let by_hand = format!("render the chart yourself: {shown} | posture scan -f -");
    let binary = match locate(options.helm.as_deref(), HELM_VAR, "helm") {
        Ok(Some(path)) => path,
        Ok(None) => {
            return Err(missing(
                "helm is not on PATH",
                format!("{INSTALL_HELM} or set {HELM_VAR} to its path, or {by_hand}"),
            ))
        }
        Err(what) => return Err(missing(what, format!("{INSTALL_HELM} there, or {by_hand}"))),
    };
    let mut command = Command::new(binary);
    command.args(&args);
    Ok(Invocation { command, shown })
}

fn kustomize(target: &Renderable, options: &RenderOptions) -> Result<Invocation, RenderError> {
    let dir = target.dir.to_string_lossy().into_owned();
    let advice = format!(
        "install kubectl (https://kubernetes.io/docs/tasks/tools/) or kustomize \
         (https://kubectl.docs.kubernetes.io/installation/kustomize/), or build it yourself: \
         kubectl kustomize {dir} | posture scan -f -"
    );
    let (binary, args) = match locate(options.kubectl.as_deref(), KUBECTL_VAR, "kubectl") {
        Ok(Some(kubectl)) => (kubectl, vec!["kustomize".to_owned(), dir]),
        // kubectl has had kustomize built in since 1.14; the standalone tool is the fallback.
        Ok(None) => match on_path("kustomize") {
            Some(kustomize) => (kustomize, vec!["build".to_owned(), dir]),
            None => return Err(missing("neither kubectl nor kustomize is on PATH", advice)),
        },
        Err(what) => return Err(missing(what, advice)),
    };
    let name = binary
        .file_stem()
        .map_or("kubectl".into(), |s| s.to_string_lossy());
    let shown = shown_command(&name, &args);
    let mut command = Command::new(&binary);
    command.args(&args);
    Ok(Invocation { command, shown })
}

fn missing(what: impl Into<String>, advice: String) -> RenderError {
    RenderError::ToolMissing {
        what: what.into(),
        advice,
    }
}

/// `tool args...` for messages. `--set` values are hidden: they are often passwords, and
/// problems land in reports that are uploaded and shared.
fn shown_command(tool: &str, args: &[String]) -> String {
    let mut shown = vec![tool.to_owned()];
    let mut after_set = false;
    for arg in args {
        shown.push(match arg.split_once('=') {
            Some((key, _)) if after_set => format!("{key}=***"),
            _ => arg.clone(),
        });
        after_set = arg == "--set";
    }
    shown.join(" ")
}

/// The chart's `name` from its `Chart.yaml`.
fn chart_name(chart_yaml: &Path) -> Option<String> {
    let text = std::fs::read_to_string(chart_yaml).ok()?;
    let decoded = yaml::parse_document(&text).ok()??;
    decoded.value["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
}

/// Finds a tool: the explicit path, else the path in `var`, else `name` on PATH. `Ok(None)`
/// when it is not on PATH; `Err` names the explicit setting that points nowhere, which must not
/// quietly fall back to another binary.
fn locate(explicit: Option<&Path>, var: &str, name: &str) -> Result<Option<PathBuf>, String> {
    let (given, by) = match (explicit, std::env::var_os(var).filter(|v| !v.is_empty())) {
        (Some(path), _) => (path.to_path_buf(), format!("the {name} path given")),
        (None, Some(value)) => (PathBuf::from(value), var.to_owned()),
        (None, None) => return Ok(on_path(name)),
    };
    // A bare name (`POSTURE_HELM=helm3`) is looked up on PATH, as a shell would.
    let found = if given.components().count() == 1 && !given.is_absolute() {
        on_path(&given.to_string_lossy())
    } else {
        Some(given.clone()).filter(|p| is_executable(p))
    };
    found.map(Some).ok_or_else(|| {
        format!(
            "{name} not found: {by} names {}, which is not an executable file",
            given.display()
        )
    })
}

fn on_path(name: &str) -> Option<PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let paths = std::env::var_os("PATH")?;
    // An empty entry means the working directory to a shell; a scanner must not run binaries
    // from the directory it scans.
    std::env::split_paths(&paths)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(&file))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

impl Invocation {
    /// Runs the command to the end (or to [`TIMEOUT`]).
    fn run(mut self) -> Result<Output, RenderError> {
        let shown = self.shown;
        let mut child = self
            .command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| RenderError::Spawn {
                command: shown.clone(),
                source,
            })?;
        // Each pipe is drained on its own thread: a tool that fills the pipe we are not reading
        // would block forever.
        let stdout = drain(child.stdout.take().expect("stdout was piped"));
        let stderr = drain(child.stderr.take().expect("stderr was piped"));
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() >= TIMEOUT => {
                    // Best effort: the child may have exited in between. The reader threads are
                    // left behind, since a grandchild may still hold the pipes open.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(RenderError::TimedOut {
                        command: shown,
                        limit: TIMEOUT,
                    });
                }
                Ok(None) => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(source) => {
                    return Err(RenderError::Output {
                        command: shown,
                        source,
                    })
                }
            }
        };
        let read = |reader: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
            reader
                .join()
                .expect("a pipe reader does not panic")
                .map_err(|source| RenderError::Output {
                    command: shown.clone(),
                    source,
                })
        };
        let (out, err) = (read(stdout)?, read(stderr)?);
        if !status.success() {
            return Err(RenderError::Failed {
                command: shown,
                status,
                stderr: first_lines(&String::from_utf8_lossy(&err))
                    .unwrap_or_else(|| "no message on stderr".to_owned()),
            });
        }
        let text = String::from_utf8(out).map_err(|e| RenderError::Output {
            command: shown,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        Ok(Output {
            text,
            warnings: first_lines(&String::from_utf8_lossy(&err)),
        })
    }
}

fn drain(
    mut pipe: impl Read + Send + 'static,
) -> std::thread::JoinHandle<std::io::Result<Vec<u8>>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        pipe.read_to_end(&mut buf).map(|_| buf)
    })
}

fn first_lines(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .map(without_klog_header)
        .filter(|l| !l.trim().is_empty())
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut text = lines[..lines.len().min(STDERR_LINES)].join("; ");
    if lines.len() > STDERR_LINES {
        text.push_str(&format!("; ({} more lines)", lines.len() - STDERR_LINES));
    }
    Some(text)
}

/// A line without klog's header (`E1206 04:23:40.123456   12345 file.go:12] `), which kubectl
/// puts before its errors: the time and process id would make two runs' output differ.
fn without_klog_header(line: &str) -> &str {
    let bytes = line.as_bytes();
    let header = bytes.len() > 22
        && matches!(bytes[0], b'I' | b'W' | b'E' | b'F')
        && bytes[1..5].iter().all(u8::is_ascii_digit)
        && bytes[5] == b' '
        && bytes[8] == b':'
        && bytes[11] == b':';
    match line.find("] ").filter(|_| header) {
        Some(end) => &line[end + 2..],
        None => line,
    }
}

/// What a tool says about where an object comes from: its words, and the file they name when
/// that file is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub text: String,
    pub file: Option<PathBuf>,
}

/// Maps Helm's `# Source: <chart>/templates/x.yaml` to `<chart dir>/templates/x.yaml`. The first
/// segment is the chart's name, which need not be its directory's; a subchart's templates
/// (`<chart>/charts/<sub>/templates/...`) are on disk only when the subchart is unpacked.
pub fn helm_source(chart_dir: &Path, text: &str) -> SourceRef {
    let file = text
        .split_once('/')
        .map(|(_, rest)| Path::new(rest))
        .filter(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))))
        .map(|rest| chart_dir.join(rest))
        .filter(|f| f.is_file());
    SourceRef {
        text: text.to_owned(),
        file,
    }
}

/// The annotation kustomize adds with `buildMetadata: [originAnnotations]`.
const ORIGIN: &str = "config.kubernetes.io/origin";
/// Added with `buildMetadata: [transformerAnnotations]`.
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";
/// kustomize's bookkeeping, which some versions leak into the output.
const INTERNAL_PREFIX: &str = "internal.config.kubernetes.io/";

/// Removes the annotations kustomize adds about its build (they are not part of what gets
/// deployed, and rules about annotations must not see them) and returns the source the origin
/// annotation names. Its `path` (a resource) or `configuredIn` (a generator's kustomization) is
/// relative to the kustomization that was built; a remote base (`repo:`) names no local file.
pub fn take_kustomize_origin(object: &mut Value, dir: &Path) -> Option<SourceRef> {
    let annotations = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)?;
    let origin = annotations.remove(ORIGIN);
    annotations.remove(TRANSFORMATIONS);
    annotations.retain(|key, _| !key.starts_with(INTERNAL_PREFIX));
    if annotations.is_empty() {
        // kustomize created the map for its own annotations; leave the object as written.
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("annotations");
        }
    }
    let text = origin?.as_str()?.to_owned();
    let decoded = yaml::parse_document(&text).ok().flatten()?.value;
    let field = |key: &str| decoded.get(key).and_then(Value::as_str);
    let local = field("path").or_else(|| field("configuredIn"))?;
    if let Some(repo) = field("repo") {
        let reference = field("ref").map_or(String::new(), |r| format!("?ref={r}"));
        return Some(SourceRef {
            text: format!("{repo}//{local}{reference}"),
            file: None,
        });
    }
    let file = normalize(&dir.join(local));
    Some(SourceRef {
        text: local.to_owned(),
        file: file.is_file().then_some(file),
    })
}

/// `overlay/../base/x.yaml` → `base/x.yaml`, lexically, so reports and SARIF URIs name the file
/// the way a reader of the repository would. (A symlinked overlay could make this name another
/// file; the caller only uses the result when it exists.)
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalize_folds_parent_segments() {
        assert_eq!(
            normalize(Path::new("fixtures/k/overlay/../base/./x.yaml")),
            PathBuf::from("fixtures/k/base/x.yaml")
        );
        assert_eq!(normalize(Path::new("../a/../b")), PathBuf::from("../b"));
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
    }

    #[test]
    fn set_values_are_hidden_in_messages() {
        let args: Vec<String> = [
            "template",
            "r",
            "c",
            "--set",
            "db.password=hunter2",
            "-f",
            "v=1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            shown_command("helm", &args),
            "helm template r c --set db.password=*** -f v=1"
        );
    }

    #[test]
    fn kustomize_annotations_are_removed_and_origin_returned() {
        let mut object = json!({
            "kind": "Deployment",
            "metadata": {"name": "web", "annotations": {
                ORIGIN: "path: ../base/deployment.yaml\n",
                "internal.config.kubernetes.io/id": "1",
            }},
        });
        let origin = take_kustomize_origin(&mut object, Path::new("overlay")).unwrap();
        assert_eq!(origin.text, "../base/deployment.yaml");
        assert_eq!(origin.file, None, "no such file here");
        assert_eq!(object["metadata"], json!({"name": "web"}));

        let mut object = json!({"metadata": {"annotations": {
            ORIGIN: "repo: https://github.com/org/repo\nref: v1\npath: app/x.yaml\n",
            "team": "a",
        }}});
        let origin = take_kustomize_origin(&mut object, Path::new("overlay")).unwrap();
        assert_eq!(
            origin.text,
            "https://github.com/org/repo//app/x.yaml?ref=v1"
        );
        assert_eq!(object["metadata"]["annotations"], json!({"team": "a"}));
    }

    #[test]
    /// Output was not deterministic when a render error embedded kubectl's timestamp and PID.
    fn klog_headers_are_dropped_from_tool_errors() {
        let stderr = "E1206 04:23:40.123456   12345 run.go:72] error: accumulating resources\n\
                      Error: trouble\n";
        assert_eq!(
            first_lines(stderr).as_deref(),
            Some("error: accumulating resources; Error: trouble")
        );
        assert_eq!(without_klog_header("Error: a] b"), "Error: a] b");
    }

    #[test]
    fn stderr_is_cut_to_its_first_lines() {
        let text = (1..=9).map(|i| format!("line {i}\n\n")).collect::<String>();
        assert_eq!(
            first_lines(&text).unwrap(),
            "line 1; line 2; line 3; line 4; line 5; line 6; (3 more lines)"
        );
        assert_eq!(first_lines(" \n"), None);
    }
}
