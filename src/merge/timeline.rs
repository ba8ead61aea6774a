//! Aligning the shards' timelines on wall-clock seconds and adding them, second by second.
//!
//! Each shard's row `t` covers (t-1, t] after *its own* start. A shard that started `d`
//! seconds after the earliest one (rounded to the second; with a `--start-at` barrier, d is
//! 0) has its rows moved to `t + d`. Counters and gauges add up. Per-second latency quantiles
//! cannot be added, so they are recomputed from the per-second histograms each shard logged in
//! `hlog/` (one interval per second per step, and one for the generator lag): the merged
//! second's p99 is the p99 of every request that ended in that second on any shard.
//!
//! A shard whose interval logs are missing (a write failed during its run) still adds its
//! counts; for the quantiles of the seconds it took part in, the merge can then only take the
//! largest of the shards' values, an upper bound, and says so in a warning.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::metrics::{Cause, ErrorKind, Quantiles, Second, StepSecond};
use crate::report::hlog;

use super::load::ShardDir;

/// Per-second histograms read back from one shard's logs, keyed by the shard's own second.
struct Logged {
    /// One map per step (in the summary's step order), then the lag's; `None` where the log
    /// is missing or unreadable.
    logs: Vec<Option<BTreeMap<u32, Histogram<u64>>>>,
}

fn read_logs(shard: &ShardDir) -> Logged {
    let dir = shard.path.join(hlog::DIR);
    let mut names: Vec<String> = shard.summary.steps.iter().map(|s| hlog::step_file(&s.persona, &s.name)).collect();
    names.push("generator-lag.hlog".into());
    let logs = names
        .iter()
        .map(|name| {
            let text = std::fs::read(dir.join(name)).ok()?;
            let intervals = hlog::read_intervals(&text).ok()?;
            // A log rebuilt from the summary holds the whole run as one long interval: not
            // the per-second record this needs.
            if intervals.iter().any(|(_, length, _)| *length > Duration::from_millis(1001)) {
                return None;
            }
            Some(intervals.into_iter().map(|(start, _, h)| (start.as_secs_f64().round() as u32 + 1, h)).collect())
        })
        .collect();
    Logged { logs }
}

/// The merged timeline, the merged per-second logs (one per step, then the lag; each a list
/// of (start relative to `origin`, histogram)), and the warnings to print.
pub struct Merged {
    pub timeline: Vec<Second>,
    pub logs: Vec<Vec<(Duration, Histogram<u64>)>>,
    pub warnings: Vec<String>,
}

/// Whole seconds from `origin` to each shard's start, rounded.
pub fn offsets(shards: &[ShardDir], origin: SystemTime) -> Vec<u32> {
    shards
        .iter()
        .map(|s| {
            let start = humantime::parse_rfc3339(&s.shard.started_at).unwrap_or(origin);
            start.duration_since(origin).unwrap_or_default().as_secs_f64().round() as u32
        })
        .collect()
}

pub fn merge(shards: &[ShardDir], origin: SystemTime) -> Merged {
    let offsets = offsets(shards, origin);
    let n_steps = shards[0].summary.steps.len();
    let mut warnings = Vec::new();
    let logged: Vec<Logged> = shards.iter().map(read_logs).collect();
    for (shard, logs) in shards.iter().zip(&logged) {
        if logs.logs.iter().any(Option::is_none) {
            warnings.push(format!(
                "{}: some per-second interval logs (hlog/) are missing; the merged per-second quantiles of the \
                 seconds it ran are the largest shard's (an upper bound). Totals and counts are exact.",
                shard.path.display()
            ));
        }
    }
    let last = shards
        .iter()
        .zip(&offsets)
        .map(|(s, d)| s.summary.timeline.iter().map(|r| r.t).max().unwrap_or(0) + d)
        .max()
        .unwrap_or(0);
    // Merged per-second histograms: [step…, lag][t].
    let mut hist: Vec<BTreeMap<u32, Histogram<u64>>> = vec![BTreeMap::new(); n_steps + 1];
    for (logs, d) in logged.iter().zip(&offsets) {
        for (k, log) in logs.logs.iter().enumerate() {
            for (t, h) in log.iter().flatten() {
                let slot = hist[k].entry(t + d).or_insert_with(crate::metrics::new_histogram);
                let _ = slot.add(h);
            }
        }
    }
    let mut timeline = Vec::with_capacity(last as usize);
    for t in 1..=last {
        let rows: Vec<(usize, &Second)> = shards
            .iter()
            .zip(&offsets)
            .enumerate()
            .filter_map(|(i, (s, d))| s.summary.timeline.iter().find(|r| r.t + d == t).map(|r| (i, r)))
            .collect();
        timeline.push(second(t, &rows, &hist, &logged, n_steps));
    }
    let logs = hist
        .into_iter()
        .map(|m| m.into_iter().map(|(t, h)| (Duration::from_secs(t.saturating_sub(1) as u64), h)).collect())
        .collect();
    Merged { timeline, logs, warnings }
}

/// One merged second from the shards' rows for it.
fn second(
    t: u32,
    rows: &[(usize, &Second)],
    hist: &[BTreeMap<u32, Histogram<u64>>],
    logged: &[Logged],
    n_steps: usize,
) -> Second {
    let sum = |f: fn(&Second) -> u64| rows.iter().map(|(_, r)| f(r)).sum::<u64>();
    let mut attempts = [0u64; Cause::COUNT];
    let mut errors = [0u64; ErrorKind::COUNT];
    for (_, r) in rows {
        attempts.iter_mut().zip(r.attempts).for_each(|(a, n)| *a += n);
        errors.iter_mut().zip(r.errors).for_each(|(a, n)| *a += n);
    }
    // Exact when every shard in this second logged it; else the largest shard's, an upper bound.
    let exact = |k: usize| rows.iter().all(|(i, _)| logged[*i].logs[k].is_some());
    let quantiles = |k: usize, fallback: &dyn Fn(&Second) -> Quantiles| {
        let logged = hist[k].get(&t).map(Quantiles::of).unwrap_or_default();
        if exact(k) {
            logged
        } else {
            rows.iter().map(|(_, r)| fallback(r)).fold(logged, max_quantiles)
        }
    };
    let steps = (0..n_steps)
        .map(|k| StepSecond {
            ok: rows.iter().filter_map(|(_, r)| r.steps.get(k)).map(|s| s.ok).sum(),
            errors: rows.iter().filter_map(|(_, r)| r.steps.get(k)).map(|s| s.errors).sum(),
            latency: quantiles(k, &|r: &Second| r.steps.get(k).map(|s| s.latency).unwrap_or_default()),
        })
        .collect();
    let mut all = crate::metrics::new_histogram();
    for h in hist[..n_steps].iter().filter_map(|m| m.get(&t)) {
        let _ = all.add(h);
    }
    let latency = if (0..n_steps).all(exact) {
        Quantiles::of(&all)
    } else {
        rows.iter().map(|(_, r)| r.latency).fold(Quantiles::of(&all), max_quantiles)
    };
    Second {
        t,
        arrivals: sum(|r| r.arrivals),
        started: sum(|r| r.started),
        attempts,
        ok: sum(|r| r.ok),
        errors,
        goals: sum(|r| r.goals),
        active_users: sum(|r| r.active_users),
        in_flight: sum(|r| r.in_flight),
        latency,
        lag: quantiles(n_steps, &|r: &Second| r.lag),
        // Each shard's own users: at worst they trailed at the same moment.
        behind: sum(|r| r.behind),
        steps,
    }
}

/// The larger of each quantile, with the counts added: an upper bound when histograms are
/// not available.
fn max_quantiles(a: Quantiles, b: Quantiles) -> Quantiles {
    Quantiles {
        count: a.count.max(b.count),
        p50_us: a.p50_us.max(b.p50_us),
        p95_us: a.p95_us.max(b.p95_us),
        p99_us: a.p99_us.max(b.p99_us),
        max_us: a.max_us.max(b.max_us),
    }
}

/// The logs to write: one file per step and one for the lag, from the merged seconds.
pub fn write_logs(
    dir: &crate::report::RunDir,
    summary: &crate::analysis::Summary,
    origin: SystemTime,
    logs: &[Vec<(Duration, Histogram<u64>)>],
) -> std::io::Result<()> {
    let path = dir.file(hlog::DIR);
    std::fs::create_dir_all(&path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let out = crate::report::RunDir::existing(&path);
    for (step, log) in summary.steps.iter().zip(logs) {
        let what = format!("{}/{} latency from intended start (merged shards)", step.persona, step.name);
        out.write(&hlog::step_file(&step.persona, &step.name), &hlog::log_seconds(&what, origin, log)?)?;
    }
    if let Some(lag) = logs.get(summary.steps.len()) {
        let what = "generator lag (actual minus intended start, merged shards)";
        out.write("generator-lag.hlog", &hlog::log_seconds(what, origin, lag)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::analysis::shards::ShardRun;

    fn shard(index: u32, started_at: SystemTime) -> ShardDir {
        let summary = crate::analysis::fixture::saturating();
        ShardDir {
            path: std::path::PathBuf::from(format!("/nonexistent/shard-{index}")),
            shard: ShardRun {
                index,
                count: 2,
                scenario_sha256: String::new(),
                seed: 1,
                start_at: None,
                started_at: humantime::format_rfc3339_micros(started_at).to_string(),
                skew_us: None,
                machine: "m".into(),
                cores: 1,
                scheduled: 0,
                sent: 0,
                lag_p99_us: 0,
                healthy: true,
            },
            summary,
        }
    }

    #[test]
    fn timelines_are_aligned_on_the_wall_clock_and_added() {
        let origin = UNIX_EPOCH + Duration::from_secs(1_796_202_000);
        // Shard 1 started 2.2 s after shard 0: its second t is the merged second t + 2.
        let shards = [shard(0, origin), shard(1, origin + Duration::from_millis(2_200))];
        let merged = merge(&shards, origin);
        let rows = &shards[0].summary.timeline;
        assert_eq!(merged.timeline.len(), rows.len() + 2);
        for (i, second) in merged.timeline.iter().enumerate() {
            let t = i as u32 + 1;
            assert_eq!(second.t, t);
            let own = |shift: u32| rows.iter().find(|r| r.t + shift == t);
            let expected = own(0).map_or(0, |r| r.arrivals) + own(2).map_or(0, |r| r.arrivals);
            assert_eq!(second.arrivals, expected, "second {t}");
            let ok = own(0).map_or(0, |r| r.ok) + own(2).map_or(0, |r| r.ok);
            assert_eq!(second.ok, ok, "second {t}");
            // No interval logs: the quantiles are the larger shard's, an upper bound.
            let p99 = own(0).map_or(0, |r| r.latency.p99_us).max(own(2).map_or(0, |r| r.latency.p99_us));
            assert_eq!(second.latency.p99_us, p99, "second {t}");
        }
        let total: u64 = merged.timeline.iter().map(|s| s.started).sum();
        assert_eq!(total, 2 * rows.iter().map(|s| s.started).sum::<u64>());
        assert_eq!(merged.warnings.len(), 2, "each shard without logs is named: {:?}", merged.warnings);
        assert_eq!(offsets(&shards, origin), [0, 2]);
    }
}
