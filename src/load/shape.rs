//! Each arrival [`Shape`] as linear pieces over the run window [0, duration).
//!
//! The piecewise-linear shapes (constant, ramp, steps, points, uniform burst) are represented
//! exactly. The smooth ones (Gaussian peak, exponential burst) become [`BINS`] pieces whose
//! masses are the exact integrals of the curve over each bin (Simpson on the Gaussian, closed
//! form for the exponential), sloped like the curve so the density inside a bin stays faithful.
//! An exam start with no spread is an *atom*: all of its mass at one instant, so that every
//! user gets exactly the same offset.

use std::time::Duration;

use crate::load::curve::{Exact, Piece};
use crate::scenario::Shape;

/// Pieces used for a smooth curve. 4,096 bins over ±8σ are 0.004σ wide: the within-bin linear
/// approximation is far below anything a load test can resolve, and the table stays ~128 KB.
pub(crate) const BINS: usize = 4096;

/// A Gaussian peak is cut at ±8σ (mass beyond: 1.2e-15), so a peak whose window lies entirely
/// in its far tail counts as empty instead of piling everyone onto the window's edge.
const PEAK_SIGMAS: f64 = 8.0;

/// An exponential burst is cut at 40 mean delays (mass beyond: 4e-18).
const DECAY_MEANS: f64 = 40.0;

/// A shape over the run window, before it is integrated. Rates are the shape's own (users/s
/// for rate curves; Peak and Burst have unit mass).
pub(crate) enum Tabulated {
    /// Unit mass at one instant inside the window.
    Atom(Duration),
    /// Linear pieces, sorted and disjoint, clipped to the window, rates ≥ 0 (maybe none).
    Pieces(Vec<Piece>, Exact),
}

/// Clips `shape` to [0, duration) and turns it into pieces (or an atom).
pub(crate) fn tabulate(shape: &Shape, duration: Duration) -> Tabulated {
    let end = duration.as_secs_f64();
    let s = |d: &Duration| d.as_secs_f64();
    let mut pieces = Vec::new();
    let mut exact = Exact::Pieces;
    match shape {
        Shape::Constant { rate, from, to } => push_linear(&mut pieces, end, s(from), s(to), *rate, *rate),
        Shape::Ramp { from_rate, to_rate, from, to } => {
            push_linear(&mut pieces, end, s(from), s(to), *from_rate, *to_rate)
        }
        Shape::Steps { from, stages } | Shape::Csv { from, stages, .. } => {
            let mut t = s(from);
            for (rate, length) in stages {
                push_linear(&mut pieces, end, t, t + s(length), *rate, *rate);
                t += s(length);
            }
        }
        Shape::Points { points } => {
            // The validator requires increasing times; sorting keeps the pieces disjoint
            // (and the inversion correct) even if it did not.
            let mut points = points.clone();
            points.sort_by_key(|p| p.0);
            for w in points.windows(2) {
                push_linear(&mut pieces, end, s(&w[0].0), s(&w[1].0), w[0].1, w[1].1);
            }
        }
        Shape::Peak { at, spread, from, to } => {
            if spread.is_zero() {
                // A Gaussian of zero width is everyone at `at`.
                return atom_if(*at, at >= from && at <= to, duration);
            }
            let (at, sigma) = (s(at), s(spread));
            let lo = s(from).max(at - PEAK_SIGMAS * sigma).max(0.0);
            let hi = s(to).min(at + PEAK_SIGMAS * sigma).min(end);
            let density = |t: f64| gaussian(at, sigma, t);
            // Simpson on a bin of 0.004σ is exact to ~1e-15 relative.
            let integral = |a: f64, b: f64| (b - a) / 6.0 * (density(a) + 4.0 * density(0.5 * (a + b)) + density(b));
            push_binned(&mut pieces, lo, hi, density, integral);
            exact = Exact::Gaussian { at, sigma, lo, hi };
        }
        Shape::Burst { at, spread, decay: Some(mean) } if !mean.is_zero() => {
            // A decay takes precedence over a spread: the validator should reject both.
            let _ = spread;
            let (at, mean) = (s(at), s(mean));
            let (lo, hi) = (at, (at + DECAY_MEANS * mean).min(end));
            let density = |t: f64| (-(t - at) / mean).exp() / mean;
            let integral = |a: f64, b: f64| (-(a - at) / mean).exp() - (-(b - at) / mean).exp();
            push_binned(&mut pieces, lo, hi, density, integral);
            exact = Exact::Exponential { at, mean, lo, hi };
        }
        Shape::Deadline { at, rise, from, rate } => {
            // Binned like the smooth shapes, over the last DECAY_MEANS rise times before the
            // cut-off only (earlier mass is below 4e-18 of the total). The pieces are exact
            // to far below what a run can resolve, so the rate is read from them.
            let (at, rise, rate) = (s(at), s(rise), if rate.is_finite() { rate.max(0.0) } else { 0.0 });
            let (lo, hi) = (s(from).max(at - DECAY_MEANS * rise).max(0.0), at.min(end));
            if rise > 0.0 && rate > 0.0 {
                let density = |t: f64| rate * (-(at - t) / rise).exp();
                let integral = |a: f64, b: f64| rate * rise * ((-(at - b) / rise).exp() - (-(at - a) / rise).exp());
                push_binned(&mut pieces, lo, hi, density, integral);
            }
        }
        Shape::Burst { at, spread, .. } => {
            if spread.is_zero() {
                return atom_if(*at, true, duration);
            }
            let rate = 1.0 / s(spread);
            push_linear(&mut pieces, end, s(at), s(at) + s(spread), rate, rate);
        }
    }
    Tabulated::Pieces(pieces, exact)
}

fn atom_if(at: Duration, inside: bool, duration: Duration) -> Tabulated {
    if inside && at < duration {
        Tabulated::Atom(at)
    } else {
        Tabulated::Pieces(Vec::new(), Exact::Pieces)
    }
}

pub(crate) fn gaussian(at: f64, sigma: f64, t: f64) -> f64 {
    let z = (t - at) / sigma;
    (-0.5 * z * z).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt())
}

/// Appends max(0, linear rate r0→r1 over [t0, t1]) clipped to [0, end]. Rates that are not
/// finite count as zero: the validator rejects them, the planner must only not misbehave.
fn push_linear(pieces: &mut Vec<Piece>, end: f64, t0: f64, t1: f64, r0: f64, r1: f64) {
    let clean = |r: f64| if r.is_finite() { r } else { 0.0 };
    let (r0, r1) = (clean(r0), clean(r1));
    if t1 <= t0 {
        return;
    }
    let at = |t: f64| r0 + (r1 - r0) * (t - t0) / (t1 - t0);
    // Keep only the part where the rate is positive (a ramp may cross zero).
    let (mut lo, mut hi) = (t0.max(0.0), t1.min(end));
    if r0 < 0.0 || r1 < 0.0 {
        if r0 <= 0.0 && r1 <= 0.0 {
            return;
        }
        let crossing = t0 + (t1 - t0) * (-r0) / (r1 - r0);
        if r0 < 0.0 {
            lo = lo.max(crossing);
        } else {
            hi = hi.min(crossing);
        }
    }
    if hi > lo {
        pieces.push(Piece { t0: lo, t1: hi, r0: at(lo).max(0.0), r1: at(hi).max(0.0) });
    }
}

/// Appends [`BINS`] pieces over [lo, hi] for a smooth density: each with the exact mass
/// `integral(a, b)`, shaped like the density at the bin's edges.
fn push_binned(
    pieces: &mut Vec<Piece>,
    lo: f64,
    hi: f64,
    density: impl Fn(f64) -> f64,
    integral: impl Fn(f64, f64) -> f64,
) {
    if hi <= lo {
        return;
    }
    let width = (hi - lo) / BINS as f64;
    let mut t0 = lo;
    let mut d0 = density(lo);
    for i in 1..=BINS {
        let t1 = if i == BINS { hi } else { lo + width * i as f64 };
        let d1 = density(t1);
        let mass = integral(t0, t1).max(0.0);
        let trapezoid = 0.5 * (d0 + d1) * (t1 - t0);
        if mass > 0.0 && t1 > t0 {
            let (r0, r1) = if trapezoid > 0.0 {
                (d0 * mass / trapezoid, d1 * mass / trapezoid)
            } else {
                (mass / (t1 - t0), mass / (t1 - t0))
            };
            pieces.push(Piece { t0, t1, r0, r1 });
        }
        t0 = t1;
        d0 = d1;
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::curve::Curve;
    use crate::load::tests::{close, secs};

    #[test]
    fn constant_ramp_and_steps_integrate_exactly() {
        let d = secs(100.0);
        let c = Curve::new(&Shape::Constant { rate: 50.0, from: secs(0.0), to: secs(60.0) }, d);
        assert!(close(c.total(), 3000.0, 1e-9), "{}", c.total());
        let r = Curve::new(&Shape::Ramp { from_rate: 0.0, to_rate: 10.0, from: secs(0.0), to: secs(20.0) }, d);
        assert!(close(r.total(), 100.0, 1e-9));
        assert!(close(r.cumulative(secs(10.0)), 25.0, 1e-9), "first half of a 0→r ramp holds 1/4");
        let s = Curve::new(
            &Shape::Steps { from: secs(10.0), stages: vec![(1.0, secs(10.0)), (5.0, secs(20.0)), (2.0, secs(5.0))] },
            d,
        );
        assert!(close(s.total(), 10.0 + 100.0 + 10.0, 1e-9), "{}", s.total());
        assert!(close(s.cumulative(secs(25.0)), 10.0 + 25.0, 1e-9));
        assert_eq!(s.rate(secs(9.0)), 0.0);
        assert_eq!(s.rate(secs(20.0)), 5.0, "a step boundary belongs to the next stage");
        assert_eq!(s.peak(), (5.0, secs(20.0)));
    }

    #[test]
    fn shapes_are_clipped_to_the_run_window() {
        let c = Curve::new(&Shape::Constant { rate: 2.0, from: secs(5.0), to: secs(500.0) }, secs(10.0));
        assert!(close(c.total(), 10.0, 1e-9));
        assert_eq!(c.rate(secs(10.0)), 0.0);
        let r = Curve::new(&Shape::Ramp { from_rate: 0.0, to_rate: 10.0, from: secs(0.0), to: secs(20.0) }, secs(10.0));
        assert!(close(r.total(), 25.0, 1e-9));
    }

    #[test]
    fn points_are_piecewise_linear_and_zero_outside() {
        let c = Curve::new(
            &Shape::Points {
                points: vec![(secs(10.0), 0.0), (secs(20.0), 10.0), (secs(30.0), 10.0), (secs(40.0), 0.0)],
            },
            secs(60.0),
        );
        assert!(close(c.total(), 50.0 + 100.0 + 50.0, 1e-9));
        assert_eq!(c.rate(secs(5.0)), 0.0);
        assert!(close(c.rate(secs(15.0)), 5.0, 1e-9));
        assert_eq!(c.rate(secs(45.0)), 0.0);
    }

    #[test]
    fn negative_rates_count_as_zero() {
        let r =
            Curve::new(&Shape::Ramp { from_rate: -10.0, to_rate: 10.0, from: secs(0.0), to: secs(20.0) }, secs(60.0));
        assert!(close(r.total(), 50.0, 1e-9), "{}", r.total());
        assert_eq!(r.rate(secs(5.0)), 0.0);
    }

    #[test]
    fn peak_has_unit_mass_and_gaussian_shape() {
        let p = Curve::new(
            &Shape::Peak { at: secs(300.0), spread: secs(60.0), from: secs(0.0), to: secs(600.0) },
            secs(600.0),
        );
        // ±5σ window: mass 1 - 5.7e-7.
        assert!(close(p.total(), 1.0, 1e-6), "{}", p.total());
        let within_sigma = p.cumulative(secs(360.0)) - p.cumulative(secs(240.0));
        assert!(close(within_sigma, 0.682_689_492, 1e-6), "{within_sigma}");
        let (rate, at) = p.peak();
        assert_eq!(at, secs(300.0));
        assert!(close(rate, 0.398_942_28 / 60.0, 1e-9));
        // Truncated to its second half: half the mass.
        let half = Curve::new(
            &Shape::Peak { at: secs(300.0), spread: secs(60.0), from: secs(300.0), to: secs(900.0) },
            secs(900.0),
        );
        assert!(close(half.total(), 0.5, 1e-9));
    }

    #[test]
    fn exponential_burst_has_unit_mass() {
        let b =
            Curve::new(&Shape::Burst { at: secs(10.0), spread: Duration::ZERO, decay: Some(secs(5.0)) }, secs(600.0));
        assert!(close(b.total(), 1.0, 1e-12));
        assert!(close(b.cumulative(secs(15.0)), 1.0 - (-1.0f64).exp(), 1e-6));
        assert_eq!(b.peak(), (0.2, secs(10.0)));
    }

    #[test]
    fn deadline_rises_toward_the_cut_off_and_stops_there() {
        let shape = Shape::Deadline { at: secs(600.0), rise: secs(60.0), from: secs(0.0), rate: 10.0 };
        let c = Curve::new(&shape, secs(900.0));
        // ∫ 10·e^(−(600−t)/60) over [0, 600] = 600·(1 − e^−10).
        assert!(close(c.total(), 600.0 * (1.0 - (-10.0f64).exp()), 1e-6), "{}", c.total());
        // The last rise time before the deadline holds 1 − 1/e of the arrivals.
        let last_minute = c.total() - c.cumulative(secs(540.0));
        assert!(close(last_minute / c.total(), 1.0 - (-1.0f64).exp(), 1e-4), "{last_minute}");
        assert!(close(c.rate(secs(540.0)), 10.0 / std::f64::consts::E, 1e-3), "{}", c.rate(secs(540.0)));
        assert!(c.rate(secs(599.9)) > 9.9);
        assert_eq!(c.rate(secs(600.0)), 0.0, "nothing arrives after the cut-off");
        assert_eq!(c.rate(secs(700.0)), 0.0);
        let (peak, at) = c.peak();
        assert!(close(peak, 10.0, 1e-4) && at == secs(600.0), "{peak} at {at:?}");
        // `from` cuts the early tail: from 9 min on, only the last minute is left.
        let late = Shape::Deadline { at: secs(600.0), rise: secs(60.0), from: secs(540.0), rate: 10.0 };
        let late = Curve::new(&late, secs(900.0));
        assert!(close(late.total(), last_minute, 1e-6));
    }

    #[test]
    fn csv_intervals_are_consecutive_constant_rates() {
        let stages = vec![(0.5, secs(60.0)), (2.0, secs(60.0)), (0.0, secs(60.0)), (1.0, secs(60.0))];
        let c = Curve::new(&Shape::Csv { file: "a.csv".into(), from: secs(30.0), stages }, secs(600.0));
        assert!(close(c.total(), 30.0 + 120.0 + 60.0, 1e-9));
        assert_eq!(c.rate(secs(29.0)), 0.0);
        assert_eq!(c.rate(secs(100.0)), 2.0);
        assert_eq!(c.rate(secs(200.0)), 0.0, "an empty interval stays empty");
        assert_eq!(c.peak(), (2.0, secs(90.0)));
    }

    #[test]
    fn degenerate_shapes_are_empty() {
        let d = secs(60.0);
        let empty = [
            Shape::Constant { rate: 0.0, from: secs(0.0), to: d },
            Shape::Constant { rate: f64::NAN, from: secs(0.0), to: d },
            Shape::Constant { rate: 5.0, from: secs(30.0), to: secs(10.0) },
            Shape::Steps { from: secs(0.0), stages: vec![] },
            Shape::Points { points: vec![(secs(1.0), 5.0)] },
            Shape::Peak { at: secs(3600.0), spread: secs(60.0), from: secs(0.0), to: d },
            Shape::Peak { at: secs(30.0), spread: Duration::ZERO, from: secs(40.0), to: d },
            Shape::Burst { at: secs(60.0), spread: Duration::ZERO, decay: None },
            Shape::Burst { at: secs(70.0), spread: secs(5.0), decay: Some(secs(1.0)) },
            Shape::Deadline { at: secs(30.0), rise: secs(5.0), from: secs(0.0), rate: 0.0 },
            Shape::Deadline { at: secs(30.0), rise: secs(5.0), from: secs(40.0), rate: 1.0 },
        ];
        for shape in &empty {
            let c = Curve::new(shape, d);
            assert_eq!(c.total(), 0.0, "{shape:?}");
            assert_eq!(c.peak(), (0.0, Duration::ZERO));
        }
        let c = Curve::new(&Shape::Constant { rate: 1.0, from: secs(0.0), to: d }, Duration::ZERO);
        assert_eq!(c.total(), 0.0);
    }
}
