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
    let mut hist: Vec<Histogram<u64>> = STEPS.iter().map(|_| new_histogram()).collect();
    let mut service: Vec<Histogram<u64>> = STEPS.iter().map(|_| new_histogram()).collect();
    let mut step_ok = [0u64; 5];
    let mut step_err = [0u64; 5];
    let mut step_sent = [0u64; 5];
    let mut to_goal = [new_histogram(), new_histogram()];
    let mut arrived = [0u64; 2];
    let mut goals = [0u64; 2];
    let mut lag = new_histogram();
    let mut totals_err = [0u64; ErrorKind::COUNT];
    let (mut queue, mut active) = (0.0f64, 0.0f64);
    let arrivals_end = seconds.saturating_sub(30) as f64;
    let mut timeline = Vec::new();
    for t in 1..=seconds {
        let x = t as f64;
        let on = if x <= arrivals_end { 1.0 } else { 0.0 };
        let pupils = on * (1.0 + peak * (-((x - 120.0) / 30.0).powi(2)).exp());
        let parents = on * (1.0 + peak / 4.0 * (-((x - 100.0) / 40.0).powi(2)).exp());
        let offered = 3.2 * (pupils + parents) + active * 0.02;
        queue += offered;
        let served = queue.min(capacity);
        queue -= served;
        let shed = (queue - 1500.0).max(0.0);
        queue -= shed;
        let wait_s = 0.04 + queue / capacity;
        let timeouts = if wait_s > 4.0 { (served * 0.02).round() } else { 0.0 };
        let ok = (served - timeouts).round().max(0.0) as u64;
        let mut errors = [0u64; ErrorKind::COUNT];
        errors[ErrorKind::Status5xx.index()] = shed.round() as u64;
        errors[ErrorKind::Timeout.index()] = timeouts as u64;
        let ended = (ok as f64 / 3.2).min(active + pupils + parents);
        // Little for users: a visit lasts three requests and two think times of 3 s.
        active = 0.8 * active + 0.2 * (pupils + parents) * (6.0 + 3.0 * (0.04 + queue / capacity));
        let goal_count = (ended * 0.9).round() as u64;
        let wait_us = (wait_s * 1e6) as u64;

        let mut steps = Vec::new();
        for (i, (_, _, share, factor, _)) in STEPS.iter().enumerate() {
            let n_ok = (ok as f64 * share).round() as u64;
            let n_err = ((errors.iter().sum::<u64>()) as f64 * share).round() as u64;
            let p50 = (wait_us as f64 * factor * 0.8) as u64 + 1;
            let q = Quantiles { count: n_ok + n_err, p50_us: p50, p95_us: p50 * 2, p99_us: p50 * 3, max_us: p50 * 4 };
            record_spread(&mut hist[i], &q, n_ok + n_err);
            record_spread(&mut service[i], &Quantiles { p50_us: p50 * 9 / 10, ..q }, n_ok + n_err);
            step_ok[i] += n_ok;
            step_err[i] += n_err;
            step_sent[i] += (offered * share).round() as u64;
            steps.push(StepSecond {
                ok: n_ok,
                errors: n_err,
                latency: if n_ok + n_err > 0 { q } else { Quantiles::default() },
            });
        }
        let arrivals = [pupils.round() as u64, parents.round() as u64];
        for p in 0..2 {
            arrived[p] += arrivals[p];
            let g = if p == 0 { goal_count * 3 / 4 } else { goal_count - goal_count * 3 / 4 };
            let g = g.min(arrived[p] - goals[p]);
            goals[p] += g;
            if g > 0 {
                to_goal[p].record_n(3 * wait_us + 2_000_000, g).unwrap();
            }
        }
        lag.record_n(120, 20).unwrap();
        lag.record_n(900, 1).unwrap();
        for (a, e) in totals_err.iter_mut().zip(errors) {
            *a += e;
        }
        let p50 = (wait_us as f64 * 0.9) as u64 + 1;
        timeline.push(Second {
            t,
            arrivals: arrivals.iter().sum(),
            started: offered.round() as u64,
            attempts: [offered.round() as u64, 0, 0, 0, 0],
            ok,
            errors,
            goals: goal_count,
            active_users: active.round() as u64,
            // Little for requests: finished/s × mean service time (≈ 1.5 × the queue wait, from
            // the step mix and the spread `record_spread` gives each second).
            in_flight: (served * wait_s * 1.52).round() as u64,
            latency: Quantiles { count: ok, p50_us: p50, p95_us: p50 * 2, p99_us: p50 * 3, max_us: p50 * 4 },
            lag: Quantiles { count: 21, p50_us: 120, p95_us: 130, p99_us: 900, max_us: 900 },
            steps,
        });
    }
    let steps = STEPS
        .iter()
        .enumerate()
        .map(|(i, (persona, name, _, _, goal))| StepSummary {
            persona: persona.to_string(),
            name: name.to_string(),
            method: if name.ends_with("login") { "POST" } else { "GET" }.into(),
            path: format!("/{name}"),
            goal: *goal,
            sent: step_sent[i].max(step_ok[i] + step_err[i]),
            ok: step_ok[i],
            errors: if step_err[i] > 0 {
                BTreeMap::from([("http_5xx".to_string(), step_err[i])])
            } else {
                BTreeMap::new()
            },
            bytes: step_ok[i] * 2048,
            latency: Latency::of(&hist[i]),
            service: Latency::of(&service[i]),
            attempts: BTreeMap::from([("first".to_string(), step_sent[i].max(step_ok[i] + step_err[i]))]),
            steps_ok: step_ok[i],
            steps_failed: step_err[i],
            http_versions: vec!["HTTP/1.1".into()],
        })
        .collect();
    let personas = ["pupil", "parent"]
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let goal_within = GOAL_WINDOWS
                .iter()
                .map(|(label, w)| {
                    let within =
                        if to_goal[p].is_empty() { 0 } else { to_goal[p].count_between(0, w.as_micros() as u64) };
                    (label.to_string(), if arrived[p] == 0 { 0.0 } else { within as f64 / arrived[p] as f64 })
                })
                .collect();
            PersonaSummary {
                name: name.to_string(),
                scheduled: arrived[p],
                arrived: arrived[p],
                completed: goals[p],
                failed: arrived[p] - goals[p],
                abandoned: 0,
                cut_off: 0,
                not_started: 0,
                accounting_closes: true,
                blocked: 0,
                attempts: BTreeMap::new(),
                amplification: None,
                relogins: 0,
                returns: 0,
                queued: 0,
                time_in_queue: None,
                abandoned_in_queue: 0,
                time_to_goal: Latency::of(&to_goal[p]),
                goal_within,
            }
        })
        .collect();
    let sent: u64 = timeline.iter().map(|s| s.started).sum();
    let ok: u64 = timeline.iter().map(|s| s.ok).sum();
    let error_map = ErrorKind::ALL
        .iter()
        .filter(|k| totals_err[k.index()] > 0)
        .map(|k| (k.name().to_string(), totals_err[k.index()]))
        .collect();
    let lag = Latency::of(&lag);
    Summary {
        schema_version: SCHEMA_VERSION,
        tool: Tool { name: "schoolday".into(), version: "test".into() },
        scenario: ScenarioInfo {
            name: "Synthetic Monday 8:00".into(),
            description: Some("A fabricated morning that saturates a 300 req/s target".into()),
            file: "synthetic.yaml".into(),
            seed: 7,
            scale: 1.0,
            duration_s: arrivals_end,
            grace_s: 30.0,
        },
        target: TargetInfo {
            kind: "embedded".into(),
            url: "http://127.0.0.1:1".into(),
            connections: ConnectionMode::PerUser,
        },
        run: RunInfo {
            started_at: "2026-04-06T06:00:00Z".into(),
            elapsed_s: seconds as f64,
            interrupted: false,
            aborted: None,
        },
        generator: GeneratorHealth { healthy: lag.p99_us <= 5_000, lag, lag_p99_limit_us: 5_000 },
        requests: RequestTotals {
            sent,
            ok,
            errors: error_map,
            cut_off: sent.saturating_sub(ok + totals_err.iter().sum::<u64>()),
        },
        steps,
        personas,
        target_counts: None,
        timeline,
        saturation: None,
        recovery: Vec::new(),
        thresholds: Vec::new(),
        http: Default::default(),
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
        steps: Vec::new(),
    }
}
