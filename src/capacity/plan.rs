//! The plan of a capacity search, made before any load is sent: can these steps conclude?
//!
//! A step can only PASS if, within its window, (1) the target carries the claimed population
//! and (2) enough requests finish for the 95% intervals to clear the claim's limits. Both are
//! known in advance from the claim, the journey and the timing, so the search refuses a plan
//! that cannot conclude rather than spending an hour to answer INCONCLUSIVE:
//!
//! - **warm-up**: at a constant arrival rate the population builds up over one session
//!   length (Little's law, `N = X · (Z + R)`); sessions longer than the mean take a little
//!   more, so the plan asks for a fifth more than one mean session. Held users (`--hold`) are
//!   all in session at the end of their ramp, so the ramp is the warm-up.
//! - **requests for the error bound**: with zero errors, the two-sided 95% Clopper–Pearson
//!   upper bound is `1 − 0.025^(1/n)`; it is under the allowed rate `e` once
//!   `n > ln 0.025 / ln(1 − e)` (3,688 for 0.1%).
//! - **requests for the latency bound**: the plan assumes a target with a margin (half the
//!   allowed share over the latency target, e.g. 2.5% over 1 s for a p95 claim) and asks
//!   for the n whose interval then clears the allowed share. A target right at its limit
//!   needs far more; one well inside it, fewer.
//! - hence a **minimum window** at each step's rate: the requests needed divided by the
//!   requests per second at that load.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::convert::JourneyCost;
use super::stats::clopper_pearson;
use super::step::Timing;
use crate::scenario::claim::Claim;

/// How a step puts the claimed load on the target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Open model: sessions arrive at the rate that, at steady state, has the claimed
    /// population in session (`X = N / (Z + R)`).
    Rate,
    /// Closed model: the step's N users are started evenly over `ramp_s` and each stays in
    /// session (its journey after login repeated) until the window ends.
    Hold { ramp_s: f64 },
}

impl Method {
    pub fn describe(&self) -> String {
        match self {
            Method::Rate => "rate at steady state (open model: X = N / (Z + R) sessions arriving per second)".into(),
            Method::Hold { ramp_s } => {
                format!("hold (closed model: N users started over {ramp_s:.0} s, each kept in session for the window)")
            }
        }
    }
}

/// What one step needs, and whether the timing gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepNeeds {
    pub fraction: f64,
    /// Users the step must have in session (the claim's N × fraction; for a rate claim,
    /// what Little's law predicts).
    pub users: f64,
    /// Requests per second at that load.
    pub requests_per_s: f64,
    /// Requests the window is expected to finish.
    pub expected_requests: f64,
    /// The shortest window that finishes the requests needed.
    pub window_needed_s: f64,
}

/// The plan, as printed before the search and kept in `capacity.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub method: Method,
    /// Mean session length Z + R, seconds (R is 0 before the calibration run measured it).
    pub session_s: f64,
    pub response_measured: bool,
    pub warmup_s: f64,
    pub warmup_needed_s: f64,
    pub window_s: f64,
    /// Requests needed for the error bound, for the latency bound, and the larger.
    pub error_requests: u64,
    pub latency_requests: u64,
    pub requests_needed: u64,
    pub steps: Vec<StepNeeds>,
    /// The shortest window every step can conclude in.
    pub window_needed_s: f64,
    /// Why the plan cannot conclude (empty: it can).
    pub problems: Vec<String>,
}

impl Plan {
    pub fn concludes(&self) -> bool {
        self.problems.is_empty()
    }

    /// The options that would conclude (`--warmup W --step-duration D`), and how long the
    /// ladder would take with them, bisections aside.
    pub fn needed(&self, grace: Duration, repeat: u32) -> String {
        let warmup = round_up(self.warmup_needed_s.max(self.warmup_s));
        let window = round_up(self.window_needed_s.max(self.window_s));
        let per_step = warmup + window + grace.as_secs_f64();
        let total = per_step * self.steps.len() as f64 * repeat.max(1) as f64;
        let warmup_flag = match self.method {
            Method::Rate => "--warmup",
            Method::Hold { .. } => "--ramp",
        };
        format!(
            "{warmup_flag} {} --step-duration {}: about {} for {} steps × {} seed(s), bisections aside",
            show(warmup),
            show(window),
            show(total),
            self.steps.len(),
            repeat.max(1)
        )
    }
}

/// The plan for `claim` over `fractions`. `concurrency` is the claim's N (or, for a rate
/// claim, the rate × session length); `rate` the sessions per second at 1.0×.
pub fn plan(
    claim: &Claim,
    cost: JourneyCost,
    response_s: Option<f64>,
    rate: f64,
    method: Method,
    fractions: &[f64],
    timing: Timing,
) -> Plan {
    let session_s = cost.think_s + response_s.unwrap_or(0.0);
    let warmup_needed_s = match method {
        Method::Rate => round_up(1.2 * session_s),
        Method::Hold { ramp_s } => ramp_s,
    };
    let error_requests = error_requests(claim.error_rate);
    let latency_requests = latency_requests(1.0 - claim.quantile);
    let requests_needed = error_requests.max(latency_requests);
    let mut ladder = fractions.to_vec();
    ladder.sort_by(f64::total_cmp);
    ladder.dedup();
    let window_s = timing.window.as_secs_f64();
    let steps: Vec<StepNeeds> = ladder
        .iter()
        .map(|&fraction| {
            // Users in session, and the requests they send: N users each cycling through
            // sessions of Z + R seconds send N · requests / (Z + R) per second, whichever
            // way they were brought in.
            let users = rate * fraction * session_s;
            let requests_per_s = rate * fraction * cost.requests;
            StepNeeds {
                fraction,
                users,
                requests_per_s,
                expected_requests: requests_per_s * window_s,
                window_needed_s: if requests_per_s > 0.0 {
                    requests_needed as f64 / requests_per_s
                } else {
                    f64::INFINITY
                },
            }
        })
        .collect();
    let window_needed_s = steps.iter().map(|s| s.window_needed_s).fold(0.0, f64::max);
    let mut problems = Vec::new();
    let warmup_s = match method {
        Method::Rate => timing.warmup.as_secs_f64(),
        Method::Hold { ramp_s } => ramp_s,
    };
    if method == Method::Rate && warmup_s + 1e-9 < warmup_needed_s {
        problems.push(format!(
            "warm-up {} is shorter than the {} the population needs to build up (a session lasts {:.0} s: by \
             Little's law the claimed users are in session only after about one session length)",
            show(warmup_s),
            show(warmup_needed_s),
            session_s
        ));
    }
    for s in steps.iter().filter(|s| s.window_needed_s > window_s + 1e-9) {
        problems.push(format!(
            "step {:.2}×: a {} window finishes about {} requests at {:.1} requests/s; {} are needed ({} for the \
             error bound under {}, {} for the latency bound), so {} at least",
            s.fraction,
            show(window_s),
            crate::format::count(s.expected_requests.round() as u64),
            s.requests_per_s,
            crate::format::count(requests_needed),
            crate::format::count(error_requests),
            pct(claim.error_rate),
            crate::format::count(latency_requests),
            show(round_up(s.window_needed_s))
        ));
    }
    Plan {
        method,
        session_s,
        response_measured: response_s.is_some(),
        warmup_s,
        warmup_needed_s,
        window_s,
        error_requests,
        latency_requests,
        requests_needed,
        steps,
        window_needed_s,
        problems,
    }
}

/// The fewest requests whose zero-error 95% Clopper–Pearson upper bound is under `rate`.
pub fn error_requests(rate: f64) -> u64 {
    if rate >= 1.0 {
        return 1;
    }
    if rate <= 0.0 {
        return u64::MAX;
    }
    // pU(0, n) = 1 − 0.025^(1/n) < e  ⇔  n > ln 0.025 / ln(1 − e); the interval function has
    // the last word on the boundary.
    let mut n = (0.025f64.ln() / (1.0 - rate).ln()).floor().max(1.0) as u64;
    while clopper_pearson(0, n).high >= rate {
        n += 1;
    }
    n
}

/// The fewest requests whose 95% interval clears `allowed` (the share over the latency target
/// the claim allows) when half that share is over it.
pub fn latency_requests(allowed: f64) -> u64 {
    if allowed <= 0.0 {
        return u64::MAX;
    }
    let clears = |n: u64| clopper_pearson((n as f64 * allowed / 2.0).ceil() as u64, n).high < allowed;
    // Doubling then bisection: the bound is not monotone in n at every step (k is rounded up),
    // so this finds a boundary, which is what a plan needs.
    let mut hi = 16u64;
    while !clears(hi) {
        hi *= 2;
        if hi > 1 << 40 {
            return u64::MAX;
        }
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if clears(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The plan as printed before the search.
pub fn render(plan: &Plan, claim: &Claim) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Plan · {}", plan.method.describe());
    let session = if plan.response_measured {
        format!("a session lasts {:.1} s (think Z + response R)", plan.session_s)
    } else {
        format!("a session lasts at least {:.1} s (think time Z; R is measured next)", plan.session_s)
    };
    let _ = writeln!(out, "  {session}; warm-up {} (needs {})", show(plan.warmup_s), show(plan.warmup_needed_s));
    let _ = writeln!(
        out,
        "  per step: {} requests ({} for errors < {} at 0 errors, {} for p{} with half the allowed share over)",
        crate::format::count(plan.requests_needed),
        crate::format::count(plan.error_requests),
        pct(claim.error_rate),
        crate::format::count(plan.latency_requests),
        claim.quantile * 100.0
    );
    let _ = writeln!(out, "  load     users   requests/s  in a {} window  window needed", show(plan.window_s));
    for s in &plan.steps {
        let _ = writeln!(
            out,
            "  {:<7} {:>6.0}  {:>11.1}  {:>16.0}  {:>13}{}",
            format!("{:.2}×", s.fraction),
            s.users,
            s.requests_per_s,
            s.expected_requests,
            show(round_up(s.window_needed_s)),
            if s.window_needed_s > plan.window_s + 1e-9 { "  too short" } else { "" }
        );
    }
    out
}

/// Seconds rounded up for people: to the second under a minute, to the next 5 s above.
fn round_up(s: f64) -> f64 {
    match s {
        s if !s.is_finite() => s,
        s if s <= 60.0 => s.ceil(),
        s => (s / 5.0).ceil() * 5.0,
    }
}

/// `1m50s`, `20s`, `2h5m`.
pub fn show(s: f64) -> String {
    if !s.is_finite() {
        return "forever".into();
    }
    humantime::format_duration(Duration::from_secs(s.ceil() as u64)).to_string().replace(' ', "")
}

fn pct(x: f64) -> String {
    format!("{}%", x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::claim::ClaimLoad;

    fn exam_claim() -> Claim {
        Claim {
            text: "exam_taker 2000 concurrent, p95 < 1s, errors < 0.1%".into(),
            persona: "exam_taker".into(),
            load: ClaimLoad::Concurrent(2000),
            quantile: 0.95,
            latency: Duration::from_secs(1),
            error_rate: 0.001,
            goal_success: 0.99,
        }
    }

    /// scenarios/exam-start.yaml: login, start, 3 × (think 20–40 s, answer).
    const EXAM: JourneyCost = JourneyCost { requests: 5.0, think_s: 90.0 };
    const LADDER: [f64; 5] = [0.5, 0.75, 1.0, 1.1, 1.25];

    fn timing(warmup: u64, window: u64) -> Timing {
        Timing {
            warmup: Duration::from_secs(warmup),
            window: Duration::from_secs(window),
            grace: Duration::from_secs(10),
        }
    }

    #[test]
    fn zero_errors_under_a_tenth_of_a_percent_need_about_3700_requests() {
        let n = error_requests(0.001);
        assert!((3680..=3700).contains(&n), "{n}");
        assert!(clopper_pearson(0, n).high < 0.001);
        assert!(clopper_pearson(0, n - 1).high >= 0.001);
        assert_eq!(error_requests(0.05), 72, "the two-sided rule of three at 5%");
    }

    #[test]
    fn the_latency_bound_needs_more_requests_for_a_rarer_tail() {
        let p95 = latency_requests(0.05);
        let p99 = latency_requests(0.01);
        assert!(clopper_pearson((p95 as f64 * 0.025).ceil() as u64, p95).high < 0.05);
        assert!((100..2000).contains(&p95) && p99 > 4 * p95, "{p95} {p99}");
    }

    #[test]
    fn the_exam_claim_asks_for_a_session_of_warm_up_and_3700_requests_per_window() {
        let claim = exam_claim();
        let rate = 2000.0 / 90.0;
        let plan = plan(&claim, EXAM, None, rate, Method::Rate, &LADDER, timing(5, 20));
        assert!(plan.warmup_needed_s >= 90.0, "{plan:?}");
        assert!((3680..=3700).contains(&plan.requests_needed), "{plan:?}");
        // 1.0× is 22.2 sessions/s × 5 requests = 111 requests/s: 34 s for 3,700 requests;
        // the 0.5× step needs twice that.
        let one = plan.steps.iter().find(|s| s.fraction == 1.0).unwrap();
        assert!((one.users - 2000.0).abs() < 1e-6 && (one.requests_per_s - 111.1).abs() < 0.1, "{one:?}");
        assert!((plan.window_needed_s - 66.4).abs() < 0.5, "{plan:?}");
        // A 5 s warm-up and a 20 s window cannot conclude, and the refusal says why.
        assert!(!plan.concludes());
        assert!(plan.problems[0].starts_with("warm-up 5s is shorter than the 1m50s"), "{:?}", plan.problems);
        assert!(plan.problems.iter().any(|p| p.starts_with("step 1.00×") && p.contains("3,688 are needed")));
        let needed = plan.needed(Duration::from_secs(10), 1);
        assert!(needed.starts_with("--warmup 1m50s --step-duration 1m10s"), "{needed}");
        // What it asks for concludes.
        let enough = super::plan(&claim, EXAM, None, rate, Method::Rate, &LADDER, timing(110, 70));
        assert!(enough.concludes(), "{:?}", enough.problems);
    }

    #[test]
    fn a_hold_is_warm_once_its_ramp_is_over() {
        let claim = exam_claim();
        let plan = plan(&claim, EXAM, Some(0.5), 2000.0 / 90.5, Method::Hold { ramp_s: 60.0 }, &[1.0], timing(0, 40));
        assert_eq!(plan.warmup_needed_s, 60.0);
        assert!(plan.concludes(), "{:?}", plan.problems);
        assert!(render(&plan, &claim).contains("hold (closed model"));
    }
}
