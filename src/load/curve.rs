//! A persona's arrival curve as a table that can be integrated and inverted quickly.
//!
//! `shape.rs` turns a [`Shape`] into linear pieces; this table adds their cumulative masses.
//! It is bounded by the scenario (not by the number of users), and inverting the cumulative Λ
//! at a sorted sequence of targets is a single forward walk: O(users + pieces), no allocation.

use std::time::Duration;

use crate::load::shape::{gaussian, tabulate, Tabulated};
use crate::scenario::Shape;

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
pub(crate) enum Exact {
    Pieces,
    Gaussian { at: f64, sigma: f64, lo: f64, hi: f64 },
    Exponential { at: f64, mean: f64, lo: f64, hi: f64 },
}

#[derive(Debug, Clone, PartialEq)]
enum Mass {
    /// Nothing arrives (zero integral, empty window...).
    Empty,
    /// Unit mass at one instant.
    Atom(Duration),
    /// Pieces sorted by time, each of positive mass; `cum[i]` is the mass before piece `i`
    /// (one more entry than pieces: the last is the total).
    Pieces { pieces: Vec<Piece>, cum: Vec<f64>, exact: Exact },
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
        match tabulate(shape, duration) {
            Tabulated::Atom(at) => Curve { mass: Mass::Atom(at), window_ns },
            Tabulated::Pieces(pieces, exact) => Curve::from_pieces(pieces, exact, window_ns),
        }
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
        let mass =
            if pieces.is_empty() || !total.is_finite() { Mass::Empty } else { Mass::Pieces { pieces, cum, exact } };
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
                        pieces.get(i).filter(|p| p.t0 <= t).map_or(0.0, |p| p.rate(t))
                    }
                    Exact::Gaussian { at, sigma, lo, hi } if (lo..hi).contains(&t) => gaussian(at, sigma, t),
                    Exact::Exponential { at, mean, lo, hi } if (lo..hi).contains(&t) => (-(t - at) / mean).exp() / mean,
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
                    Exact::Exponential { at, mean, lo, .. } => (lo, (-(lo - at) / mean).exp() / mean),
                    Exact::Pieces => pieces.iter().fold((0.0, 0.0), |best, p| {
                        let (t, r) = if p.r1 > p.r0 { (p.t1, p.r1) } else { (p.t0, p.r0) };
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
        Inverter { curve: self, next: 0 }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::tests::{close, secs};

    #[test]
    fn inversion_is_the_inverse_of_the_cumulative() {
        let shapes = [
            Shape::Ramp { from_rate: 1.0, to_rate: 9.0, from: secs(3.0), to: secs(50.0) },
            Shape::Ramp { from_rate: 9.0, to_rate: 0.0, from: secs(3.0), to: secs(50.0) },
            Shape::Peak { at: secs(30.0), spread: secs(7.0), from: secs(0.0), to: secs(60.0) },
            Shape::Burst { at: secs(1.0), spread: Duration::ZERO, decay: Some(secs(3.0)) },
        ];
        for shape in &shapes {
            let c = Curve::new(shape, secs(60.0));
            let mut inv = c.inverter();
            for i in 0..100 {
                let target = c.total() * (i as f64 + 0.5) / 100.0;
                let t = Duration::from_nanos(inv.offset_ns(target));
                assert!(close(c.cumulative(t), target, 1e-6 * c.total()), "{shape:?} at {target}");
            }
        }
    }
}
