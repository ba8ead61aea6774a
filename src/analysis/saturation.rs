//! Where the target saturated, and what it cost: the saturation point by the four criteria of
//! docs/background.md#saturation-criteria (latency objective broken, goodput below 95% of offered, more than 1% errors,
//! in-flight requests piling up), the first step to break, the knee of throughput and latency
//! against load (Kneedle), a Little's-law sanity check and a Universal Scalability Law fit.
//!
//! Everything is computed from the summary alone (timeline and histograms), so a saved run
//! can be re-analysed after this code improves.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::kneedle::{self, Bend};
use super::summary::Summary;
use super::usl::{self, UslFit};
use super::verdict::{self, Verdict};
use super::windows::{window_length, windows, Window};

/// What the analysis judges against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The latency objective for p95 (from intended start). Without one from the scenario, 2 s:
    /// the tolerance for information retrieval (docs/background.md#patience).
    pub slo_p95: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { slo_p95: Duration::from_secs(2) }
    }
}

/// Criteria thresholds (docs/background.md#saturation-criteria; estimates, not measurements).
const GOODPUT_SHARE: f64 = 0.95;
const ERROR_RATE: f64 = 0.01;
/// A window judged on fewer finished requests than this is noise.
const MIN_FINISHED: u64 = 20;
/// Little's law: in-flight and throughput × latency may differ by this much.
const LITTLE_TOLERANCE: f64 = 0.10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saturation {
    /// Length of the windows the timeline was grouped into.
    pub window_s: u32,
    pub slo_p95_us: u64,
    pub peak_offered_rps: f64,
    pub peak_ok_rps: f64,
    pub peak_in_flight: u64,
    pub peak_active_users: u64,
    /// The first window where a criterion held and still held in the next one.
    #[serde(default)]
    pub point: Option<SaturationPoint>,
    /// The step whose own latency or errors broke first.
    #[serde(default)]
    pub first_to_break: Option<StepBreak>,
    /// Knee of throughput against offered load.
    #[serde(default)]
    pub throughput_knee: Option<Knee>,
    /// Knee of p95 latency against offered load.
    #[serde(default)]
    pub latency_knee: Option<Knee>,
    #[serde(default)]
    pub little: Option<LittleCheck>,
    /// USL fit of throughput against measured concurrency (requests in flight).
    #[serde(default)]
    pub usl: Option<UslFit>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaturationPoint {
    /// Seconds since the start of the run.
    pub at_s: f64,
    pub offered_rps: f64,
    pub ok_rps: f64,
    pub in_flight: u64,
    pub active_users: u64,
    pub p95_us: u64,
    pub error_rate: f64,
    /// Which criteria held: `slo`, `goodput`, `errors`, `in_flight_growing`.
    pub criteria: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepBreak {
    pub persona: String,
    pub step: String,
    pub at_s: f64,
    /// `slo` or `errors`.
    pub reason: String,
    /// p95 over the whole run, from the step's histogram (exact).
    pub p95_us: u64,
    pub error_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    /// Offered load at the knee, requests/s.
    pub load_rps: f64,
    /// Throughput (requests/s) or p95 latency (µs) at the knee.
    pub value: f64,
    /// When the offered load first reached the knee, seconds since the start.
    #[serde(default)]
    pub at_s: Option<f64>,
}

/// L = λW: mean requests in flight against throughput × mean service time, over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LittleCheck {
    pub measured_in_flight: f64,
    pub predicted_in_flight: f64,
    pub throughput_rps: f64,
    pub mean_service_us: f64,
    /// |measured − predicted| / predicted.
    pub gap: f64,
    /// Gap within 10% (or within one request, when very few are in flight).
    pub ok: bool,
}

/// Analyse a summary's timeline and histograms.
pub fn analyze(summary: &Summary, options: &Options) -> Saturation {
    let slo_us = options.slo_p95.as_micros().min(u64::MAX as u128) as u64;
    let window_s = window_length(summary.timeline.len());
    let ws = windows(summary, window_s);
    let peak = |f: &dyn Fn(&Window) -> f64| ws.iter().map(f).fold(0.0, f64::max);
    let point = saturation_point(&ws, slo_us);
    let first_to_break = first_to_break(summary, &ws, slo_us);
    let loaded: Vec<&Window> = ws.iter().filter(|w| w.finished > 0).collect();
    // Knees are read on the rising side of the load only (up to its peak): while load falls,
    // the target drains its backlog and serves more than is offered, which would bend the
    // curve for reasons that are not capacity.
    let peak_at = ws.iter().enumerate().max_by(|a, b| a.1.offered_rps.total_cmp(&b.1.offered_rps)).map(|(i, _)| i);
    let rising: Vec<&Window> = ws.iter().take(peak_at.map_or(0, |i| i + 1)).filter(|w| w.finished > 0).collect();
    let reached = |load: f64| ws.iter().find(|w| w.offered_rps >= load).map(|w| w.start_s as f64);
    let bins = |pts: Vec<(f64, f64)>| kneedle::binned(&pts, 24);
    let throughput_knee = kneedle::knee(
        &bins(rising.iter().map(|w| (w.offered_rps, w.ok_rps)).collect()),
        Bend::ConcaveIncreasing,
        kneedle::SENSITIVITY,
    )
    .map(|k| Knee { load_rps: k.x, value: k.y, at_s: reached(k.x) });
    let latency_knee = kneedle::knee(
        &bins(rising.iter().filter(|w| w.p95_us > 0).map(|w| (w.offered_rps, w.p95_us as f64)).collect()),
        Bend::ConvexIncreasing,
        kneedle::SENSITIVITY,
    )
    .map(|k| Knee { load_rps: k.x, value: k.y, at_s: reached(k.x) });
    let usl = usl::fit(&loaded.iter().map(|w| (w.in_flight_mean, w.ok_rps)).collect::<Vec<_>>());
    let mut saturation = Saturation {
        window_s,
        slo_p95_us: slo_us,
        peak_offered_rps: peak(&|w| w.offered_rps),
        peak_ok_rps: peak(&|w| w.ok_rps),
        peak_in_flight: summary.timeline.iter().map(|s| s.in_flight).max().unwrap_or(0),
        peak_active_users: summary.timeline.iter().map(|s| s.active_users).max().unwrap_or(0),
        point,
        first_to_break,
        throughput_knee,
        latency_knee,
        little: little(summary),
        usl,
        verdict: Verdict::default(),
    };
    saturation.verdict = verdict::judge(summary, &saturation);
    saturation
}

/// The criteria that hold in window `i`.
fn criteria(ws: &[Window], i: usize, slo_us: u64) -> Vec<String> {
    let w = &ws[i];
    let mut held = Vec::new();
    if w.finished < MIN_FINISHED {
        return held;
    }
    if w.p95_us > slo_us {
        held.push("slo".to_string());
    }
    if w.ok_rps < GOODPUT_SHARE * w.offered_rps {
        held.push("goodput".to_string());
    }
    if w.error_rate > ERROR_RATE {
        held.push("errors".to_string());
    }
    // In-flight rising is normal while load ramps up (Little: L = λW). It is instability when
    // requests pile up faster than throughput grows: more than 25% (and 10 requests) within
    // the window, at least twice the relative growth of throughput since the last window.
    let grew = w.in_flight_end.saturating_sub(w.in_flight_start) as f64;
    let base = w.in_flight_start.max(1) as f64;
    let previous = if i > 0 { ws[i - 1].finished_rps } else { w.finished_rps };
    let throughput_growth = if previous > 0.0 { (w.finished_rps - previous) / previous } else { 0.0 };
    if grew > 10.0 && grew > 0.25 * base && throughput_growth < 0.5 * grew / base {
        held.push("in_flight_growing".to_string());
    }
    held
}

fn saturation_point(ws: &[Window], slo_us: u64) -> Option<SaturationPoint> {
    (0..ws.len()).find_map(|i| {
        let held = criteria(ws, i, slo_us);
        // Sustained: one bad window followed by a good one is a blip, not saturation.
        let sustained =
            i + 1 == ws.len() || !criteria(ws, i + 1, slo_us).is_empty() || ws[i + 1].finished < MIN_FINISHED;
        (!held.is_empty() && sustained).then(|| {
            let w = &ws[i];
            SaturationPoint {
                at_s: w.start_s as f64,
                offered_rps: w.offered_rps,
                ok_rps: w.ok_rps,
                in_flight: w.in_flight_end,
                active_users: w.active_users_mean.round() as u64,
                p95_us: w.p95_us,
                error_rate: w.error_rate,
                criteria: held,
            }
        })
    })
}

/// The step whose own p95 broke the objective, or whose error rate passed 1%, earliest (and
/// sustained into the next window); ties go to the worse p95.
fn first_to_break(summary: &Summary, ws: &[Window], slo_us: u64) -> Option<StepBreak> {
    let bad = |w: &Window, j: usize| -> Option<&'static str> {
        let (finished, errors, p95) = w.steps.get(j).copied()?;
        if finished < MIN_FINISHED / 2 {
            return None;
        }
        if p95 > slo_us {
            Some("slo")
        } else if errors as f64 > ERROR_RATE * finished as f64 {
            Some("errors")
        } else {
            None
        }
    };
    let mut best: Option<(usize, u64, StepBreak)> = None;
    for (j, step) in summary.steps.iter().enumerate() {
        let found = (0..ws.len()).find_map(|i| {
            let reason = bad(&ws[i], j)?;
            let next_ok = ws
                .get(i + 1)
                .is_some_and(|n| bad(n, j).is_none() && n.steps.get(j).is_some_and(|s| s.0 >= MIN_FINISHED / 2));
            (!next_ok).then_some((i, reason))
        });
        if let Some((i, reason)) = found {
            let finished = step.ok + step.errors.values().sum::<u64>();
            let candidate = StepBreak {
                persona: step.persona.clone(),
                step: step.name.clone(),
                at_s: ws[i].start_s as f64,
                reason: reason.to_string(),
                p95_us: step.latency.p95_us,
                error_rate: if finished == 0 {
                    0.0
                } else {
                    step.errors.values().sum::<u64>() as f64 / finished as f64
                },
            };
            let p95 = ws[i].steps[j].2;
            if best.as_ref().is_none_or(|(bi, bp, _)| i < *bi || (i == *bi && p95 > *bp)) {
                best = Some((i, p95, candidate));
            }
        }
    }
    best.map(|b| b.2)
}

/// Run-wide Little's law: the time-average of the in-flight gauge against the throughput of
/// finished requests × their mean service time (from actual send, as in-flight counts).
fn little(summary: &Summary) -> Option<LittleCheck> {
    let seconds = summary.timeline.len();
    let finished: u64 = summary.timeline.iter().map(|s| s.finished()).sum();
    let count: u64 = summary.steps.iter().map(|s| s.service.count).sum();
    if seconds == 0 || finished == 0 || count == 0 {
        return None;
    }
    let mean_service_us =
        summary.steps.iter().map(|s| s.service.mean_us * s.service.count as f64).sum::<f64>() / count as f64;
    let throughput_rps = finished as f64 / seconds as f64;
    let predicted = throughput_rps * mean_service_us / 1e6;
    let measured = summary.timeline.iter().map(|s| s.in_flight).sum::<u64>() as f64 / seconds as f64;
    let gap = if predicted > 0.0 { (measured - predicted).abs() / predicted } else { 0.0 };
    Some(LittleCheck {
        measured_in_flight: measured,
        predicted_in_flight: predicted,
        throughput_rps,
        mean_service_us,
        gap,
        // Within one request counts as agreement: the gauge is sampled once a second, so at
        // under a few requests in flight a relative gap means nothing.
        ok: gap <= LITTLE_TOLERANCE || (measured - predicted).abs() < 1.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn finds_the_saturation_of_the_synthetic_morning() {
        let s = analyze(&fixture::saturating(), &Options::default());
        let p = s.point.as_ref().expect("saturates");
        // Offered load passes 300 req/s at about 90 s in the fixture's model.
        assert!((80.0..=110.0).contains(&p.at_s), "{p:?}");
        assert!(p.criteria.iter().any(|c| c == "goodput" || c == "in_flight_growing"), "{p:?}");
        let k = s.throughput_knee.as_ref().expect("a throughput knee");
        assert!((250.0..=380.0).contains(&k.load_rps), "{k:?}");
        assert!(s.latency_knee.is_some());
        let b = s.first_to_break.as_ref().expect("a step breaks");
        assert_eq!((b.persona.as_str(), b.step.as_str()), ("pupil", "login"));
        assert!(s.usl.is_some());
        assert!(s.peak_offered_rps > 300.0 && s.peak_ok_rps <= 301.0);
    }

    #[test]
    fn a_calm_run_does_not_saturate() {
        let s = analyze(&fixture::calm(), &Options::default());
        assert_eq!(s.point, None, "{:?}", s.point);
        assert_eq!(s.first_to_break, None);
        assert_eq!(s.throughput_knee, None, "{:?}", s.throughput_knee);
        let little = s.little.expect("little");
        assert!(little.ok, "{little:?}");
    }

    #[test]
    fn degenerate_runs_do_not_panic() {
        let s = analyze(&fixture::empty(), &Options::default());
        assert_eq!((s.point, s.usl, s.little), (None, None, None));
        let mut one = fixture::saturating();
        one.timeline.truncate(1);
        let s = analyze(&one, &Options::default());
        assert_eq!(s.point, None);
        let mut zero = fixture::calm();
        for second in &mut zero.timeline {
            *second = crate::metrics::Second { steps: Vec::new(), ..fixture::empty_second(second.t) };
        }
        let s = analyze(&zero, &Options::default());
        assert_eq!(s.point, None);
    }
}
