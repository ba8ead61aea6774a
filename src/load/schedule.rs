//! One persona's arrivals: targets in cumulative load Λ, mapped to times through the curve.
//!
//! Every mode produces a non-decreasing sequence of targets in [0, Λ_total] and inverts Λ at
//! each with one forward walk, so a schedule is generated already sorted, in O(users + table),
//! without sorting and without allocating anything but the output:
//!
//! | population | spacing | targets                                                            |
//! |------------|---------|--------------------------------------------------------------------|
//! | `Some(N)`  | Poisson | Λ_total·S_i/S_{N+1}, S_k = sum of k Exp(1): sorted iid uniforms     |
//! | `Some(N)`  | Even    | Λ_total·(i + ½)/N, the quantiles of the normalised curve            |
//! | `None`     | Poisson | S_1, S_2, … < Λ_total: a unit Poisson process in Λ-time (inversion) |
//! | `None`     | Even    | k − ½ for k = 1, 2, … < Λ_total + ½: one user per unit of Λ         |
//!
//! Sorted uniforms from normalised exponential spacings are the order statistics of N iid
//! uniforms (the conditional Poisson process given N arrivals); S_{N+1} is found by a first
//! pass over a clone of the generator, so the second pass replays the very same draws.

use crate::load::curve::Curve;
use crate::load::ScheduledArrival;
use crate::rng::Rng;
use crate::scenario::Spacing;

/// User indices are `u32`: a persona never schedules more than this many users. The validator
/// bounds populations and expected counts far below it; the cap only guarantees termination.
pub(crate) const MAX_USERS: u64 = u32::MAX as u64 + 1;

/// What one persona's schedule came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Summary {
    pub users: u64,
    pub first_ns: Option<u64>,
    pub last_ns: Option<u64>,
}

/// How many arrivals to reserve room for: exact with a population, Λ plus six standard
/// deviations for a Poisson rate curve (the Vec grows in the rare case it is exceeded).
pub(crate) fn expected(curve: &Curve, population: Option<u64>, spacing: Spacing) -> u64 {
    let total = curve.total();
    let n = match (population, spacing) {
        _ if total <= 0.0 => 0.0,
        (Some(n), _) => n as f64,
        (None, Spacing::Even) => (total + 0.5).floor(),
        (None, Spacing::Poisson) => total + 6.0 * total.sqrt() + 16.0,
    };
    (n as u64).min(MAX_USERS)
}

/// Appends one persona's arrivals to `out`, users numbered in arrival order.
pub(crate) fn generate(
    curve: &Curve,
    population: Option<u64>,
    spacing: Spacing,
    rng: &mut Rng,
    persona: u16,
    out: &mut Vec<ScheduledArrival>,
) -> Summary {
    let total = curve.total();
    let mut summary = Summary::default();
    if total <= 0.0 {
        return summary;
    }
    let mut inverter = curve.inverter();
    let mut emit = |target: f64| {
        let offset_ns = inverter.offset_ns(target);
        out.push(ScheduledArrival { offset_ns, persona, user: summary.users as u32 });
        summary.first_ns.get_or_insert(offset_ns);
        summary.last_ns = Some(offset_ns);
        summary.users += 1;
    };
    match (population, spacing) {
        (Some(n), Spacing::Even) => {
            let n = n.min(MAX_USERS);
            for i in 0..n {
                emit(total * ((i as f64 + 0.5) / n as f64));
            }
        }
        (Some(n), Spacing::Poisson) => {
            let n = n.min(MAX_USERS);
            let mut replay = rng.clone();
            let norm: f64 = (0..=n).map(|_| replay.exp1()).sum();
            let mut sum = 0.0;
            for _ in 0..n {
                sum += rng.exp1();
                // Same draws, same order of additions: sum ≤ norm, so the target stays ≤ Λ.
                emit(total * (sum / norm));
            }
        }
        (None, Spacing::Even) => {
            let mut k = 1u64;
            while (k as f64 - 0.5) < total && k <= MAX_USERS {
                emit(k as f64 - 0.5);
                k += 1;
            }
        }
        (None, Spacing::Poisson) => {
            let mut s = rng.exp1();
            let mut k = 0u64;
            while s < total && k < MAX_USERS {
                emit(s);
                s += rng.exp1();
                k += 1;
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::load::tests::secs;
    use crate::scenario::Shape;

    fn run(shape: &Shape, population: Option<u64>, spacing: Spacing, seed: u64, duration: f64) -> Vec<u64> {
        let curve = Curve::new(shape, secs(duration));
        let mut out = Vec::new();
        let summary = generate(&curve, population, spacing, &mut Rng::new(seed), 0, &mut out);
        assert_eq!(summary.users, out.len() as u64);
        assert!(out.iter().enumerate().all(|(i, a)| a.user == i as u32), "users numbered in arrival order");
        assert_eq!(summary.first_ns, out.first().map(|a| a.offset_ns));
        assert_eq!(summary.last_ns, out.last().map(|a| a.offset_ns));
        out.iter().map(|a| a.offset_ns).collect()
    }

    fn count_between(offsets: &[u64], from: f64, to: f64) -> usize {
        let (from, to) = ((from * 1e9) as u64, (to * 1e9) as u64);
        offsets.iter().filter(|&&o| o >= from && o < to).count()
    }

    #[test]
    fn even_population_lands_on_exact_quantiles() {
        let shape = Shape::Constant { rate: 3.0, from: secs(0.0), to: secs(10.0) };
        let offsets = run(&shape, Some(10), Spacing::Even, 1, 10.0);
        let expected: Vec<u64> = (0..10).map(|i| i * 1_000_000_000 + 500_000_000).collect();
        assert_eq!(offsets, expected);
        assert_eq!(run(&shape, Some(10), Spacing::Even, 2, 10.0), expected, "Even does not depend on the seed");
    }

    #[test]
    fn even_rate_mode_crosses_every_half_unit() {
        // 2/s from 0: Λ(t) = 2t crosses k − ½ at t = (2k − 1)/4.
        let shape = Shape::Constant { rate: 2.0, from: secs(0.0), to: secs(5.0) };
        let offsets = run(&shape, None, Spacing::Even, 1, 5.0);
        assert_eq!(offsets.len(), 10);
        assert_eq!(offsets[0], 250_000_000);
        assert_eq!(offsets[9], 4_750_000_000);
    }

    #[test]
    fn poisson_rate_mode_count_matches_the_integral() {
        let shape = Shape::Constant { rate: 50.0, from: secs(0.0), to: secs(60.0) };
        for seed in 0..5 {
            let n = run(&shape, None, Spacing::Poisson, seed, 60.0).len() as f64;
            assert!((n - 3000.0).abs() < 4.0 * 3000f64.sqrt(), "seed {seed}: {n}");
        }
        // Gaps of a homogeneous Poisson process are Exp(rate): mean 20 ms.
        let offsets = run(&shape, None, Spacing::Poisson, 9, 60.0);
        let mean_gap = (offsets[offsets.len() - 1] - offsets[0]) as f64 / (offsets.len() - 1) as f64 / 1e9;
        assert!((mean_gap - 0.02).abs() < 0.002, "{mean_gap}");
    }

    #[test]
    fn poisson_population_is_uniform_on_a_constant() {
        let shape = Shape::Constant { rate: 1.0, from: secs(0.0), to: secs(100.0) };
        let offsets = run(&shape, Some(10_000), Spacing::Poisson, 4, 100.0);
        assert_eq!(offsets.len(), 10_000);
        for decile in 0..10 {
            let c = count_between(&offsets, decile as f64 * 10.0, decile as f64 * 10.0 + 10.0) as f64;
            // Binomial(10000, 0.1): sd 30.
            assert!((c - 1000.0).abs() < 4.0 * 30.0, "decile {decile}: {c}");
        }
    }

    #[test]
    fn peak_concentrates_around_its_centre() {
        let shape = Shape::Peak { at: secs(300.0), spread: secs(60.0), from: secs(0.0), to: secs(600.0) };
        for spacing in [Spacing::Poisson, Spacing::Even] {
            let offsets = run(&shape, Some(20_000), spacing, 7, 600.0);
            let share = count_between(&offsets, 240.0, 360.0) as f64 / 20_000.0;
            assert!((share - 0.6827).abs() < 0.015, "{spacing:?}: {share}");
            let share2 = count_between(&offsets, 180.0, 420.0) as f64 / 20_000.0;
            assert!((share2 - 0.9545).abs() < 0.01, "{spacing:?}: {share2}");
            // Centred on `at`: the mean is within 4 standard errors (σ/√N = 0.42 s).
            let mean = offsets.iter().map(|&o| o as f64 / 1e9).sum::<f64>() / 20_000.0;
            assert!((mean - 300.0).abs() < 4.0 * 0.43, "{spacing:?}: mean {mean}");
        }
    }

    #[test]
    fn burst_without_spread_puts_everyone_on_the_same_nanosecond() {
        let at = Duration::from_millis(14_000_123);
        let shape = Shape::Burst { at, spread: Duration::ZERO, decay: None };
        for spacing in [Spacing::Poisson, Spacing::Even] {
            let offsets = run(&shape, Some(8_279), spacing, 3, 20_000.0);
            assert_eq!(offsets.len(), 8_279);
            assert!(offsets.iter().all(|&o| o == at.as_nanos() as u64));
        }
    }

    #[test]
    fn burst_spread_is_uniform_and_decay_is_exponential() {
        let uniform = Shape::Burst { at: secs(10.0), spread: secs(20.0), decay: None };
        let offsets = run(&uniform, Some(4000), Spacing::Poisson, 5, 60.0);
        assert!(offsets.iter().all(|&o| (10_000_000_000..=30_000_000_000).contains(&o)));
        let first_half = count_between(&offsets, 10.0, 20.0) as f64;
        assert!((first_half - 2000.0).abs() < 4.0 * 1000f64.sqrt(), "{first_half}");

        let decay = Shape::Burst { at: secs(10.0), spread: Duration::ZERO, decay: Some(secs(5.0)) };
        let offsets = run(&decay, Some(10_000), Spacing::Poisson, 5, 600.0);
        let within_mean = count_between(&offsets, 10.0, 15.0) as f64 / 10_000.0;
        assert!((within_mean - (1.0 - (-1.0f64).exp())).abs() < 0.02, "{within_mean}");
        assert!(offsets[0] >= 10_000_000_000);
    }

    #[test]
    fn ramp_second_half_holds_three_quarters() {
        let shape = Shape::Ramp { from_rate: 0.0, to_rate: 100.0, from: secs(0.0), to: secs(100.0) };
        let offsets = run(&shape, Some(20_000), Spacing::Poisson, 11, 100.0);
        let share = count_between(&offsets, 50.0, 100.0) as f64 / 20_000.0;
        assert!((share - 0.75).abs() < 0.015, "{share}");
        let offsets = run(&shape, None, Spacing::Poisson, 11, 100.0);
        let n = offsets.len() as f64;
        assert!((n - 5000.0).abs() < 4.0 * 5000f64.sqrt(), "{n}");
        let second = count_between(&offsets, 50.0, 100.0) as f64;
        assert!((second - 3750.0).abs() < 4.0 * 3750f64.sqrt(), "{second}");
    }

    #[test]
    fn steps_get_their_share() {
        let shape = Shape::Steps { from: secs(0.0), stages: vec![(10.0, secs(10.0)), (30.0, secs(10.0))] };
        let offsets = run(&shape, Some(4000), Spacing::Even, 0, 20.0);
        assert_eq!(count_between(&offsets, 0.0, 10.0), 1000);
        assert_eq!(count_between(&offsets, 10.0, 20.0), 3000);
        let offsets = run(&shape, None, Spacing::Even, 0, 20.0);
        assert_eq!(offsets.len(), 400);
        assert_eq!(count_between(&offsets, 10.0, 20.0), 300);
    }

    #[test]
    fn degenerate_inputs_give_empty_schedules() {
        let constant = Shape::Constant { rate: 1.0, from: secs(0.0), to: secs(10.0) };
        assert!(run(&constant, Some(0), Spacing::Poisson, 1, 10.0).is_empty());
        assert!(run(&constant, Some(0), Spacing::Even, 1, 10.0).is_empty());
        assert!(run(&constant, Some(50), Spacing::Poisson, 1, 0.0).is_empty(), "duration 0");
        let zero = Shape::Constant { rate: 0.0, from: secs(0.0), to: secs(10.0) };
        for spacing in [Spacing::Poisson, Spacing::Even] {
            assert!(run(&zero, Some(50), spacing, 1, 10.0).is_empty());
            assert!(run(&zero, None, spacing, 1, 10.0).is_empty());
        }
        let outside = Shape::Peak { at: secs(7200.0), spread: secs(60.0), from: secs(0.0), to: secs(9000.0) };
        assert!(run(&outside, Some(1000), Spacing::Poisson, 1, 600.0).is_empty());
    }

    #[test]
    fn offsets_stay_inside_the_window_at_its_edges() {
        // All mass in the last nanoseconds of the window, and a ramp ending at the window.
        let shape = Shape::Constant { rate: 1e9, from: Duration::from_nanos(999_999_990), to: secs(2.0) };
        let offsets = run(&shape, Some(1000), Spacing::Poisson, 1, 1.0);
        assert_eq!(offsets.len(), 1000);
        assert!(offsets.iter().all(|&o| (999_999_990..1_000_000_000).contains(&o)));
    }
}
