//! Kneedle (Satopää et al., ICDCS Workshops 2011; docs/background.md#kneedle): where a curve stops
//! following its early trend. Throughput against offered load is concave (it bends flat when
//! the target saturates); latency against load is convex (it bends up). Both are found the
//! same way: normalise to the unit square, measure the distance from the diagonal, and declare
//! a knee at a local maximum of that distance once the curve falls clearly away from it.

/// Which way the curve bends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bend {
    /// Rises fast then flattens (throughput vs offered load).
    ConcaveIncreasing,
    /// Flat then rises fast (latency vs load).
    ConvexIncreasing,
}

/// The knee point, in the caller's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KneePoint {
    pub index: usize,
    pub x: f64,
    pub y: f64,
    /// Largest distance from the diagonal in the unit square (0..1): how pronounced the bend is.
    pub prominence: f64,
}

/// Kneedle's default sensitivity S = 1.
pub const SENSITIVITY: f64 = 1.0;

/// A bend this shallow (distance from the diagonal in the unit square) is noise around a
/// straight line, not a knee. kneed has no such floor; we add one so a run that never
/// saturated does not get a knee "found" in its jitter.
pub const MIN_PROMINENCE: f64 = 0.1;

/// Fewer distinct points than this cannot show a knee reliably (docs/background.md#kneedle: about 8).
pub const MIN_POINTS: usize = 8;

/// Find the knee of `points` (any order; sorted by x here). `None` when there are too few
/// points, the data is flat or degenerate, or the bend is too shallow to be a knee.
pub fn knee(points: &[(f64, f64)], bend: Bend, sensitivity: f64) -> Option<KneePoint> {
    let mut pts: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    if pts.len() < MIN_POINTS {
        return None;
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let (y0, y1) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    if x1 - x0 <= 0.0 || y1 - y0 <= 0.0 {
        return None;
    }
    let xn: Vec<f64> = pts.iter().map(|p| (p.0 - x0) / (x1 - x0)).collect();
    let yn: Vec<f64> = pts.iter().map(|p| (p.1 - y0) / (y1 - y0)).collect();
    let diff: Vec<f64> = xn
        .iter()
        .zip(&yn)
        .map(|(x, y)| match bend {
            Bend::ConcaveIncreasing => y - x,
            Bend::ConvexIncreasing => x - y,
        })
        .collect();
    let n = diff.len();
    let mean_dx = (xn[n - 1] - xn[0]) / (n - 1) as f64;
    // Local maxima and minima of the difference curve (endpoints excluded, as in kneed).
    let is_max = |i: usize| i > 0 && i + 1 < n && diff[i] > diff[i - 1] && diff[i] >= diff[i + 1];
    let is_min = |i: usize| i > 0 && i + 1 < n && diff[i] < diff[i - 1] && diff[i] <= diff[i + 1];
    let mut candidate: Option<(usize, f64)> = None;
    for i in 0..n {
        if is_max(i) {
            candidate = Some((i, diff[i] - sensitivity * mean_dx));
            continue;
        }
        if is_min(i) {
            // kneed resets the threshold at a local minimum: a dip followed by a rise is a new
            // candidate, not a knee of the previous one.
            candidate = None;
        }
        if let Some((k, threshold)) = candidate {
            if diff[i] < threshold {
                if diff[k] < MIN_PROMINENCE {
                    candidate = None;
                    continue;
                }
                return Some(KneePoint { index: k, x: pts[k].0, y: pts[k].1, prominence: diff[k] });
            }
        }
    }
    None
}

/// Average `points` into at most `bins` equal-width bins of x, smoothing per-second noise so
/// Kneedle sees the shape rather than the jitter. Empty bins are dropped.
pub fn binned(points: &[(f64, f64)], bins: usize) -> Vec<(f64, f64)> {
    let finite: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    if finite.is_empty() || bins == 0 {
        return Vec::new();
    }
    let lo = finite.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = finite.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let width = (hi - lo) / bins as f64;
    if width <= 0.0 {
        let n = finite.len() as f64;
        return vec![(lo, finite.iter().map(|p| p.1).sum::<f64>() / n)];
    }
    let mut sums = vec![(0.0, 0.0, 0usize); bins];
    for (x, y) in finite {
        let b = (((x - lo) / width) as usize).min(bins - 1);
        sums[b].0 += x;
        sums[b].1 += y;
        sums[b].2 += 1;
    }
    sums.into_iter().filter(|s| s.2 > 0).map(|(x, y, n)| (x / n as f64, y / n as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_corner_of_a_saturating_throughput_curve() {
        let pts: Vec<(f64, f64)> = (0..=20).map(|x| (x as f64 * 10.0, (x as f64 * 10.0).min(120.0))).collect();
        let k = knee(&pts, Bend::ConcaveIncreasing, SENSITIVITY).expect("a knee");
        assert_eq!(k.x, 120.0);
        assert_eq!(k.y, 120.0);
    }

    #[test]
    fn finds_the_corner_of_a_hockey_stick_latency_curve() {
        let pts: Vec<(f64, f64)> =
            (1..=30).map(|x| (x as f64, if x <= 18 { 40.0 } else { 40.0 + (x - 18) as f64 * 300.0 })).collect();
        let k = knee(&pts, Bend::ConvexIncreasing, SENSITIVITY).expect("a knee");
        assert_eq!(k.x, 18.0);
    }

    #[test]
    fn matches_kneed_on_the_papers_style_curve() {
        // y = 1 − 1/x on 1..=10 (a classic diminishing-returns curve); kneed reports x = 3
        // with S = 1 on this input.
        let pts: Vec<(f64, f64)> = (1..=10).map(|x| (x as f64, 1.0 - 1.0 / x as f64)).collect();
        let k = knee(&pts, Bend::ConcaveIncreasing, SENSITIVITY).expect("a knee");
        assert_eq!(k.x, 3.0);
    }

    #[test]
    fn no_knee_on_a_straight_noisy_line_or_degenerate_input() {
        let line: Vec<(f64, f64)> =
            (0..40).map(|x| (x as f64, x as f64 + if x % 2 == 0 { 0.3 } else { -0.3 })).collect();
        assert_eq!(knee(&line, Bend::ConcaveIncreasing, SENSITIVITY), None);
        assert_eq!(knee(&[], Bend::ConcaveIncreasing, SENSITIVITY), None);
        let flat: Vec<(f64, f64)> = (0..10).map(|x| (x as f64, 5.0)).collect();
        assert_eq!(knee(&flat, Bend::ConvexIncreasing, SENSITIVITY), None);
        let nan = vec![(f64::NAN, 1.0); 20];
        assert_eq!(knee(&nan, Bend::ConvexIncreasing, SENSITIVITY), None);
    }

    #[test]
    fn binning_averages_and_drops_empty_bins() {
        let b = binned(&[(0.0, 1.0), (0.1, 3.0), (10.0, 5.0)], 5);
        assert_eq!(b, vec![(0.05, 2.0), (10.0, 5.0)]);
        assert_eq!(binned(&[(1.0, 1.0), (1.0, 3.0)], 4), vec![(1.0, 2.0)]);
    }
}
