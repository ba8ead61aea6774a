//! The search: a ladder of load steps around the claim, then bisection between the last
//! passing and the first failing step, repeated for every seed.
//!
//! Decisions:
//! - Steps run in increasing load and the ladder stops at its first FAIL: higher steps would
//!   only fail harder, and on a shared target each of them costs a real overload.
//! - Bisection only happens between a PASS and a FAIL of the same seed, and stops at an
//!   INCONCLUSIVE or NOT TESTED midpoint (the evidence there does not say which side it is on).
//! - The claim PASSES for a seed when every step at or below 1.0× passed and a step at or
//!   above 1.0× passed; it FAILS when any step at or below 1.0× failed; it is NOT TESTED when
//!   a step at or below 1.0× never reached its population, or none at or above 1.0× did;
//!   otherwise it is INCONCLUSIVE. Across seeds the verdict holds only if every seed agrees
//!   (a mix with a NOT TESTED seed is NOT TESTED, any other mix INCONCLUSIVE).
//! - The capacity reported is the *smallest* over seeds of the largest passing load: never a
//!   figure that one of the runs did not sustain, and never one above what was measured.

use serde::{Deserialize, Serialize};

use super::step::{StepResult, Verdict};

/// One seed's ladder and bisection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedRun {
    pub seed: u64,
    /// In the order they ran.
    pub steps: Vec<StepResult>,
    pub verdict: Verdict,
    /// Largest passing fraction below the first failing one.
    pub largest_pass: Option<f64>,
    pub first_fail: Option<f64>,
}

/// What the search needs from the outside: run one step and judge it.
pub trait StepRunner {
    fn run(&mut self, fraction: f64, seed: u64) -> anyhow::Result<StepResult>;
}

/// Ladder then bisection for one seed.
pub fn run_seed(
    runner: &mut dyn StepRunner,
    seed: u64,
    fractions: &[f64],
    resolution: f64,
    max_bisections: u32,
) -> anyhow::Result<SeedRun> {
    let mut ladder: Vec<f64> = fractions.to_vec();
    ladder.sort_by(f64::total_cmp);
    ladder.dedup();
    let mut steps = Vec::new();
    for f in ladder {
        let result = runner.run(f, seed)?;
        let failed = result.verdict == Verdict::Fail;
        steps.push(result);
        if failed {
            break;
        }
    }
    let (mut lo, mut hi) = bracket(&steps);
    let mut bisections = 0;
    while let (Some(l), Some(h)) = (lo, hi) {
        if h - l <= resolution + 1e-9 || bisections >= max_bisections {
            break;
        }
        bisections += 1;
        let mid = (l + h) / 2.0;
        let result = runner.run(mid, seed)?;
        let verdict = result.verdict;
        steps.push(result);
        match verdict {
            Verdict::Pass => lo = Some(mid),
            Verdict::Fail => hi = Some(mid),
            Verdict::Inconclusive | Verdict::NotTested => break,
        }
    }
    let (largest_pass, first_fail) = bracket(&steps);
    Ok(SeedRun { seed, verdict: claim_verdict(&steps), steps, largest_pass, first_fail })
}

/// (largest passing fraction below the first failure, first failing fraction).
fn bracket(steps: &[StepResult]) -> (Option<f64>, Option<f64>) {
    let first_fail = steps.iter().filter(|s| s.verdict == Verdict::Fail).map(|s| s.fraction).min_by(f64::total_cmp);
    let largest_pass = steps
        .iter()
        .filter(|s| s.verdict == Verdict::Pass && first_fail.is_none_or(|f| s.fraction < f))
        .map(|s| s.fraction)
        .max_by(f64::total_cmp);
    (largest_pass, first_fail)
}

fn claim_verdict(steps: &[StepResult]) -> Verdict {
    let at_or_below: Vec<&StepResult> = steps.iter().filter(|s| s.fraction <= 1.0 + 1e-9).collect();
    if at_or_below.iter().any(|s| s.verdict == Verdict::Fail) {
        Verdict::Fail
    } else if at_or_below.iter().all(|s| s.verdict == Verdict::Pass)
        && steps.iter().any(|s| s.fraction >= 1.0 - 1e-9 && s.verdict == Verdict::Pass)
    {
        Verdict::Pass
    } else if at_or_below.iter().any(|s| s.verdict == Verdict::NotTested)
        || steps.iter().filter(|s| s.fraction >= 1.0 - 1e-9).all(|s| s.verdict == Verdict::NotTested)
    {
        Verdict::NotTested
    } else {
        Verdict::Inconclusive
    }
}

/// The verdict over every seed: unanimous, else NOT TESTED if a seed was not, else
/// inconclusive.
pub fn overall(runs: &[SeedRun]) -> Verdict {
    match runs.first() {
        Some(first) if runs.iter().all(|r| r.verdict == first.verdict) => first.verdict,
        Some(_) if runs.iter().any(|r| r.verdict == Verdict::NotTested) => Verdict::NotTested,
        _ => Verdict::Inconclusive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::stats::clopper_pearson;
    use crate::capacity::step::Batches;

    /// A target that passes below `capacity` (as a fraction of the claim) and fails above.
    struct Knee {
        capacity: f64,
        ran: Vec<f64>,
    }

    impl StepRunner for Knee {
        fn run(&mut self, fraction: f64, seed: u64) -> anyhow::Result<StepResult> {
            self.ran.push(fraction);
            let verdict = if fraction <= self.capacity { Verdict::Pass } else { Verdict::Fail };
            let ci = clopper_pearson(0, 1000);
            Ok(StepResult {
                fraction,
                rate: fraction * 100.0,
                seed,
                run_dir: String::new(),
                window_s: (0, 1),
                offered_rate: 0.0,
                concurrency: 0.0,
                users_target: 0.0,
                users_peak: 0,
                reached_at_s: Some(1),
                in_flight: 0.0,
                throughput: 0.0,
                latency_low: ci,
                latency_high: ci,
                errors: ci,
                batches: Batches { count: 0, seconds_each: 1, upper_us: vec![], t_upper_us: 0.0, ok: true },
                goal_success: 1.0,
                generator_healthy: true,
                lag_p99_us: 0,
                verdict,
                reasons: vec![],
                worst_step: None,
            })
        }
    }

    const LADDER: [f64; 5] = [0.5, 0.75, 1.0, 1.1, 1.25];

    #[test]
    fn a_claim_beyond_capacity_fails_and_bisection_finds_the_knee() {
        let mut knee = Knee { capacity: 0.9, ran: vec![] };
        let run = run_seed(&mut knee, 1, &LADDER, 0.05, 4).unwrap();
        assert_eq!(run.verdict, Verdict::Fail);
        // 0.5, 0.75 pass, 1.0 fails: the ladder stops, then 0.875 (pass), 0.9375 (fail),
        // 0.90625 (fail), and the bracket is narrower than 0.05.
        assert_eq!(knee.ran, vec![0.5, 0.75, 1.0, 0.875, 0.9375, 0.90625]);
        assert_eq!((run.largest_pass, run.first_fail), (Some(0.875), Some(0.90625)));
    }

    #[test]
    fn headroom_passes_and_never_claims_beyond_the_top_step() {
        let mut knee = Knee { capacity: 5.0, ran: vec![] };
        let run = run_seed(&mut knee, 1, &LADDER, 0.05, 4).unwrap();
        assert_eq!(run.verdict, Verdict::Pass);
        assert_eq!((run.largest_pass, run.first_fail), (Some(1.25), None));
        assert_eq!(knee.ran.len(), 5);
    }

    #[test]
    fn seeds_must_agree() {
        let pass = run_seed(&mut Knee { capacity: 1.05, ran: vec![] }, 1, &LADDER, 0.05, 4).unwrap();
        let fail = run_seed(&mut Knee { capacity: 0.95, ran: vec![] }, 2, &LADDER, 0.05, 4).unwrap();
        assert_eq!(pass.verdict, Verdict::Pass);
        assert_eq!(fail.verdict, Verdict::Fail);
        assert_eq!(overall(&[pass.clone(), pass.clone()]), Verdict::Pass);
        assert_eq!(overall(&[pass, fail]), Verdict::Inconclusive);
    }
}
