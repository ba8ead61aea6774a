//! Adding the shards' totals: counters are summed, histograms are added bucket by bucket
//! (HdrHistograms of the same precision add exactly, so a merged p99 is the p99 of every
//! request, not an average of the shards' p99s), and the derived figures (shares within a
//! window, requests per goal, whether the accounting closes) are computed again from the sums.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::analysis::{
    decode_histogram, GeneratorHealth, HttpInfo, Latency, PersonaSummary, RequestTotals, StepSummary, Summary,
    GOAL_WINDOWS,
};
use crate::http::Note;

use super::MergeError;

/// Add the histograms saved in `latencies` (one per shard) into one.
pub fn add_latencies<'a>(
    latencies: impl IntoIterator<Item = &'a Latency>,
    what: &str,
) -> Result<Histogram<u64>, MergeError> {
    let mut total = crate::metrics::new_histogram();
    for (i, latency) in latencies.into_iter().enumerate() {
        let h = decode_histogram(&latency.histogram)
            .ok_or_else(|| MergeError::Histogram { what: format!("{what} (shard {i} in index order)") })?;
        total.add(&h).map_err(|e| MergeError::Histogram { what: format!("{what}: {e:?}") })?;
    }
    Ok(total)
}

pub fn add_maps<'a>(maps: impl IntoIterator<Item = &'a BTreeMap<String, u64>>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for map in maps {
        for (k, v) in map {
            *out.entry(k.clone()).or_insert(0) += v;
        }
    }
    out
}

pub fn requests(shards: &[&Summary]) -> RequestTotals {
    RequestTotals {
        sent: shards.iter().map(|s| s.requests.sent).sum(),
        ok: shards.iter().map(|s| s.requests.ok).sum(),
        errors: add_maps(shards.iter().map(|s| &s.requests.errors)),
        cut_off: shards.iter().map(|s| s.requests.cut_off).sum(),
    }
}

/// The generator kept up only if every shard's did, and the merged lag is within the limit.
pub fn generator(shards: &[&Summary]) -> Result<GeneratorHealth, MergeError> {
    let lag = Latency::of(&add_latencies(shards.iter().map(|s| &s.generator.lag), "generator lag")?);
    let limit = shards[0].generator.lag_p99_limit_us;
    // Each shard judged its own lateness against what it measured; the merged run is invalid
    // if any shard was, for that shard's reason, or if the merged lag passes the limit.
    let shard_reason = shards.iter().find_map(|s| s.generator.invalid.clone());
    let lag_reason = (lag.p99_us > limit).then(|| {
        format!(
            "generator lag p99 {} across the shards exceeds {}",
            crate::format::micros(lag.p99_us),
            crate::format::micros(limit)
        )
    });
    let invalid = shard_reason.or(lag_reason);
    let healthy = invalid.is_none() && shards.iter().all(|s| s.generator.healthy);
    Ok(GeneratorHealth {
        lag,
        lag_p99_limit_us: limit,
        healthy,
        basis: shards[0].generator.basis.clone(),
        // At worst the shards trailed at the same second.
        arrivals_behind: shards.iter().map(|s| s.generator.arrivals_behind).sum(),
        invalid,
    })
}

pub fn steps(shards: &[&Summary]) -> Result<Vec<StepSummary>, MergeError> {
    let first = shards[0];
    let mut out = Vec::with_capacity(first.steps.len());
    for (i, step) in first.steps.iter().enumerate() {
        let all: Vec<&StepSummary> = shards.iter().filter_map(|s| s.steps.get(i)).collect();
        if all.len() != shards.len() || all.iter().any(|s| s.persona != step.persona || s.name != step.name) {
            return Err(MergeError::Layout { what: format!("step {}/{}", step.persona, step.name) });
        }
        let what = format!("{}/{}", step.persona, step.name);
        out.push(StepSummary {
            sent: all.iter().map(|s| s.sent).sum(),
            ok: all.iter().map(|s| s.ok).sum(),
            errors: add_maps(all.iter().map(|s| &s.errors)),
            bytes: all.iter().map(|s| s.bytes).sum(),
            latency: Latency::of(&add_latencies(all.iter().map(|s| &s.latency), &format!("{what} latency"))?),
            service: Latency::of(&add_latencies(all.iter().map(|s| &s.service), &format!("{what} service time"))?),
            attempts: add_maps(all.iter().map(|s| &s.attempts)),
            steps_ok: all.iter().map(|s| s.steps_ok).sum(),
            steps_failed: all.iter().map(|s| s.steps_failed).sum(),
            http_versions: union(all.iter().map(|s| &s.http_versions)),
            ..step.clone()
        });
    }
    if shards.iter().any(|s| s.steps.len() != first.steps.len()) {
        return Err(MergeError::Layout { what: "the list of steps".into() });
    }
    Ok(out)
}

pub fn personas(shards: &[&Summary]) -> Result<Vec<PersonaSummary>, MergeError> {
    let first = shards[0];
    let mut out = Vec::with_capacity(first.personas.len());
    for (i, persona) in first.personas.iter().enumerate() {
        let all: Vec<&PersonaSummary> = shards.iter().filter_map(|s| s.personas.get(i)).collect();
        if all.len() != shards.len() || all.iter().any(|p| p.name != persona.name) {
            return Err(MergeError::Layout { what: format!("persona {}", persona.name) });
        }
        let sum = |f: fn(&PersonaSummary) -> u64| all.iter().map(|p| f(p)).sum::<u64>();
        let to_goal = add_latencies(all.iter().map(|p| &p.time_to_goal), &format!("{} time to goal", persona.name))?;
        let queued = sum(|p| p.queued);
        let in_queue: Vec<&Latency> = all.iter().filter_map(|p| p.time_in_queue.as_ref()).collect();
        let time_in_queue = if queued > 0 && !in_queue.is_empty() {
            Some(Latency::of(&add_latencies(in_queue, &format!("{} time in queue", persona.name))?))
        } else {
            None
        };
        let attempts = add_maps(all.iter().map(|p| &p.attempts));
        let (scheduled, arrived) = (sum(|p| p.scheduled), sum(|p| p.arrived));
        let (completed, failed, abandoned) = (sum(|p| p.completed), sum(|p| p.failed), sum(|p| p.abandoned));
        let (cut_off, not_started) = (sum(|p| p.cut_off), sum(|p| p.not_started));
        let goals = to_goal.len();
        let goal_within = GOAL_WINDOWS
            .iter()
            .map(|(label, window)| {
                let within = if to_goal.is_empty() { 0 } else { to_goal.count_between(0, window.as_micros() as u64) };
                (label.to_string(), if arrived == 0 { 0.0 } else { within as f64 / arrived as f64 })
            })
            .collect();
        out.push(PersonaSummary {
            name: persona.name.clone(),
            scheduled,
            arrived,
            completed,
            failed,
            abandoned,
            cut_off,
            not_started,
            accounting_closes: completed + failed + abandoned + cut_off + not_started == scheduled
                && completed + failed + abandoned + cut_off == arrived
                && all.iter().all(|p| p.accounting_closes),
            // Blocked users are never dealt to a shard: every shard reports the whole plan's.
            blocked: persona.blocked,
            amplification: (goals > 0).then(|| attempts.values().sum::<u64>() as f64 / goals as f64),
            attempts,
            relogins: sum(|p| p.relogins),
            returns: sum(|p| p.returns),
            queued,
            time_in_queue,
            abandoned_in_queue: sum(|p| p.abandoned_in_queue),
            time_to_goal: Latency::of(&to_goal),
            // Shards run scenarios, never quick mode's closed loop.
            closed_loop: None,
            goal_within,
        });
    }
    if shards.iter().any(|s| s.personas.len() != first.personas.len()) {
        return Err(MergeError::Layout { what: "the list of personas".into() });
    }
    Ok(out)
}

/// The versions any shard saw, in the first shard's order, then the others'.
fn union<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for version in lists.flatten() {
        if !all.contains(version) {
            all.push(version.clone());
        }
    }
    all
}

/// The HTTP client's notes of every shard: the same reason (kind and words) counted once with
/// the shards' counts added, most frequent first, as many kept as one run keeps; the reasons
/// beyond those join the failures no shard kept words for.
pub fn http(shards: &[&Summary]) -> HttpInfo {
    let mut failures: Vec<Note> = Vec::new();
    for note in shards.iter().flat_map(|s| &s.http.failures) {
        match failures.iter_mut().find(|n| n.kind == note.kind && n.message == note.message) {
            Some(kept) => kept.count += note.count,
            None => failures.push(note.clone()),
        }
    }
    failures.sort_by_key(|n| std::cmp::Reverse(n.count));
    let kept = crate::http::NOTES_KEPT;
    let beyond: u64 = failures.iter().skip(kept).map(|n| n.count).sum();
    failures.truncate(kept);
    HttpInfo {
        tls_insecure: shards.iter().any(|s| s.http.tls_insecure),
        failures,
        other_failures: shards.iter().map(|s| s.http.other_failures).sum::<u64>() + beyond,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Merging per-shard histograms (through their saved, encoded form) gives exactly the
        /// histogram of every value recorded in one.
        #[test]
        fn merged_shard_histograms_equal_one_histogram_of_every_value(
            values in proptest::collection::vec(1u64..60_000_000, 0..2000),
            shards in 1usize..8,
        ) {
            let mut one = crate::metrics::new_histogram();
            let mut parts = vec![crate::metrics::new_histogram(); shards];
            for (i, v) in values.iter().enumerate() {
                crate::metrics::record(&mut one, std::time::Duration::from_micros(*v));
                crate::metrics::record(&mut parts[i % shards], std::time::Duration::from_micros(*v));
            }
            let saved: Vec<Latency> = parts.iter().map(Latency::of).collect();
            let merged = add_latencies(&saved, "test").unwrap();
            prop_assert_eq!(&merged, &one);
            // The same statistics (the encodings may differ in the histogram's spare capacity).
            let stats = |h: &Histogram<u64>| Latency { histogram: String::new(), ..Latency::of(h) };
            prop_assert_eq!(stats(&merged), stats(&one));
        }
    }
}
