//! `posture node-collect` over a fake host root: modes, owners by the host's own user database,
//! links resolved inside the root, processes and the files their flags name.

use posture::collect::node::{collect, NodeCollectOptions};
use posture::snapshot::FileFact;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

fn write(root: &Path, path: &str, mode: u32) {
    let full = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, "x").unwrap();
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn process(proc_dir: &Path, pid: u32, cmdline: &[&str]) {
    let dir = proc_dir.join(pid.to_string());
    std::fs::create_dir_all(&dir).unwrap();
    let mut raw = cmdline.join("\0");
    raw.push('\0');
    std::fs::write(dir.join("cmdline"), raw).unwrap();
}

fn facts_of<'a>(files: &'a [FileFact], role: &str) -> Vec<&'a FileFact> {
    files.iter().filter(|f| f.role == role).collect()
}

#[test]
fn node_collect_reads_modes_owners_links_and_processes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    let proc_dir = dir.path().join("proc");
    // The test's own uid and gid get names in the host's user database, so owners resolve
    // whether or not the suite runs as root.
    let probe = dir.path();
    let (uid, gid) = {
        let m = std::fs::metadata(probe).unwrap();
        (m.uid(), m.gid())
    };
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        format!("hostuser:x:{uid}:{gid}::/:/bin/false\n"),
    )
    .unwrap();
    std::fs::write(root.join("etc/group"), format!("hostgroup:x:{gid}:\n")).unwrap();
    std::fs::write(root.join("etc/hostname"), "cp-1\n").unwrap();

    write(
        &root,
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        0o644,
    );
    write(&root, "/etc/kubernetes/pki/apiserver.key", 0o600);
    write(&root, "/etc/kubernetes/pki/apiserver.crt", 0o644);
    write(&root, "/etc/kubernetes/pki/etcd/ca.key", 0o640);
    write(&root, "/opt/kubelet/custom-config.yaml", 0o600);
    write(&root, "/srv/real-kubelet.conf", 0o640);
    // An absolute link on the host: it must resolve under the root, not in the collector's /.
    std::fs::create_dir_all(root.join("etc/kubernetes")).unwrap();
    symlink(
        "/srv/real-kubelet.conf",
        root.join("etc/kubernetes/kubelet.conf"),
    )
    .unwrap();
    process(
        &proc_dir,
        412,
        &[
            "/usr/bin/kubelet",
            "--config",
            "/opt/kubelet/custom-config.yaml",
            "--v=2",
        ],
    );
    process(&proc_dir, 77, &["kube-apiserver", "--anonymous-auth=false"]);
    process(&proc_dir, 9, &["/bin/sh", "-c", "sleep 1"]);

    let facts = collect(&NodeCollectOptions {
        root: root.clone(),
        proc_dir,
        node_name: None,
    });
    assert_eq!(facts.node, "cp-1");
    assert_eq!(facts.kind, "NodeFacts");

    let api = facts_of(&facts.files, "kube-apiserver/pod-spec");
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].path, "/etc/kubernetes/manifests/kube-apiserver.yaml");
    assert_eq!(api[0].mode, "644");
    assert_eq!(api[0].owner.as_deref(), Some("hostuser"));
    assert_eq!(api[0].group.as_deref(), Some("hostgroup"));

    let keys: Vec<(&str, &str)> = facts_of(&facts.files, "pki/key")
        .iter()
        .map(|f| (f.path.as_str(), f.mode.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("/etc/kubernetes/pki/apiserver.key", "600"),
            ("/etc/kubernetes/pki/etcd/ca.key", "640")
        ]
    );

    let kubeconfig = facts_of(&facts.files, "kubelet/kubeconfig");
    assert_eq!(kubeconfig.len(), 1);
    assert_eq!(kubeconfig[0].mode, "640", "mode of the link's target");
    assert_eq!(
        kubeconfig[0].link_target.as_deref(),
        Some("/srv/real-kubelet.conf")
    );

    // The kubelet's --config names a non-standard file: it is checked under the kubelet role.
    let config = facts_of(&facts.files, "kubelet/config");
    assert_eq!(config.len(), 1);
    assert_eq!(config[0].path, "/opt/kubelet/custom-config.yaml");

    let components: Vec<(&str, u32)> = facts
        .processes
        .iter()
        .map(|p| (p.component.as_str(), p.pid))
        .collect();
    assert_eq!(components, [("kube-apiserver", 77), ("kubelet", 412)]);
    assert!(facts.absent.contains(&"etcd/pod-spec".to_owned()));
    assert!(!facts.absent.contains(&"kube-apiserver/pod-spec".to_owned()));
    assert!(facts.not_collected.is_empty(), "{:?}", facts.not_collected);
}

#[test]
fn node_collect_cli_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "/var/lib/kubelet/config.yaml", 0o600);
    let out = crate::common::posture_command(&["node-collect", "--root"])
        .arg(dir.path())
        .args(["--proc"])
        .arg(dir.path().join("no-proc"))
        .args(["--node-name", "worker-7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let facts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(facts["schema_version"], "1.0");
    assert_eq!(facts["node"], "worker-7");
    assert_eq!(facts["files"][0]["path"], "/var/lib/kubelet/config.yaml");
    assert_eq!(facts["files"][0]["mode"], "600");
    // A missing process table is reported, not fatal.
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning[not-collected]: processes"));
}

/// Every path a benchmark's file checks name is one node-collect looks for: before the list
/// came from the benchmarks, node-collect missed 32 of CIS 1.12's 79 paths.
#[test]
fn node_collect_looks_for_every_path_the_benchmarks_name() {
    use posture::benchmark::{node_role, Judgement, Registry};
    let candidates: Vec<(String, String)> = posture::collect::node::candidates()
        .into_iter()
        .map(|c| (c.role, c.path))
        .collect();
    let mut named = 0;
    for b in Registry::builtin().benchmarks() {
        for check in &b.checks {
            let Judgement::Files {
                component, spec, ..
            } = &check.judgement
            else {
                continue;
            };
            // Patterns (`/etc/kubernetes/pki/*.crt`) select files node-collect finds through
            // their directory.
            for path in spec.paths.iter().filter(|p| !p.contains('*')) {
                let wanted = (
                    node_role(*component, spec.kind),
                    path.trim_end_matches('/').to_owned(),
                );
                assert!(
                    candidates.contains(&wanted),
                    "{} {}: node-collect does not look for {wanted:?}",
                    b.benchmark,
                    check.id
                );
                named += 1;
            }
        }
    }
    assert!(named > 0, "the benchmarks name files");
}
