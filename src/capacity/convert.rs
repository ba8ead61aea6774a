//! From a claimed concurrency to an arrival rate: `X = N / (Z + R)` (docs/background.md#littles-law, #capacity-verdict).
//!
//! N users in session at once, each session lasting Z (think time) + R (time waiting for
//! responses), means by Little's law N/(Z+R) sessions starting per second. Z comes from the
//! compiled journey (expected think per session, loops multiplied, choices weighted). R is
//! *measured*: a short calibration run at light load gives the response time per session of
//! an unloaded target. Using the unloaded R gives the highest rate, so the test is at least
//! as demanding as the claim: under load R grows, and the concurrency actually reached
//! (measured per step, from the timeline) is then higher than N, never lower.

use serde::{Deserialize, Serialize};

use crate::scenario::{Journey, Op, Think};

/// What one session of a persona costs on average.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JourneyCost {
    /// Requests per session.
    pub requests: f64,
    /// Think time per session, seconds (Z).
    pub think_s: f64,
}

/// The expected requests and think time of one walk through `journey`.
pub fn journey_cost(journey: &Journey) -> JourneyCost {
    let (requests, think_s, _) = walk(&journey.ops, 0, None);
    JourneyCost { requests, think_s }
}

/// The expected requests and think time of one walk through `journey` from op `pc` on (the
/// part a held user repeats after logging in).
pub fn journey_cost_from(journey: &Journey, pc: usize) -> JourneyCost {
    let (requests, think_s, _) = walk(&journey.ops, pc, None);
    JourneyCost { requests, think_s }
}

/// Expected (requests, think) from `pc` until `stop` (a loop's end), a `Jump` (a branch's
/// end, whose target is returned) or the end of the program.
fn walk(ops: &[Op], mut pc: usize, stop: Option<usize>) -> (f64, f64, usize) {
    let (mut requests, mut think) = (0.0, 0.0);
    // Each op is visited once per call; nested structures recurse, so this terminates for
    // any program the compiler produces (jumps only go forward).
    while pc < ops.len() && Some(pc) != stop {
        match &ops[pc] {
            Op::Request(_) => {
                requests += 1.0;
                pc += 1;
            }
            Op::Think(t) => {
                think += mean_think(t);
                pc += 1;
            }
            Op::LoopStart { count, end } => {
                let (r, t, _) = walk(ops, pc + 1, Some(*end));
                requests += r * *count as f64;
                think += t * *count as f64;
                pc = end + 1;
            }
            Op::LoopEnd { .. } => pc += 1,
            Op::Choose { branches } => {
                let total: f64 = branches.iter().map(|(w, _)| *w as f64).sum();
                let mut next = pc + 1;
                for (weight, start) in branches {
                    let (r, t, after) = walk(ops, *start, stop);
                    if total > 0.0 {
                        requests += r * *weight as f64 / total;
                        think += t * *weight as f64 / total;
                    }
                    next = next.max(after);
                }
                pc = next;
            }
            Op::Jump(target) => return (requests, think, *target),
        }
    }
    (requests, think, pc)
}

/// The mean of a think time distribution, seconds.
pub fn mean_think(t: &Think) -> f64 {
    match t {
        Think::Fixed(d) => d.as_secs_f64(),
        Think::Uniform(a, b) => (a.as_secs_f64() + b.as_secs_f64()) / 2.0,
        Think::LogNormal { median, p90 } => {
            // p90 = median · e^(1.2816 σ); mean = median · e^(σ²/2).
            let median = median.as_secs_f64();
            let sigma = (p90.as_secs_f64() / median).ln() / 1.281_551_565_5;
            median * (sigma * sigma / 2.0).exp()
        }
    }
}

/// The conversion as stated in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    /// Claimed users in session at once (absent for a rate claim).
    pub concurrency: Option<u64>,
    pub requests_per_session: f64,
    /// Z: think time per session, seconds.
    pub think_s: f64,
    /// R: response time per session, seconds, measured by the calibration run.
    pub response_s: f64,
    /// X: sessions starting per second at 1.0× the claim.
    pub rate: f64,
    /// One sentence: the formula with the numbers.
    pub statement: String,
}

/// `X = N / (Z + R)`, stated.
pub fn convert(concurrency: u64, cost: JourneyCost, response_s: f64) -> Conversion {
    let session = cost.think_s + response_s;
    let rate = if session > 0.0 { concurrency as f64 / session } else { f64::INFINITY };
    Conversion {
        concurrency: Some(concurrency),
        requests_per_session: cost.requests,
        think_s: cost.think_s,
        response_s,
        rate,
        statement: format!(
            "X = N / (Z + R) = {concurrency} / ({:.3} s + {:.3} s) = {rate:.2} sessions/s ({:.1} requests/s at {:.1} \
             requests per session); Z is the expected think time per session from the journey, R the response time \
             per session measured on the unloaded target",
            cost.think_s,
            response_s,
            rate * cost.requests,
            cost.requests
        ),
    }
}

/// A claim stated as a rate needs no conversion.
pub fn as_rate(rate: f64, cost: JourneyCost) -> Conversion {
    Conversion {
        concurrency: None,
        requests_per_session: cost.requests,
        think_s: cost.think_s,
        response_s: 0.0,
        rate,
        statement: format!(
            "claimed as a rate: {rate:.2} sessions/s ({:.1} requests/s at {:.1} requests per session)",
            rate * cost.requests,
            cost.requests
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    fn journey(yaml_journey: &str) -> Journey {
        let yaml = format!(
            "name: j\ntarget: embedded\nduration: 10s\npersonas:\n  p:\n    population: 1\n    arrival: {{ shape: constant, rate: 1/s }}\n    journey:\n{yaml_journey}"
        );
        let s = crate::scenario::load_str(&yaml, Path::new("j.yaml")).unwrap_or_else(|e| panic!("{e}"));
        s.personas[0].journey.clone()
    }

    #[test]
    fn loops_multiply_and_choices_weigh() {
        let j = journey(
            "      - { post: /login, name: login }\n      - think: 2s\n      - repeat: 3\n        steps:\n          - { get: /files/1, name: f }\n          - think: 1s..3s\n      - choose:\n          - weight: 3\n            steps: [ { get: /messages, name: m }, { think: 4s }, { get: /grades, name: g, goal: true } ]\n          - weight: 1\n            steps: []\n",
        );
        let cost = journey_cost(&j);
        // 1 + 3 + (3/4 × 2) requests; 2 + 3×2 + (3/4 × 4) seconds.
        assert!((cost.requests - 5.5).abs() < 1e-9, "{cost:?}");
        assert!((cost.think_s - 11.0).abs() < 1e-9, "{cost:?}");
    }

    #[test]
    fn persona_think_is_counted_once_per_gap() {
        let j = journey("      - { get: /a, name: a }\n      - { get: /b, name: b, goal: true }\n");
        assert_eq!(journey_cost(&j), JourneyCost { requests: 2.0, think_s: 0.0 });
    }

    #[test]
    fn lognormal_mean() {
        let t = Think::LogNormal { median: Duration::from_secs(10), p90: Duration::from_secs(40) };
        // σ = ln 4 / 1.2816 ≈ 1.0817, mean = 10 · e^(σ²/2) ≈ 17.95 s.
        assert!((mean_think(&t) - 17.95).abs() < 0.01, "{}", mean_think(&t));
    }

    #[test]
    fn little_law_conversion() {
        let c = convert(8000, JourneyCost { requests: 10.0, think_s: 45.0 }, 5.0);
        assert_eq!(c.rate, 160.0);
        assert!(c.statement.starts_with("X = N / (Z + R) = 8000 / (45.000 s + 5.000 s) = 160.00 sessions/s"));
    }
}
