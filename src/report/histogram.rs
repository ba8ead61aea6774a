//! `schoolday report RUN --histogram STEP`: how many requests took how long, as text bars.
//!
//! Percentiles say where the tail is; the histogram shows its shape (two humps mean two
//! populations: a cache hit and a miss, a queue and no queue). Buckets are log-spaced (1, 2, 5
//! per decade) so that a 2 ms mode and a 20 s tail fit on one screen, counted from the step's
//! HDR histogram in `summary.json` (latency from the intended start).

use std::io::{self, Write};

use hdrhistogram::Histogram;

use crate::analysis::thresholds::ThresholdResult;
use crate::analysis::{decode_histogram, StepSummary, Summary};
use crate::format::{count, micros};

/// Bars are this many characters at the fullest bucket.
const WIDTH: u64 = 40;

/// Find `wanted` (`persona.step`, or a step name that only one persona has).
pub fn find<'a>(summary: &'a Summary, wanted: &str) -> Result<&'a StepSummary, String> {
    let exact: Vec<&StepSummary> =
        summary.steps.iter().filter(|s| format!("{}.{}", s.persona, s.name) == wanted).collect();
    let by_name: Vec<&StepSummary> = summary.steps.iter().filter(|s| s.name == wanted).collect();
    match (exact.as_slice(), by_name.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one),
        ([], []) => Err(format!(
            "no step `{wanted}` in this run; its steps: {}",
            summary.steps.iter().map(|s| format!("{}.{}", s.persona, s.name)).collect::<Vec<_>>().join(", ")
        )),
        _ => Err(format!("`{wanted}` is a step of several personas: write it as `persona.step`")),
    }
}

/// Log-spaced upper bounds (µs), 1-2-5 per decade, covering `low..=high`.
pub fn bounds(low: u64, high: u64) -> Vec<u64> {
    let mut bounds = Vec::new();
    let mut decade = 1u64;
    while decade.saturating_mul(10) <= low.max(1) {
        decade *= 10;
    }
    'outer: loop {
        for m in [1, 2, 5] {
            let b = decade.saturating_mul(m);
            if b >= low.max(1) {
                bounds.push(b);
            }
            if b >= high || b == u64::MAX {
                break 'outer;
            }
        }
        decade = decade.saturating_mul(10);
    }
    bounds
}

/// Upper bounds (µs) evenly spaced on a log axis, `per_decade` to a decade, for a chart's
/// bars: the first is below `low` (the lower edge of the first bar, 0 when `low` is 1 µs or
/// less), the last at or above `high`. Bounds are whole microseconds, so at a few µs, where
/// neighbours round to the same value, there are fewer.
pub fn even_bounds(low: u64, high: u64, per_decade: u32) -> Vec<u64> {
    let n = f64::from(per_decade.max(1));
    let at = |k: i64| 10f64.powf(k as f64 / n).round() as u64;
    let low = low.max(1);
    let mut k = ((low as f64).log10() * n).floor() as i64;
    while k > 0 && at(k) >= low {
        k -= 1;
    }
    let mut bounds = vec![if at(k) < low { at(k) } else { 0 }];
    while bounds.last().is_some_and(|b| *b < high) {
        k += 1;
        let b = at(k);
        if b > *bounds.last().unwrap_or(&0) {
            bounds.push(b);
        }
    }
    bounds
}

/// (upper bound µs, count) per bucket of `h`, for ascending upper bounds; the first bucket
/// also holds everything below it, values above the last are left out.
pub fn counts(h: &Histogram<u64>, upper: &[u64]) -> Vec<(u64, u64)> {
    let mut below = 0;
    upper
        .iter()
        .map(|&b| {
            let upto = h.count_between(0, b);
            let n = upto.saturating_sub(below);
            below = upto.max(below);
            (b, n)
        })
        .collect()
}

/// (upper bound µs, count) per 1-2-5 bucket from the fastest request up to `high` (at least
/// the slowest request); the first bucket also holds everything below it.
pub fn buckets(h: &Histogram<u64>, high: u64) -> Vec<(u64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    counts(h, &bounds(h.min(), h.max().max(high)))
}

/// The limit of a latency threshold in whole microseconds (rounded up: a bucket that holds it
/// holds the limit itself).
pub fn limit_us(ceiling: &ThresholdResult) -> u64 {
    ceiling.limit.max(0.0).ceil().min(u64::MAX as f64) as u64
}

/// Print the step's histogram, with the buckets holding p50, p95 and p99 marked, and the
/// bucket holding the step's tightest latency threshold (`ceiling`, see
/// [`crate::analysis::thresholds::step_ceiling`]); the buckets reach up to it, so the gap
/// between the slowest request and the limit shows too.
pub fn render(step: &StepSummary, ceiling: Option<&ThresholdResult>, out: &mut dyn Write) -> io::Result<()> {
    let h = decode_histogram(&step.latency.histogram)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the step's latency histogram cannot be read"))?;
    writeln!(
        out,
        "{}.{}: {} steps · p50 {} · p95 {} · p99 {} · max {} (from the intended start)",
        step.persona,
        step.name,
        count(h.len()),
        micros(step.latency.p50_us),
        micros(step.latency.p95_us),
        micros(step.latency.p99_us),
        micros(step.latency.max_us)
    )?;
    if let Some(t) = ceiling {
        let verdict = if t.pass { "pass" } else { "FAIL" };
        writeln!(out, "threshold `{}`: measured {}, {verdict}", t.name, t.measured_text)?;
    }
    let limit = ceiling.map(|t| (format!("threshold {} {}", t.op.symbol(), t.limit_text), limit_us(t)));
    let rows = buckets(&h, limit.as_ref().map_or(0, |l| l.1));
    let fullest = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let mut low = 0u64;
    for (high, n) in rows {
        let top = h.highest_equivalent(high);
        let quantiles = [("p50", step.latency.p50_us), ("p95", step.latency.p95_us), ("p99", step.latency.p99_us)];
        let marks: Vec<&str> = quantiles
            .into_iter()
            .chain(limit.as_ref().map(|(name, us)| (name.as_str(), *us)))
            .filter(|(_, q)| *q > low && *q <= top)
            .map(|(name, _)| name)
            .collect();
        let bar = "█".repeat(((n * WIDTH).div_ceil(fullest)) as usize);
        writeln!(out, "  ≤ {:>8}  {:>9}  {bar:<40} {}", micros(high), count(n), marks.join(" "))?;
        low = top;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_log_spaced_and_count_every_value_once() {
        assert_eq!(bounds(3_000, 400_000), [5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000]);
        let mut h = crate::metrics::new_histogram();
        for v in [3_000, 3_100, 40_000, 450_000] {
            h.record(v).unwrap();
        }
        let rows = buckets(&h, 0);
        assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 4);
        assert_eq!(rows[0], (5_000, 2));
        assert_eq!(rows.last().unwrap(), &(500_000, 1));
    }

    #[test]
    fn even_bounds_are_equal_steps_on_a_log_axis() {
        let b = even_bounds(3_000, 400_000, 10);
        assert!(b[0] < 3_000 && b[1] >= 3_000, "{b:?}");
        assert!(*b.last().unwrap() >= 400_000 && b[b.len() - 2] < 400_000, "{b:?}");
        for w in b.windows(2) {
            let ratio = w[1] as f64 / w[0] as f64;
            assert!((ratio - 10f64.powf(0.1)).abs() < 0.01, "{w:?}");
        }
        assert!(b.contains(&10_000) && b.contains(&100_000), "decades are bounds: {b:?}");
        // At a few µs neighbours round together; the bounds still rise.
        let small = even_bounds(1, 30, 20);
        assert_eq!(small[0], 0);
        assert!(small.windows(2).all(|w| w[0] < w[1]), "{small:?}");
        assert_eq!(even_bounds(5_000, 5_000, 10).len(), 2, "one bar holds a single value");
    }

    fn step_of(values: &[u64]) -> StepSummary {
        let mut h = crate::metrics::new_histogram();
        for v in values {
            h.record(*v).unwrap();
        }
        StepSummary {
            persona: "pupil".into(),
            name: "login".into(),
            latency: crate::analysis::Latency::of(&h),
            ..Default::default()
        }
    }

    fn ceiling(text: &str, limit_us: f64, pass: bool) -> ThresholdResult {
        ThresholdResult {
            name: text.into(),
            measured: Some(1.0),
            measured_text: "49.0ms".into(),
            op: crate::scenario::thresholds::Op::Lt,
            limit: limit_us,
            limit_text: text.rsplit(' ').next().unwrap().into(),
            unit: crate::scenario::thresholds::Unit::Duration,
            pass,
        }
    }

    fn printed(step: &StepSummary, t: Option<&ThresholdResult>) -> String {
        let mut out = Vec::new();
        render(step, t, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_bars_mark_the_threshold_in_the_bucket_that_holds_it() {
        // 90 requests at 3 ms, 10 at 40 ms: p50 in ≤ 5ms, p95 and p99 in ≤ 50ms.
        let mut values = vec![3_000; 90];
        values.extend([40_000; 10]);
        let step = step_of(&values);
        let t = ceiling("pupil.login p95 < 30ms", 30_000.0, false);
        let text = printed(&step, Some(&t));
        assert!(text.contains("threshold `pupil.login p95 < 30ms`: measured 49.0ms, FAIL"), "{text}");
        let row = |bound: &str| text.lines().find(|l| l.starts_with(&format!("  ≤ {bound:>8}"))).unwrap_or("");
        assert!(row("5.0ms").ends_with(" p50"), "{text}");
        assert!(row("50.0ms").ends_with(" threshold < 30ms"), "30 ms lies in (20 ms, 50 ms]: {text}");
        assert!(row("50.0ms").contains("p95 p99"), "{text}");
        assert_eq!(text.matches("threshold <").count(), 1, "{text}");
        // Without one, nothing is marked as a threshold.
        assert!(!printed(&step, None).contains("threshold"));
    }

    #[test]
    fn the_bars_reach_up_to_a_threshold_above_every_request() {
        let step = step_of(&[3_000; 10]);
        let text = printed(&step, Some(&ceiling("p95 < 2s", 2_000_000.0, true)));
        let last = text.lines().last().unwrap();
        assert!(last.starts_with("  ≤    2.00s") && last.ends_with(" threshold < 2s"), "{text}");
        assert!(text.contains("measured 49.0ms, pass"), "{text}");
    }
}
