//! Packaging for shells and CI: completion scripts, the kubectl plugin name, the pre-commit hooks,
//! the krew manifest template, the CI examples, and the image tags they all name.

use crate::common::{assert_exit, copy_fixture, posture, program_command, repo};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const IMAGE: &str = "ghcr.io/posture-dev/posture";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn yaml_file(path: &Path) -> Value {
    let source =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_saphyr::from_str(&source).unwrap_or_else(|e| panic!("{} parses: {e}", path.display()))
}

/// An executable on PATH, as a shell finds it. `None` means skip, with the reason printed; in CI
/// (`CI=true`) a tool the checks rely on must be there, so a missing one fails instead of
/// quietly turning the test into a no-op.
fn tool(name: &str, required_in_ci: bool) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!(required_in_ci && in_ci), "{name} is not on PATH in CI");
        eprintln!("skipped: {name} is not on PATH");
    }
    found
}

/// The subcommands `posture --help` lists (clap's own `help` included).
fn subcommands() -> Vec<String> {
    let out = posture(&["--help"]);
    assert_exit(&out, 0);
    let help = text(&out.stdout);
    let listed: Vec<String> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A name is indented by two spaces; deeper lines continue a wrapped description.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(listed.contains(&"scan".to_owned()), "{help}");
    listed
}

fn completion_script(shell: &str) -> String {
    let out = posture(&["completions", shell]);
    assert_exit(&out, 0);
    text(&out.stdout)
}

#[test]
fn completions_name_every_subcommand_and_scan_flags_in_every_shell() {
    // How each shell's script spells the `--fail-on` option.
    let shells = [
        ("bash", "--fail-on"),
        ("zsh", "'--fail-on="),
        ("fish", "-l fail-on"),
        ("powershell", "'--fail-on'"),
        ("elvish", "cand --fail-on"),
    ];
    let subcommands = subcommands();
    for (shell, fail_on) in shells {
        let script = completion_script(shell);
        for sub in &subcommands {
            assert!(script.contains(sub.as_str()), "{shell} completes {sub}");
        }
        assert!(script.contains(fail_on), "{shell} completes --fail-on");
    }
    let out = posture(&["completions", "tcsh"]);
    assert_exit(&out, 2);
}

/// Writes `shell`'s completion script to a file, for a shell to read.
fn script_file(shell: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("posture.{shell}"));
    std::fs::write(&path, completion_script(shell)).unwrap();
    (dir, path)
}

/// Words bash offers after `line`, through the completion function the script registers.
fn bash_completes(bash: &Path, script: &Path, words: &[&str]) -> Vec<String> {
    // Completion functions read COMP_WORDS and COMP_CWORD; $1..$3 are command, current word
    // and previous word, as `complete -F` passes them.
    let program = r#"source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
        _posture posture "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}";
        printf '%s\n' "${COMPREPLY[@]}""#;
    let mut args = vec!["-c", program, "bash", script.to_str().unwrap()];
    args.extend(words);
    let out = program_command(bash, &args).output().unwrap();
    assert_exit(&out, 0);
    text(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn bash_completion_is_valid_bash_and_completes_subcommands_and_flags() {
    let Some(bash) = tool("bash", true) else {
        return;
    };
    let (_dir, script) = script_file("bash");
    let out = program_command(&bash, &["-n", script.to_str().unwrap()])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(bash_completes(&bash, &script, &["posture", "sc"]), ["scan"]);
    let flags = bash_completes(&bash, &script, &["posture", "scan", "--fail"]);
    assert_eq!(flags, ["--fail-on"]);
}

#[test]
fn zsh_and_fish_completions_parse_where_those_shells_exist() {
    // Neither shell is needed to build or test posture; each is checked when it is installed.
    for (shell, check) in [("zsh", "-n"), ("fish", "--no-execute")] {
        let Some(program) = tool(shell, false) else {
            continue;
        };
        let (_dir, script) = script_file(shell);
        let out = program_command(&program, &[check, script.to_str().unwrap()])
            .output()
            .unwrap();
        assert_exit(&out, 0);
    }
}

/// A directory holding the binary as `kubectl-posture`, the way krew (or a user) installs it.
#[cfg(unix)]
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubectl-posture");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_posture"), link).unwrap();
    dir
}

#[cfg(unix)]
#[test]
fn run_as_kubectl_posture_it_is_named_kubectl_posture_and_scans_the_same() {
    let dir = plugin_dir();
    let plugin = dir.path().join("kubectl-posture");
    let run = |args: &[&str]| program_command(&plugin, args).output().unwrap();

    let out = run(&["--help"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("Usage: kubectl posture <COMMAND>"));
    let out = run(&["scan", "--help"]);
    assert!(text(&out.stdout).contains("Usage: kubectl posture scan [OPTIONS]"));
    // Argument errors are rendered by the same renamed command.
    let out = run(&["scan", "--no-such-flag"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("Usage: kubectl posture scan"));

    let out = run(&[
        "scan",
        "-f",
        "fixtures/cli/privileged.yaml",
        "--fail-on",
        "high",
    ]);
    assert_exit(&out, 1);

    // Under its own name it stays `posture`.
    let out = posture(&["--help"]);
    assert!(text(&out.stdout).contains("Usage: posture <COMMAND>"));
}

#[cfg(unix)]
#[test]
fn kubectl_finds_and_runs_the_plugin_on_path() {
    let Some(kubectl) = tool("kubectl", true) else {
        return;
    };
    let dir = plugin_dir();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(dir.path().to_path_buf()).chain(std::env::split_paths(&path)),
    )
    .unwrap();
    let run = |args: &[&str]| {
        program_command(&kubectl, args)
            .env("PATH", &path)
            .output()
            .unwrap()
    };

    let out = run(&["posture", "--help"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("Usage: kubectl posture <COMMAND>"));
    // kubectl hands the plugin's exit code back, so the CI gate works through it too.
    let out = run(&[
        "posture",
        "scan",
        "-f",
        "fixtures/cli/privileged.yaml",
        "--fail-on",
        "high",
    ]);
    assert_exit(&out, 1);
}

#[test]
fn clean_fixture_has_no_finding() {
    let out = posture(&["scan", "-f", "fixtures/cli/clean.yaml", "--format", "json"]);
    assert_exit(&out, 0);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["summary"]["objects"], 2);
}

#[test]
fn pre_commit_hooks_run_a_real_subcommand_on_the_files_appended() {
    let hooks = yaml_file(&repo().join(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().filter_map(|h| h["id"].as_str()).collect();
    assert_eq!(ids, ["posture", "posture-docker"]);
    let subcommands = subcommands();
    let image = format!("{IMAGE}:{}", env!("CARGO_PKG_VERSION"));
    for hook in hooks {
        let id = hook["id"].as_str().unwrap();
        let entry = hook["entry"].as_str().expect("an entry");
        let words: Vec<&str> = entry.split_whitespace().collect();
        // `language: rust` runs the installed binary; `docker_image` runs the image's entrypoint.
        let program = match hook["language"].as_str() {
            Some("rust") => "posture",
            Some("docker_image") => image.as_str(),
            other => panic!("{id}: unexpected language {other:?}"),
        };
        assert_eq!(words[0], program, "{id}");
        assert!(subcommands.iter().any(|s| s == words[1]), "{id}: {entry}");
        assert_eq!(
            words.last(),
            Some(&"-f"),
            "{id}: files are appended after -f"
        );
        assert_eq!(hook["pass_filenames"], true, "{id}");
        assert_eq!(
            hook["require_serial"], true,
            "{id}: one scan sees all files"
        );
        assert_eq!(hook["files"], r"\.(ya?ml|json)$", "{id}");

        // As pre-commit runs it: the entry's arguments, then the staged files.
        let run = |files: &[&str]| posture(&[&words[1..], files].concat());
        assert_exit(&run(&["fixtures/cli/clean.yaml"]), 0);
        let files = ["fixtures/cli/clean.yaml", "fixtures/cli/privileged.yaml"];
        assert_exit(&run(&files), 1);
        // Staged YAML that holds no Kubernetes object passes.
        assert_exit(&run(&[".pre-commit-hooks.yaml"]), 0);
    }
}

/// Renders the krew-release-bot template as the bot does for `tag`: `{{ .TagName }}` becomes the
/// tag, and each `addURIAndSha "URL" .TagName` a `uri` and a `sha256` (here a made-up one).
fn render_krew_template(template: &str, tag: &str) -> String {
    const OPEN: &str = "{{addURIAndSha \"";
    const CLOSE: &str = "\" .TagName }}";
    let mut rendered = String::new();
    let mut rest = template;
    while let Some(start) = rest.find(OPEN) {
        let indent = &rest[rest[..start].rfind('\n').map_or(0, |i| i + 1)..start];
        let call = &rest[start + OPEN.len()..];
        let end = call.find(CLOSE).expect("addURIAndSha call is closed");
        rendered.push_str(&rest[..start]);
        rendered.push_str(&format!(
            "uri: {}\n{indent}sha256: {}",
            &call[..end],
            "0".repeat(64)
        ));
        rest = &call[end + CLOSE.len()..];
    }
    rendered.push_str(rest);
    rendered.replace("{{ .TagName }}", tag)
}

#[test]
fn krew_manifest_renders_to_a_plugin_for_linux_and_macos() {
    let template = std::fs::read_to_string(repo().join("packaging/krew/posture.yaml")).unwrap();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let rendered = render_krew_template(&template, &tag);
    assert!(
        !rendered.contains("{{"),
        "only the bot's template calls:\n{rendered}"
    );
    let plugin: Value = serde_saphyr::from_str(&rendered).unwrap();

    assert_eq!(
        plugin["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(plugin["kind"], "Plugin");
    // krew links the binary as kubectl-<name>, the name posture recognises.
    assert_eq!(plugin["metadata"]["name"], "posture");
    let spec = &plugin["spec"];
    assert_eq!(spec["version"], tag.as_str());
    let mut platforms = BTreeSet::new();
    for platform in spec["platforms"].as_array().unwrap() {
        let labels = &platform["selector"]["matchLabels"];
        let (os, arch) = (
            labels["os"].as_str().unwrap(),
            labels["arch"].as_str().unwrap(),
        );
        let uri = format!(
            "https://github.com/posture-dev/posture/releases/download/{tag}/posture-{tag}-{os}-{arch}.tar.gz"
        );
        assert_eq!(platform["uri"], uri.as_str());
        assert_eq!(platform["bin"], "posture");
        assert_eq!(platform["files"], json!([{"from": "posture", "to": "."}]));
        platforms.insert(format!("{os}/{arch}"));
    }
    let expected = ["darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"];
    assert_eq!(platforms, expected.map(String::from).into());
}

/// The words after `posture scan` in a shell script (line continuations dropped).
fn scan_arguments(script: &str) -> Vec<String> {
    let words: Vec<&str> = script.split_whitespace().filter(|w| *w != "\\").collect();
    let start = words
        .windows(2)
        .position(|w| w[0].ends_with("posture") && w[1] == "scan")
        .unwrap_or_else(|| panic!("no posture scan in {script}"));
    words[start + 2..].iter().map(|w| w.to_string()).collect()
}

/// The value after `flag` in `args`.
fn flag_value<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args.iter().position(|a| a == flag);
    at.and_then(|i| args.get(i + 1))
        .unwrap_or_else(|| panic!("{flag} in {args:?}"))
}

#[test]
fn every_ci_example_is_valid_yaml() {
    let files: Vec<PathBuf> = walkdir::WalkDir::new(repo().join("examples"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        assert!(yaml_file(&file).is_object(), "{}", file.display());
    }
}

#[test]
fn github_actions_example_uploads_sarif_and_gates_against_the_baseline_of_main() {
    let workflow = yaml_file(&repo().join("examples/github-actions/posture.yml"));
    let on = &workflow["on"];
    assert!(on.get("pull_request").is_some(), "{on}");
    assert_eq!(on["push"]["branches"], json!(["main"]));
    let job = &workflow["jobs"]["scan"];
    assert_eq!(job["permissions"]["security-events"], "write");
    let steps = job["steps"].as_array().unwrap();
    let step = |uses: &str| {
        let at = steps
            .iter()
            .position(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(uses)));
        at.unwrap_or_else(|| panic!("a step uses {uses}"))
    };
    let scan = steps
        .iter()
        .position(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("posture scan"))
        })
        .expect("a step runs posture scan");
    let args = scan_arguments(steps[scan]["run"].as_str().unwrap());
    assert_eq!(flag_value(&args, "--fail-on"), "high");
    assert_eq!(flag_value(&args, "--format"), "table");
    let sarif = flag_value(&args, "--output-sarif");
    let report = flag_value(&args, "--output-json");

    // SARIF reaches code scanning even when the gate fails the scan step.
    let upload = &steps[step("github/codeql-action/upload-sarif@v3")];
    assert!(upload["if"].as_str().unwrap().contains("always()"));
    assert_eq!(upload["with"]["sarif_file"], sarif);
    assert_eq!(upload["with"]["category"], "posture");

    // The baseline is restored before the scan, passed to it, and saved from main's report.
    let restore = step("actions/cache/restore@");
    let save = step("actions/cache/save@");
    assert!(restore < scan && scan < save);
    let baseline = steps[restore]["with"]["path"].as_str().unwrap();
    assert_eq!(steps[save]["with"]["path"], baseline);
    assert!(steps[scan]["run"]
        .as_str()
        .unwrap()
        .contains(&format!("--baseline {baseline}")));
    let copy = format!("cp {report} {baseline}");
    assert!(steps[scan..save]
        .iter()
        .any(|s| s["run"].as_str() == Some(copy.as_str())));
    assert!(steps[save]["if"]
        .as_str()
        .unwrap()
        .contains("github.event_name == 'push'"));
}

#[test]
fn gitlab_example_gates_and_keeps_the_reports_when_it_fails() {
    let pipeline = yaml_file(&repo().join("examples/gitlab-ci/.gitlab-ci.yml"));
    let job = &pipeline["posture"];
    // GitLab runs the script in a shell inside the image: the debug image has one, and the
    // entrypoint must be cleared or GitLab's shell would be passed to posture as arguments.
    let debug_image = format!("{IMAGE}:{}-debug", env!("CARGO_PKG_VERSION"));
    assert_eq!(job["image"]["name"], debug_image.as_str());
    assert_eq!(job["image"]["entrypoint"], json!([""]));
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let args = scan_arguments(&script.join("\n"));
    assert_eq!(flag_value(&args, "--fail-on"), "high");
    assert_eq!(job["artifacts"]["when"], "always");
    let kept = &job["artifacts"]["paths"];
    for output in ["--output-sarif", "--output-json"] {
        let file = flag_value(&args, output);
        assert!(kept.as_array().unwrap().iter().any(|p| p == file), "{file}");
    }
}

#[test]
fn image_tags_follow_the_crate_version() {
    // A release bumps Cargo.toml; a file still naming the old tag would pull the old scanner.
    let version = env!("CARGO_PKG_VERSION");
    let mut files = vec![
        repo().join(".pre-commit-hooks.yaml"),
        repo().join("docs/ci.md"),
        repo().join("README.md"),
    ];
    for dir in ["examples", "deploy"] {
        files.extend(
            walkdir::WalkDir::new(repo().join(dir))
                .into_iter()
                .map(|e| e.unwrap().into_path())
                .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml")),
        );
    }
    let mut seen = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        for (at, _) in source.match_indices(&format!("{IMAGE}:")) {
            let tag: String = source[at + IMAGE.len() + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .collect();
            let tag = tag.strip_suffix("-debug").unwrap_or(&tag);
            assert_eq!(tag, version, "{}", file.display());
            seen += 1;
        }
    }
    assert!(seen >= 6, "image references found: {seen}");
    let dockerfile = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("ARG VERSION={version}\n")));
}

/// Runs the example workflow's scan step as GitHub would (bash), with posture on PATH and the
/// ratings manifests as the repository's `deploy/`: a real check that the flags it uses exist
/// and gate as its comments say.
#[cfg(unix)]
#[test]
fn github_actions_scan_step_gates_on_new_findings_only() {
    let Some(bash) = tool("bash", true) else {
        return;
    };
    let workflow = yaml_file(&repo().join("examples/github-actions/posture.yml"));
    let steps = workflow["jobs"]["scan"]["steps"].as_array().unwrap();
    let script = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("posture scan"))
        .unwrap()
        .to_owned();
    let work = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_posture"), bin.path().join("posture")).unwrap();
    copy_fixture("fixtures/ratings", &work.path().join("deploy"));
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let step = || {
        program_command(&bash, &["-euo", "pipefail", "-c", &script])
            .current_dir(work.path())
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    // No baseline yet: the ratings app's high finding fails the gate, and both reports exist.
    assert_exit(&step(), 1);
    assert!(work.path().join("posture.sarif").is_file());
    // Main's report becomes the baseline; the same manifests then pass.
    std::fs::copy(
        work.path().join("posture.json"),
        work.path().join("posture-baseline.json"),
    )
    .unwrap();
    let out = step();
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("Baseline posture-baseline.json: 0 new"));
}
