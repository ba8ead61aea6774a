//! A tally of what happened over some span of time: per step, per persona, and the
//! generator's own lag. The same type serves as one recording shard's interval, one second of
//! the timeline, and the run's totals, so merging is one `absorb`.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::kinds::{Cause, CauseCounts, ErrorCounts, ErrorKind, Outcome};

/// Latencies are recorded in microseconds with 3 significant digits (0.1% precision), in
/// histograms that grow to the largest value seen, so a step that never waits long stays small.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is a valid histogram precision")
}

pub fn micros(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

/// Empty `h` for reuse. A histogram that grew past its initial size is replaced by a fresh one
/// instead: a per-second tally reused all run long would otherwise keep the size of the slowest
/// second ever seen, in every copy (each shard, the second being closed, the last one), and
/// the run's memory would creep up as its slowest request got slower. Only the totals need to
/// cover the whole run.
fn reset_histogram(h: &mut Histogram<u64>) {
    if h.distinct_values() > *INITIAL_LEN {
        *h = new_histogram();
    } else {
        h.reset();
    }
}

/// How many counters a new histogram holds before it first grows.
static INITIAL_LEN: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| new_histogram().distinct_values());

/// Record a duration, growing the histogram as needed. (`saturating_record` would clamp to the
/// current range of an auto-resizing histogram and silently hide the slowest requests.)
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    if h.record(micros(d)).is_err() {
        h.saturating_record(micros(d));
    }
}

/// One request step. Two units on purpose: *attempts* are HTTP requests (what the target
/// sees, every retry and reload included); *steps* are what a user experiences (one step may
/// take several attempts).
#[derive(Debug, Clone)]
pub struct StepTally {
    /// Per step: from the step's intended start (arrival, or previous completion plus think
    /// time) to the end of its last attempt: what the user waited, retries, reloads, queueing
    /// and generator delays included.
    pub latency: Histogram<u64>,
    /// Per attempt: from the actual send to the end of the body: what the target took.
    pub service: Histogram<u64>,
    /// Attempts sent.
    pub started: u64,
    /// Attempts sent, by cause.
    pub attempts: CauseCounts,
    /// Attempts that succeeded.
    pub ok: u64,
    /// Attempts that failed, by kind.
    pub errors: ErrorCounts,
    pub bytes: u64,
    /// Steps that ended in success / in failure.
    pub steps_ok: u64,
    pub steps_failed: u64,
}

impl StepTally {
    fn new() -> Self {
        StepTally {
            latency: new_histogram(),
            service: new_histogram(),
            started: 0,
            attempts: [0; Cause::COUNT],
            ok: 0,
            errors: [0; ErrorKind::COUNT],
            bytes: 0,
            steps_ok: 0,
            steps_failed: 0,
        }
    }

    /// Attempts that ended, successfully or not.
    pub fn finished(&self) -> u64 {
        self.ok + self.errors.iter().sum::<u64>()
    }

    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }
}

#[derive(Debug, Clone)]
pub struct PersonaTally {
    pub arrived: u64,
    pub outcomes: [u64; Outcome::COUNT],
    /// Time from the user's intended arrival to reaching its goal.
    pub time_to_goal: Histogram<u64>,
    /// Login replays after a lost session (401 or storm).
    pub relogins: u64,
    /// Users who came back after abandoning.
    pub returns: u64,
    /// Users who were put in a waiting room, and how long each waited there.
    pub queued: u64,
    pub time_in_queue: Histogram<u64>,
    /// Users who gave up while in a waiting room.
    pub abandoned_in_queue: u64,
}

impl PersonaTally {
    fn new() -> Self {
        PersonaTally {
            arrived: 0,
            outcomes: [0; Outcome::COUNT],
            time_to_goal: new_histogram(),
            relogins: 0,
            returns: 0,
            queued: 0,
            time_in_queue: new_histogram(),
            abandoned_in_queue: 0,
        }
    }

    pub fn ended(&self) -> u64 {
        self.outcomes.iter().sum()
    }
}

#[derive(Debug, Clone)]
pub struct Tally {
    /// Indexed by global step id (see `Layout`).
    pub steps: Vec<StepTally>,
    pub personas: Vec<PersonaTally>,
    /// Generator schedule lag: actual minus intended start of arrivals and of requests.
    pub lag: Histogram<u64>,
    /// The most users that were due and had not started yet, as the pacer saw it (a maximum,
    /// not a count: adding tallies keeps the larger).
    pub behind: u64,
}

impl Tally {
    pub fn new(steps: usize, personas: usize) -> Self {
        Tally {
            steps: (0..steps).map(|_| StepTally::new()).collect(),
            personas: (0..personas).map(|_| PersonaTally::new()).collect(),
            lag: new_histogram(),
            behind: 0,
        }
    }

    /// Add `other` into `self`.
    pub fn add(&mut self, other: &Tally) {
        for (mine, theirs) in self.steps.iter_mut().zip(&other.steps) {
            add_histogram(&mut mine.latency, &theirs.latency);
            add_histogram(&mut mine.service, &theirs.service);
            mine.started += theirs.started;
            for (m, t) in mine.attempts.iter_mut().zip(theirs.attempts) {
                *m += t;
            }
            mine.steps_ok += theirs.steps_ok;
            mine.steps_failed += theirs.steps_failed;
            mine.ok += theirs.ok;
            for (m, t) in mine.errors.iter_mut().zip(theirs.errors) {
                *m += t;
            }
            mine.bytes += theirs.bytes;
        }
        for (mine, theirs) in self.personas.iter_mut().zip(&other.personas) {
            mine.arrived += theirs.arrived;
            for (m, t) in mine.outcomes.iter_mut().zip(theirs.outcomes) {
                *m += t;
            }
            add_histogram(&mut mine.time_to_goal, &theirs.time_to_goal);
            mine.relogins += theirs.relogins;
            mine.returns += theirs.returns;
            mine.queued += theirs.queued;
            add_histogram(&mut mine.time_in_queue, &theirs.time_in_queue);
            mine.abandoned_in_queue += theirs.abandoned_in_queue;
        }
        add_histogram(&mut self.lag, &other.lag);
        self.behind = self.behind.max(other.behind);
    }

    /// Empty every counter and histogram, keeping the allocations of histograms that never grew
    /// (see `reset_histogram`).
    pub fn reset(&mut self) {
        for s in &mut self.steps {
            reset_histogram(&mut s.latency);
            reset_histogram(&mut s.service);
            s.started = 0;
            s.attempts = [0; Cause::COUNT];
            s.steps_ok = 0;
            s.steps_failed = 0;
            s.ok = 0;
            s.errors = [0; ErrorKind::COUNT];
            s.bytes = 0;
        }
        for p in &mut self.personas {
            p.arrived = 0;
            p.outcomes = [0; Outcome::COUNT];
            reset_histogram(&mut p.time_to_goal);
            p.relogins = 0;
            p.returns = 0;
            p.queued = 0;
            reset_histogram(&mut p.time_in_queue);
            p.abandoned_in_queue = 0;
        }
        reset_histogram(&mut self.lag);
        self.behind = 0;
    }

    /// One attempt ended after `service`: its body size on success, or why it failed.
    pub fn record_attempt(&mut self, step: usize, service: Duration, result: Result<u64, ErrorKind>) {
        let s = &mut self.steps[step];
        record(&mut s.service, service);
        match result {
            Ok(bytes) => {
                s.ok += 1;
                s.bytes += bytes;
            }
            Err(kind) => s.errors[kind.index()] += 1,
        }
    }

    /// One step ended, `latency` after its intended start.
    pub fn record_step(&mut self, step: usize, latency: Duration, ok: bool) {
        let s = &mut self.steps[step];
        record(&mut s.latency, latency);
        if ok {
            s.steps_ok += 1;
        } else {
            s.steps_failed += 1;
        }
    }

    /// One first attempt that is the whole step.
    #[cfg(test)]
    pub fn record_request(
        &mut self,
        step: usize,
        latency: Duration,
        service: Duration,
        result: Result<u64, ErrorKind>,
    ) {
        let ok = result.is_ok();
        self.steps[step].started += 1;
        self.steps[step].attempts[Cause::First.index()] += 1;
        self.record_attempt(step, service, result);
        self.record_step(step, latency, ok);
    }
}

/// Histograms here auto-resize, so adding cannot fail for range reasons; if it ever did, the
/// values would be lost silently, so fail loudly in debug builds.
fn add_histogram(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    if from.is_empty() {
        return;
    }
    let added = into.add(from);
    debug_assert!(added.is_ok(), "histogram add failed: {added:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_merges_counts_and_histograms_exactly() {
        let mut a = Tally::new(2, 1);
        let mut b = Tally::new(2, 1);
        a.record_request(0, Duration::from_millis(10), Duration::from_millis(8), Ok(100));
        b.record_request(0, Duration::from_secs(30), Duration::from_secs(29), Err(ErrorKind::Timeout));
        b.record_request(1, Duration::from_micros(5), Duration::from_micros(4), Ok(1));
        b.personas[0].arrived = 3;
        b.personas[0].outcomes[Outcome::Completed.index()] = 2;
        a.add(&b);
        assert_eq!(a.steps[0].finished(), 2);
        assert_eq!(a.steps[0].errors[ErrorKind::Timeout.index()], 1);
        assert_eq!(a.steps[0].latency.len(), 2);
        assert!(a.steps[0].latency.max() >= 29_900_000, "30 s kept, not clipped");
        assert_eq!(a.steps[1].bytes, 1);
        assert_eq!(a.personas[0].arrived, 3);
        assert_eq!(a.personas[0].ended(), 2);
        a.reset();
        assert_eq!(a.steps[0].finished(), 0);
        assert!(a.steps[0].latency.is_empty());
    }

    #[test]
    fn reset_shrinks_histograms_that_grew_so_per_second_copies_stay_small() {
        let mut second = Tally::new(1, 1);
        let fresh = second.steps[0].latency.distinct_values();
        second.record_request(0, Duration::from_secs(20), Duration::from_millis(3), Ok(1));
        record(&mut second.lag, Duration::from_millis(400));
        assert!(second.steps[0].latency.distinct_values() > fresh, "a 20 s latency grows the histogram");
        second.reset();
        assert_eq!(second.steps[0].latency.distinct_values(), fresh);
        assert_eq!(second.lag.distinct_values(), fresh);
        assert!(second.steps[0].latency.is_empty() && second.steps[0].service.is_empty());
        // Still records anything after the shrink.
        second.record_request(0, Duration::from_secs(40), Duration::from_secs(1), Ok(1));
        assert!(second.steps[0].latency.max() >= 39_900_000);
    }

    #[test]
    fn merging_is_associative_for_quantiles() {
        let mut parts: Vec<Tally> = (0..3).map(|_| Tally::new(1, 0)).collect();
        for i in 0..3000u64 {
            let d = Duration::from_micros(1 + i * i % 100_000);
            parts[(i % 3) as usize].record_request(0, d, d, Ok(0));
        }
        let mut left = Tally::new(1, 0);
        left.add(&parts[0]);
        left.add(&parts[1]);
        left.add(&parts[2]);
        let mut right = Tally::new(1, 0);
        let mut bc = Tally::new(1, 0);
        bc.add(&parts[1]);
        bc.add(&parts[2]);
        right.add(&bc);
        right.add(&parts[0]);
        for q in [0.5, 0.95, 0.99, 0.999, 1.0] {
            assert_eq!(left.steps[0].latency.value_at_quantile(q), right.steps[0].latency.value_at_quantile(q));
        }
        assert_eq!(left.steps[0].latency.len(), 3000);
    }
}
