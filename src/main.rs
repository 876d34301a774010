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
    let cli = cli::parse();
    if !cli.runs_long() && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        return_freed_memory_sooner();
    }
    cli::run(cli)
}

/// mimalloc's `mi_option_purge_delay`: its place in mimalloc.h's enum of options, which
/// mimalloc keeps stable (the same in its v2 and v3); the `extended` bindings name no constant
/// for it. A test checks it reads the option's default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A one-off command frees and reuses much memory within seconds; mimalloc returns freed pages
/// to the OS after a second by default. Once it was built without transparent huge pages
/// (Cargo.toml), returning them sooner costs no measurable time and lowers the peak, as
/// measured on 100,000 objects: 651–652 MB and 20.7–21.5 s after 100 ms, against 679–689 MB
/// and 22.0–22.1 s (a second) and 772–782 MB and 20.0–21.0 s (never); at 10,000 objects,
/// 152–154 MB against 157–161 MB, in the same time. Later, with the objects streamed
/// (2026-12-07, three interleaved runs each): 100,000 objects peaked at 522–524 MB after 25 ms
/// or 10 ms, against 555–558 MB after 100 ms, in 38.7–41.5 s of CPU either way; returning
/// them at once (0) cost 3.9 s of system CPU against 1.2. At 10,000 objects, 143–144 MB
/// against 148–152 MB, 1.82–1.93 s against 1.84–1.89 s. `posture watch`, which runs for days,
/// keeps mimalloc's default.
fn return_freed_memory_sooner() {
    // SAFETY: sets a process-wide option of the allocator; any value is valid for it, and
    // mimalloc reads options atomically.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
}

/// How long freed memory is kept before it is returned to the OS, in one-off commands.
const PURGE_DELAY_MS: std::ffi::c_long = 25;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_where_we_set_it() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("skipped: MIMALLOC_PURGE_DELAY is set");
            return;
        }
        // SAFETY: reads an option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(
            delay, 1000,
            "mimalloc (v3) purges after 1,000 ms by default"
        );
    }
}
