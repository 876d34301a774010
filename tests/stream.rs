//! Streaming a manifest scan (`scan::stream`): evaluating in chunks, reducing objects after
//! their chunk and reading files beyond the budget again must not change any output.

use crate::common::{evaluator, render_options, repo, shared_dir};
use posture::report::{self, Document, Format, Style};
use posture::scan::{self, ExceptionSource, Input, Judging, ScanReport, ScanRequest, Streaming};
use std::path::PathBuf;

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 1, 1)
}

fn request(paths: Vec<PathBuf>, streaming: Streaming, exceptions: &Exceptions) -> ScanRequest {
    ScanRequest {
        streaming,
        skip_fix_list: true,
        allow_empty: true,
        exceptions: match exceptions {
            Some(file) => ExceptionSource::File(file.clone()),
            None => ExceptionSource::None,
        },
        today: Some(today()),
        ..ScanRequest::new(Input::Manifests {
            paths,
            render: render_options(),
            skip_paths: Vec::new(),
        })
    }
}

/// A `.posture.yaml` whose exceptions the scans apply, if any.
type Exceptions = Option<PathBuf>;

/// The scan as it was before streaming: every object collected, evaluated at once and kept
/// whole to the end.
fn whole(paths: &[PathBuf], exceptions: &Exceptions) -> ScanReport {
    let collected = posture::collect::manifests::collect(paths, &render_options());
    let judging = Judging {
        today: Some(today()),
        skip_fix_list: true,
        exceptions: exceptions.as_deref().map_or_else(Vec::new, |file| {
            posture::exceptions::config::load_file(file).exceptions
        }),
        ..Judging::default()
    };
    scan::evaluate_manifests(evaluator(), collected, &judging)
}

fn streamed(request: &ScanRequest) -> ScanReport {
    scan::run(request, &posture::collect::cluster::Silent)
        .unwrap_or_else(|e| panic!("the scan runs: {e}"))
}

fn render(report: &ScanReport, format: Format) -> String {
    let mut out = Vec::new();
    report::write_document(format, Document::Scan(report), Style::default(), &mut out)
        .unwrap_or_else(|e| panic!("the report renders: {e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("reports are UTF-8: {e}"))
}

/// The defaults (every object whole until its chunk is evaluated at this size), every object
/// beyond the budget (every file read twice) in chunks of one object and of a few, and a
/// budget some files fit in, against the scan before streaming.
fn assert_same_output(paths: Vec<PathBuf>) {
    assert_same_output_with(paths, &None);
}

fn assert_same_output_with(paths: Vec<PathBuf>, exceptions: &Exceptions) {
    let tiny = [
        Streaming::default(),
        Streaming {
            whole_bytes: 0,
            chunk_objects: 1,
        },
        Streaming {
            whole_bytes: 0,
            chunk_objects: 7,
        },
        Streaming {
            whole_bytes: 20_000,
            chunk_objects: 3,
        },
    ];
    // The review's fix list is made from whole objects, so it is left out (as the CLI leaves
    // it out for every format but the reviews); the review's other parts are compared.
    let whole = whole(&paths, exceptions);
    for format in [Format::Json, Format::Markdown] {
        let whole = render(&whole, format);
        for streaming in &tiny {
            let streamed = render(
                &streamed(&request(paths.clone(), streaming.clone(), exceptions)),
                format,
            );
            // Compared by line first, so that a failure names the first line that differs.
            for (i, (a, b)) in whole.lines().zip(streamed.lines()).enumerate() {
                assert_eq!(a, b, "line {} differs with {streaming:?}", i + 1);
            }
            assert_eq!(
                whole, streamed,
                "{streaming:?} changed the {format:?} output"
            );
        }
    }
}

#[test]
fn streamed_scan_of_the_fixtures_reports_what_a_whole_scan_does() {
    assert_same_output(vec![repo().join("fixtures")]);
}

#[test]
fn streamed_scan_of_the_corpus_reports_what_a_whole_scan_does() {
    let Some(corpus) = shared_dir("corpus") else {
        return;
    };
    assert_same_output(vec![corpus]);
}

/// What the reduced form keeps of each kind (`scan::stream::reduce`) is all that attack paths
/// and exception selectors read: Ingresses of both shapes to their Services, host ports, a
/// workload calling a Service by its environment, RBAC, a token Secret, a NetworkPolicy, and
/// selectors by labels and by name, each object in a file of its own so that a small budget
/// keeps some whole and reduces the others.
#[test]
fn streamed_scan_keeps_what_attack_paths_and_exceptions_read() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
    let objects = [
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  labels: {team: shop}
  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /}
spec:
  ingressClassName: nginx
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  defaultBackend: {service: {name: web, port: {number: 80}}}
  rules:
    - host: shop.example.com
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
"#,
        r#"apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: legacy, namespace: shop}
spec:
  backend: {serviceName: api, servicePort: 8080}
  rules:
    - host: legacy.example.com
      http:
        paths:
          - {path: /, backend: {serviceName: web, servicePort: 80}}
"#,
        r#"apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {team: shop}}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"#,
        r#"apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  externalIPs: [203.0.113.7]
  ports: [{name: http, port: 8080}]
"#,
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {team: shop, app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: nginx:1.25
          ports: [{containerPort: 8080, protocol: TCP}, {containerPort: 9090, hostPort: 9090}]
          env:
            - {name: API_URL, value: "http://api.shop.svc:8080/v1"}
            - name: FROM_SECRET
              valueFrom: {secretKeyRef: {name: db, key: password}}
          securityContext: {privileged: true}
"#,
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, labels: {team: payments}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      automountServiceAccountToken: true
      containers:
        - name: api
          image: example.com/api:1.0
          command: [/api, --db, "postgres://db.data.svc:5432"]
          env: [{name: DB_PASSWORD, value: not-a-real-password}]
"#,
        r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop, annotations: {team: payments}}
automountServiceAccountToken: false
"#,
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: api-admin, labels: {team: payments}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: api, namespace: shop}]
"#,
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: shop}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
"#,
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web-reads-secrets, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects: [{kind: ServiceAccount, name: web, namespace: shop}]
"#,
        r#"apiVersion: v1
kind: Secret
metadata:
  name: api-token
  namespace: shop
  annotations: {kubernetes.io/service-account.name: api, note: rotated}
type: kubernetes.io/service-account-token
"#,
        r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"#,
    ];
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap_or_else(|e| panic!("a directory: {e}"));
    for (i, object) in objects.iter().enumerate() {
        std::fs::write(manifests.join(format!("{i:02}.yaml")), object)
            .unwrap_or_else(|e| panic!("a manifest is written: {e}"));
    }
    let config = dir.path().join("posture.yaml");
    std::fs::write(
        &config,
        "exceptions:\n  - rules: [\"*\"]\n    resources: [{labels: {team: shop}}]\n    \
         reason: the shop team's objects are reviewed elsewhere\n  - rules: [\"*\"]\n    \
         resources: [{kind: ClusterRoleBinding, name: api-admin}]\n    reason: reviewed\n",
    )
    .unwrap_or_else(|e| panic!("the config is written: {e}"));
    let exceptions = Some(config);
    // The test means something only if the whole scan finds paths and applies both selectors.
    let report = whole(std::slice::from_ref(&manifests), &exceptions);
    assert!(!report.attack_paths.is_empty(), "no attack path was found");
    let suppressed = |kind: &str| {
        report
            .suppressed
            .iter()
            .any(|s| s.finding.object.kind == kind)
    };
    assert!(suppressed("Deployment") && suppressed("ClusterRoleBinding"));
    assert_same_output_with(vec![manifests], &exceptions);
}
