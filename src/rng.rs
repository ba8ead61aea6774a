//! Small, seedable, reproducible randomness.
//!
//! Same seed ⇒ same schedule and same choices, on every machine and every version: so the
//! generator is spelled out here (SplitMix64, 8 bytes of state) rather than borrowed from a
//! crate whose algorithm may change. Each virtual user derives its own stream from the scenario
//! seed, its persona and its index, so its choices do not depend on scheduling order.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent stream for one (purpose, a, b) under a scenario seed.
    pub fn derive(seed: u64, stream: u64, a: u64, b: u64) -> Self {
        let mut mix = Rng::new(seed ^ 0x5CB0_01DA_7000_0000);
        let x = mix.next_u64() ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut mix = Rng::new(x);
        let y = mix.next_u64() ^ a.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let mut mix = Rng::new(y);
        let z = mix.next_u64() ^ b.wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng::new(Rng::new(z).next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    pub fn next_open_f64(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// Uniform integer in [0, n). `n` must be positive.
    pub fn below(&mut self, n: u64) -> u64 {
        // Lemire's multiply-shift; the tiny bias for huge n does not matter for choices.
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Exponential with mean 1.
    pub fn exp1(&mut self) -> f64 {
        -self.next_open_f64().ln()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_open_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Uniform duration in [low, high].
    pub fn duration_between(&mut self, low: Duration, high: Duration) -> Duration {
        if high <= low {
            return low;
        }
        let span = (high - low).as_nanos() as u64;
        low + Duration::from_nanos(self.below(span + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let a: Vec<u64> = (0..5).scan(Rng::new(7), |r, _| Some(r.next_u64())).collect();
        let b: Vec<u64> = (0..5).scan(Rng::new(7), |r, _| Some(r.next_u64())).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::derive(1, 0, 0, 1).next_u64(), Rng::derive(1, 0, 0, 2).next_u64());
        assert_ne!(Rng::derive(1, 0, 0, 1).next_u64(), Rng::derive(2, 0, 0, 1).next_u64());
    }

    #[test]
    fn uniform_and_normal_have_the_right_moments() {
        let mut r = Rng::new(42);
        let n = 200_000;
        let (mut sum, mut sum_sq, mut usum) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let x = r.normal();
            sum += x;
            sum_sq += x * x;
            let u = r.next_f64();
            assert!((0.0..1.0).contains(&u));
            usum += u;
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "normal mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "normal variance {var}");
        assert!((usum / n as f64 - 0.5).abs() < 0.005);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(3);
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            seen[r.below(6) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
        let d = r.duration_between(Duration::from_secs(2), Duration::from_secs(3));
        assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(3));
    }
}
