//! Writes N mixed, realistic Kubernetes objects as multi-document YAML, for measuring scans.
//!
//! ```text
//! cargo run --release --example gen_manifests -- N OUT_DIR
//! ```
//!
//! The mix follows what a mid-sized cluster's manifests look like: about 40% workloads of every
//! kind (CronJobs always with init containers), 20% Services of every type, 15% RBAC, 10%
//! Ingresses, 5% NetworkPolicies and the rest ConfigMaps, ServiceAccounts and Secrets, spread
//! over about N/50 namespaces, 100 objects per file. Everything is derived from the object's
//! index, so the same N always writes byte-identical files. `benches/scan.rs` includes this file
//! as a module; it uses only std so that the bench needs no extra dependency.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Objects per generated file.
pub const OBJECTS_PER_FILE: usize = 100;

/// Average objects per namespace.
const OBJECTS_PER_NAMESPACE: usize = 50;

/// The generated manifests: `(file name, YAML text)`, about [`OBJECTS_PER_FILE`] objects each.
pub fn generate(n: usize) -> Vec<(String, String)> {
    let namespaces = n.div_ceil(OBJECTS_PER_NAMESPACE).max(1);
    let mut files = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + OBJECTS_PER_FILE).min(n);
        let mut text = String::with_capacity(OBJECTS_PER_FILE * 1500);
        for i in start..end {
            // Contiguous blocks: one team's objects sit together, as in a real repository.
            let ns = namespace_name(i * namespaces / n);
            if i > start {
                text.push_str("---\n");
            }
            object(&mut text, i, &ns);
        }
        files.push((format!("manifests-{:05}.yaml", files.len()), text));
        start = end;
    }
    files
}

/// Writes the manifests of [`generate`] into `dir` (created if missing); returns the file count.
pub fn write_dir(n: usize, dir: &Path) -> io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let files = generate(n);
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(files.len())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (n, out) = match args.as_slice() {
        [n, out] => match n.parse::<usize>() {
            Ok(n) => (n, Path::new(out)),
            Err(e) => exit_usage(&format!("N must be a number ({e})")),
        },
        _ => exit_usage("expected two arguments"),
    };
    match write_dir(n, out) {
        Ok(files) => eprintln!("wrote {n} objects in {files} files to {}", out.display()),
        Err(e) => {
            eprintln!("gen_manifests: cannot write {}: {e}", out.display());
            std::process::exit(1);
        }
    }
}

fn exit_usage(why: &str) -> ! {
    eprintln!("gen_manifests: {why}\nusage: gen_manifests N OUT_DIR");
    std::process::exit(2)
}

/// SplitMix64 over the object index: deterministic choices without a rand dependency.
struct Pick(u64);

impl Pick {
    fn new(index: usize, salt: u64) -> Self {
        Pick((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn one_of<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let _ = write!(s, "{:016x}", self.next());
        }
        s.truncate(len);
        s
    }
}

const TEAMS: [&str; 12] = [
    "payments", "checkout", "catalog", "identity", "search", "platform", "data", "ml", "mobile",
    "billing", "support", "growth",
];

const APPS: [&str; 16] = [
    "api",
    "web",
    "worker",
    "cart",
    "orders",
    "ledger",
    "auth",
    "inventory",
    "gateway",
    "mailer",
    "reports",
    "scheduler",
    "cache",
    "queue",
    "indexer",
    "frontend",
];

fn namespace_name(k: usize) -> String {
    format!("{}-{:03}", TEAMS[k % TEAMS.len()], k)
}

#[derive(Clone, Copy)]
enum Slot {
    Workload,
    Service,
    Rbac,
    Ingress,
    NetworkPolicy,
    Other,
}

/// One cycle of 20 objects: 8 workloads, 4 Services, 3 RBAC, 2 Ingresses, 1 NetworkPolicy and 2
/// others, interleaved the way files mixing kinds usually are.
const CYCLE: [Slot; 20] = {
    use Slot::*;
    [
        Workload,
        Service,
        Workload,
        Rbac,
        Workload,
        Ingress,
        Service,
        Workload,
        Other,
        Rbac,
        Workload,
        NetworkPolicy,
        Service,
        Workload,
        Rbac,
        Ingress,
        Workload,
        Service,
        Workload,
        Other,
    ]
};

/// Appends object number `i` (without a document separator) to `out`.
fn object(out: &mut String, i: usize, ns: &str) {
    let mut p = Pick::new(i, 0x05EE_D0FB_0575);
    let app = format!("{}-{i}", p.one_of(&APPS));
    let mut y = Yaml { out, depth: 0 };
    match CYCLE[i % CYCLE.len()] {
        Slot::Workload => workload(&mut y, &mut p, &app, ns),
        Slot::Service => service(&mut y, &mut p, &app, ns),
        Slot::Rbac => rbac(&mut y, &mut p, &app, ns),
        Slot::Ingress => ingress(&mut y, &mut p, &app, ns),
        Slot::NetworkPolicy => network_policy(&mut y, &mut p, &app, ns),
        Slot::Other => other(&mut y, &mut p, &app, ns),
    }
}

/// Indentation-aware line writer; `depth` counts two-space steps.
struct Yaml<'a> {
    out: &'a mut String,
    depth: usize,
}

impl Yaml<'_> {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// `key:` followed by a block indented one step.
    fn block(&mut self, key: &str, body: impl FnOnce(&mut Self)) {
        self.line(&format!("{key}:"));
        self.depth += 1;
        body(self);
        self.depth -= 1;
    }

    /// A sequence item whose first line is `- first`, the rest aligned under it.
    fn item(&mut self, first: &str, rest: impl FnOnce(&mut Self)) {
        self.line(&format!("- {first}"));
        self.depth += 1;
        rest(self);
        self.depth -= 1;
    }

    fn metadata(&mut self, name: &str, ns: Option<&str>, app: Option<&str>) {
        self.block("metadata", |y| {
            y.line(&format!("name: {name}"));
            if let Some(ns) = ns {
                y.line(&format!("namespace: {ns}"));
            }
            if let Some(app) = app {
                y.block("labels", |y| {
                    y.line(&format!("app.kubernetes.io/name: {app}"));
                    y.line("app.kubernetes.io/part-of: shop");
                });
            }
        });
    }
}

fn image(p: &mut Pick) -> String {
    match p.below(10) {
        0 => "nginx".to_owned(),
        1 => "nginx:latest".to_owned(),
        2 => "docker.io/library/redis:7.2.4-alpine".to_owned(),
        3 => format!("ghcr.io/acme/{}@sha256:{}", p.one_of(&APPS), p.hex(64)),
        4 => format!(
            "registry.acme.example/{}/{}:1.{}.{}@sha256:{}",
            p.one_of(&TEAMS),
            p.one_of(&APPS),
            p.below(30),
            p.below(10),
            p.hex(64)
        ),
        5 => "busybox".to_owned(),
        6 => format!("quay.io/acme/{}:v{}", p.one_of(&APPS), p.below(9) + 1),
        _ => format!(
            "acrshop.azurecr.io/{}/{}:2024.{:02}.{}",
            p.one_of(&TEAMS),
            p.one_of(&APPS),
            p.below(12) + 1,
            p.below(500)
        ),
    }
}

/// How carefully a container was hardened.
#[derive(Clone, Copy, PartialEq)]
enum Hardening {
    /// No securityContext at all (the most common case in the wild).
    None,
    /// Everything the restricted Pod Security profile asks for.
    Restricted,
    /// `privileged: true`.
    Privileged,
    /// Runs as root with added capabilities.
    RootWithCaps,
    /// Half done: non-root but escalation allowed and a writable root filesystem.
    Partial,
}

fn hardening(p: &mut Pick) -> Hardening {
    match p.below(20) {
        0..=6 => Hardening::None,
        7..=12 => Hardening::Restricted,
        13..=14 => Hardening::Privileged,
        15..=16 => Hardening::RootWithCaps,
        _ => Hardening::Partial,
    }
}

fn container(y: &mut Yaml, p: &mut Pick, name: &str, h: Hardening, init: bool) {
    let img = image(p);
    y.item(&format!("name: {name}"), |y| {
        y.line(&format!("image: {img}"));
        if p.chance(40) {
            y.line(&format!(
                "imagePullPolicy: {}",
                p.one_of(&["Always", "IfNotPresent"])
            ));
        }
        if init {
            y.line("command: [\"sh\", \"-c\", \"until nc -z db 5432; do sleep 2; done\"]");
        } else {
            let port = *p.one_of(&[80, 8080, 3000, 9090, 5432]);
            y.block("ports", |y| {
                y.item(&format!("containerPort: {port}"), |y| {
                    y.line("protocol: TCP");
                    if p.chance(10) {
                        y.line(&format!("hostPort: {port}"));
                    }
                });
            });
        }
        if p.chance(60) {
            y.block("env", |y| {
                y.item("name: LOG_LEVEL", |y| y.line("value: info"));
                match p.below(3) {
                    0 => y.item("name: DB_PASSWORD", |y| {
                        y.block("valueFrom", |y| {
                            y.block("secretKeyRef", |y| {
                                y.line(&format!("name: {name}-db"));
                                y.line("key: password");
                            })
                        })
                    }),
                    // A credential written straight into the manifest: a fake one.
                    1 => y.item("name: API_TOKEN", |y| {
                        y.line("value: \"fake-token-0000-not-real\"")
                    }),
                    _ => y.item("name: POD_NAME", |y| {
                        y.block("valueFrom", |y| {
                            y.block("fieldRef", |y| y.line("fieldPath: metadata.name"))
                        })
                    }),
                }
            });
        }
        if p.chance(15) {
            y.block("envFrom", |y| {
                y.item("secretRef:", |y| {
                    y.depth += 1;
                    y.line(&format!("name: {name}-env"));
                    y.depth -= 1;
                })
            });
        }
        match h {
            Hardening::None => {}
            Hardening::Restricted => y.block("securityContext", |y| {
                y.line("runAsNonRoot: true");
                y.line("runAsUser: 10001");
                y.line("allowPrivilegeEscalation: false");
                y.line("readOnlyRootFilesystem: true");
                y.block("capabilities", |y| y.line("drop: [\"ALL\"]"));
                y.block("seccompProfile", |y| y.line("type: RuntimeDefault"));
            }),
            Hardening::Privileged => y.block("securityContext", |y| {
                y.line("privileged: true");
                if p.chance(50) {
                    y.line("allowPrivilegeEscalation: true");
                }
            }),
            Hardening::RootWithCaps => y.block("securityContext", |y| {
                y.line("runAsUser: 0");
                y.block("capabilities", |y| {
                    y.line(&format!(
                        "add: [{}]",
                        p.one_of(&["NET_ADMIN", "SYS_ADMIN", "\"NET_RAW\", \"SYS_PTRACE\""])
                    ))
                });
            }),
            Hardening::Partial => y.block("securityContext", |y| {
                y.line("runAsNonRoot: true");
                y.line("allowPrivilegeEscalation: true");
                y.line("readOnlyRootFilesystem: false");
            }),
        }
        if p.chance(if h == Hardening::Restricted { 90 } else { 50 }) {
            y.block("resources", |y| {
                y.block("requests", |y| {
                    y.line(&format!("cpu: {}m", 50 * (p.below(10) + 1)));
                    y.line(&format!("memory: {}Mi", 64 * (p.below(8) + 1)));
                });
                if p.chance(70) {
                    y.block("limits", |y| {
                        y.line(&format!("cpu: {}m", 500 * (p.below(4) + 1)));
                        y.line(&format!("memory: {}Mi", 256 * (p.below(8) + 1)));
                    });
                }
            });
        }
        if !init && p.chance(50) {
            for probe in ["readinessProbe", "livenessProbe"] {
                y.block(probe, |y| {
                    y.block("httpGet", |y| {
                        y.line("path: /healthz");
                        y.line("port: 8080");
                    });
                    y.line("periodSeconds: 10");
                });
            }
        }
        y.block("volumeMounts", |y| {
            y.item("name: tmp", |y| y.line("mountPath: /tmp"));
            if h == Hardening::Privileged {
                y.item("name: host", |y| y.line("mountPath: /host"));
            }
        });
    });
}

/// The pod spec of a workload, written at the current depth.
fn pod_spec(y: &mut Yaml, p: &mut Pick, app: &str, kind: &str) {
    let h = hardening(p);
    let batch = matches!(kind, "Job" | "CronJob");
    if p.chance(70) {
        y.line(&format!("serviceAccountName: {app}"));
    }
    if p.chance(30) || h == Hardening::Restricted {
        y.line("automountServiceAccountToken: false");
    }
    if h == Hardening::Privileged || (kind == "DaemonSet" && p.chance(50)) {
        y.line("hostNetwork: true");
        if p.chance(40) {
            y.line("hostPID: true");
        }
    }
    if batch {
        y.line(&format!(
            "restartPolicy: {}",
            p.one_of(&["OnFailure", "Never"])
        ));
    }
    if h == Hardening::Restricted {
        y.block("securityContext", |y| {
            y.line("runAsNonRoot: true");
            y.line("fsGroup: 10001");
            y.block("seccompProfile", |y| y.line("type: RuntimeDefault"));
        });
    } else if p.chance(20) {
        y.block("securityContext", |y| y.line("fsGroup: 2000"));
    }
    if kind == "CronJob" || p.chance(20) {
        y.block("initContainers", |y| {
            let h = hardening(p);
            container(y, p, "wait-for-db", h, true)
        });
    }
    y.block("containers", |y| {
        container(y, p, app, h, false);
        if p.chance(25) {
            let h = hardening(p);
            container(y, p, "log-shipper", h, false);
        }
    });
    y.block("volumes", |y| {
        y.item("name: tmp", |y| y.line("emptyDir: {}"));
        if h == Hardening::Privileged {
            y.item("name: host", |y| {
                y.block("hostPath", |y| {
                    y.line(&format!(
                        "path: {}",
                        p.one_of(&["/", "/var/run/docker.sock", "/var/log", "/etc"])
                    ));
                })
            });
        }
    });
}

fn pod_template(y: &mut Yaml, p: &mut Pick, app: &str, kind: &str) {
    y.block("template", |y| {
        y.block("metadata", |y| {
            y.block("labels", |y| {
                y.line(&format!("app.kubernetes.io/name: {app}"))
            });
            if p.chance(10) {
                y.block("annotations", |y| {
                    y.line(&format!(
                        "container.apparmor.security.beta.kubernetes.io/{app}: unconfined"
                    ))
                });
            }
        });
        y.block("spec", |y| pod_spec(y, p, app, kind));
    });
}

fn selector(y: &mut Yaml, app: &str) {
    y.block("selector", |y| {
        y.block("matchLabels", |y| {
            y.line(&format!("app.kubernetes.io/name: {app}"))
        })
    });
}

fn workload(y: &mut Yaml, p: &mut Pick, app: &str, ns: &str) {
    let kind = match p.below(20) {
        0..=6 => "Deployment",
        7..=9 => "StatefulSet",
        10..=11 => "DaemonSet",
        12..=13 => "Job",
        14..=16 => "CronJob",
        17..=18 => "Pod",
        _ => "ReplicaSet",
    };
    let api = match kind {
        "Pod" => "v1",
        "Job" | "CronJob" => "batch/v1",
        _ => "apps/v1",
    };
    y.line(&format!("apiVersion: {api}"));
    y.line(&format!("kind: {kind}"));
    y.metadata(app, Some(ns), Some(app));
    y.block("spec", |y| match kind {
        "Pod" => pod_spec(y, p, app, kind),
        "CronJob" => {
            y.line(&format!("schedule: \"{} */6 * * *\"", p.below(60)));
            y.line("concurrencyPolicy: Forbid");
            y.block("jobTemplate", |y| {
                y.block("spec", |y| {
                    y.line("backoffLimit: 2");
                    pod_template(y, p, app, kind);
                })
            });
        }
        "Job" => {
            y.line("backoffLimit: 4");
            pod_template(y, p, app, kind);
        }
        _ => {
            if kind != "DaemonSet" {
                y.line(&format!("replicas: {}", p.below(5) + 1));
            }
            if kind == "StatefulSet" {
                y.line(&format!("serviceName: {app}"));
            }
            selector(y, app);
            pod_template(y, p, app, kind);
        }
    });
}

fn service(y: &mut Yaml, p: &mut Pick, app: &str, ns: &str) {
    let kind = *p.one_of(&[
        "ClusterIP",
        "ClusterIP",
        "ClusterIP",
        "Headless",
        "NodePort",
        "LoadBalancer",
        "ExternalName",
    ]);
    y.line("apiVersion: v1");
    y.line("kind: Service");
    y.metadata(app, Some(ns), Some(app));
    y.block("spec", |y| {
        if kind == "ExternalName" {
            y.line("type: ExternalName");
            y.line(&format!("externalName: {app}.db.acme.example"));
            return;
        }
        if kind == "Headless" {
            y.line("clusterIP: None");
        } else {
            y.line(&format!("type: {kind}"));
        }
        if kind == "LoadBalancer" && p.chance(50) {
            y.line("loadBalancerSourceRanges: [\"0.0.0.0/0\"]");
        }
        y.block("selector", |y| {
            y.line(&format!("app.kubernetes.io/name: {app}"))
        });
        y.block("ports", |y| {
            y.item("name: http", |y| {
                y.line("port: 80");
                y.line("targetPort: 8080");
                y.line("protocol: TCP");
                if kind == "NodePort" {
                    y.line(&format!("nodePort: {}", 30000 + p.below(2768)));
                }
            });
        });
    });
}

fn rbac(y: &mut Yaml, p: &mut Pick, app: &str, ns: &str) {
    let cluster = p.chance(40);
    let binding = p.chance(50);
    let prefix = if cluster { "Cluster" } else { "" };
    let ns = (!cluster).then_some(ns);
    y.line("apiVersion: rbac.authorization.k8s.io/v1");
    if binding {
        y.line(&format!("kind: {prefix}RoleBinding"));
        y.metadata(&format!("{app}-binding"), ns, None);
        y.block("roleRef", |y| {
            y.line("apiGroup: rbac.authorization.k8s.io");
            match p.below(6) {
                0 => {
                    y.line("kind: ClusterRole");
                    y.line("name: cluster-admin");
                }
                1 => {
                    y.line("kind: ClusterRole");
                    y.line("name: edit");
                }
                _ => {
                    y.line(&format!("kind: {prefix}Role"));
                    y.line(&format!("name: {app}"));
                }
            }
        });
        y.block("subjects", |y| {
            match p.below(5) {
                0 => y.item("kind: Group", |y| {
                    y.line("apiGroup: rbac.authorization.k8s.io");
                    y.line("name: system:authenticated");
                }),
                1 => y.item("kind: User", |y| {
                    y.line("apiGroup: rbac.authorization.k8s.io");
                    y.line("name: jane@acme.example");
                }),
                _ => y.item("kind: ServiceAccount", |y| {
                    y.line(&format!("name: {app}"));
                    y.line(&format!("namespace: {}", ns.unwrap_or("kube-system")));
                }),
            }
            if p.chance(20) {
                y.item("kind: ServiceAccount", |y| {
                    y.line("name: default");
                    y.line(&format!("namespace: {}", ns.unwrap_or("default")));
                });
            }
        });
    } else {
        y.line(&format!("kind: {prefix}Role"));
        y.metadata(app, ns, None);
        y.block("rules", |y| match p.below(6) {
            0 => y.item("apiGroups: [\"*\"]", |y| {
                y.line("resources: [\"*\"]");
                y.line("verbs: [\"*\"]");
            }),
            1 => y.item("apiGroups: [\"\"]", |y| {
                y.line("resources: [\"secrets\"]");
                y.line("verbs: [\"get\", \"list\", \"watch\"]");
            }),
            2 => {
                y.item("apiGroups: [\"\"]", |y| {
                    y.line("resources: [\"pods/exec\", \"pods/attach\"]");
                    y.line("verbs: [\"create\"]");
                });
                y.item("apiGroups: [\"rbac.authorization.k8s.io\"]", |y| {
                    y.line("resources: [\"clusterroles\"]");
                    y.line("verbs: [\"bind\", \"escalate\"]");
                });
            }
            _ => {
                y.item("apiGroups: [\"\"]", |y| {
                    y.line("resources: [\"configmaps\", \"pods\"]");
                    y.line("verbs: [\"get\", \"list\", \"watch\"]");
                });
                y.item("apiGroups: [\"apps\"]", |y| {
                    y.line("resources: [\"deployments\"]");
                    y.line(&format!("resourceNames: [\"{app}\"]"));
                    y.line("verbs: [\"get\", \"patch\"]");
                });
            }
        });
    }
}

fn ingress(y: &mut Yaml, p: &mut Pick, app: &str, ns: &str) {
    let host = format!("{app}.{ns}.acme.example");
    y.line("apiVersion: networking.k8s.io/v1");
    y.line("kind: Ingress");
    y.block("metadata", |y| {
        y.line(&format!("name: {app}"));
        y.line(&format!("namespace: {ns}"));
        y.block("annotations", |y| {
            y.line("cert-manager.io/cluster-issuer: letsencrypt");
            if p.chance(15) {
                y.line("nginx.ingress.kubernetes.io/configuration-snippet: |");
                y.line("  more_set_headers \"X-Frame-Options: DENY\";");
            }
            if p.chance(20) {
                y.line("nginx.ingress.kubernetes.io/ssl-redirect: \"false\"");
            }
        });
    });
    y.block("spec", |y| {
        y.line(&format!(
            "ingressClassName: {}",
            p.one_of(&["nginx", "nginx", "traefik"])
        ));
        if p.chance(60) {
            y.block("tls", |y| {
                y.item("hosts:", |y| {
                    y.line(&format!("  - {host}"));
                    y.line(&format!("secretName: {app}-tls"));
                })
            });
        }
        y.block("rules", |y| {
            y.item(&format!("host: {host}"), |y| {
                y.block("http", |y| {
                    y.block("paths", |y| {
                        y.item("path: /", |y| {
                            y.line("pathType: Prefix");
                            y.block("backend", |y| {
                                y.block("service", |y| {
                                    y.line(&format!("name: {app}"));
                                    y.block("port", |y| y.line("number: 80"));
                                })
                            });
                        })
                    })
                })
            })
        });
    });
}

fn network_policy(y: &mut Yaml, p: &mut Pick, app: &str, ns: &str) {
    y.line("apiVersion: networking.k8s.io/v1");
    y.line("kind: NetworkPolicy");
    match p.below(3) {
        0 => {
            y.metadata("default-deny", Some(ns), None);
            y.block("spec", |y| {
                y.line("podSelector: {}");
                y.line("policyTypes: [\"Ingress\", \"Egress\"]");
            });
        }
        1 => {
            y.metadata(&format!("{app}-from-gateway"), Some(ns), None);
            y.block("spec", |y| {
                y.block("podSelector", |y| {
                    y.block("matchLabels", |y| {
                        y.line(&format!("app.kubernetes.io/name: {app}"))
                    })
                });
                y.line("policyTypes: [\"Ingress\"]");
                y.block("ingress", |y| {
                    y.item("from:", |y| {
                        y.item("namespaceSelector:", |y| {
                            y.depth += 1;
                            y.block("matchLabels", |y| {
                                y.line("kubernetes.io/metadata.name: ingress-nginx")
                            });
                            y.depth -= 1;
                        });
                        y.block("ports", |y| {
                            y.item("port: 8080", |y| y.line("protocol: TCP"))
                        });
                    })
                });
            });
        }
        _ => {
            y.metadata("allow-all-egress", Some(ns), None);
            y.block("spec", |y| {
                y.line("podSelector: {}");
                y.line("policyTypes: [\"Egress\"]");
                y.line("egress: [{}]");
            });
        }
    }
}

fn other(y: &mut Yaml, p: &mut Pick, app: &str, ns: &str) {
    match p.below(3) {
        0 => {
            y.line("apiVersion: v1");
            y.line("kind: ConfigMap");
            y.metadata(&format!("{app}-config"), Some(ns), Some(app));
            y.block("data", |y| {
                y.line("LOG_LEVEL: info");
                y.line(&format!(
                    "UPSTREAM_URL: http://{app}.{ns}.svc.cluster.local"
                ));
                y.line("app.properties: |");
                y.line("  feature.flags=checkout-v2,search-v3");
                y.line(&format!("  cache.ttl={}", 30 * (p.below(10) + 1)));
            });
        }
        1 => {
            y.line("apiVersion: v1");
            y.line("kind: ServiceAccount");
            y.metadata(app, Some(ns), Some(app));
            if p.chance(50) {
                y.line("automountServiceAccountToken: false");
            }
        }
        _ => {
            y.line("apiVersion: v1");
            y.line("kind: Secret");
            y.metadata(&format!("{app}-db"), Some(ns), Some(app));
            y.line("type: Opaque");
            // Fake credentials: "fake-user" / "fake-password-not-real".
            y.block("data", |y| {
                y.line("username: ZmFrZS11c2Vy");
                y.line("password: ZmFrZS1wYXNzd29yZC1ub3QtcmVhbA==");
            });
            if p.chance(30) {
                y.block("stringData", |y| y.line("api-key: fake-api-key-not-real"));
            }
        }
    }
}
