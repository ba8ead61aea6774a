//! Waiting for an arrival's instant, to within microseconds, on the runtime's own threads.
//!
//! tokio's timer fires on millisecond ticks and rounds deadlines up: too coarse when arrivals
//! are 50 µs apart. The pacing loop used to finish each wait on a thread of its own (an OS
//! sleep, then `sched_yield` until the instant). On a generator pinned to one core that thread
//! shares the core with the worker running the users, and the kernel lets a running worker
//! finish its slice before the woken pacer runs: `perf sched` showed the pacer waiting 3.5 to
//! 4.7 ms to be scheduled, over and over, so arrivals came in bursts that many milliseconds
//! late (lag p99 of 20–60 ms at 20,000 arrivals/s with the core a third idle), and the spin
//! took what was left of the core.
//!
//! On Linux the pacer is a task on the runtime that waits on a timerfd: the kernel's
//! high-resolution timer makes the descriptor readable at the instant, and the worker sees that
//! as I/O readiness, at once when it is idle and at its next I/O poll (tokio polls for I/O at
//! least every 61 tasks) when it is busy. No thread to schedule, nothing spinning. Elsewhere, or
//! if the timerfd cannot be made, the wait is tokio's timer, up to a millisecond late (the lag
//! is recorded either way).
//!
//! Measured against the spinning thread (bench/RESULTS.md): the generator's CPU at a given rate
//! halves, but lag is no steadier; at 20,000 arrivals/s on one core the limit is what a user
//! costs, not how it is paced.

use tokio::time::Instant;

pub struct Pacer {
    #[cfg(target_os = "linux")]
    timer: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl Pacer {
    /// Must be called on the runtime (the timerfd registers with its I/O driver).
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        {
            Pacer { timer: timerfd::create().ok() }
        }
        #[cfg(not(target_os = "linux"))]
        Pacer {}
    }

    /// Returns once `at` has passed (at once if it has already). Safe to cancel: a dropped
    /// wait leaves at most a stale expiry, which the next wait reads and ignores.
    pub async fn until(&mut self, at: Instant) {
        #[cfg(target_os = "linux")]
        if let Some(timer) = &self.timer {
            match timerfd::until(timer, at).await {
                Ok(()) => return,
                // Not expected from a timerfd; the coarse timer below still keeps the appointment.
                Err(_) => self.timer = None,
            }
        }
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(target_os = "linux")]
mod timerfd {
    use std::io;
    use std::os::fd::OwnedFd;

    use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};
    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;
    use tokio::time::Instant;

    pub fn create() -> io::Result<AsyncFd<OwnedFd>> {
        // CLOCK_MONOTONIC is the clock `Instant` reads on Linux.
        let fd =
            rustix::time::timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)?;
        // SAFETY: an `OwnedFd` is open for as long as it lives and always returns the same
        // descriptor, and the `AsyncFd` owns it (this is the case tokio's safe `new` covered).
        unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }.map_err(io::Error::from)
    }

    pub async fn until(timer: &AsyncFd<OwnedFd>, at: Instant) -> io::Result<()> {
        loop {
            let now = Instant::now();
            if now >= at {
                return Ok(());
            }
            // Armed relative to a `now` read just before: it cannot expire before `at`.
            let left = at - now;
            let spec = Itimerspec {
                it_interval: Timespec { tv_sec: 0, tv_nsec: 0 },
                it_value: Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos().max(1) as _ },
            };
            rustix::time::timerfd_settime(timer, TimerfdTimerFlags::empty(), &spec)?;
            loop {
                let mut ready = timer.readable().await?;
                let mut expirations = [0u8; 8];
                match ready.try_io(|fd| Ok(rustix::io::read(fd.get_ref(), &mut expirations)?)) {
                    // Expired (this arming's expiry, or a stale one): the outer loop checks the time.
                    Ok(Ok(_)) => break,
                    Ok(Err(e)) => return Err(e),
                    // Readiness was stale; it is cleared now: wait for the expiry.
                    Err(_would_block) => continue,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn waits_until_the_instant_and_not_much_longer() {
        let mut pacer = Pacer::new();
        #[cfg(target_os = "linux")]
        assert!(pacer.timer.is_some(), "a timerfd could be made");
        let mut late = Vec::new();
        for _ in 0..200 {
            let at = Instant::now() + Duration::from_micros(300);
            pacer.until(at).await;
            let now = Instant::now();
            assert!(now >= at, "woke before the instant");
            late.push(now - at);
        }
        late.sort();
        // tokio's timer alone would be up to a millisecond late on most waits; the median wait
        // here is microseconds late (the bound leaves room for a loaded CI machine).
        assert!(late[100] < Duration::from_micros(500), "median lateness {:?}", late[100]);
    }

    #[tokio::test]
    async fn an_instant_already_past_returns_at_once() {
        let mut pacer = Pacer::new();
        let started = Instant::now();
        pacer.until(started - Duration::from_millis(5)).await;
        assert!(started.elapsed() < Duration::from_millis(5));
    }
}
