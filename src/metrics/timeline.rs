//! The per-second timeline: what was offered, what came back, and how long it took, second by
//! second. It is what shows *when* a target broke, which totals cannot.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::kinds::{Cause, CauseCounts, ErrorCounts, ErrorKind};
use super::tally::{new_histogram, Tally};

/// Latency quantiles of a set of requests, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub count: u64,
    pub p50_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Quantiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Quantiles::default();
        }
        Quantiles {
            count: h.len(),
            p50_us: h.value_at_quantile(0.50),
            p95_us: h.value_at_quantile(0.95),
            p99_us: h.value_at_quantile(0.99),
            max_us: h.max(),
        }
    }
}

/// One second of the run. Counters are events in that second; gauges are sampled at its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Seconds since the start of the run: this row covers (t-1, t].
    pub t: u32,
    /// Users that arrived.
    pub arrivals: u64,
    /// Requests (attempts) sent.
    pub started: u64,
    /// Requests sent, by cause: first attempts, retries, reloads, re-logins, polls.
    #[serde(with = "super::kinds::cause_counts_as_map", default)]
    pub attempts: CauseCounts,
    /// Requests that ended successfully.
    pub ok: u64,
    /// Requests that ended in error, by kind.
    #[serde(with = "super::kinds::error_counts_as_map")]
    pub errors: ErrorCounts,
    /// Users that reached their goal.
    pub goals: u64,
    /// Users arrived and not yet ended (gauge).
    pub active_users: u64,
    /// Requests sent and not yet ended (gauge).
    pub in_flight: u64,
    /// Latency from intended start of the requests that ended in this second, all steps.
    pub latency: Quantiles,
    /// Generator lag of the arrivals and requests started in this second.
    pub lag: Quantiles,
    /// The most users that were due but had not started yet at any moment of this second
    /// (sampled by the pacer): how far the offered load trailed the plan, below the second's
    /// resolution. Absent (0) in summaries written before it existed.
    #[serde(default)]
    pub behind: u64,
    /// Per global step id: the requests of that step that ended in this second.
    pub steps: Vec<StepSecond>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSecond {
    pub ok: u64,
    pub errors: u64,
    pub latency: Quantiles,
}

impl Second {
    pub fn finished(&self) -> u64 {
        self.ok + self.error_total()
    }

    pub fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors[kind.index()]
    }
}

/// Running totals needed to turn per-second tallies into gauges.
#[derive(Debug, Default)]
pub struct Gauges {
    started: u64,
    finished: u64,
    arrived: u64,
    ended: u64,
}

impl Gauges {
    /// Build the timeline row for second `t` from that second's tally.
    pub fn second(&mut self, t: u32, tally: &Tally) -> Second {
        let mut all = new_histogram();
        let mut errors = [0u64; ErrorKind::COUNT];
        let mut attempts = [0u64; Cause::COUNT];
        let (mut started, mut ok) = (0, 0);
        let steps = tally
            .steps
            .iter()
            .map(|s| {
                started += s.started;
                for (a, n) in attempts.iter_mut().zip(s.attempts) {
                    *a += n;
                }
                ok += s.ok;
                for (e, n) in errors.iter_mut().zip(s.errors) {
                    *e += n;
                }
                if !s.latency.is_empty() {
                    let _ = all.add(&s.latency);
                }
                StepSecond { ok: s.ok, errors: s.error_total(), latency: Quantiles::of(&s.latency) }
            })
            .collect();
        let arrivals: u64 = tally.personas.iter().map(|p| p.arrived).sum();
        let ended: u64 = tally.personas.iter().map(|p| p.ended()).sum();
        let goals: u64 = tally.personas.iter().map(|p| p.time_to_goal.len()).sum();
        self.started += started;
        self.finished += ok + errors.iter().sum::<u64>();
        self.arrived += arrivals;
        self.ended += ended;
        Second {
            t,
            arrivals,
            started,
            attempts,
            ok,
            errors,
            goals,
            active_users: self.arrived.saturating_sub(self.ended),
            in_flight: self.started.saturating_sub(self.finished),
            latency: Quantiles::of(&all),
            lag: Quantiles::of(&tally.lag),
            behind: tally.behind,
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialise_as_a_named_map_and_read_back() {
        let mut tally = Tally::new(1, 1);
        tally.record_request(0, std::time::Duration::from_millis(1), std::time::Duration::ZERO, Err(ErrorKind::Reset));
        let second = Gauges::default().second(1, &tally);
        let json = serde_json::to_value(&second).unwrap();
        assert_eq!(json["errors"]["reset"], 1);
        assert_eq!(json["errors"]["connect"], 0);
        let back: Second = serde_json::from_value(json).unwrap();
        assert_eq!(back, second);
    }
}
