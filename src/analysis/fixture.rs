//! Synthetic run summaries for tests: a realistic saturating morning, a calm run that never
//! saturates, and the degenerate shapes (no timeline, one second, no requests) that every
//! report must survive. Built from a tiny queue model rather than random data, so every test
//! sees the same numbers and the saturation point is known in advance.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::summary::*;
use crate::metrics::{new_histogram, ErrorKind, Quantiles, Second, StepSecond};
use crate::scenario::ConnectionMode;

/// (persona, step, share of the traffic, latency factor, goal)
const STEPS: [(&str, &str, f64, f64, bool); 5] = [
    ("pupil", "login", 0.25, 1.6, false),
    ("pupil", "agenda", 0.20, 0.8, false),
    ("pupil", "homework", 0.20, 1.0, true),
    ("parent", "login", 0.20, 1.5, false),
    ("parent", "grades", 0.15, 0.9, true),
];

/// Capacity of the modelled target, requests/s: the fixture saturates when offered load
/// exceeds it (around 95 s in with the default peak).
pub const CAPACITY: f64 = 300.0;

/// A 4-minute morning whose pupil peak (≈ 120 users/s × 3.2 requests) exceeds the target's
/// capacity: latency climbs, in-flight piles up, then the queue overflows into 503s.
pub fn saturating() -> Summary {
    build(120.0, CAPACITY, 240)
}

/// The same morning with a target four times bigger: it never saturates.
pub fn calm() -> Summary {
    build(120.0, CAPACITY * 4.0, 240)
}

/// The same morning with the peak scaled by `peak` users/s on a target of `capacity` req/s.
pub fn morning(peak: f64, capacity: f64, seconds: u32) -> Summary {
    build(peak, capacity, seconds)
}

/// A run that sent nothing and has no timeline (e.g. interrupted at once).
pub fn empty() -> Summary {
    let mut s = build(0.0, CAPACITY, 0);
    s.run.interrupted = true;
    s
}

fn build(peak: f64, capacity: f64, seconds: u32) -> Summary {
    let mut morning = Morning::new(peak, capacity, seconds);
    let timeline = (1..=seconds).map(|t| morning.second(t)).collect();
    morning.summary(timeline)
}

/// The synthetic morning as it unfolds: the model's state (queue, active users) and the
/// accumulated measurements.
struct Morning {
    peak: f64,
    capacity: f64,
    seconds: u32,
    arrivals_end: f64,
    queue: f64,
    active: f64,
    hist: Vec<Histogram<u64>>,
    service: Vec<Histogram<u64>>,
    step_ok: [u64; 5],
    step_err: [u64; 5],
    step_sent: [u64; 5],
    to_goal: [Histogram<u64>; 2],
    arrived: [u64; 2],
    goals: [u64; 2],
    lag: Histogram<u64>,
    totals_err: [u64; ErrorKind::COUNT],
}

impl Morning {
    fn new(peak: f64, capacity: f64, seconds: u32) -> Self {
        Morning {
            peak,
            capacity,
            seconds,
            arrivals_end: seconds.saturating_sub(30) as f64,
            queue: 0.0,
            active: 0.0,
            hist: STEPS.iter().map(|_| new_histogram()).collect(),
            service: STEPS.iter().map(|_| new_histogram()).collect(),
            step_ok: [0; 5],
            step_err: [0; 5],
            step_sent: [0; 5],
            to_goal: [new_histogram(), new_histogram()],
            arrived: [0; 2],
            goals: [0; 2],
            lag: new_histogram(),
            totals_err: [0; ErrorKind::COUNT],
        }
    }

    /// Second `t`: arrivals on the two peaks, a queue in front of `capacity`, shedding above
    /// 1,500 waiting, timeouts once the wait passes 4 s.
    fn second(&mut self, t: u32) -> Second {
        let (peak, capacity) = (self.peak, self.capacity);
        let x = t as f64;
        let on = if x <= self.arrivals_end { 1.0 } else { 0.0 };
        let pupils = on * (1.0 + peak * (-((x - 120.0) / 30.0).powi(2)).exp());
        let parents = on * (1.0 + peak / 4.0 * (-((x - 100.0) / 40.0).powi(2)).exp());
        let offered = 3.2 * (pupils + parents) + self.active * 0.02;
        self.queue += offered;
        let served = self.queue.min(capacity);
        self.queue -= served;
        let shed = (self.queue - 1500.0).max(0.0);
        self.queue -= shed;
        let wait_s = 0.04 + self.queue / capacity;
        let timeouts = if wait_s > 4.0 { (served * 0.02).round() } else { 0.0 };
        let ok = (served - timeouts).round().max(0.0) as u64;
        let mut errors = [0u64; ErrorKind::COUNT];
        errors[ErrorKind::Status5xx.index()] = shed.round() as u64;
        errors[ErrorKind::Timeout.index()] = timeouts as u64;
        let ended = (ok as f64 / 3.2).min(self.active + pupils + parents);
        // Little for users: a visit lasts three requests and two think times of 3 s.
        self.active = 0.8 * self.active + 0.2 * (pupils + parents) * (6.0 + 3.0 * (0.04 + self.queue / capacity));
        let goal_count = (ended * 0.9).round() as u64;
        let wait_us = (wait_s * 1e6) as u64;
        let steps = self.step_seconds(ok, errors.iter().sum(), offered, wait_us);
        let arrivals = [pupils.round() as u64, parents.round() as u64];
        self.users_arrive(arrivals, goal_count, wait_us);
        self.lag.record_n(120, 20).unwrap();
        self.lag.record_n(900, 1).unwrap();
        for (a, e) in self.totals_err.iter_mut().zip(errors) {
            *a += e;
        }
        let p50 = (wait_us as f64 * 0.9) as u64 + 1;
        Second {
            t,
            arrivals: arrivals.iter().sum(),
            started: offered.round() as u64,
            attempts: [offered.round() as u64, 0, 0, 0, 0],
            ok,
            errors,
            goals: goal_count,
            active_users: self.active.round() as u64,
            // Little for requests: finished/s × mean service time (≈ 1.5 × the queue wait, from
            // the step mix and the spread `record_spread` gives each second).
            in_flight: (served * wait_s * 1.52).round() as u64,
            latency: Quantiles { count: ok, p50_us: p50, p95_us: p50 * 2, p99_us: p50 * 3, max_us: p50 * 4 },
            lag: Quantiles { count: 21, p50_us: 120, p95_us: 130, p99_us: 900, max_us: 900 },
            behind: 0,
            steps,
        }
    }

    /// The second's requests shared among the steps, recorded into their histograms.
    fn step_seconds(&mut self, ok: u64, errors: u64, offered: f64, wait_us: u64) -> Vec<StepSecond> {
        let mut steps = Vec::new();
        for (i, (_, _, share, factor, _)) in STEPS.iter().enumerate() {
            let n_ok = (ok as f64 * share).round() as u64;
            let n_err = (errors as f64 * share).round() as u64;
            let p50 = (wait_us as f64 * factor * 0.8) as u64 + 1;
            let q = Quantiles { count: n_ok + n_err, p50_us: p50, p95_us: p50 * 2, p99_us: p50 * 3, max_us: p50 * 4 };
            record_spread(&mut self.hist[i], &q, n_ok + n_err);
            record_spread(&mut self.service[i], &Quantiles { p50_us: p50 * 9 / 10, ..q }, n_ok + n_err);
            self.step_ok[i] += n_ok;
            self.step_err[i] += n_err;
            self.step_sent[i] += (offered * share).round() as u64;
            steps.push(StepSecond {
                ok: n_ok,
                errors: n_err,
                latency: if n_ok + n_err > 0 { q } else { Quantiles::default() },
            });
        }
        steps
    }

    /// Pupils and parents arrive; three quarters of the second's goals are pupils'.
    fn users_arrive(&mut self, arrivals: [u64; 2], goal_count: u64, wait_us: u64) {
        for (p, arriving) in arrivals.into_iter().enumerate() {
            self.arrived[p] += arriving;
            let g = if p == 0 { goal_count * 3 / 4 } else { goal_count - goal_count * 3 / 4 };
            let g = g.min(self.arrived[p] - self.goals[p]);
            self.goals[p] += g;
            if g > 0 {
                self.to_goal[p].record_n(3 * wait_us + 2_000_000, g).unwrap();
            }
        }
    }

    fn step_summaries(&self) -> Vec<StepSummary> {
        STEPS
            .iter()
            .enumerate()
            .map(|(i, (persona, name, _, _, goal))| {
                let sent = self.step_sent[i].max(self.step_ok[i] + self.step_err[i]);
                StepSummary {
                    persona: persona.to_string(),
                    name: name.to_string(),
                    method: if name.ends_with("login") { "POST" } else { "GET" }.into(),
                    path: format!("/{name}"),
                    goal: *goal,
                    sent,
                    ok: self.step_ok[i],
                    errors: if self.step_err[i] > 0 {
                        BTreeMap::from([("http_5xx".to_string(), self.step_err[i])])
                    } else {
                        BTreeMap::new()
                    },
                    bytes: self.step_ok[i] * 2048,
                    latency: Latency::of(&self.hist[i]),
                    service: Latency::of(&self.service[i]),
                    attempts: BTreeMap::from([("first".to_string(), sent)]),
                    steps_ok: self.step_ok[i],
                    steps_failed: self.step_err[i],
                    http_versions: vec!["HTTP/1.1".into()],
                }
            })
            .collect()
    }

    fn persona_summaries(&self) -> Vec<PersonaSummary> {
        let (arrived, goals) = (self.arrived, self.goals);
        ["pupil", "parent"]
            .iter()
            .enumerate()
            .map(|(p, name)| PersonaSummary {
                name: name.to_string(),
                scheduled: arrived[p],
                arrived: arrived[p],
                completed: goals[p],
                failed: arrived[p] - goals[p],
                accounting_closes: true,
                time_to_goal: Latency::of(&self.to_goal[p]),
                goal_within: super::summary::goal_within(&self.to_goal[p], arrived[p]),
                ..Default::default()
            })
            .collect()
    }

    fn summary(&self, timeline: Vec<Second>) -> Summary {
        let sent: u64 = timeline.iter().map(|s| s.started).sum();
        let ok: u64 = timeline.iter().map(|s| s.ok).sum();
        let totals_err = self.totals_err;
        let error_map = ErrorKind::ALL
            .iter()
            .filter(|k| totals_err[k.index()] > 0)
            .map(|k| (k.name().to_string(), totals_err[k.index()]))
            .collect();
        let lag = Latency::of(&self.lag);
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: Tool { name: "schoolday".into(), version: "test".into() },
            scenario: ScenarioInfo {
                name: "Synthetic Monday 8:00".into(),
                description: Some("A fabricated morning that saturates a 300 req/s target".into()),
                file: "synthetic.yaml".into(),
                seed: 7,
                scale: 1.0,
                duration_s: self.arrivals_end,
                grace_s: 30.0,
            },
            target: TargetInfo {
                kind: "embedded".into(),
                url: "http://127.0.0.1:1".into(),
                connections: ConnectionMode::PerUser,
            },
            run: RunInfo {
                started_at: "2026-04-06T06:00:00Z".into(),
                elapsed_s: self.seconds as f64,
                interrupted: false,
                aborted: None,
            },
            generator: GeneratorHealth {
                healthy: lag.p99_us <= 5_000,
                lag,
                lag_p99_limit_us: 5_000,
                basis: String::new(),
                arrivals_behind: 0,
                invalid: None,
            },
            requests: RequestTotals {
                sent,
                ok,
                errors: error_map,
                cut_off: sent.saturating_sub(ok + totals_err.iter().sum::<u64>()),
            },
            steps: self.step_summaries(),
            personas: self.persona_summaries(),
            target_counts: None,
            timeline,
            saturation: None,
            recovery: Vec::new(),
            outages: Vec::new(),
            shards: Vec::new(),
            thresholds: Vec::new(),
            http: Default::default(),
        }
    }
}

/// Record `n` values so the histogram's p50/p95/p99/max land where the timeline says.
fn record_spread(h: &mut Histogram<u64>, q: &Quantiles, n: u64) {
    if n == 0 {
        return;
    }
    let n50 = n / 2;
    let n95 = n * 45 / 100;
    let n99 = n * 4 / 100;
    let rest = n - n50 - n95 - n99;
    for (v, k) in [(q.p50_us, n50), (q.p95_us, n95), (q.p99_us, n99), (q.max_us, rest)] {
        if k > 0 {
            let _ = h.record_n(v.max(1), k);
        }
    }
}

/// A second in which nothing happened.
pub fn empty_second(t: u32) -> Second {
    Second {
        t,
        arrivals: 0,
        started: 0,
        attempts: Default::default(),
        ok: 0,
        errors: [0; ErrorKind::COUNT],
        goals: 0,
        active_users: 0,
        in_flight: 0,
        latency: Quantiles::default(),
        lag: Quantiles::default(),
        behind: 0,
        steps: Vec::new(),
    }
}
