//! The start barrier (`--start-at`): every shard of a run waits for the same wall-clock
//! instant, so that N generators start their schedules together and their timelines line up.
//!
//! A shard that reaches the barrier after the instant has passed (a pod scheduled late, an
//! image pulled slowly) would play its part of the schedule shifted against the others: the
//! bursts that were meant to coincide would not. Within a tolerance it starts at once and the
//! lateness is recorded as start skew; beyond it, it refuses to run ([`Late`], exit code 7)
//! rather than measure a different load than the one planned.
//!
//! The barrier is only as good as the clocks: on Kubernetes, nodes keep time with NTP/chrony
//! (typically within a few milliseconds), which is far below the tolerance.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How late a shard may reach the barrier and still run, unless `--start-tolerance` says.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(2);

/// The barrier was already past by more than the tolerance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this shard reached the start barrier {late} after it ({at}), beyond the tolerance of {tolerance}: \
     it does not run, since its arrivals would be out of step with the other shards'. Choose a later \
     --start-at (leave time for every pod to be scheduled and pull its image) or a larger --start-tolerance",
    late = crate::format::duration(*late),
    at = humantime::format_rfc3339_millis(*at),
    tolerance = crate::format::duration(*tolerance)
)]
pub struct Late {
    pub at: SystemTime,
    pub late: Duration,
    pub tolerance: Duration,
}

/// `--start-at`: RFC 3339 (`2026-12-02T09:00:00Z`, fractions allowed) or seconds since the
/// Unix epoch (`1796202000`, `1796202000.5`).
pub fn parse_instant(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        if (0.0..1e11).contains(&secs) {
            return Ok(UNIX_EPOCH + Duration::from_secs_f64(secs));
        }
        return Err(format!("{text:?} is not a time: epoch seconds must be between 0 and 1e11"));
    }
    humantime::parse_rfc3339(text).map_err(|e| {
        format!("{text:?} is not a time ({e}): write RFC 3339 in UTC, e.g. 2026-12-02T09:00:00Z, or seconds since the epoch")
    })
}

/// How the barrier went: how late this shard was (zero if it waited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passed {
    pub late: Duration,
}

/// Block until `at`, or refuse if it is already more than `tolerance` past.
///
/// The wait sleeps in slices and re-reads the wall clock, so that a clock step (NTP) during a
/// long wait moves the wake-up with it rather than being slept through.
pub fn wait_until(at: SystemTime, tolerance: Duration) -> Result<Passed, Late> {
    loop {
        let now = SystemTime::now();
        match at.duration_since(now) {
            Ok(left) if left > Duration::ZERO => std::thread::sleep(left.min(Duration::from_millis(500))),
            _ => {
                let late = now.duration_since(at).unwrap_or_default();
                if late > tolerance {
                    return Err(Late { at, late, tolerance });
                }
                return Ok(Passed { late });
            }
        }
    }
}

/// Refuse now, before any set-up, if the barrier is already out of reach.
pub fn check_not_late(at: SystemTime, tolerance: Duration) -> Result<(), Late> {
    match SystemTime::now().duration_since(at) {
        Ok(late) if late > tolerance => Err(Late { at, late, tolerance }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse_as_rfc3339_or_epoch_seconds() {
        let at = UNIX_EPOCH + Duration::from_secs(1_796_202_000);
        assert_eq!(parse_instant("1796202000"), Ok(at));
        assert_eq!(parse_instant("1796202000.25"), Ok(at + Duration::from_millis(250)));
        assert_eq!(parse_instant(&humantime::format_rfc3339(at).to_string()), Ok(at));
        assert_eq!(
            parse_instant("2026-12-02T09:00:00.5Z"),
            humantime::parse_rfc3339("2026-12-02T09:00:00.500Z").map_err(|e| e.to_string())
        );
        assert!(parse_instant("tomorrow").unwrap_err().contains("RFC 3339"));
        assert!(parse_instant("-5").unwrap_err().contains("between 0 and"));
    }

    #[test]
    fn the_barrier_waits_for_a_future_instant() {
        let at = SystemTime::now() + Duration::from_millis(150);
        let passed = wait_until(at, Duration::from_secs(1)).unwrap();
        assert!(SystemTime::now() >= at);
        // Woken after the instant; on a loaded machine the wake-up may be late, not early.
        assert!(passed.late < Duration::from_secs(1), "{passed:?}");
    }

    #[test]
    fn a_shard_late_beyond_the_tolerance_refuses_and_within_it_runs() {
        let at = SystemTime::now() - Duration::from_secs(10);
        let late = wait_until(at, Duration::from_secs(2)).unwrap_err();
        assert!(late.late >= Duration::from_secs(10));
        assert!(late.to_string().contains("beyond the tolerance of 2"), "{late}");
        assert!(check_not_late(at, Duration::from_secs(2)).is_err());
        let passed = wait_until(at, Duration::from_secs(60)).unwrap();
        assert!(passed.late >= Duration::from_secs(10));
        assert!(check_not_late(SystemTime::now() + Duration::from_secs(5), Duration::ZERO).is_ok());
    }
}
