//! Real CPU work for logins, standing in for password hashing.
//!
//! A login wave is CPU-bound on real ENTs (bcrypt/argon2 on every attempt), and a sleep would
//! not compete for the cores the way hashing does. So a login hashes for a measured amount of
//! wall time. It runs inline on the target's worker thread on purpose: while it runs, that
//! thread serves nobody else, exactly like a PHP worker busy hashing.

use std::time::{Duration, Instant};

/// Iterations between two clock reads: a few microseconds of work, so the overshoot past
/// `budget` stays small while the clock is not read on every round.
const ROUNDS_PER_CHECK: u32 = 256;

/// Hashes `secret` repeatedly for at least `budget` of wall time; returns the time spent.
/// A zero budget costs nothing.
pub(crate) fn burn(secret: &[u8], budget: Duration) -> Duration {
    let start = Instant::now();
    if budget.is_zero() {
        return Duration::ZERO;
    }
    let mut digest = fnv1a(0xcbf2_9ce4_8422_2325, secret);
    loop {
        for _ in 0..ROUNDS_PER_CHECK {
            digest = fnv1a(digest, &digest.to_le_bytes());
        }
        // Keeps the optimiser from removing the loop whose result nobody reads.
        std::hint::black_box(digest);
        let spent = start.elapsed();
        if spent >= budget {
            return spent;
        }
    }
}

/// FNV-1a, continued from `state`: cheap, and enough to keep a core honestly busy.
fn fnv1a(state: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(state, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burns_at_least_the_budget_and_not_much_more() {
        let budget = Duration::from_millis(3);
        let spent = burn(b"motdepasse", budget);
        assert!(spent >= budget, "{spent:?}");
        // Generous: the test machine is shared, a preemption can land inside the loop.
        assert!(spent < budget + Duration::from_millis(50), "{spent:?}");
    }

    #[test]
    fn zero_budget_is_free() {
        assert_eq!(burn(b"x", Duration::ZERO), Duration::ZERO);
    }
}
