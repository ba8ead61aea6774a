//! One load step of a capacity search: the scenario it runs, and its verdict.
//!
//! A step runs only the claimed persona, at a constant arrival rate, for warm-up + window.
//! Its verdict (docs/background.md#capacity-verdict) uses only the window's seconds of the timeline:
//!
//! - **latency**: k latencies above the target out of n, Clopper–Pearson 95%. PASS needs
//!   `pU < 1−q`, FAIL is `pL > 1−q`. The timeline keeps, per step and second, p50/p95/p99/max
//!   rather than the histogram, so k is known only between bounds (a second whose p95 is
//!   under the target has at most 5% above it, one whose p99 is over it at least 1%…). PASS
//!   is tested on the upper bound and FAIL on the lower one, so the bounds can only make a
//!   step INCONCLUSIVE, never wrongly decided. Exact counts need per-second histograms from
//!   the metrics module: see `exceedance_bounds`.
//! - **errors**: exact counts, Clopper–Pearson 95%, PASS needs `pU < e`, FAIL is `pL > e`.
//! - **batches**: the window cut into 10 batches; every batch's p_q (bounded above by the
//!   worst second) meets the target, or the batches' one-sided 95% t bound does.
//! - **users**: the share who reached their goal must reach the claim's (99% by default),
//!   counted over the users whose visit ended on its own (not those cut off at the end).
//! - **generator**: a step whose generator fell behind is INCONCLUSIVE, whatever it measured.
//! - **concurrency**: a step is judged only from the first second its users in session
//!   reached the step's target (within [`tolerance`]); a step that never gets there, or
//!   whose window averages below it, is NOT TESTED: it says nothing about the claim, except
//!   that a clear FAIL with fewer users than claimed stays a FAIL.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::stats::{clopper_pearson, t_upper, Interval};
use crate::analysis::Summary;
use crate::metrics::Quantiles;
use crate::scenario::claim::Claim;
use crate::scenario::{Arrival, Journey, Op, Scenario, Shape, Spacing};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
    /// The claimed concurrency was never reached: the claim was not put to the test.
    #[serde(rename = "NOT_TESTED")]
    NotTested,
}

impl Verdict {
    /// As printed: `PASS`, `NOT TESTED`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::NotTested => "NOT TESTED",
        }
    }

    /// The CSS class of the verdict in capacity.html.
    pub fn class(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotTested => "not-tested",
        }
    }
}

/// How long a step lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub warmup: Duration,
    pub window: Duration,
    pub grace: Duration,
}

/// The scenario of one step: the claimed persona alone, at `rate` sessions per second.
pub fn step_scenario(base: &Scenario, persona: &str, rate: f64, seed: u64, timing: Timing) -> Arc<Scenario> {
    let mut s = base.clone();
    s.personas.retain(|p| p.name == persona);
    let end = timing.warmup + timing.window;
    for p in &mut s.personas {
        p.population = None;
        p.arrival = Arrival {
            shape: Shape::Constant { rate, from: Duration::ZERO, to: end },
            spacing: match p.arrival.spacing {
                Spacing::Even => Spacing::Even,
                Spacing::Poisson => Spacing::Poisson,
            },
            stagger: None,
        };
    }
    s.duration = end;
    s.grace = timing.grace;
    s.seed = seed;
    // A step is judged by the capacity verdict, not by the scenario's own thresholds (nor
    // stopped by them); the generator's lag limit still applies.
    s.gates = crate::scenario::Gates { lag_limit: base.gates.lag_limit, ..Default::default() };
    s.name = format!("{} capacity {rate:.2}/s seed {seed}", base.name);
    Arc::new(s)
}

/// The scenario of one held step: `users` users of the claimed persona started evenly over
/// `ramp`, each staying in session until the window ends (its journey after login repeated,
/// see [`hold_journey`]), then cut off: a closed loop, as an exam room is.
pub fn hold_scenario(
    base: &Scenario,
    persona: &str,
    users: u64,
    seed: u64,
    ramp: Duration,
    window: Duration,
) -> Arc<Scenario> {
    let mut s = base.clone();
    s.personas.retain(|p| p.name == persona);
    for p in &mut s.personas {
        p.population = Some(users.max(1));
        p.arrival = Arrival {
            shape: Shape::Burst { at: Duration::ZERO, spread: ramp, decay: None },
            spacing: Spacing::Even,
            stagger: None,
        };
        let (journey, login_end) = hold_journey(&p.journey, p.behaviour.login_end);
        p.journey = journey;
        p.behaviour.login_end = login_end;
    }
    // Held a second past the window, so that its last second is still a held one; then cut
    // off, as a closed loop ends.
    s.duration = ramp + window + Duration::from_secs(1);
    s.grace = Duration::ZERO;
    s.seed = seed;
    s.gates = crate::scenario::Gates { lag_limit: base.gates.lag_limit, ..Default::default() };
    s.name = format!("{} capacity hold {users} users seed {seed}", base.name);
    Arc::new(s)
}

/// Where a held user's repeated part starts: just after the login steps when they can be
/// split off cleanly (the prefix points only into itself or at the split, the rest only into
/// itself), else 0 (the whole journey repeats).
pub fn hold_split(journey: &Journey, login_end: usize) -> usize {
    let refs = |op: &Op| -> Vec<usize> {
        match op {
            Op::LoopStart { end, .. } => vec![*end],
            Op::LoopEnd { start } => vec![*start],
            Op::Choose { branches } => branches.iter().map(|(_, b)| *b).collect(),
            Op::Jump(t) => vec![*t],
            _ => vec![],
        }
    };
    let ops = &journey.ops;
    let login_end = login_end.min(ops.len());
    let clean = ops[..login_end].iter().all(|op| refs(op).iter().all(|&i| i <= login_end))
        && ops[login_end..].iter().all(|op| refs(op).iter().all(|&i| i >= login_end));
    if clean {
        login_end
    } else {
        0
    }
}

/// The journey of a held user: the login steps once, then the rest repeated (`u32::MAX`
/// times: longer than any window), so that each user opens one session and keeps it. When the
/// login cannot be split off cleanly (it sits inside a loop or a choice), the whole journey
/// is repeated instead, logging in again every round. Returns the journey and its
/// `login_end`.
pub fn hold_journey(journey: &Journey, login_end: usize) -> (Journey, usize) {
    let ops = &journey.ops;
    let split = hold_split(journey, login_end);
    let clean = split == login_end;
    let moved = |op: &Op, in_loop: bool| -> Op {
        // The loop's ops move one place on (the LoopStart sits before them), and so does
        // every index into them; the login prefix stays where it is. An index at the split
        // from the prefix now names the LoopStart, which is where it should go.
        let at = |i: usize| if in_loop { i + 1 } else { i };
        match op {
            Op::LoopStart { count, end } => Op::LoopStart { count: *count, end: at(*end) },
            Op::LoopEnd { start } => Op::LoopEnd { start: at(*start) },
            Op::Choose { branches } => Op::Choose { branches: branches.iter().map(|(w, b)| (*w, at(*b))).collect() },
            Op::Jump(t) => Op::Jump(at(*t)),
            other => other.clone(),
        }
    };
    let mut out: Vec<Op> = ops[..split].iter().map(|op| moved(op, false)).collect();
    out.push(Op::LoopStart { count: u32::MAX, end: ops.len() + 1 });
    out.extend(ops[split..].iter().map(|op| moved(op, true)));
    out.push(Op::LoopEnd { start: split });
    // Unsplit, the login steps moved one place on too.
    let login_end = if clean { login_end } else { login_end + usize::from(login_end > 0) };
    (Journey { ops: out, ..journey.clone() }, login_end)
}

/// Everything measured and decided about one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Load as a multiple of the claim (1.0 = the claim).
    pub fraction: f64,
    /// Sessions started per second, as planned.
    pub rate: f64,
    pub seed: u64,
    /// The step's run directory, relative to the capacity directory.
    pub run_dir: String,
    /// Seconds of the timeline judged: (warm-up, warm-up + window].
    pub window_s: (u32, u32),
    /// Arrivals per second measured in the window.
    pub offered_rate: f64,
    /// Mean users in session in the window: the concurrency actually reached.
    pub concurrency: f64,
    /// Users the step had to have in session to be judged.
    #[serde(default)]
    pub users_target: f64,
    /// The most users in session at any second up to the window's end.
    #[serde(default)]
    pub users_peak: u64,
    /// The second the population reached the target (within the tolerance); `None`: never.
    #[serde(default)]
    pub reached_at_s: Option<u32>,
    /// Mean requests in flight in the window (N for a USL fit).
    pub in_flight: f64,
    /// Requests finished per second in the window.
    pub throughput: f64,
    /// Latencies above the target: lower and upper bounds of k, with their intervals.
    pub latency_low: Interval,
    pub latency_high: Interval,
    pub errors: Interval,
    pub batches: Batches,
    /// Share of users who reached their goal, over those whose visit ended on its own (whole
    /// step).
    pub goal_success: f64,
    pub generator_healthy: bool,
    pub lag_p99_us: u64,
    pub verdict: Verdict,
    /// Why, in plain words: one line per criterion that did not pass.
    pub reasons: Vec<String>,
    /// The journey step doing worst in the window (largest share over the latency target,
    /// then of errors): where the target breaks first.
    #[serde(default)]
    pub worst_step: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batches {
    pub count: usize,
    pub seconds_each: u32,
    /// Upper bound of each batch's p_q, microseconds.
    pub upper_us: Vec<u64>,
    pub t_upper_us: f64,
    pub ok: bool,
}

/// Judge one step's summary against the claim.
pub fn judge(
    summary: &Summary,
    claim: &Claim,
    fraction: f64,
    rate: f64,
    users: f64,
    timing: Timing,
    run_dir: String,
) -> StepResult {
    let warm = timing.warmup.as_secs() as u32;
    let to = warm + timing.window.as_secs().max(1) as u32;
    let reach = Reach::measure(summary, users, to);
    // Judged from the end of the warm-up, or later if the population took longer to build.
    let from = reach.at.map_or(warm, |at| warm.max(at.saturating_sub(1)));
    let rows: Vec<_> = summary.timeline.iter().filter(|s| s.t > from && s.t <= to).collect();
    let target_us = claim.latency.as_micros() as u64;
    let Tally { k_low, k_high, n, errors, finished, worst_step } = tally(summary, &rows, target_us);
    let seconds = rows.len().max(1) as f64;
    let mean = |f: &dyn Fn(&crate::metrics::Second) -> u64| rows.iter().map(|r| f(r) as f64).sum::<f64>() / seconds;
    let batches = batches(&rows, claim.quantile, target_us);
    let goal = goal_share(summary);
    let goal_success = goal.unwrap_or(0.0);
    let latency_low = clopper_pearson(k_low, n);
    let latency_high = clopper_pearson(k_high, n);
    let errors = clopper_pearson(errors, finished);
    let healthy = summary.generator.healthy;
    let found = Found {
        latency_low,
        latency_high,
        k_low,
        n,
        errors,
        batches: &batches,
        goal,
        lag_p99_us: summary.generator.lag.p99_us,
        healthy,
    };
    let (mut fails, unsure) = reasons(claim, &found);
    let concurrency = mean(&|r| r.active_users);
    let reached = reach.at.is_some() && concurrency >= reach.floor;
    let verdict = if !healthy {
        Verdict::Inconclusive
    } else if !fails.is_empty() {
        Verdict::Fail
    } else if !reached {
        Verdict::NotTested
    } else if unsure.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    if !reached {
        let line = reach.shortfall(concurrency);
        match verdict {
            // A clear failure with fewer users than claimed is still a failure.
            Verdict::Fail => fails.push(line.replacen("not tested: ", "failed with only ", 1)),
            // First: it is what the step's verdict means.
            _ => fails.insert(0, line),
        }
    }
    fails.extend(unsure);
    StepResult {
        fraction,
        rate,
        seed: summary.scenario.seed,
        run_dir,
        window_s: (from, to),
        offered_rate: mean(&|r| r.arrivals),
        concurrency,
        users_target: users,
        users_peak: reach.peak,
        reached_at_s: reach.at,
        in_flight: mean(&|r| r.in_flight),
        throughput: mean(&|r| r.finished()),
        latency_low,
        latency_high,
        errors,
        batches,
        goal_success,
        generator_healthy: healthy,
        lag_p99_us: summary.generator.lag.p99_us,
        verdict,
        reasons: fails,
        worst_step,
    }
}

/// What the judged seconds add up to.
struct Tally {
    /// Latencies over the target: at least, at most, out of.
    k_low: u64,
    k_high: u64,
    n: u64,
    errors: u64,
    finished: u64,
    /// The journey step doing worst (largest share over the latency target, then of errors):
    /// where the target breaks first.
    worst_step: Option<String>,
}

fn tally(summary: &Summary, rows: &[&crate::metrics::Second], target_us: u64) -> Tally {
    let (mut k_low, mut k_high, mut n) = (0u64, 0u64, 0u64);
    let (mut errors, mut finished) = (0u64, 0u64);
    // Per journey step: (over the target, upper bound; errors; finished).
    let mut per_step = vec![(0u64, 0u64, 0u64); summary.steps.len()];
    for row in rows {
        for (j, step) in row.steps.iter().enumerate() {
            let (lo, hi) = exceedance_bounds(&step.latency, target_us);
            k_low += lo;
            k_high += hi;
            n += step.latency.count;
            errors += step.errors;
            finished += step.ok + step.errors;
            if let Some(slot) = per_step.get_mut(j) {
                *slot = (slot.0 + hi, slot.1 + step.errors, slot.2 + step.ok + step.errors);
            }
        }
    }
    let share = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let worst_step = per_step
        .iter()
        .enumerate()
        .filter(|(_, (over, errs, _))| over + errs > 0)
        .max_by(|(_, a), (_, b)| {
            (share(a.0, a.2), share(a.1, a.2))
                .partial_cmp(&(share(b.0, b.2), share(b.1, b.2)))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .and_then(|(j, _)| summary.steps.get(j).map(|s| s.name.clone()));
    Tally { k_low, k_high, n, errors, finished, worst_step }
}

/// What a step measured, as the criteria read it.
struct Found<'a> {
    latency_low: Interval,
    latency_high: Interval,
    k_low: u64,
    n: u64,
    errors: Interval,
    batches: &'a Batches,
    goal: Option<f64>,
    lag_p99_us: u64,
    healthy: bool,
}

/// Each criterion that did not pass, in plain words: (clear failures, doubts).
fn reasons(claim: &Claim, f: &Found) -> (Vec<String>, Vec<String>) {
    let Found { latency_low, latency_high, k_low, n, errors, batches, goal, .. } = *f;
    let finished = errors.n;
    let goal_success = goal.unwrap_or(0.0);
    let allowed = 1.0 - claim.quantile;
    let target_us = claim.latency.as_micros() as u64;
    let mut fails = Vec::new();
    let mut unsure = Vec::new();
    let pct = |x: f64| format!("{:.2}%", x * 100.0);
    let p = claim.quantile * 100.0;
    let target = crate::analysis::thresholds::show(target_us as f64, crate::scenario::thresholds::Unit::Duration);
    if n == 0 {
        unsure.push("no request finished in the window".to_string());
    } else if latency_low.low > allowed {
        fails.push(format!(
            "latency: at least {} of requests took over {target} (95% CI lower bound {}), p{p} target allows {}",
            pct(k_low as f64 / n as f64),
            pct(latency_low.low),
            pct(allowed)
        ));
    } else if latency_high.high >= allowed {
        unsure.push(format!(
            "latency: share over {target} could be up to {} (95% CI upper bound), not clearly under {}",
            pct(latency_high.high),
            pct(allowed)
        ));
    }
    if errors.low > claim.error_rate {
        fails.push(format!(
            "errors: {} of {} requests failed (95% CI lower bound {} > {})",
            errors.k,
            errors.n,
            pct(errors.low),
            pct(claim.error_rate)
        ));
    } else if errors.high >= claim.error_rate && finished > 0 {
        unsure.push(format!(
            "errors: {} of {} failed; the 95% CI upper bound {} is not under {} (more requests needed)",
            errors.k,
            errors.n,
            pct(errors.high),
            pct(claim.error_rate)
        ));
    }
    if !batches.ok && n > 0 {
        unsure.push(format!(
            "batches: p{p} of some {}-second batches may exceed {target} and their t bound does not clear it",
            batches.seconds_each
        ));
    }
    if goal.is_none() {
        unsure.push("users: no visit ended within the step, so none is known to have reached its goal".into());
    } else if goal_success < claim.goal_success {
        fails.push(format!(
            "users: {} reached their goal, the claim needs {}",
            pct(goal_success),
            pct(claim.goal_success)
        ));
    }
    if !f.healthy {
        unsure.push(format!(
            "generator: lag p99 {}µs exceeded its limit, this step does not measure the target",
            f.lag_p99_us
        ));
    }
    (fails, unsure)
}

/// The share of users who reached their goal, over those whose visit ended on its own: one
/// the step cut off at its end (still thinking, or arrived too late to get there) is no
/// evidence either way. `None` when no visit ended.
fn goal_share(summary: &Summary) -> Option<f64> {
    let p = summary.personas.first()?;
    let decided = p.completed + p.failed + p.abandoned;
    (decided > 0).then(|| p.completed as f64 / decided as f64)
}

/// Whether, and when, a step's population reached its target.
struct Reach {
    target: f64,
    /// The fewest users in session that count as the target reached.
    floor: f64,
    at: Option<u32>,
    peak: u64,
}

impl Reach {
    fn measure(summary: &Summary, target: f64, to: u32) -> Reach {
        let floor = target * (1.0 - tolerance(target));
        let upto = || summary.timeline.iter().filter(|s| s.t > 0 && s.t <= to);
        Reach {
            target,
            floor,
            at: upto().find(|s| s.active_users as f64 >= floor).map(|s| s.t),
            peak: upto().map(|s| s.active_users).max().unwrap_or(0),
        }
    }

    /// "not tested: 364 of 2,000 users in session …"
    fn shortfall(&self, mean: f64) -> String {
        let target = crate::format::count(self.target.round() as u64);
        match self.at {
            None => format!(
                "not tested: {} of {target} users in session (the most at any second; judging needs {} or more)",
                crate::format::count(self.peak),
                crate::format::count(self.floor.ceil() as u64)
            ),
            Some(at) => format!(
                "not tested: {} of {target} users in session on average over the judged seconds (reached {} at {at} s, \
                 then fell back)",
                crate::format::count(mean.round() as u64),
                crate::format::count(self.floor.ceil() as u64)
            ),
        }
    }
}

/// How far below its target a step's population may be and still count as reached: 5%, or
/// twice the Poisson noise of a population that size (2/√N) when that is more, so that a
/// small population is not declared short by chance alone.
pub fn tolerance(target: f64) -> f64 {
    if target <= 0.0 {
        return 1.0;
    }
    (2.0 / target.sqrt()).clamp(0.05, 1.0)
}

/// Bounds on how many of a second's `q.count` latencies exceed `target_us`, from its
/// quantiles. `value_at_quantile(ℓ) ≤ T` means at least a share ℓ is at or under T (HDR
/// rounds values up, so this errs on the safe side); `> T` means more than 1−ℓ is over it.
///
/// Runtime hook that would make this exact: per step and second, the number of latencies
/// above the claim's target (or the second's histogram) in `metrics::StepSecond`.
pub fn exceedance_bounds(q: &Quantiles, target_us: u64) -> (u64, u64) {
    let c = q.count;
    if c == 0 {
        return (0, 0);
    }
    // Levels in per mille, so that the shares are exact integer arithmetic.
    let levels = [(500u64, q.p50_us), (950, q.p95_us), (990, q.p99_us), (1000, q.max_us)];
    let high = match levels.iter().rev().find(|(_, v)| *v <= target_us) {
        Some((level, _)) => (c * (1000 - level)).div_ceil(1000),
        None => c,
    };
    let low = match levels.iter().find(|(_, v)| *v > target_us) {
        Some((level, _)) => (c * (1000 - level) / 1000).max(1),
        None => 0,
    };
    (low.min(c), high.min(c))
}

/// The batch guard: 10 batches (fewer if the window is shorter than 10 s).
fn batches(rows: &[&crate::metrics::Second], quantile: f64, target_us: u64) -> Batches {
    let count = rows.len().clamp(1, 10);
    let each = (rows.len() / count).max(1);
    let pick = |q: &Quantiles| match quantile {
        x if x <= 0.5 => q.p50_us,
        x if x <= 0.95 => q.p95_us,
        x if x <= 0.99 => q.p99_us,
        _ => q.max_us,
    };
    let upper_us: Vec<u64> = rows
        .chunks(each)
        .take(count)
        .filter_map(|chunk| {
            chunk.iter().flat_map(|r| r.steps.iter().filter(|s| s.latency.count > 0).map(|s| pick(&s.latency))).max()
        })
        .collect();
    let values: Vec<f64> = upper_us.iter().map(|v| *v as f64).collect();
    let t = t_upper(&values);
    let ok = !upper_us.is_empty() && (upper_us.iter().all(|v| *v <= target_us) || t < target_us as f64);
    Batches { count: upper_us.len(), seconds_each: each as u32, upper_us, t_upper_us: t, ok }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(count: u64, p50: u64, p95: u64, p99: u64, max: u64) -> Quantiles {
        Quantiles { count, p50_us: p50, p95_us: p95, p99_us: p99, max_us: max }
    }

    #[test]
    fn exceedance_bounds_from_quantiles() {
        assert_eq!(exceedance_bounds(&q(100, 1, 2, 3, 4), 10), (0, 0));
        assert_eq!(exceedance_bounds(&q(100, 1, 2, 3, 40), 10), (1, 1));
        assert_eq!(exceedance_bounds(&q(100, 1, 2, 30, 40), 10), (1, 5));
        assert_eq!(exceedance_bounds(&q(100, 1, 20, 30, 40), 10), (5, 50));
        assert_eq!(exceedance_bounds(&q(100, 11, 20, 30, 40), 10), (50, 100));
        assert_eq!(exceedance_bounds(&q(0, 0, 0, 0, 0), 10), (0, 0));
    }
}

#[cfg(test)]
mod reach_tests {
    use super::*;
    use crate::scenario::claim::ClaimLoad;

    fn claim() -> Claim {
        Claim {
            text: "pupil 2000 concurrent, p95 < 60s, errors < 50%".into(),
            persona: "pupil".into(),
            load: ClaimLoad::Concurrent(2000),
            quantile: 0.95,
            latency: Duration::from_secs(60),
            error_rate: 0.5,
            goal_success: 0.0,
        }
    }

    const TIMING: Timing =
        Timing { warmup: Duration::from_secs(10), window: Duration::from_secs(60), grace: Duration::ZERO };

    #[test]
    fn a_step_whose_users_never_arrive_is_not_tested() {
        let mut summary = crate::analysis::fixture::calm();
        for s in &mut summary.timeline {
            s.active_users = 364.min(s.t as u64 * 10);
        }
        let r = judge(&summary, &claim(), 1.0, 22.2, 2000.0, TIMING, String::new());
        assert_eq!(r.verdict, Verdict::NotTested, "{:?}", r.reasons);
        assert!(r.reasons[0].starts_with("not tested: 364 of 2,000 users in session"), "{:?}", r.reasons);
        assert_eq!((r.users_peak, r.reached_at_s), (364, None));
    }

    #[test]
    fn a_step_is_judged_from_the_second_its_users_are_in_session() {
        let mut summary = crate::analysis::fixture::calm();
        // 20 users more every second: 1,900 (2,000 less the 5% tolerance) at t = 95.
        for s in &mut summary.timeline {
            s.active_users = (s.t as u64 * 20).min(2000);
        }
        let r = judge(
            &summary,
            &claim(),
            1.0,
            22.2,
            2000.0,
            Timing { window: Duration::from_secs(100), ..TIMING },
            String::new(),
        );
        assert_eq!(r.reached_at_s, Some(95));
        assert_eq!(r.window_s, (94, 110), "judged from the second it got there, not from the end of the warm-up");
        assert_ne!(r.verdict, Verdict::NotTested, "{:?}", r.reasons);
        assert!(r.concurrency >= 1900.0, "{}", r.concurrency);
    }

    #[test]
    fn small_populations_get_room_for_their_noise() {
        assert_eq!(tolerance(2000.0), 0.05);
        assert!((tolerance(100.0) - 0.2).abs() < 1e-12);
        assert_eq!(tolerance(1.0), 1.0);
    }

    fn persona_journey(yaml_journey: &str) -> (Journey, usize) {
        let yaml = format!(
            "name: j\ntarget: embedded\nduration: 10s\npersonas:\n  p:\n    population: 1\n    arrival: {{ shape: constant, rate: 1/s }}\n    journey:\n{yaml_journey}"
        );
        let s = crate::scenario::load_str(&yaml, std::path::Path::new("j.yaml")).unwrap_or_else(|e| panic!("{e}"));
        (s.personas[0].journey.clone(), s.personas[0].behaviour.login_end)
    }

    #[test]
    fn a_held_user_logs_in_once_then_repeats_the_rest() {
        let (j, login_end) = persona_journey(
            "      - { post: /login, name: login, json: { user: x } }\n      - { post: /exam/start, name: start, goal: true }\n      - repeat: 3\n        steps:\n          - think: 1s\n          - { post: /exam/answer, name: answer }\n",
        );
        assert_eq!(login_end, 1);
        let (held, held_login_end) = hold_journey(&j, login_end);
        assert_eq!(held_login_end, 1);
        assert_eq!(
            held.ops,
            vec![
                Op::Request(0),
                Op::LoopStart { count: u32::MAX, end: 7 },
                Op::Request(1),
                Op::LoopStart { count: 3, end: 6 },
                Op::Think(crate::scenario::Think::Fixed(Duration::from_secs(1))),
                Op::Request(2),
                Op::LoopEnd { start: 3 },
                Op::LoopEnd { start: 1 },
            ]
        );
    }

    #[test]
    fn a_login_inside_a_choice_repeats_the_whole_journey() {
        let (j, login_end) = persona_journey(
            "      - choose:\n          - weight: 1\n            steps: [ { post: /login, name: login, json: { user: x } } ]\n          - weight: 1\n            steps: [ { post: /login, name: login2, json: { user: y } } ]\n      - { get: /agenda, name: agenda, goal: true }\n",
        );
        let (held, held_login_end) = hold_journey(&j, login_end);
        assert_eq!(held_login_end, login_end + 1);
        assert_eq!(held.ops[0], Op::LoopStart { count: u32::MAX, end: j.ops.len() + 1 });
        assert_eq!(held.ops.last(), Some(&Op::LoopEnd { start: 0 }));
        // Every index moved one place on with its op.
        for (old, new) in j.ops.iter().zip(&held.ops[1..]) {
            match (old, new) {
                (Op::Jump(a), Op::Jump(b)) => assert_eq!(a + 1, *b),
                (Op::Choose { branches: a }, Op::Choose { branches: b }) => {
                    assert!(a.iter().zip(b).all(|(x, y)| x.1 + 1 == y.1))
                }
                (a, b) => assert_eq!(a, b),
            }
        }
    }
}
