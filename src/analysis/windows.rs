//! The timeline grouped into short windows: per-second counts are too noisy to judge
//! saturation on, and a whole-run average hides it. Every saturation criterion, the knee and
//! the USL fit work on these windows.

use crate::metrics::Second;

use super::summary::Summary;

/// A few consecutive seconds of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Seconds since the start of the run at the window's start and end.
    pub start_s: u32,
    pub end_s: u32,
    pub arrivals_ps: f64,
    /// Requests sent per second: the load offered to the target.
    pub offered_rps: f64,
    /// Successful requests per second (goodput).
    pub ok_rps: f64,
    /// Requests that ended (ok or error) per second.
    pub finished_rps: f64,
    pub finished: u64,
    /// errors / finished (0 when nothing finished).
    pub error_rate: f64,
    /// The median of the window's per-second p95s. Quantiles cannot be merged exactly; the
    /// median ignores one unlucky second either way.
    pub p95_us: u64,
    pub in_flight_start: u64,
    pub in_flight_end: u64,
    pub in_flight_mean: f64,
    pub active_users_mean: f64,
    /// Per global step: (finished, errors, median per-second p95).
    pub steps: Vec<(u64, u64, u64)>,
}

/// Window length for a run of `seconds`: about 40 windows, between 1 and 10 s each.
pub fn window_length(seconds: usize) -> u32 {
    (seconds / 40).clamp(1, 10) as u32
}

/// Group the summary's timeline into windows of `length` seconds (the last may be shorter).
pub fn windows(summary: &Summary, length: u32) -> Vec<Window> {
    let length = length.max(1) as usize;
    let steps = summary.steps.len();
    summary.timeline.chunks(length).map(|c| window(c, steps)).collect()
}

fn window(seconds: &[Second], steps: usize) -> Window {
    let n = seconds.len().max(1) as f64;
    let sum = |f: &dyn Fn(&Second) -> u64| seconds.iter().map(f).sum::<u64>();
    let finished = sum(&|s| s.finished());
    let errors = sum(&|s| s.error_total());
    let p95s = seconds.iter().filter(|s| s.latency.count > 0).map(|s| s.latency.p95_us);
    let steps = (0..steps)
        .map(|i| {
            let of = |s: &Second| s.steps.get(i).map(|x| (x.ok + x.errors, x.errors, x.latency)).unwrap_or_default();
            let f: u64 = seconds.iter().map(|s| of(s).0).sum();
            let e: u64 = seconds.iter().map(|s| of(s).1).sum();
            let p = median(seconds.iter().map(of).filter(|x| x.2.count > 0).map(|x| x.2.p95_us));
            (f, e, p)
        })
        .collect();
    Window {
        start_s: seconds.first().map(|s| s.t.saturating_sub(1)).unwrap_or(0),
        end_s: seconds.last().map(|s| s.t).unwrap_or(0),
        arrivals_ps: sum(&|s| s.arrivals) as f64 / n,
        offered_rps: sum(&|s| s.started) as f64 / n,
        ok_rps: sum(&|s| s.ok) as f64 / n,
        finished_rps: finished as f64 / n,
        finished,
        error_rate: if finished == 0 { 0.0 } else { errors as f64 / finished as f64 },
        p95_us: median(p95s),
        in_flight_start: seconds.first().map(|s| s.in_flight).unwrap_or(0),
        in_flight_end: seconds.last().map(|s| s.in_flight).unwrap_or(0),
        in_flight_mean: sum(&|s| s.in_flight) as f64 / n,
        active_users_mean: sum(&|s| s.active_users) as f64 / n,
        steps,
    }
}

fn median(values: impl Iterator<Item = u64>) -> u64 {
    let mut v: Vec<u64> = values.collect();
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn windows_cover_the_timeline_and_keep_counts() {
        let s = fixture::saturating();
        let w = windows(&s, 5);
        assert_eq!(w.len(), 48);
        assert_eq!((w[0].start_s, w[47].end_s), (0, 240));
        let finished: u64 = w.iter().map(|w| w.finished).sum();
        assert_eq!(finished, s.timeline.iter().map(|s| s.finished()).sum::<u64>());
        assert!(windows(&fixture::empty(), 5).is_empty());
        assert_eq!(window_length(15), 1);
        assert_eq!(window_length(240), 6);
        assert_eq!(window_length(100_000), 10);
    }
}
