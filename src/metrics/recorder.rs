//! Where the runtime records: one shard per worker thread, drained once a second.
//!
//! The per-request path is one call that locks the calling thread's own shard. A shard's lock
//! is only ever contended by the once-a-second drain, which swaps the shard's tally for an
//! empty one (O(1)) instead of merging under the lock, so workers never wait on each other and
//! never wait long on the collector.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::kinds::{Cause, ErrorKind, Outcome};
use super::tally::{record, Tally};

/// Names of what is recorded: personas and their request steps, flattened into global step
/// ids so that a tally is a plain Vec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub personas: Vec<String>,
    /// (persona index, step name) for every global step id.
    pub steps: Vec<(usize, String)>,
    /// First global step id of each persona: the step id of request `r` of persona `p` is
    /// `step_base[p] + r`.
    pub step_base: Vec<usize>,
}

impl Layout {
    /// Build from each persona's name and its request step names, in order.
    pub fn new<'a>(personas: impl IntoIterator<Item = (&'a str, Vec<String>)>) -> Self {
        let mut layout = Layout { personas: Vec::new(), steps: Vec::new(), step_base: Vec::new() };
        for (p, (name, steps)) in personas.into_iter().enumerate() {
            layout.personas.push(name.to_string());
            layout.step_base.push(layout.steps.len());
            layout.steps.extend(steps.into_iter().map(|s| (p, s)));
        }
        layout
    }

    pub fn step_id(&self, persona: usize, request: usize) -> usize {
        self.step_base[persona] + request
    }

    pub fn empty_tally(&self) -> Tally {
        Tally::new(self.steps.len(), self.personas.len())
    }
}

pub struct Recorder {
    layout: Layout,
    shards: Box<[Mutex<Tally>]>,
    /// Users whose task has started, for the pacer to see how far the starts trail the plan.
    users_started: AtomicU64,
}

impl Recorder {
    /// `shards` should be at least the number of threads that record (runtime workers plus
    /// one); threads beyond that share shards, which is correct, only slower.
    pub fn new(layout: Layout, shards: usize) -> Self {
        let shards = (0..shards.max(1)).map(|_| Mutex::new(layout.empty_tally())).collect();
        Recorder { layout, shards, users_started: AtomicU64::new(0) }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    fn with_shard<R>(&self, f: impl FnOnce(&mut Tally) -> R) -> R {
        let slot = thread_slot() % self.shards.len();
        // A panic while holding a shard cannot leave a tally half-updated in a way that
        // matters more than losing the run, so a poisoned lock is simply taken over.
        let mut shard = self.shards[slot].lock().unwrap_or_else(|p| p.into_inner());
        f(&mut shard)
    }

    /// An attempt (one HTTP request) of `step` was sent, for `cause`.
    pub fn attempt_started(&self, step: usize, cause: Cause) {
        self.with_shard(|t| {
            t.steps[step].started += 1;
            t.steps[step].attempts[cause.index()] += 1;
        });
    }

    /// An attempt ended after `service`. `result` is the body size on success, or why it
    /// failed.
    pub fn attempt_finished(&self, step: usize, service: Duration, result: Result<u64, ErrorKind>) {
        self.with_shard(|t| t.record_attempt(step, service, result));
    }

    /// A step ended (after all its attempts), `latency` after its intended start.
    pub fn step_finished(&self, step: usize, latency: Duration, ok: bool) {
        self.with_shard(|t| t.record_step(step, latency, ok));
    }

    pub fn relogin(&self, persona: usize) {
        self.with_shard(|t| t.personas[persona].relogins += 1);
    }

    pub fn returned(&self, persona: usize) {
        self.with_shard(|t| t.personas[persona].returns += 1);
    }

    /// A user left a waiting room after `waited` (admitted, or it `gave_up`).
    pub fn left_queue(&self, persona: usize, waited: Duration, gave_up: bool) {
        self.with_shard(|t| {
            let p = &mut t.personas[persona];
            p.queued += 1;
            record(&mut p.time_in_queue, waited);
            if gave_up {
                p.abandoned_in_queue += 1;
            }
        });
    }

    /// A user arrived `lag` after its intended arrival time.
    pub fn arrival(&self, persona: usize, lag: Duration) {
        self.users_started.fetch_add(1, Ordering::Relaxed);
        self.with_shard(|t| {
            t.personas[persona].arrived += 1;
            record(&mut t.lag, lag);
        });
    }

    /// How many users have started so far (every `arrival` recorded).
    pub fn users_started(&self) -> u64 {
        self.users_started.load(Ordering::Relaxed)
    }

    /// `users` were due and had not started yet: kept if it is the most of this second.
    pub fn trailing(&self, users: u64) {
        self.with_shard(|t| t.behind = t.behind.max(users));
    }

    /// A request (after think time) was sent `lag` after its intended start.
    pub fn step_lag(&self, lag: Duration) {
        self.with_shard(|t| record(&mut t.lag, lag));
    }

    pub fn goal_reached(&self, persona: usize, since_arrival: Duration) {
        self.with_shard(|t| record(&mut t.personas[persona].time_to_goal, since_arrival));
    }

    pub fn user_ended(&self, persona: usize, outcome: Outcome) {
        self.with_shard(|t| t.personas[persona].outcomes[outcome.index()] += 1);
    }

    /// Move everything recorded since the last drain into `into` (which is added to, not
    /// replaced). `spare` must be an empty tally of this layout; it is swapped into each shard
    /// and comes back empty.
    pub fn drain_into(&self, into: &mut Tally, spare: &mut Tally) {
        for shard in self.shards.iter() {
            {
                let mut guard = shard.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::swap(&mut *guard, spare);
            }
            into.add(spare);
            spare.reset();
        }
    }
}

/// A small per-thread number, assigned on first use, used to pick a shard.
fn thread_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SLOT.with(|slot| {
        if slot.get() == usize::MAX {
            slot.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        slot.get()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn records_from_many_threads_are_all_drained() {
        let layout = Layout::new([("pupil", vec!["login".to_string(), "homework".to_string()])]);
        assert_eq!(layout.step_id(0, 1), 1);
        let recorder = Arc::new(Recorder::new(layout, 3));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let r = recorder.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        r.attempt_started(i % 2, Cause::First);
                        r.attempt_finished(i % 2, Duration::from_millis(1), Ok(10));
                        r.step_finished(i % 2, Duration::from_millis(2), true);
                    }
                    r.arrival(0, Duration::from_micros(50));
                    r.user_ended(0, Outcome::Completed);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut total = recorder.layout().empty_tally();
        let mut spare = recorder.layout().empty_tally();
        recorder.drain_into(&mut total, &mut spare);
        assert_eq!(total.steps[0].started + total.steps[1].started, 6000);
        assert_eq!(total.steps[0].finished() + total.steps[1].finished(), 6000);
        assert_eq!(total.steps[0].latency.len(), 3000);
        assert_eq!(total.personas[0].arrived, 6);
        assert_eq!(total.personas[0].outcomes[Outcome::Completed.index()], 6);
        assert_eq!(total.lag.len(), 6);
        assert_eq!(recorder.users_started(), 6);
        // The trailing users are the most seen, whichever thread saw them.
        recorder.trailing(7);
        std::thread::spawn({
            let r = recorder.clone();
            move || r.trailing(3)
        })
        .join()
        .unwrap();
        recorder.drain_into(&mut total, &mut spare);
        assert_eq!(total.behind, 7);
        // A second drain finds nothing new.
        let mut again = recorder.layout().empty_tally();
        recorder.drain_into(&mut again, &mut spare);
        assert_eq!(again.steps[0].started, 0);
    }
}
