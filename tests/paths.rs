//! Attack paths (issue 18): the routes a reviewer would name on the ratings app and the lab
//! cluster, explained step by step, cut by a NetworkPolicy that isolates the workload, and
//! shown in JSON and in SARIF as code flows that pass the validator.

use crate::common::{repo, scan_paths};
use crate::formats::{cluster, ratings};
use crate::report::{assert_valid_sarif, render};
use posture::paths::{AttackPath, Edge, Jewel};
use posture::report::Format;

fn kinds(p: &AttackPath) -> Vec<(Edge, String)> {
    p.steps
        .iter()
        .map(|s| (s.edge, format!("{}/{}", s.object.kind, s.object.name)))
        .collect()
}

fn find<'a>(paths: &'a [AttackPath], title: &str) -> &'a AttackPath {
    paths
        .iter()
        .find(|p| p.title.contains(title))
        .unwrap_or_else(|| {
            let titles: Vec<&str> = paths.iter().map(|p| p.title.as_str()).collect();
            panic!("no path titled like {title:?} among {titles:#?}")
        })
}

#[test]
fn ratings_public_ingress_reaches_the_api_credentials_through_the_web_front_end() {
    let report = ratings();
    let p = find(
        &report.attack_paths,
        "Ingress 'ratingsapp/ratings-web-ingress' → the credentials held by Deployment 'ratingsapp/ratings-api'",
    );
    assert_eq!(
        kinds(p),
        [
            (Edge::Exposes, "Ingress/ratings-web-ingress".to_owned()),
            (Edge::RoutesTo, "Service/ratings-web".to_owned()),
            (Edge::Selects, "Deployment/ratings-web".to_owned()),
            (Edge::Calls, "Service/ratings-api".to_owned()),
            (Edge::Selects, "Deployment/ratings-api".to_owned()),
            (Edge::HoldsCredentials, "Deployment/ratings-api".to_owned()),
        ]
    );
    assert_eq!((p.score.exposure, p.score.impact, p.score.value), (3, 3, 9));
    assert!(p.steps[2].explanation.contains("no NetworkPolicy isolates"));
    assert!(p.steps[3].explanation.contains("env API"));
    let creds = &p.steps[5];
    assert!(creds
        .evidence
        .iter()
        .any(|e| e.rule_id.as_deref() == Some("PST-0300")));
    assert!(
        creds.explanation.contains("MONGODB_URI"),
        "{}",
        creds.explanation
    );
    // The token the pods mount is named where the path reaches the API.
    assert!(p.steps[4]
        .explanation
        .contains("ServiceAccount token is mounted"));
    assert!(p.steps.iter().all(|s| !s.explanation.is_empty()));
}

#[test]
fn a_network_policy_that_isolates_the_api_cuts_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("netpol.yaml");
    // Only an admin app's pods may reach ratings-api: not the front end.
    std::fs::write(
        &policy,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: api-isolated\n  \
         namespace: ratingsapp\nspec:\n  podSelector:\n    matchLabels:\n      app: ratings-api\n  \
         policyTypes: [Ingress]\n  ingress:\n    - from:\n        - podSelector:\n            \
         matchLabels:\n              app: ratings-admin\n",
    )
    .unwrap();
    let fixtures = repo().join("fixtures/ratings");
    let report = scan_paths(&[fixtures.as_path(), policy.as_path()]);
    assert!(
        report
            .attack_paths
            .iter()
            .all(|p| p.jewel != Jewel::Credentials),
        "{:#?}",
        report
            .attack_paths
            .iter()
            .map(|p| &p.title)
            .collect::<Vec<_>>()
    );
    // Admitting the front end restores it.
    std::fs::write(
        &policy,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: api-from-web\n  \
         namespace: ratingsapp\nspec:\n  podSelector:\n    matchLabels:\n      app: ratings-api\n  \
         ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              \
         app: ratings-web\n",
    )
    .unwrap();
    let report = scan_paths(&[fixtures.as_path(), policy.as_path()]);
    let p = find(
        &report.attack_paths,
        "credentials held by Deployment 'ratingsapp/ratings-api'",
    );
    assert!(p.steps[4]
        .explanation
        .contains("a NetworkPolicy selects its pods but admits"));
}

#[test]
fn lab_paths_are_the_ones_a_reviewer_names() {
    let report = cluster();
    let titles: Vec<&str> = report
        .attack_paths
        .iter()
        .map(|p| p.title.as_str())
        .collect();
    // The internet-facing ingress controller's account reads every Secret.
    let nginx = find(
        &report.attack_paths,
        "Service 'ingress/nginx-ingress-ingress-nginx-controller' → every Secret in the cluster",
    );
    assert_eq!(nginx.score.value, 12);
    assert_eq!(
        nginx.steps.iter().map(|s| s.edge).collect::<Vec<_>>(),
        [Edge::Exposes, Edge::Selects, Edge::RunsAs, Edge::GrantedBy]
    );
    assert!(nginx.steps[1]
        .evidence
        .iter()
        .any(|e| e.rule_id.as_deref() == Some("PST-0043")));
    // The privileged debug pod with the host's filesystem sits on the host network.
    let debug = find(&report.attack_paths, "Pod 'default/node-debugger-");
    assert_eq!(debug.jewel, Jewel::Nodes);
    let escape = debug.steps.last().unwrap();
    assert_eq!(escape.edge, Edge::EscapesToNode);
    for rule in ["PST-0003", "PST-0007"] {
        assert!(
            escape
                .evidence
                .iter()
                .any(|e| e.rule_id.as_deref() == Some(rule)),
            "{rule}"
        );
    }
    // The public ratings app, as in its manifests.
    find(
        &report.attack_paths,
        "the credentials held by Deployment 'ratingsapp/ratings-api'",
    );
    // Platform pods (kube-proxy, CSI, static control-plane pods) are privileged by design.
    assert!(
        titles.iter().all(|t| !t.contains("kube-system")),
        "{titles:#?}"
    );
    // Best first.
    assert!(report
        .attack_paths
        .windows(2)
        .all(|w| w[0].score.value >= w[1].score.value));
}

#[test]
fn a_long_lived_token_of_a_cluster_admin_account_is_a_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deployer.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: deployer\n  namespace: ci\n---\n\
         apiVersion: v1\nkind: Secret\nmetadata:\n  name: deployer-token\n  namespace: ci\n  \
         annotations:\n    kubernetes.io/service-account.name: deployer\n\
         type: kubernetes.io/service-account-token\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  \
         name: deployer-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  \
         name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: deployer\n    namespace: ci\n",
    )
    .unwrap();
    let report = scan_paths(&[file.as_path()]);
    let p = find(
        &report.attack_paths,
        "Secret 'ci/deployer-token' → cluster-admin",
    );
    assert_eq!(
        p.steps.iter().map(|s| s.edge).collect::<Vec<_>>(),
        [Edge::LeaksToken, Edge::GrantedBy]
    );
    assert_eq!(p.score.value, 5);
}

#[test]
fn paths_are_in_json_and_in_sarif_as_code_flows_that_pass_the_validator() {
    // Cluster objects have no lines: SARIF2017 (no region) as for every cluster scan.
    for (report, allowed) in [(ratings(), &[][..]), (cluster(), &["SARIF2017"][..])] {
        let json: serde_json::Value = serde_json::from_str(&render(Format::Json, &report)).unwrap();
        let paths = json["attack_paths"].as_array().unwrap();
        assert_eq!(paths.len(), report.attack_paths.len());
        assert!(!paths.is_empty());
        let step = &paths[0]["steps"][0];
        assert!(
            step["object"]["kind"].is_string() && step["edge"].is_string(),
            "{step}"
        );
        assert!(step["location"].is_object() && step["explanation"].is_string());

        let sarif = render(Format::Sarif, &report);
        let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
        let run = &log["runs"][0];
        let results: Vec<&serde_json::Value> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["ruleId"] == "PST-PATH")
            .collect();
        assert_eq!(results.len(), report.attack_paths.len());
        let flow = &results[0]["codeFlows"][0]["threadFlows"][0]["locations"];
        assert_eq!(
            flow.as_array().unwrap().len(),
            report.attack_paths[0].steps.len()
        );
        assert!(flow[0]["location"]["physicalLocation"]["artifactLocation"]["uri"].is_string());
        assert_valid_sarif(&sarif, allowed);
    }
}

#[test]
fn paths_are_deterministic() {
    let a = render(Format::Json, &ratings());
    let b = render(Format::Json, &ratings());
    assert_eq!(a, b);
}

/// Paths are found from many starting points on every core, each thread keeping the best it
/// found; joined in order, they must be the ones a single thread finds, ties included (the first
/// found of the best score is kept). The whole report is compared.
#[test]
fn paths_do_not_depend_on_the_number_of_threads() {
    let inputs = ["fixtures/rules", "fixtures/paths", "fixtures/ratings"].map(|d| repo().join(d));
    let inputs: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    let paths_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let report = pool.install(|| scan_paths(&inputs));
        let n = report.attack_paths.len();
        assert!(n > 20, "the fixtures give many paths, not {n}");
        render(Format::Json, &report)
    };
    let one = paths_with(1);
    for threads in [2, 5] {
        assert_eq!(paths_with(threads), one, "{threads} threads");
    }
}

/// A workload whose account may read its namespace's Secrets reaches cluster-admin through a
/// long-lived token of a cluster-admin account kept there; the token's own path names who can
/// read it.
#[test]
fn a_workload_that_reads_a_cluster_admin_token_reaches_cluster_admin() {
    let fixture = repo().join("fixtures/paths/token-chain");
    let report = scan_paths(&[fixture.as_path()]);
    let p = find(
        &report.attack_paths,
        "Deployment 'ci/report-builder' → cluster-admin",
    );
    assert_eq!(
        kinds(p),
        [
            (Edge::Foothold, "Deployment/report-builder".to_owned()),
            (Edge::RunsAs, "ServiceAccount/reporter".to_owned()),
            (
                Edge::GrantedBy,
                "RoleBinding/reporter-reads-secrets".to_owned()
            ),
            (Edge::LeaksToken, "Secret/deployer-token".to_owned()),
            (
                Edge::GrantedBy,
                "ClusterRoleBinding/deployer-admin".to_owned()
            ),
        ]
    );
    assert_eq!(p.jewel, Jewel::ClusterAdmin);
    assert!(p.steps[3].explanation.contains("never expires"));
    // A foothold that only reads its namespace's Secrets is no path of its own (impact 3), and
    // the controller manager reading every Secret is the control plane, not a route.
    assert_eq!(report.attack_paths.len(), 3);
    // The user the binding names reaches cluster-admin the same way, with her credentials.
    let p = find(
        &report.attack_paths,
        "RoleBinding 'ci/reporter-reads-secrets' → cluster-admin",
    );
    assert_eq!(
        kinds(p),
        [
            (
                Edge::GrantsSubject,
                "RoleBinding/reporter-reads-secrets".to_owned()
            ),
            (Edge::LeaksToken, "Secret/deployer-token".to_owned()),
            (
                Edge::GrantedBy,
                "ClusterRoleBinding/deployer-admin".to_owned()
            ),
        ]
    );
    assert!(p.steps[0].explanation.contains("User 'alice'"));
    assert!(!p.steps[0].explanation.contains("reporter'"));

    let token = find(
        &report.attack_paths,
        "Secret 'ci/deployer-token' → cluster-admin",
    );
    let readers = &token.steps[0].explanation;
    assert!(
        readers.contains("ServiceAccount 'ci/reporter'") && readers.contains("User 'alice'"),
        "{readers}"
    );
}

/// On a cluster Secrets are read metadata-only, without their type: the token controller's
/// annotation marks a token Secret there, and the chain through it holds as in manifests.
#[test]
fn a_metadata_only_token_secret_still_chains_to_cluster_admin() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("fixtures/paths/token-chain/ci.yaml"))
        .unwrap()
        .replace("type: kubernetes.io/service-account-token\n", "");
    assert!(!text.contains("service-account-token"));
    let file = dir.path().join("ci.yaml");
    std::fs::write(&file, text).unwrap();
    let report = scan_paths(&[file.as_path()]);
    let p = find(
        &report.attack_paths,
        "Deployment 'ci/report-builder' → cluster-admin",
    );
    assert!(p
        .steps
        .iter()
        .any(|s| s.edge == Edge::LeaksToken && s.object.name == "deployer-token"));
}

/// The account reading Secrets gains nothing from its own token, and a token of an account
/// that can do no more than the reader leads nowhere further.
#[test]
fn reading_a_token_of_no_greater_power_is_no_longer_path() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("fixtures/paths/token-chain/ci.yaml"))
        .unwrap()
        .replace("name: cluster-admin", "name: secret-reader-everywhere");
    let file = dir.path().join("ci.yaml");
    std::fs::write(
        &file,
        format!(
            "{text}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  \
             name: secret-reader-everywhere\nrules:\n  - apiGroups: [\"\"]\n    resources: [secrets]\n    \
             verbs: [list]\n"
        ),
    )
    .unwrap();
    let report = scan_paths(&[file.as_path()]);
    // Every Secret in the cluster (impact 4) is more than the namespace's (3): the chain holds.
    let p = find(
        &report.attack_paths,
        "Deployment 'ci/report-builder' → every Secret in the cluster",
    );
    assert_eq!(p.steps.len(), 5);
    assert!(report
        .attack_paths
        .iter()
        .all(|p| p.jewel != Jewel::ClusterAdmin));
}

fn ratings_with(policies: &[&str]) -> Vec<posture::paths::AttackPath> {
    let fixtures = repo().join("fixtures/ratings");
    let mut paths = vec![fixtures];
    paths.extend(
        policies
            .iter()
            .map(|p| repo().join("fixtures/paths/network").join(p)),
    );
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    scan_paths(&refs).attack_paths
}

fn reaches_api_credentials(paths: &[posture::paths::AttackPath]) -> bool {
    paths.iter().any(|p| {
        p.jewel == Jewel::Credentials && p.title.contains("Deployment 'ratingsapp/ratings-api'")
    })
}

/// Cilium policies cut edges as NetworkPolicies do: an endpoint selector with an ingress rule
/// isolates, `fromEndpoints` admits the pods it selects (Cilium's `k8s:` prefix read), and an
/// empty rule admits no one.
#[test]
fn cilium_policies_cut_the_path_to_the_api() {
    assert!(reaches_api_credentials(&ratings_with(&[])));
    assert!(!reaches_api_credentials(&ratings_with(&[
        "cilium-api-admin-only.yaml"
    ])));
    assert!(reaches_api_credentials(&ratings_with(&[
        "cilium-api-admin-only.yaml",
        "cilium-api-from-web.yaml"
    ])));
    let denied = ratings_with(&["cilium-clusterwide-default-deny.yaml"]);
    assert!(!reaches_api_credentials(&denied));
    // Nothing in the namespace is reachable from outside any more.
    assert!(
        denied.iter().all(|p| p.score.exposure < 3),
        "{:#?}",
        denied.iter().map(|p| &p.title).collect::<Vec<_>>()
    );
}

/// Calico policies cut edges too: a namespaced policy's source selector admits only the pods
/// it selects, and a global policy applies in the namespaces its namespaceSelector selects.
#[test]
fn calico_policies_cut_the_path_to_the_api() {
    assert!(!reaches_api_credentials(&ratings_with(&[
        "calico-api-admin-only.yaml"
    ])));
    assert!(reaches_api_credentials(&ratings_with(&[
        "calico-api-admin-only.yaml",
        "calico-global-allow-all.yaml"
    ])));
    // A global policy for other namespaces changes nothing here.
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("global.yaml");
    let text =
        std::fs::read_to_string(repo().join("fixtures/paths/network/calico-global-allow-all.yaml"))
            .unwrap()
            .replace("== 'ratingsapp'", "== 'payments'");
    std::fs::write(&other, text).unwrap();
    let fixtures = repo().join("fixtures/ratings");
    let admin_only = repo().join("fixtures/paths/network/calico-api-admin-only.yaml");
    let report = scan_paths(&[fixtures.as_path(), admin_only.as_path(), other.as_path()]);
    assert!(!reaches_api_credentials(&report.attack_paths));
}
