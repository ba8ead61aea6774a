//! The Universal Scalability Law (Gunther; docs/background.md#usl) fitted to measured concurrency and
//! throughput: `X(N) = γN / (1 + α(N−1) + βN(N−1))`. α is contention (queueing on a shared
//! resource), β coherency (work that grows with every pair of participants); past
//! `N* = √((1−α)/β)` throughput falls as load grows.
//!
//! The fit is nonlinear least squares on X. For fixed (α, β) the best γ is closed-form, so the
//! search is over two parameters only: a coarse grid (robust to bad starting points) then
//! Nelder–Mead from the best grid cell. No crate needed and deterministic.
//!
//! A fit is a question-sharpener, not a capacity claim: it says when it is not trustworthy
//! (too few points, too narrow a range of concurrency, poor R²) and flags any figure that lies
//! beyond twice the largest concurrency actually measured.

use serde::{Deserialize, Serialize};

/// Fewer points than this make the fit meaningless (docs/background.md#usl: at least 6).
pub const MIN_POINTS: usize = 6;
/// Below this R² the curve does not describe the data.
pub const MIN_R_SQUARED: f64 = 0.8;
/// Beyond this multiple of the largest measured concurrency, a figure is extrapolation.
pub const EXTRAPOLATION_LIMIT: f64 = 2.0;

/// A fitted USL curve and how far to trust it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UslFit {
    /// Contention.
    pub alpha: f64,
    /// Coherency.
    pub beta: f64,
    /// Throughput of one unit of concurrency (requests/s at N = 1).
    pub gamma: f64,
    /// Concurrency of peak throughput; absent when β = 0 (throughput only levels off).
    #[serde(default)]
    pub n_star: Option<f64>,
    /// X(N*), or the asymptote γ/α when β = 0 (absent when that is unbounded too).
    #[serde(default)]
    pub peak_throughput: Option<f64>,
    pub r_squared: f64,
    pub points: usize,
    pub min_measured_n: f64,
    pub max_measured_n: f64,
    /// Enough points, a wide enough range of concurrency, and R² ≥ 0.8.
    pub trustworthy: bool,
    /// N* lies beyond 2× the largest measured concurrency: the peak is speculative.
    pub extrapolated: bool,
    /// Plain-language caveats, one per problem found.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl UslFit {
    /// Throughput the fitted curve predicts at concurrency `n`.
    pub fn throughput(&self, n: f64) -> f64 {
        model(self.alpha, self.beta, self.gamma, n)
    }
}

fn model(alpha: f64, beta: f64, gamma: f64, n: f64) -> f64 {
    gamma * shape(alpha, beta, n)
}

fn shape(alpha: f64, beta: f64, n: f64) -> f64 {
    let d = 1.0 + alpha * (n - 1.0) + beta * n * (n - 1.0);
    if d <= 0.0 {
        0.0
    } else {
        n / d
    }
}

/// Least-squares γ for fixed (α, β), and the residual sum of squares.
fn sse(points: &[(f64, f64)], alpha: f64, beta: f64) -> (f64, f64) {
    if !(0.0..=1.0).contains(&alpha) || beta < 0.0 || !beta.is_finite() {
        return (0.0, f64::INFINITY);
    }
    let (mut xf, mut ff) = (0.0, 0.0);
    for &(n, x) in points {
        let f = shape(alpha, beta, n);
        xf += x * f;
        ff += f * f;
    }
    if ff <= 0.0 {
        return (0.0, f64::INFINITY);
    }
    let gamma = xf / ff;
    let sse = points.iter().map(|&(n, x)| (x - gamma * shape(alpha, beta, n)).powi(2)).sum();
    (gamma, sse)
}

/// Fit the USL to `(concurrency, throughput)` points. `None` when there is nothing to fit
/// (fewer than 3 usable points or no spread in concurrency); otherwise a fit whose
/// `trustworthy` and `notes` say how far to believe it.
pub fn fit(points: &[(f64, f64)]) -> Option<UslFit> {
    // N < 1 (less than one request in flight on average) carries no scaling information.
    let pts: Vec<(f64, f64)> =
        points.iter().copied().filter(|(n, x)| n.is_finite() && x.is_finite() && *n >= 1.0 && *x >= 0.0).collect();
    if pts.len() < 3 {
        return None;
    }
    let min_n = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let max_n = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    if max_n - min_n <= f64::EPSILON {
        return None;
    }
    // β is searched as s² so it stays non-negative; the grid covers β from 0 to 1 on a log
    // scale and α from 0 to 1.
    let cost = |a: f64, s: f64| sse(&pts, a, s * s).1;
    let mut best = (0.0, 0.0, f64::INFINITY);
    for i in 0..=50 {
        let a = i as f64 / 50.0;
        for j in 0..=60 {
            let s = if j == 0 { 0.0 } else { 10f64.powf(-5.0 + j as f64 * 5.0 / 60.0) };
            let c = cost(a, s);
            if c < best.2 {
                best = (a, s, c);
            }
        }
    }
    let (a, s) = nelder_mead(|p| cost(p[0], p[1]), [best.0, best.1], [0.02, (best.1 * 0.2).max(1e-4)]);
    let (alpha, beta) = (a.clamp(0.0, 1.0), s * s);
    let (gamma, sse) = sse(&pts, alpha, beta);
    let mean = pts.iter().map(|p| p.1).sum::<f64>() / pts.len() as f64;
    let sst: f64 = pts.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let r_squared = if sst > 0.0 { 1.0 - sse / sst } else { 0.0 };
    let n_star = (beta > 1e-12 && alpha < 1.0).then(|| ((1.0 - alpha) / beta).sqrt());
    let peak_throughput = match n_star {
        Some(n) => Some(model(alpha, beta, gamma, n)),
        None if alpha > 1e-9 => Some(gamma / alpha),
        None => None,
    };
    let extrapolated = n_star.is_none_or(|n| n > EXTRAPOLATION_LIMIT * max_n);
    let mut notes = Vec::new();
    if pts.len() < MIN_POINTS {
        notes.push(format!("only {} points (at least {MIN_POINTS} needed)", pts.len()));
    }
    if max_n < 2.0 * min_n {
        notes.push(format!("concurrency only ranged from {min_n:.0} to {max_n:.0}: too narrow to see how it scales"));
    }
    if r_squared < MIN_R_SQUARED {
        notes.push(format!("the curve explains the data poorly (R² {r_squared:.2})"));
    }
    match n_star {
        Some(n) if n > EXTRAPOLATION_LIMIT * max_n => notes.push(format!(
            "the peak at N* ≈ {n:.0} lies beyond twice the largest measured concurrency ({max_n:.0}): speculative"
        )),
        None => notes
            .push("no coherency penalty fitted: throughput only levels off, its ceiling is an extrapolation".into()),
        _ => {}
    }
    let trustworthy = pts.len() >= MIN_POINTS && max_n >= 2.0 * min_n && r_squared >= MIN_R_SQUARED;
    Some(UslFit {
        alpha,
        beta,
        gamma,
        n_star,
        peak_throughput,
        r_squared,
        points: pts.len(),
        min_measured_n: min_n,
        max_measured_n: max_n,
        trustworthy,
        extrapolated,
        notes,
    })
}

/// Minimise `f` over two parameters with the Nelder–Mead simplex (standard coefficients).
fn nelder_mead(f: impl Fn([f64; 2]) -> f64, start: [f64; 2], step: [f64; 2]) -> (f64, f64) {
    let mut simplex = [start, [start[0] + step[0], start[1]], [start[0], start[1] + step[1]]];
    let mut values = simplex.map(&f);
    for _ in 0..2000 {
        let mut order = [0usize, 1, 2];
        order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
        let [b, m, w] = order;
        if (values[w] - values[b]).abs() <= 1e-14 * (1.0 + values[b].abs()) {
            break;
        }
        let centroid = [(simplex[b][0] + simplex[m][0]) / 2.0, (simplex[b][1] + simplex[m][1]) / 2.0];
        let along =
            |t: f64| [centroid[0] + t * (simplex[w][0] - centroid[0]), centroid[1] + t * (simplex[w][1] - centroid[1])];
        let reflected = along(-1.0);
        let fr = f(reflected);
        if fr < values[b] {
            let expanded = along(-2.0);
            let fe = f(expanded);
            (simplex[w], values[w]) = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < values[m] {
            (simplex[w], values[w]) = (reflected, fr);
        } else {
            let contracted = if fr < values[w] { along(-0.5) } else { along(0.5) };
            let fc = f(contracted);
            if fc < values[w].min(fr) {
                (simplex[w], values[w]) = (contracted, fc);
            } else {
                for i in [m, w] {
                    simplex[i] = [(simplex[i][0] + simplex[b][0]) / 2.0, (simplex[i][1] + simplex[b][1]) / 2.0];
                    values[i] = f(simplex[i]);
                }
            }
        }
    }
    let best = (0..3).min_by(|&i, &j| values[i].total_cmp(&values[j])).unwrap_or(0);
    (simplex[best][0], simplex[best][1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(alpha: f64, beta: f64, gamma: f64, ns: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
        ns.map(|n| (n, model(alpha, beta, gamma, n))).collect()
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs()
    }

    #[test]
    fn recovers_known_parameters_from_an_exact_curve() {
        let pts = curve(0.05, 0.0002, 12.0, (1..=40).map(|i| i as f64 * 4.0));
        let fit = fit(&pts).expect("a fit");
        assert!(close(fit.alpha, 0.05, 0.03), "alpha {}", fit.alpha);
        assert!(close(fit.beta, 0.0002, 0.03), "beta {}", fit.beta);
        assert!(close(fit.gamma, 12.0, 0.03), "gamma {}", fit.gamma);
        let n_star = ((1.0 - 0.05) / 0.0002f64).sqrt();
        assert!(close(fit.n_star.unwrap(), n_star, 0.03));
        assert!(fit.r_squared > 0.999 && fit.trustworthy && !fit.extrapolated, "{fit:?}");
    }

    #[test]
    fn recovers_parameters_through_noise() {
        // ±2% deterministic wobble on a curve measured past its peak.
        let pts: Vec<(f64, f64)> = curve(0.1, 0.001, 50.0, (1..=30).map(|i| i as f64 * 3.0))
            .into_iter()
            .enumerate()
            .map(|(i, (n, x))| (n, x * (1.0 + 0.02 * ((i * 7 % 5) as f64 - 2.0) / 2.0)))
            .collect();
        let fit = fit(&pts).expect("a fit");
        assert!(close(fit.alpha, 0.1, 0.15), "alpha {}", fit.alpha);
        assert!(close(fit.beta, 0.001, 0.15), "beta {}", fit.beta);
        assert!(close(fit.peak_throughput.unwrap(), model(0.1, 0.001, 50.0, (0.9f64 / 0.001).sqrt()), 0.03));
        assert!(fit.trustworthy);
    }

    #[test]
    fn says_when_the_peak_is_far_beyond_what_was_measured() {
        let pts = curve(0.01, 0.00001, 10.0, (1..=10).map(|i| i as f64 * 5.0));
        let fit = fit(&pts).expect("a fit");
        assert!(fit.extrapolated, "{fit:?}");
        assert!(fit.notes.iter().any(|n| n.contains("speculative")));
    }

    #[test]
    fn refuses_or_distrusts_thin_data() {
        assert_eq!(fit(&[]), None);
        assert_eq!(fit(&[(5.0, 10.0), (5.0, 11.0), (5.0, 9.0)]), None);
        assert_eq!(fit(&[(0.2, 1.0), (0.5, 2.0), (0.7, 3.0), (0.9, 3.0)]), None);
        let fit = fit(&[(1.0, 10.0), (2.0, 19.0), (3.0, 27.0), (4.0, 30.0)]).expect("a fit");
        assert!(!fit.trustworthy);
        assert!(fit.notes.iter().any(|n| n.contains("only 4 points")));
    }
}
