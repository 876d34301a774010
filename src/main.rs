//! The `posture` binary: parse arguments, run, map the outcome to an exit code
//! (0 clean, 1 findings at or above --fail-on, 2 errors).

mod cli;

// The rule engine allocates small values at a high rate; mimalloc makes scans markedly faster
// than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // regorus builds anyhow errors on ordinary evaluation paths; with RUST_BACKTRACE set, each
    // one captures a backtrace, which slows scans by a tenth. Our errors never show backtraces.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: nothing else runs yet; no other thread can read the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    cli::run(cli::parse())
}
