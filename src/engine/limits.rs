//! Bounds on running a user's rules: the wall-clock time one rule may take on one object (and on
//! the empty input posture checks every rule with at load time), and the memory they may use.
//!
//! User rules run on regorus's bytecode VM in its suspendable mode, which keeps Rego calls on a
//! heap stack instead of the thread's: endless recursion grows memory and takes time until the
//! timer stops it, instead of overflowing the stack and aborting the process. Built-in rules run
//! without the timer (they are tested, and run-to-completion mode is the faster one).
//!
//! The memory bound is not regorus's (`allocator-memory-limits`): that makes its counting
//! allocator the process's, which slows the built-in rules by about a sixth, and a single
//! allocation too large for the machine still aborts the process. Instead the user's rules run
//! in a child process whose resident memory posture watches ([`super::isolation`]).

use std::fmt;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// How long one user rule may take on one object, and how much memory the user's rules may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time (`--rego-timeout`).
    pub timeout: Duration,
    /// `None`: the rules run inside posture, with no memory bound.
    pub memory: Option<MemoryBound>,
}

/// The memory the user's rules may use beyond their inputs (`--rego-memory`), enforced by
/// running them in a child process: `program` run with [`super::isolation::CHILD_COMMAND`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryBound {
    pub bytes: u64,
    pub program: PathBuf,
}

/// `--rego-memory`'s default.
pub const DEFAULT_MEMORY: u64 = 2 << 30;

/// `--rego-timeout`'s default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            memory: None,
        }
    }
}

impl Limits {
    /// The VM's timer: the clock is read every 256 instructions, which keeps its cost out of
    /// sight while a runaway loop is still stopped within microseconds of the limit.
    pub(crate) fn timer(&self) -> regorus::utils::limits::ExecutionTimerConfig {
        regorus::utils::limits::ExecutionTimerConfig {
            limit: self.timeout,
            check_interval: NonZeroU32::new(256).unwrap_or(NonZeroU32::MIN),
        }
    }

    /// The bound a stopped rule ran into, said with the flag that raises it.
    pub fn describe(&self) -> String {
        format!(
            "the time limit of {} (raise it with --rego-timeout)",
            Seconds(self.timeout)
        )
    }
}

impl MemoryBound {
    /// The bound a stopped rule ran into, said with the flag that raises it.
    pub fn describe(&self) -> String {
        format!(
            "the memory limit of {} (raise it with --rego-memory)",
            Bytes(self.bytes)
        )
    }
}

/// A size as the flag takes it: `2GiB`, `512MiB`, `4096KiB` or bytes.
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
            if n >= 1 << shift && n.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", n >> shift);
            }
        }
        write!(f, "{n} bytes")
    }
}

/// Whether a VM error says the rule ran out of time.
pub(crate) fn timed_out(error: &regorus::rvm::vm::VmError) -> bool {
    matches!(error, regorus::rvm::vm::VmError::TimeLimitExceeded { .. })
}

/// A duration as the flag takes it: `10s`, `250ms`, `1.5s`.
pub struct Seconds(pub Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else if ms < 1000 {
            write!(f, "{ms}ms")
        } else {
            write!(f, "{}s", self.0.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_said_with_its_flag() {
        let limits = Limits {
            timeout: Duration::from_millis(250),
            memory: None,
        };
        assert_eq!(
            limits.describe(),
            "the time limit of 250ms (raise it with --rego-timeout)"
        );
        assert_eq!(Seconds(DEFAULT_TIMEOUT).to_string(), "10s");
        assert_eq!(Seconds(Duration::from_millis(1500)).to_string(), "1.5s");
        let memory = MemoryBound {
            bytes: DEFAULT_MEMORY,
            program: PathBuf::from("posture"),
        };
        assert_eq!(
            memory.describe(),
            "the memory limit of 2GiB (raise it with --rego-memory)"
        );
        assert_eq!(Bytes(1536 << 10).to_string(), "1536KiB");
        assert_eq!(Bytes(1000).to_string(), "1000 bytes");
    }
}
