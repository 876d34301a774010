//! Bounds on running a user's rules: wall-clock time and memory for one rule on one object
//! (and on the empty input posture checks every rule with at load time).
//!
//! User rules run on regorus's bytecode VM in its suspendable mode, which keeps Rego calls on a
//! heap stack instead of the thread's: endless recursion grows memory and takes time until a
//! bound stops it, instead of overflowing the stack and aborting the process. Built-in rules run
//! without these bounds (they are tested, and the timer's clock reads would cost every object).

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};
use std::time::Duration;

/// How long, and how much memory, one user rule may take on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time (`--rego-timeout`).
    pub timeout: Duration,
    /// Bytes the rule may allocate (`--rego-memory`), counted by regorus's allocator.
    pub memory: NonZeroU64,
}

/// `--rego-timeout`'s default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// `--rego-memory`'s default: 1 GiB.
pub const DEFAULT_MEMORY: NonZeroU64 = match NonZeroU64::new(1 << 30) {
    Some(n) => n,
    None => unreachable!(),
};

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            memory: DEFAULT_MEMORY,
        }
    }
}

/// Which bound a rule ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bound {
    Time,
    Memory,
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

    /// What the rule ran into, said with the flag that raises it.
    pub fn describe(&self, bound: Bound) -> String {
        match bound {
            Bound::Time => format!(
                "the time limit of {} (raise it with --rego-timeout)",
                Seconds(self.timeout)
            ),
            Bound::Memory => format!(
                "the memory limit of {} (raise it with --rego-memory)",
                Bytes(self.memory.get())
            ),
        }
    }
}

/// Which bound, if any, a VM error reports.
pub(crate) fn bound_of(error: &regorus::rvm::vm::VmError) -> Option<Bound> {
    use regorus::rvm::vm::VmError;
    match error {
        VmError::TimeLimitExceeded { .. } => Some(Bound::Time),
        VmError::MemoryBudgetExceeded { .. } | VmError::MemoryLimitExceeded { .. } => {
            Some(Bound::Memory)
        }
        _ => None,
    }
}

/// A duration as the flag takes it: `10s`, `250ms`, `1.5s`.
pub struct Seconds(pub Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms % 1000 == 0 {
            write!(f, "{}s", ms / 1000)
        } else if ms < 1000 {
            write!(f, "{ms}ms")
        } else {
            write!(f, "{}s", self.0.as_secs_f64())
        }
    }
}

/// A byte count as the flag takes it: `1GiB`, `512MiB`, `64KiB`, `1000B`.
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if self.0 >= size && self.0 % size == 0 {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_said_with_their_flag() {
        let limits = Limits {
            timeout: Duration::from_millis(250),
            memory: NonZeroU64::new(512 << 20).unwrap_or(DEFAULT_MEMORY),
        };
        assert_eq!(
            limits.describe(Bound::Time),
            "the time limit of 250ms (raise it with --rego-timeout)"
        );
        assert_eq!(
            limits.describe(Bound::Memory),
            "the memory limit of 512MiB (raise it with --rego-memory)"
        );
        assert_eq!(
            Limits::default().describe(Bound::Time).split(' ').nth(4),
            Some("10s")
        );
        assert_eq!(Bytes(1 << 30).to_string(), "1GiB");
        assert_eq!(Bytes(1000).to_string(), "1000B");
    }
}
