//! Bounds on running a user's rules: the wall-clock time one rule may take on one object (and on
//! the empty input posture checks every rule with at load time).
//!
//! User rules run on regorus's bytecode VM in its suspendable mode, which keeps Rego calls on a
//! heap stack instead of the thread's: endless recursion grows memory and takes time until the
//! timer stops it, instead of overflowing the stack and aborting the process. Built-in rules run
//! without the timer (they are tested, and run-to-completion mode is the faster one).
//!
//! There is no memory bound: regorus's (`allocator-memory-limits`) makes its counting allocator
//! the process's, which slows the built-in rules by about a sixth (docs/policies.md).

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

/// How long one user rule may take on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time (`--rego-timeout`).
    pub timeout: Duration,
}

/// `--rego-timeout`'s default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
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
        };
        assert_eq!(
            limits.describe(),
            "the time limit of 250ms (raise it with --rego-timeout)"
        );
        assert_eq!(Seconds(DEFAULT_TIMEOUT).to_string(), "10s");
        assert_eq!(Seconds(Duration::from_millis(1500)).to_string(), "1.5s");
    }
}
