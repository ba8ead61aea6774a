//! The intended (offered) arrival rate of a persona, for the report's offered-load chart and
//! for the validator's sanity checks — the same curve the plan samples from.

use std::time::Duration;

use crate::load::curve::Curve;
use crate::scenario::Shape;

/// A persona's arrival curve in users/s: the shape's own rates for a rate curve, or the shape
/// normalised to `population` users over the run window.
///
/// Build it once and query it many times; [`rate_at`] rebuilds it on every call.
#[derive(Debug, Clone, PartialEq)]
pub struct RateCurve {
    curve: Curve,
    /// Users per unit of the shape's mass: N / ∫shape with a population, 1 without.
    scale: f64,
}

impl RateCurve {
    pub fn new(shape: &Shape, population: Option<u64>, duration: Duration) -> RateCurve {
        let curve = Curve::new(shape, duration);
        let scale = match population {
            None => 1.0,
            Some(_) if curve.total() <= 0.0 => 0.0,
            Some(n) => n as f64 / curve.total(),
        };
        RateCurve { curve, scale }
    }

    pub(crate) fn curve(&self) -> &Curve {
        &self.curve
    }

    /// Intended arrivals per second at `t`; zero outside [0, duration). Infinite at the instant
    /// of a burst without spread (everyone in the same nanosecond): chart
    /// [`expected_between`](Self::expected_between) per interval instead.
    pub fn rate_at(&self, t: Duration) -> f64 {
        if self.scale == 0.0 {
            return 0.0;
        }
        self.curve.rate(t) * self.scale
    }

    /// Expected arrivals in [from, to): what a per-second offered-load chart should plot.
    pub fn expected_between(&self, from: Duration, to: Duration) -> f64 {
        if to <= from {
            return 0.0;
        }
        (self.curve.cumulative(to) - self.curve.cumulative(from)).max(0.0) * self.scale
    }

    /// Expected arrivals over the whole run: the population, or ∫λ for a rate curve (where
    /// the validator can refuse absurd counts before planning).
    pub fn expected_total(&self) -> f64 {
        self.curve.total() * self.scale
    }

    /// The highest rate (users/s) and the earliest time it is reached; `(0, 0)` for a curve
    /// with nothing to schedule, infinite for a burst without spread.
    pub fn peak(&self) -> (f64, Duration) {
        let (rate, at) = self.curve.peak();
        if self.scale == 0.0 || rate == 0.0 {
            return (0.0, Duration::ZERO);
        }
        (rate * self.scale, at)
    }
}

/// The intended arrival rate in users/s at `t` of a persona with this shape and population.
pub fn rate_at(shape: &Shape, population: Option<u64>, duration: Duration, t: Duration) -> f64 {
    RateCurve::new(shape, population, duration).rate_at(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::tests::secs;

    #[test]
    fn rate_curves_keep_their_rates() {
        let shape = Shape::Ramp { from_rate: 10.0, to_rate: 20.0, from: secs(0.0), to: secs(10.0) };
        let d = secs(60.0);
        assert!((rate_at(&shape, None, d, secs(5.0)) - 15.0).abs() < 1e-9);
        assert_eq!(rate_at(&shape, None, d, secs(10.0)), 0.0);
        assert_eq!(rate_at(&shape, None, d, secs(60.0)), 0.0);
        let curve = RateCurve::new(&shape, None, d);
        assert!((curve.expected_total() - 150.0).abs() < 1e-9);
        assert!((curve.expected_between(secs(0.0), secs(1.0)) - 10.5).abs() < 1e-9);
        assert_eq!(curve.peak(), (20.0, secs(10.0)));
    }

    #[test]
    fn population_normalises_the_shape() {
        // 20,000 pupils, σ = 10 min: peak ≈ 0.399·N/σ = 13.3 logins/s (docs/background.md#arrival-curves).
        let shape = Shape::Peak { at: secs(3600.0), spread: secs(600.0), from: secs(0.0), to: secs(7200.0) };
        let curve = RateCurve::new(&shape, Some(20_000), secs(7200.0));
        let (rate, at) = curve.peak();
        assert_eq!(at, secs(3600.0));
        assert!((rate - 13.298).abs() < 0.01, "{rate}");
        assert!((curve.rate_at(secs(3600.0)) - rate).abs() < 1e-9);
        assert!((curve.expected_total() - 20_000.0).abs() < 1e-6);
        // Constant shape with a population: N spread over the window whatever the rate says.
        let constant = Shape::Constant { rate: 123.0, from: secs(0.0), to: secs(100.0) };
        assert!((rate_at(&constant, Some(500), secs(100.0), secs(50.0)) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn exam_burst_peaks() {
        // ECNi: 8,279 students, mean start delay 5 s ⇒ 1,656/s at T.
        let shape = Shape::Burst { at: secs(60.0), spread: Duration::ZERO, decay: Some(secs(5.0)) };
        let curve = RateCurve::new(&shape, Some(8_279), secs(3600.0));
        assert!((curve.peak().0 - 1655.8).abs() < 0.1);
        let sync = RateCurve::new(
            &Shape::Burst { at: secs(60.0), spread: Duration::ZERO, decay: None },
            Some(8_000),
            secs(3600.0),
        );
        assert_eq!(sync.peak(), (f64::INFINITY, secs(60.0)));
        assert_eq!(sync.rate_at(secs(61.0)), 0.0);
        assert_eq!(sync.expected_between(secs(60.0), secs(61.0)), 8_000.0);
        assert_eq!(sync.expected_between(secs(59.0), secs(60.0)), 0.0);
    }

    #[test]
    fn degenerate_curves_have_no_rate() {
        let zero = Shape::Constant { rate: 0.0, from: secs(0.0), to: secs(10.0) };
        let curve = RateCurve::new(&zero, Some(100), secs(10.0));
        assert_eq!(curve.peak(), (0.0, Duration::ZERO));
        assert_eq!(curve.rate_at(secs(1.0)), 0.0);
        assert_eq!(curve.expected_total(), 0.0);
        let none = RateCurve::new(&Shape::Constant { rate: 5.0, from: secs(0.0), to: secs(10.0) }, Some(0), secs(10.0));
        assert_eq!(none.peak(), (0.0, Duration::ZERO));
    }
}
