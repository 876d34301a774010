//! File checks (CIS 1.1, 4.1; AKS and EKS 3.1) against the modes and owners node facts record.

use crate::benchmark::{Component, FileKind, FileSpec};
use crate::snapshot::{FileFact, NodeFacts};

/// The verdict on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileVerdict {
    Pass {
        checked: Vec<String>,
    },
    /// Each offending file, described: `/etc/kubernetes/admin.conf is mode 644`.
    Fail {
        offending: Vec<String>,
    },
    /// None of the files exists on this node (a worker has no API server manifest).
    Absent,
}

/// The node-facts role that carries a component's files of `kind`, when node-collect gathers
/// them under one (it also adds files named by the component's flags to that role).
fn role(component: Component, kind: FileKind) -> Option<&'static [&'static str]> {
    Some(match (component, kind) {
        (Component::KubeApiserver, FileKind::PodSpec) => &["kube-apiserver/pod-spec"],
        (Component::KubeControllerManager, FileKind::PodSpec) => {
            &["kube-controller-manager/pod-spec"]
        }
        (Component::KubeScheduler, FileKind::PodSpec) => &["kube-scheduler/pod-spec"],
        (Component::Etcd, FileKind::PodSpec) => &["etcd/pod-spec"],
        (Component::Etcd, FileKind::DataDir) => &["etcd/data-dir"],
        (Component::Admin, FileKind::Kubeconfig) => &["admin/kubeconfig"],
        (Component::KubeScheduler, FileKind::Kubeconfig) => &["kube-scheduler/kubeconfig"],
        (Component::KubeControllerManager, FileKind::Kubeconfig) => {
            &["kube-controller-manager/kubeconfig"]
        }
        (Component::Pki, FileKind::PkiDir) => &["pki/directory", "pki/certificate", "pki/key"],
        (Component::Pki, FileKind::PkiCert) => &["pki/certificate"],
        (Component::Pki, FileKind::PkiKey) => &["pki/key"],
        (Component::Kubelet, FileKind::ServiceFile) => &["kubelet/service-file"],
        (Component::Kubelet, FileKind::Kubeconfig) => &["kubelet/kubeconfig"],
        (Component::Kubelet, FileKind::Config) => &["kubelet/config"],
        (Component::Kubelet, FileKind::CloudConfig) => &["kubelet/cloud-config"],
        (Component::Kubelet, FileKind::PkiCert) => &["kubelet/client-ca"],
        (Component::KubeProxy, FileKind::Kubeconfig) => &["kube-proxy/kubeconfig"],
        (Component::Cni, FileKind::Cni) => &["cni/config"],
        _ => return None,
    })
}

/// Whether `fact` is one of the files `spec` is about: one of its paths, inside one of its
/// directories, or a file node-collect filed under the matching role (which includes files
/// found through the component's flags, such as a kubelet's non-standard `--config`).
fn concerns(component: Component, spec: &FileSpec, fact: &FileFact) -> bool {
    let directory_kind = matches!(
        spec.kind,
        FileKind::PkiDir | FileKind::DataDir | FileKind::Cni
    );
    let by_path = spec.paths.iter().any(|p| {
        if let Some(pattern) = glob(p) {
            return pattern.matches(&fact.path);
        }
        let p = p.trim_end_matches("/*");
        fact.path == p || (directory_kind && fact.path.starts_with(&format!("{p}/")))
    });
    by_path || role(component, spec.kind).is_some_and(|roles| roles.contains(&fact.role.as_str()))
}

/// A path pattern `dir/*suffix` (`/etc/kubernetes/pki/*.crt`): the files directly in `dir`
/// whose names end in `suffix`. node-collect gathers them through the directory they are in.
struct Glob<'a> {
    dir: &'a str,
    suffix: &'a str,
}

impl Glob<'_> {
    fn matches(&self, path: &str) -> bool {
        path.rsplit_once('/')
            .is_some_and(|(dir, name)| dir == self.dir && name.ends_with(self.suffix))
    }
}

fn glob(path: &str) -> Option<Glob<'_>> {
    let (dir, name) = path.rsplit_once('/')?;
    let suffix = name.strip_prefix('*')?;
    (!suffix.contains('*') && !dir.contains('*')).then_some(Glob { dir, suffix })
}

/// Judges `spec` on one node's facts.
pub fn judge(component: Component, spec: &FileSpec, facts: &NodeFacts) -> FileVerdict {
    let mut files: Vec<&FileFact> = facts
        .files
        .iter()
        .filter(|f| concerns(component, spec, f))
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    if files.is_empty() {
        return FileVerdict::Absent;
    }
    let allowed = spec
        .mode
        .as_deref()
        .and_then(|m| u32::from_str_radix(m, 8).ok());
    let mut offending = Vec::new();
    for f in &files {
        let mut wrong = Vec::new();
        // A CNI directory needs its search bit; the files in it are what 600 is about.
        let mode_applies = !(spec.kind == FileKind::Cni && f.file_type == "directory");
        if let (Some(allowed), Ok(mode), true) =
            (allowed, u32::from_str_radix(&f.mode, 8), mode_applies)
        {
            // Only the permission bits: setuid, setgid and sticky are not "more permissive".
            if mode & 0o777 & !allowed != 0 {
                wrong.push(format!("mode {}", f.mode));
            }
        }
        if let Some(owner) = &spec.owner {
            let actual = format!(
                "{}:{}",
                f.owner.clone().unwrap_or_else(|| f.uid.to_string()),
                f.group.clone().unwrap_or_else(|| f.gid.to_string())
            );
            if &actual != owner {
                wrong.push(format!("owned by {actual}"));
            }
        }
        if !wrong.is_empty() {
            offending.push(format!("{} is {}", f.path, wrong.join(" and ")));
        }
    }
    if offending.is_empty() {
        FileVerdict::Pass {
            checked: files.iter().map(|f| f.path.clone()).collect(),
        }
    } else {
        FileVerdict::Fail { offending }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(role: &str, path: &str, mode: &str, owner: &str) -> FileFact {
        FileFact {
            role: role.to_owned(),
            path: path.to_owned(),
            file_type: "file".to_owned(),
            mode: mode.to_owned(),
            uid: 0,
            gid: 0,
            owner: Some(owner.to_owned()),
            group: Some(owner.to_owned()),
            link_target: None,
        }
    }

    fn facts(files: Vec<FileFact>) -> NodeFacts {
        NodeFacts {
            schema_version: "1.0".to_owned(),
            kind: "NodeFacts".to_owned(),
            node: "n".to_owned(),
            collected_at: String::new(),
            files,
            absent: vec![],
            processes: vec![],
            not_collected: vec![],
        }
    }

    #[test]
    fn stricter_modes_pass_and_wider_ones_fail() {
        let spec = FileSpec {
            kind: FileKind::Kubeconfig,
            paths: vec!["/etc/kubernetes/admin.conf".to_owned()],
            mode: Some("600".to_owned()),
            owner: Some("root:root".to_owned()),
        };
        let ok = facts(vec![fact(
            "admin/kubeconfig",
            "/etc/kubernetes/admin.conf",
            "400",
            "root",
        )]);
        assert!(matches!(
            judge(Component::Admin, &spec, &ok),
            FileVerdict::Pass { .. }
        ));
        let bad = facts(vec![fact(
            "admin/kubeconfig",
            "/etc/kubernetes/admin.conf",
            "640",
            "nobody",
        )]);
        assert_eq!(
            judge(Component::Admin, &spec, &bad),
            FileVerdict::Fail {
                offending: vec![
                    "/etc/kubernetes/admin.conf is mode 640 and owned by nobody:nobody".to_owned()
                ]
            }
        );
        assert_eq!(
            judge(Component::Admin, &spec, &facts(vec![])),
            FileVerdict::Absent
        );
    }

    #[test]
    fn a_file_named_by_a_flag_counts_under_its_role() {
        let spec = FileSpec {
            kind: FileKind::Config,
            paths: vec!["/var/lib/kubelet/config.yaml".to_owned()],
            mode: Some("600".to_owned()),
            owner: None,
        };
        let custom = facts(vec![fact(
            "kubelet/config",
            "/opt/kubelet.yaml",
            "644",
            "root",
        )]);
        assert!(matches!(
            judge(Component::Kubelet, &spec, &custom),
            FileVerdict::Fail { .. }
        ));
    }
}
