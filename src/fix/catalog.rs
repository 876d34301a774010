//! Which findings `posture fix` can resolve, and how: per rule, the change that resolves it
//! and the conditions under which that change is safe, or why there is no safe change. A rule
//! not named here has no automatic fix.

use super::desired::Want;
use crate::finding::Finding;
use crate::resource::Segment;
use serde_json::{json, Value};

/// What the fix of one finding is.
pub type Decision = Result<Vec<Want>, String>;

/// Where a finding is: the pod spec of its object, and the container its path names.
struct Place<'a> {
    object: &'a Value,
    pod_spec: Vec<Segment>,
    /// `containers[i]` (or init/ephemeral), when the finding's path goes through one.
    container: Option<Vec<Segment>>,
}

impl Place<'_> {
    fn get(&self, path: &[Segment]) -> Option<&Value> {
        path.iter().try_fold(self.object, |v, s| match s {
            Segment::Key(k) => v.get(k.as_str()),
            Segment::Index(i) => v.get(i),
        })
    }

    fn container(&self) -> Result<&[Segment], String> {
        self.container
            .as_deref()
            .ok_or_else(|| "the finding names no container".to_owned())
    }

    fn container_value(&self) -> Option<&Value> {
        self.container.as_ref().and_then(|c| self.get(c))
    }

    fn pod_spec_value(&self) -> Option<&Value> {
        self.get(&self.pod_spec)
    }
}

fn key(k: &str) -> Segment {
    Segment::key(k)
}

fn under(base: &[Segment], rest: &[&str]) -> Vec<Segment> {
    base.iter()
        .cloned()
        .chain(rest.iter().map(|k| key(k)))
        .collect()
}

/// The path of the pod spec in an object of `kind`.
fn pod_spec_path(kind: &str) -> Option<Vec<Segment>> {
    crate::resource::pod_spec_path(kind).map(|keys| keys.iter().map(|k| key(k)).collect())
}

/// The container a path goes through: `<pod spec>.containers[i]` and the like.
fn container_of(path: &[Segment], pod_spec: &[Segment]) -> Option<Vec<Segment>> {
    let rest = path.strip_prefix(pod_spec)?;
    match rest {
        [Segment::Key(list), Segment::Index(i), ..]
            if matches!(
                list.as_str(),
                "containers" | "initContainers" | "ephemeralContainers"
            ) =>
        {
            Some(
                pod_spec
                    .iter()
                    .cloned()
                    .chain([Segment::key(list.as_str()), Segment::Index(*i)])
                    .collect(),
            )
        }
        _ => None,
    }
}

fn adds_capability(container: Option<&Value>, wanted: &[&str]) -> bool {
    container
        .and_then(|c| c.pointer("/securityContext/capabilities/add"))
        .and_then(Value::as_array)
        .is_some_and(|add| {
            add.iter().filter_map(Value::as_str).any(|c| {
                let c = c.trim_start_matches("CAP_").to_ascii_uppercase();
                wanted.contains(&c.as_str())
            })
        })
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

/// The fix for `finding` on `object`.
pub fn decide(finding: &Finding, object: &Value) -> Decision {
    if finding.rule_id == "PST-0105" {
        // A ServiceAccount of its own: not a workload.
        return Ok(vec![Want::Set {
            path: vec![key("automountServiceAccountToken")],
            value: json!(false),
        }]);
    }
    let pod_spec = pod_spec_path(&finding.object.kind)
        .ok_or_else(|| format!("posture has no fix for a {}", finding.object.kind))?;
    let place = Place {
        object,
        container: container_of(&finding.path.0, &pod_spec),
        pod_spec,
    };
    match finding.rule_id.as_str() {
        "PST-0021" => privilege_escalation(&place),
        "PST-0025" | "PST-0027" => drop_all(&place, &finding.rule_id),
        "PST-0022" => run_as_non_root(&place, &finding.path.0),
        "PST-0024" => seccomp(&place, &finding.path.0),
        "PST-0203" => read_only_root(&place),
        "PST-0106" => no_token(&place),
        "PST-0003" => Err(
            "a privileged container may need it (a CNI or storage driver); \
                           remove `privileged: true` yourself once you know it does not"
                .to_owned(),
        ),
        "PST-0200" | "PST-0515" => Err("pinning an image digest needs the registry's answer; \
                                        posture leaves it to you"
            .to_owned()),
        "PST-0201" | "PST-0202" => Err("posture does not know what this workload needs; \
                                        set requests and limits from its measured use"
            .to_owned()),
        "PST-0301" => Err(
            "resolved by the fixes that add a securityContext (PST-0021, \
                           PST-0025, PST-0024), not on its own"
                .to_owned(),
        ),
        other => Err(format!("{other} has no automatic fix")),
    }
}

fn privilege_escalation(place: &Place<'_>) -> Decision {
    let container = place.container()?;
    let c = place.container_value();
    if is_true(c.and_then(|c| c.pointer("/securityContext/privileged"))) {
        return Err(
            "the container is privileged, which always allows escalation; \
                    the API server rejects allowPrivilegeEscalation: false beside it"
                .to_owned(),
        );
    }
    if adds_capability(c, &["SYS_ADMIN", "ALL"]) {
        return Err(
            "the container adds SYS_ADMIN, which the API server does not allow \
                    beside allowPrivilegeEscalation: false"
                .to_owned(),
        );
    }
    Ok(vec![Want::Set {
        path: under(container, &["securityContext", "allowPrivilegeEscalation"]),
        value: json!(false),
    }])
}

fn drop_all(place: &Place<'_>, rule: &str) -> Decision {
    let container = place.container()?;
    let c = place.container_value();
    if rule == "PST-0027" && adds_capability(c, &["NET_RAW", "ALL"]) {
        return Err("the container adds NET_RAW itself; remove it from \
                    capabilities.add if it is not needed"
            .to_owned());
    }
    Ok(vec![Want::Contains {
        path: under(container, &["securityContext", "capabilities", "drop"]),
        item: json!("ALL"),
        key: None,
    }])
}

/// runAsNonRoot: true is safe only where the user the container runs as is known to be
/// non-root; otherwise the kubelet refuses to start an image whose user is root.
fn run_as_non_root(place: &Place<'_>, path: &[Segment]) -> Decision {
    let pod_user = place
        .pod_spec_value()
        .and_then(|p| p.pointer("/securityContext/runAsUser"))
        .and_then(Value::as_i64);
    let container_level = place.container.is_some();
    let user_of = |c: &Value| {
        c.pointer("/securityContext/runAsUser")
            .and_then(Value::as_i64)
            .or(pod_user)
    };
    if container_level {
        let container = place.container()?;
        return match place.container_value().and_then(user_of) {
            Some(uid) if uid > 0 => Ok(vec![Want::Set {
                path: under(container, &["securityContext", "runAsNonRoot"]),
                value: json!(true),
            }]),
            _ => Err(unknown_user()),
        };
    }
    // At pod level: every container must run as a known non-root user.
    let spec = place.pod_spec_value();
    let all_known = ["containers", "initContainers"].iter().all(|list| {
        spec.and_then(|s| s.get(*list))
            .and_then(Value::as_array)
            .is_none_or(|cs| cs.iter().all(|c| user_of(c).is_some_and(|uid| uid > 0)))
    });
    if !all_known {
        return Err(unknown_user());
    }
    let target = if path.ends_with(&[key("runAsNonRoot")]) {
        path.to_vec()
    } else {
        under(&place.pod_spec, &["securityContext", "runAsNonRoot"])
    };
    Ok(vec![Want::Set {
        path: target,
        value: json!(true),
    }])
}

fn unknown_user() -> String {
    "the user the image runs as is not known here; set runAsUser to a non-root UID the image \
     supports, then runAsNonRoot: true"
        .to_owned()
}

fn seccomp(place: &Place<'_>, path: &[Segment]) -> Decision {
    let base = match &place.container {
        Some(container) if path.starts_with(container) => container.clone(),
        _ => place.pod_spec.clone(),
    };
    let profile = place
        .get(&under(
            &base,
            &["securityContext", "seccompProfile", "type"],
        ))
        .and_then(Value::as_str);
    if let Some(profile) = profile {
        return Err(format!(
            "the seccomp profile is set to {profile}; posture does not overrule a profile \
             someone chose"
        ));
    }
    Ok(vec![Want::Set {
        path: under(&base, &["securityContext", "seccompProfile", "type"]),
        value: json!("RuntimeDefault"),
    }])
}

/// A read-only root filesystem, with an emptyDir at /tmp so that the usual scratch space
/// stays writable.
fn read_only_root(place: &Place<'_>) -> Decision {
    let container = place.container()?;
    let c = place.container_value();
    let mut wants = vec![Want::Set {
        path: under(container, &["securityContext", "readOnlyRootFilesystem"]),
        value: json!(true),
    }];
    let mounts_tmp = c
        .and_then(|c| c.get("volumeMounts"))
        .and_then(Value::as_array)
        .is_some_and(|m| {
            m.iter()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some("/tmp"))
        });
    if !mounts_tmp {
        let volumes = place
            .pod_spec_value()
            .and_then(|p| p.get("volumes"))
            .and_then(Value::as_array);
        let taken = |name: &str| {
            volumes.is_some_and(|v| {
                v.iter()
                    .any(|v| v.get("name").and_then(Value::as_str) == Some(name))
            })
        };
        let name = ["tmp", "posture-tmp"]
            .into_iter()
            .find(|n| !taken(n))
            .ok_or_else(|| "volumes named tmp and posture-tmp exist already".to_owned())?;
        wants.push(Want::Contains {
            path: under(container, &["volumeMounts"]),
            item: json!({"name": name, "mountPath": "/tmp"}),
            key: Some("mountPath"),
        });
        wants.push(Want::Contains {
            path: under(&place.pod_spec, &["volumes"]),
            item: json!({"name": name, "emptyDir": {}}),
            key: Some("name"),
        });
    }
    Ok(wants)
}

/// The pod needs no API token when it runs as the namespace's default ServiceAccount, which
/// holds no rights of its own; a pod that names an account of its own is left alone.
fn no_token(place: &Place<'_>) -> Decision {
    let spec = place.pod_spec_value();
    if is_true(spec.and_then(|s| s.get("automountServiceAccountToken"))) {
        return Err(
            "the pod asks for the token itself; something in it may call the API".to_owned(),
        );
    }
    let account = spec
        .and_then(|s| {
            s.get("serviceAccountName")
                .or_else(|| s.get("serviceAccount"))
        })
        .and_then(Value::as_str)
        .unwrap_or("default");
    if account != "default" {
        return Err(format!(
            "the pod runs as ServiceAccount '{account}', which may be meant to call the API"
        ));
    }
    Ok(vec![Want::Set {
        path: under(&place.pod_spec, &["automountServiceAccountToken"]),
        value: json!(false),
    }])
}
