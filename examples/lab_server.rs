//! Serves the recorded lab cluster (../shared/lab) on 127.0.0.1 until interrupted, and prints a
//! kubeconfig path for it, so a live scan can be tried and timed without a cluster:
//!
//!     cargo run --release --example lab_server &        # prints KUBECONFIG=...
//!     posture scan --kubeconfig <that path>
//!
//! With `--all-secrets`, the server plays a user who may list Secrets and a server that ignores
//! metadata-only requests (full Secrets are sent; posture must still drop their values).

#[allow(dead_code, unused_imports)] // the lab's test-only helpers
#[path = "../tests/lab/mod.rs"]
mod lab;

fn main() {
    let mut options = lab::LabOptions::default();
    if !options.lab_dir.join("api").is_dir() {
        eprintln!(
            "the lab recording {} is not there: clone posture beside its shared/ directory, or \
             set POSTURE_SHARED_DIR to one",
            options.lab_dir.display()
        );
        std::process::exit(2);
    }
    if std::env::args().any(|a| a == "--all-secrets") {
        options.forbidden.clear();
        options.metadata_lists = false;
    }
    let server = lab::LabServer::start(options);
    let kubeconfig = server.kubeconfig();
    // Copy the kubeconfig somewhere stable: the server's own copy lives in a temp dir.
    let path = std::env::temp_dir().join("posture-lab-kubeconfig");
    std::fs::copy(&kubeconfig, &path).expect("the temp directory is writable");
    println!("KUBECONFIG={}", path.display());
    println!("serving {} until interrupted", server.url());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
