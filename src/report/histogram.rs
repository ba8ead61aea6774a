//! `schoolday report RUN --histogram STEP`: how many requests took how long, as text bars.
//!
//! Percentiles say where the tail is; the histogram shows its shape (two humps mean two
//! populations: a cache hit and a miss, a queue and no queue). Buckets are log-spaced (1, 2, 5
//! per decade) so that a 2 ms mode and a 20 s tail fit on one screen, counted from the step's
//! HDR histogram in `summary.json` (latency from the intended start).

use std::io::{self, Write};

use hdrhistogram::Histogram;

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

/// (upper bound µs, count) per bucket; the first bucket also holds everything below it.
pub fn buckets(h: &Histogram<u64>) -> Vec<(u64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut below = 0;
    bounds(h.min(), h.max())
        .into_iter()
        .map(|b| {
            let upto = h.count_between(0, b);
            let n = upto - below;
            below = upto;
            (b, n)
        })
        .collect()
}

/// Print the step's histogram, with the buckets holding p50, p95 and p99 marked.
pub fn render(step: &StepSummary, out: &mut dyn Write) -> io::Result<()> {
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
    let rows = buckets(&h);
    let fullest = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let mut low = 0u64;
    for (high, n) in rows {
        let marks: Vec<&str> =
            [("p50", step.latency.p50_us), ("p95", step.latency.p95_us), ("p99", step.latency.p99_us)]
                .into_iter()
                .filter(|(_, q)| *q > low && *q <= h.highest_equivalent(high))
                .map(|(name, _)| name)
                .collect();
        let bar = "█".repeat(((n * WIDTH).div_ceil(fullest)) as usize);
        writeln!(out, "  ≤ {:>8}  {:>9}  {bar:<40} {}", micros(high), count(n), marks.join(" "))?;
        low = h.highest_equivalent(high);
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
        let rows = buckets(&h);
        assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), 4);
        assert_eq!(rows[0], (5_000, 2));
        assert_eq!(rows.last().unwrap(), &(500_000, 1));
    }
}
