//! An arrival shape turned into a table that can be integrated and inverted quickly.
//!
//! Every [`Shape`] becomes a short list of linear pieces over the run window [0, duration):
//! exactly for the piecewise-linear shapes (constant, ramp, steps, points, uniform burst), and
//! for the smooth ones (Gaussian peak, exponential burst) as [`BINS`] pieces whose masses are
//! the exact integrals of the curve over each bin (Simpson on the Gaussian, closed form for the
//! exponential), sloped like the curve so that the density inside a bin stays faithful. The
//! table is bounded by the scenario (not by the number of users), and inverting the cumulative
//! Λ at a sorted sequence of targets is a single forward walk: O(users + pieces).
//!
//! An exam start with no spread is an *atom*: all of its mass at one instant, so that every
//! user gets exactly the same offset.

use std::time::Duration;

use crate::scenario::Shape;

/// Pieces used for a smooth curve. 4,096 bins over ±8σ are 0.004σ wide: the within-bin linear
/// approximation is far below anything a load test can resolve, and the table stays ~128 KB.
pub(crate) const BINS: usize = 4096;

/// A Gaussian peak is cut at ±8σ (mass beyond: 1.2e-15), so a peak whose window lies entirely
/// in its far tail counts as empty instead of piling everyone onto the window's edge.
const PEAK_SIGMAS: f64 = 8.0;

/// An exponential burst is cut at 40 mean delays (mass beyond: 4e-18).
const DECAY_MEANS: f64 = 40.0;

/// One linear piece of the rate curve: rate `r0` at `t0` going to `r1` at `t1` (seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Piece {
    pub t0: f64,
    pub t1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Piece {
    fn mass(&self) -> f64 {
        0.5 * (self.r0 + self.r1) * (self.t1 - self.t0)
    }

    fn slope(&self) -> f64 {
        (self.r1 - self.r0) / (self.t1 - self.t0)
    }

    fn rate(&self, t: f64) -> f64 {
        self.r0 + self.slope() * (t - self.t0)
    }

    /// ∫ rate over [t0, t].
    fn mass_until(&self, t: f64) -> f64 {
        let x = (t - self.t0).clamp(0.0, self.t1 - self.t0);
        self.r0 * x + 0.5 * self.slope() * x * x
    }

    /// The time at which the piece has accumulated mass `m`: solves r0·x + a·x²/2 = m in the
    /// cancellation-free form x = 2m / (r0 + √(r0² + 2am)).
    fn invert(&self, m: f64) -> f64 {
        let width = self.t1 - self.t0;
        let a = self.slope();
        let denom = self.r0 + (self.r0 * self.r0 + 2.0 * a * m).max(0.0).sqrt();
        let x = if denom > 0.0 { 2.0 * m / denom } else { 0.0 };
        self.t0 + x.clamp(0.0, width)
    }
}

/// How the intended rate is evaluated at a point: exactly from the pieces when they are exact,
/// or from the closed form when the pieces approximate a smooth curve.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Exact {
    Pieces,
    Gaussian {
        at: f64,
        sigma: f64,
        lo: f64,
        hi: f64,
    },
    Exponential {
        at: f64,
        mean: f64,
        lo: f64,
        hi: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Mass {
    /// Nothing arrives (zero integral, empty window...).
    Empty,
    /// Unit mass at one instant.
    Atom(Duration),
    /// Pieces sorted by time, each of positive mass; `cum[i]` is the mass before piece `i`
    /// (one more entry than pieces: the last is the total).
    Pieces {
        pieces: Vec<Piece>,
        cum: Vec<f64>,
        exact: Exact,
    },
}

/// A shape clipped to the run window, ready to integrate and invert. Rates are the shape's own
/// (users/s for rate curves; Peak and Burst have unit mass); scaling to a population is the
/// caller's business.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curve {
    mass: Mass,
    /// Nanoseconds in the run window; every offset is clamped below it.
    window_ns: u64,
}

impl Curve {
    pub fn new(shape: &Shape, duration: Duration) -> Curve {
        let window_ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        let end = duration.as_secs_f64();
        let s = |d: &Duration| d.as_secs_f64();
        let mut pieces = Vec::new();
        let mut exact = Exact::Pieces;
        match shape {
            Shape::Constant { rate, from, to } => {
                push_linear(&mut pieces, end, s(from), s(to), *rate, *rate)
            }
            Shape::Ramp {
                from_rate,
                to_rate,
                from,
                to,
            } => push_linear(&mut pieces, end, s(from), s(to), *from_rate, *to_rate),
            Shape::Steps { from, stages } => {
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
            Shape::Peak {
                at,
                spread,
                from,
                to,
            } => {
                if spread.is_zero() {
                    // A Gaussian of zero width is everyone at `at`.
                    return Curve::atom_if(*at, at >= from && at <= to, duration);
                }
                let (at, sigma) = (s(at), s(spread));
                let lo = s(from).max(at - PEAK_SIGMAS * sigma).max(0.0);
                let hi = s(to).min(at + PEAK_SIGMAS * sigma).min(end);
                let density = |t: f64| gaussian(at, sigma, t);
                // Simpson on a bin of 0.004σ is exact to ~1e-15 relative.
                let integral = |a: f64, b: f64| {
                    (b - a) / 6.0 * (density(a) + 4.0 * density(0.5 * (a + b)) + density(b))
                };
                push_binned(&mut pieces, lo, hi, density, integral);
                exact = Exact::Gaussian { at, sigma, lo, hi };
            }
            Shape::Burst {
                at,
                spread,
                decay: Some(mean),
            } if !mean.is_zero() => {
                // A decay takes precedence over a spread: the validator should reject both.
                let _ = spread;
                let (at, mean) = (s(at), s(mean));
                let (lo, hi) = (at, (at + DECAY_MEANS * mean).min(end));
                let density = |t: f64| (-(t - at) / mean).exp() / mean;
                let integral = |a: f64, b: f64| (-(a - at) / mean).exp() - (-(b - at) / mean).exp();
                push_binned(&mut pieces, lo, hi, density, integral);
                exact = Exact::Exponential { at, mean, lo, hi };
            }
            Shape::Burst { at, spread, .. } => {
                if spread.is_zero() {
                    return Curve::atom_if(*at, true, duration);
                }
                let rate = 1.0 / s(spread);
                push_linear(&mut pieces, end, s(at), s(at) + s(spread), rate, rate);
            }
        }
        Curve::from_pieces(pieces, exact, window_ns)
    }

    fn atom_if(at: Duration, inside: bool, duration: Duration) -> Curve {
        let window_ns = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        let mass = if inside && at < duration {
            Mass::Atom(at)
        } else {
            Mass::Empty
        };
        Curve { mass, window_ns }
    }

    fn from_pieces(pieces: Vec<Piece>, exact: Exact, window_ns: u64) -> Curve {
        // Zero-mass pieces are dropped so that the inversion never lands in one; gaps between
        // pieces are where the rate is zero.
        let pieces: Vec<Piece> = pieces.into_iter().filter(|p| p.mass() > 0.0).collect();
        let mut cum = Vec::with_capacity(pieces.len() + 1);
        let mut total = 0.0;
        cum.push(0.0);
        for p in &pieces {
            total += p.mass();
            cum.push(total);
        }
        // Rates so large that the integral overflows are as degenerate as a zero integral.
        let mass = if pieces.is_empty() || !total.is_finite() {
            Mass::Empty
        } else {
            Mass::Pieces { pieces, cum, exact }
        };
        Curve { mass, window_ns }
    }

    /// ∫λ over the run window: the expected number of arrivals of a rate curve.
    pub fn total(&self) -> f64 {
        match &self.mass {
            Mass::Empty => 0.0,
            Mass::Atom(_) => 1.0,
            Mass::Pieces { cum, .. } => *cum.last().unwrap_or(&0.0),
        }
    }

    /// ∫λ over [0, t).
    pub fn cumulative(&self, t: Duration) -> f64 {
        match &self.mass {
            Mass::Empty => 0.0,
            Mass::Atom(at) => f64::from(u8::from(t > *at)),
            Mass::Pieces { pieces, cum, .. } => {
                let t = t.as_secs_f64();
                let i = pieces.partition_point(|p| p.t1 <= t);
                match pieces.get(i) {
                    Some(p) => cum[i] + p.mass_until(t),
                    None => cum[i],
                }
            }
        }
    }

    /// The intended rate λ(t) (infinite at an atom).
    pub fn rate(&self, t: Duration) -> f64 {
        if t.as_nanos() >= u128::from(self.window_ns) {
            return 0.0;
        }
        match &self.mass {
            Mass::Empty => 0.0,
            Mass::Atom(at) => {
                if t == *at {
                    f64::INFINITY
                } else {
                    0.0
                }
            }
            Mass::Pieces { pieces, exact, .. } => {
                let t = t.as_secs_f64();
                match *exact {
                    Exact::Pieces => {
                        let i = pieces.partition_point(|p| p.t1 <= t);
                        pieces
                            .get(i)
                            .filter(|p| p.t0 <= t)
                            .map_or(0.0, |p| p.rate(t))
                    }
                    Exact::Gaussian { at, sigma, lo, hi } if (lo..hi).contains(&t) => {
                        gaussian(at, sigma, t)
                    }
                    Exact::Exponential { at, mean, lo, hi } if (lo..hi).contains(&t) => {
                        (-(t - at) / mean).exp() / mean
                    }
                    _ => 0.0,
                }
            }
        }
    }

    /// The highest rate of the curve and the earliest time it is reached.
    pub fn peak(&self) -> (f64, Duration) {
        match &self.mass {
            Mass::Empty => (0.0, Duration::ZERO),
            Mass::Atom(at) => (f64::INFINITY, *at),
            Mass::Pieces { pieces, exact, .. } => {
                let (t, rate) = match *exact {
                    Exact::Gaussian { at, sigma, lo, hi } => {
                        let t = at.clamp(lo, hi);
                        (t, gaussian(at, sigma, t))
                    }
                    Exact::Exponential { at, mean, lo, .. } => {
                        (lo, (-(lo - at) / mean).exp() / mean)
                    }
                    Exact::Pieces => pieces.iter().fold((0.0, 0.0), |best, p| {
                        let (t, r) = if p.r1 > p.r0 {
                            (p.t1, p.r1)
                        } else {
                            (p.t0, p.r0)
                        };
                        if r > best.1 {
                            (t, r)
                        } else {
                            best
                        }
                    }),
                };
                (rate, Duration::from_secs_f64(t.max(0.0)))
            }
        }
    }

    /// An inverter of Λ for a non-decreasing sequence of targets in [0, total].
    pub fn inverter(&self) -> Inverter<'_> {
        Inverter {
            curve: self,
            next: 0,
        }
    }
}

/// Walks the pieces forward once: each call costs O(1) amortised, so a schedule of N users
/// costs O(N + pieces) and allocates nothing.
pub(crate) struct Inverter<'a> {
    curve: &'a Curve,
    next: usize,
}

impl Inverter<'_> {
    /// The offset (ns) where Λ reaches `target`. Targets must not decrease between calls.
    pub fn offset_ns(&mut self, target: f64) -> u64 {
        match &self.curve.mass {
            Mass::Empty => 0,
            Mass::Atom(at) => at.as_nanos() as u64,
            Mass::Pieces { pieces, cum, .. } => {
                while self.next + 1 < pieces.len() && cum[self.next + 1] <= target {
                    self.next += 1;
                }
                let p = &pieces[self.next];
                let t = p.invert((target - cum[self.next]).clamp(0.0, p.mass()));
                to_ns(t, self.curve.window_ns)
            }
        }
    }
}

/// Seconds to nanoseconds, rounded, and clamped into the run window [0, window).
fn to_ns(t: f64, window_ns: u64) -> u64 {
    let ns = (t * 1e9).round();
    let ns = if ns > 0.0 { ns as u64 } else { 0 };
    ns.min(window_ns.saturating_sub(1))
}

fn gaussian(at: f64, sigma: f64, t: f64) -> f64 {
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
        pieces.push(Piece {
            t0: lo,
            t1: hi,
            r0: at(lo).max(0.0),
            r1: at(hi).max(0.0),
        });
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

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn constant_ramp_and_steps_integrate_exactly() {
        let d = secs(100.0);
        let c = Curve::new(
            &Shape::Constant {
                rate: 50.0,
                from: secs(0.0),
                to: secs(60.0),
            },
            d,
        );
        assert!(close(c.total(), 3000.0, 1e-9), "{}", c.total());
        let r = Curve::new(
            &Shape::Ramp {
                from_rate: 0.0,
                to_rate: 10.0,
                from: secs(0.0),
                to: secs(20.0),
            },
            d,
        );
        assert!(close(r.total(), 100.0, 1e-9));
        assert!(
            close(r.cumulative(secs(10.0)), 25.0, 1e-9),
            "first half of a 0→r ramp holds 1/4"
        );
        let s = Curve::new(
            &Shape::Steps {
                from: secs(10.0),
                stages: vec![(1.0, secs(10.0)), (5.0, secs(20.0)), (2.0, secs(5.0))],
            },
            d,
        );
        assert!(close(s.total(), 10.0 + 100.0 + 10.0, 1e-9), "{}", s.total());
        assert!(close(s.cumulative(secs(25.0)), 10.0 + 25.0, 1e-9));
        assert_eq!(s.rate(secs(9.0)), 0.0);
        assert_eq!(
            s.rate(secs(20.0)),
            5.0,
            "a step boundary belongs to the next stage"
        );
        assert_eq!(s.peak(), (5.0, secs(20.0)));
    }

    #[test]
    fn shapes_are_clipped_to_the_run_window() {
        let c = Curve::new(
            &Shape::Constant {
                rate: 2.0,
                from: secs(5.0),
                to: secs(500.0),
            },
            secs(10.0),
        );
        assert!(close(c.total(), 10.0, 1e-9));
        assert_eq!(c.rate(secs(10.0)), 0.0);
        let r = Curve::new(
            &Shape::Ramp {
                from_rate: 0.0,
                to_rate: 10.0,
                from: secs(0.0),
                to: secs(20.0),
            },
            secs(10.0),
        );
        assert!(close(r.total(), 25.0, 1e-9));
    }

    #[test]
    fn points_are_piecewise_linear_and_zero_outside() {
        let c = Curve::new(
            &Shape::Points {
                points: vec![
                    (secs(10.0), 0.0),
                    (secs(20.0), 10.0),
                    (secs(30.0), 10.0),
                    (secs(40.0), 0.0),
                ],
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
        let r = Curve::new(
            &Shape::Ramp {
                from_rate: -10.0,
                to_rate: 10.0,
                from: secs(0.0),
                to: secs(20.0),
            },
            secs(60.0),
        );
        assert!(close(r.total(), 50.0, 1e-9), "{}", r.total());
        assert_eq!(r.rate(secs(5.0)), 0.0);
    }

    #[test]
    fn peak_has_unit_mass_and_gaussian_shape() {
        let p = Curve::new(
            &Shape::Peak {
                at: secs(300.0),
                spread: secs(60.0),
                from: secs(0.0),
                to: secs(600.0),
            },
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
            &Shape::Peak {
                at: secs(300.0),
                spread: secs(60.0),
                from: secs(300.0),
                to: secs(900.0),
            },
            secs(900.0),
        );
        assert!(close(half.total(), 0.5, 1e-9));
    }

    #[test]
    fn exponential_burst_has_unit_mass() {
        let b = Curve::new(
            &Shape::Burst {
                at: secs(10.0),
                spread: Duration::ZERO,
                decay: Some(secs(5.0)),
            },
            secs(600.0),
        );
        assert!(close(b.total(), 1.0, 1e-12));
        assert!(close(b.cumulative(secs(15.0)), 1.0 - (-1.0f64).exp(), 1e-6));
        assert_eq!(b.peak(), (0.2, secs(10.0)));
    }

    #[test]
    fn inversion_is_the_inverse_of_the_cumulative() {
        let shapes = [
            Shape::Ramp {
                from_rate: 1.0,
                to_rate: 9.0,
                from: secs(3.0),
                to: secs(50.0),
            },
            Shape::Ramp {
                from_rate: 9.0,
                to_rate: 0.0,
                from: secs(3.0),
                to: secs(50.0),
            },
            Shape::Peak {
                at: secs(30.0),
                spread: secs(7.0),
                from: secs(0.0),
                to: secs(60.0),
            },
            Shape::Burst {
                at: secs(1.0),
                spread: Duration::ZERO,
                decay: Some(secs(3.0)),
            },
        ];
        for shape in &shapes {
            let c = Curve::new(shape, secs(60.0));
            let mut inv = c.inverter();
            for i in 0..100 {
                let target = c.total() * (i as f64 + 0.5) / 100.0;
                let t = Duration::from_nanos(inv.offset_ns(target));
                assert!(
                    close(c.cumulative(t), target, 1e-6 * c.total()),
                    "{shape:?} at {target}"
                );
            }
        }
    }

    #[test]
    fn degenerate_shapes_are_empty() {
        let d = secs(60.0);
        let empty = [
            Shape::Constant {
                rate: 0.0,
                from: secs(0.0),
                to: d,
            },
            Shape::Constant {
                rate: f64::NAN,
                from: secs(0.0),
                to: d,
            },
            Shape::Constant {
                rate: 5.0,
                from: secs(30.0),
                to: secs(10.0),
            },
            Shape::Steps {
                from: secs(0.0),
                stages: vec![],
            },
            Shape::Points {
                points: vec![(secs(1.0), 5.0)],
            },
            Shape::Peak {
                at: secs(3600.0),
                spread: secs(60.0),
                from: secs(0.0),
                to: d,
            },
            Shape::Peak {
                at: secs(30.0),
                spread: Duration::ZERO,
                from: secs(40.0),
                to: d,
            },
            Shape::Burst {
                at: secs(60.0),
                spread: Duration::ZERO,
                decay: None,
            },
            Shape::Burst {
                at: secs(70.0),
                spread: secs(5.0),
                decay: Some(secs(1.0)),
            },
        ];
        for shape in &empty {
            let c = Curve::new(shape, d);
            assert_eq!(c.total(), 0.0, "{shape:?}");
            assert_eq!(c.peak(), (0.0, Duration::ZERO));
        }
        let c = Curve::new(
            &Shape::Constant {
                rate: 1.0,
                from: secs(0.0),
                to: d,
            },
            Duration::ZERO,
        );
        assert_eq!(c.total(), 0.0);
    }
}
