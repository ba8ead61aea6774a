//! Recovery after a trigger (a storm): how long until the target serves as well as it did
//! before, and whether it ever does within the run. A target that stays degraded after the
//! trigger has passed is in a metastable state (Bronson et al., HotOS 2021): the retries it
//! provoked keep it overloaded.
//!
//! Outages are the other trigger, found in the timeline rather than in the scenario: seconds
//! in which nothing succeeded and connections were refused or reset (a target that went away,
//! not one that is slow), and how long after it came back the target served as before.

use serde::{Deserialize, Serialize};

use crate::format::clock;
use crate::metrics::{ErrorKind, Second};
use crate::scenario::{Event, Scenario};

/// Seconds before the trigger averaged for the baseline.
const BASELINE_WINDOW: usize = 10;
/// Consecutive seconds at or above 90% of the baseline that count as recovered.
const SUSTAINED: usize = 5;
/// Share of the baseline that counts as "back".
const BACK: f64 = 0.9;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    /// What happened, e.g. `storm at 1m 30s (pupil)`.
    pub event: String,
    pub at_s: f64,
    /// Successful responses per second over the 10 s before the trigger.
    pub baseline_goodput: f64,
    /// Seconds from the trigger until goodput stayed at ≥ 90% of the baseline for 5 s.
    pub recovered_after_s: Option<f64>,
    /// Goodput over the last 10 s of arrivals.
    pub final_goodput: f64,
    /// Still below 90% of the baseline at the end of the arrivals: metastable.
    pub ended_degraded: bool,
}

pub fn recoveries(scenario: &Scenario, timeline: &[Second]) -> Vec<Recovery> {
    let end = (scenario.duration.as_secs() as usize).min(timeline.len());
    scenario
        .events
        .iter()
        .filter_map(|Event::Storm { at, personas, .. }| {
            // Row i covers second (i, i+1]; the trigger second is `at` rounded down.
            let trigger = at.as_secs() as usize;
            if trigger < 2 || trigger >= end {
                return None;
            }
            let goodput = |rows: &[Second]| {
                if rows.is_empty() {
                    0.0
                } else {
                    rows.iter().map(|s| s.ok as f64).sum::<f64>() / rows.len() as f64
                }
            };
            let baseline = goodput(&timeline[trigger.saturating_sub(BASELINE_WINDOW)..trigger]);
            let after = &timeline[trigger..end];
            let recovered = after
                .windows(SUSTAINED)
                .position(|w| w.iter().all(|s| s.ok as f64 >= BACK * baseline))
                .map(|i| i as f64);
            let final_goodput = goodput(&timeline[end.saturating_sub(BASELINE_WINDOW).max(trigger)..end]);
            let names: Vec<&str> = personas.iter().map(|p| scenario.personas[*p].name.as_str()).collect();
            Some(Recovery {
                event: format!("storm at {} ({})", crate::format::clock(*at), names.join(", ")),
                at_s: at.as_secs_f64(),
                baseline_goodput: baseline,
                recovered_after_s: recovered,
                final_goodput,
                ended_degraded: baseline > 0.0 && final_goodput < BACK * baseline,
            })
        })
        .collect()
}

/// A stretch of the run in which the target was gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    /// Seconds since the start of the run: the first and last second down.
    pub from_s: f64,
    pub to_s: f64,
    /// Connections refused (or not established) and connections reset during the outage.
    pub connect_errors: u64,
    pub resets: u64,
    /// Successful responses per second over the 10 s before the outage (0 when it started
    /// with the run).
    pub baseline_goodput: f64,
    /// Seconds from the end of the outage to the first second served at ≥ 90% of the
    /// baseline (any success when there was no baseline); `None`: not within the run.
    pub recovered_after_s: Option<f64>,
}

impl Outage {
    /// `outage from 4s to 7s, recovered in 1s`
    pub fn text(&self) -> String {
        let at = |s: f64| clock(std::time::Duration::from_secs_f64(s.max(0.0)));
        let back = match self.recovered_after_s {
            Some(s) => format!("recovered in {}", at(s)),
            None => "not recovered by the end of the run".to_string(),
        };
        format!("outage from {} to {}, {back}", at(self.from_s), at(self.to_s))
    }
}

/// A second in which the target was gone: nothing succeeded and connections failed.
fn down(s: &Second) -> bool {
    s.ok == 0 && s.errors_of(ErrorKind::Connect) + s.errors_of(ErrorKind::Reset) > 0
}

/// The outages in a timeline. Seconds with nothing finished between two seconds down belong
/// to the same outage (requests waiting on a dead target end later, or not at all).
pub fn outages(timeline: &[Second]) -> Vec<Outage> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < timeline.len() {
        if !down(&timeline[i]) {
            i += 1;
            continue;
        }
        let first = i;
        let mut last = i;
        let mut j = i + 1;
        while j < timeline.len() && (down(&timeline[j]) || timeline[j].finished() == 0) {
            if down(&timeline[j]) {
                last = j;
            }
            j += 1;
        }
        out.push(outage(timeline, first, last));
        i = last + 1;
    }
    out
}

/// The outage of rows `first..=last`, with its baseline and recovery.
fn outage(timeline: &[Second], first: usize, last: usize) -> Outage {
    let rows = &timeline[first..=last];
    let before = &timeline[first.saturating_sub(BASELINE_WINDOW)..first];
    let baseline =
        if before.is_empty() { 0.0 } else { before.iter().map(|s| s.ok as f64).sum::<f64>() / before.len() as f64 };
    let back = |s: &Second| if baseline > 0.0 { s.ok as f64 >= BACK * baseline } else { s.ok > 0 };
    let recovered = timeline[last + 1..].iter().position(back).map(|k| k as f64 + 1.0);
    Outage {
        // Row t covers second (t-1, t].
        from_s: timeline[first].t.saturating_sub(1) as f64,
        to_s: timeline[last].t as f64,
        connect_errors: rows.iter().map(|s| s.errors_of(ErrorKind::Connect)).sum(),
        resets: rows.iter().map(|s| s.errors_of(ErrorKind::Reset)).sum(),
        baseline_goodput: baseline,
        recovered_after_s: recovered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Second;

    fn second(t: u32, ok: u64) -> Second {
        Second { started: ok, ok, ..crate::analysis::fixture::empty_second(t) }
    }

    fn scenario_with_storm_at(secs: u64, duration: u64) -> Scenario {
        let text = format!(
            "name: t\ntarget: embedded\nduration: {duration}s\nevents: [ {{ at: {secs}s, storm: {{ personas: [pupil] }} }} ]\npersonas:\n  pupil:\n    population: 1\n    arrival: {{ shape: constant, rate: 1/s }}\n    journey: [ {{ post: /login, goal: true }} ]\n"
        );
        crate::scenario::load_str(&text, std::path::Path::new("t.yaml")).unwrap()
    }

    #[test]
    fn a_dip_that_comes_back_is_a_recovery() {
        let scenario = scenario_with_storm_at(20, 60);
        let timeline: Vec<Second> =
            (0..60).map(|t| second(t + 1, if (20..30).contains(&t) { 5 } else { 100 })).collect();
        let r = &recoveries(&scenario, &timeline)[0];
        assert_eq!(r.baseline_goodput, 100.0);
        assert_eq!(r.recovered_after_s, Some(10.0));
        assert!(!r.ended_degraded);
    }

    fn with_errors(mut s: Second, kind: ErrorKind, n: u64) -> Second {
        s.errors[kind.index()] = n;
        s
    }

    #[test]
    fn a_target_gone_for_three_seconds_is_an_outage_and_its_recovery() {
        // Up at 10/s, down in seconds 5..=7 (refused, then a silent second, then resets),
        // half-served in second 8, back in second 9.
        let timeline: Vec<Second> = (1..=12)
            .map(|t| match t {
                5 => with_errors(second(t, 0), ErrorKind::Connect, 10),
                6 => second(t, 0),
                7 => with_errors(second(t, 0), ErrorKind::Reset, 3),
                8 => second(t, 5),
                _ => second(t, 10),
            })
            .collect();
        let found = outages(&timeline);
        assert_eq!(found.len(), 1, "{found:?}");
        let o = &found[0];
        assert_eq!((o.from_s, o.to_s, o.connect_errors, o.resets), (4.0, 7.0, 10, 3));
        assert_eq!(o.baseline_goodput, 10.0);
        assert_eq!(o.recovered_after_s, Some(2.0));
        assert_eq!(o.text(), "outage from 4s to 7s, recovered in 2s");
    }

    #[test]
    fn slow_or_failing_answers_are_not_outages_and_a_dead_end_is_not_a_recovery() {
        let slow: Vec<Second> = (1..=10)
            .map(|t| if t > 3 { with_errors(second(t, 0), ErrorKind::Timeout, 5) } else { second(t, 10) })
            .collect();
        assert_eq!(outages(&slow), vec![]);
        let errors: Vec<Second> = (1..=10).map(|t| with_errors(second(t, 0), ErrorKind::Status5xx, 5)).collect();
        assert_eq!(outages(&errors), vec![]);
        let dead: Vec<Second> = (1..=10)
            .map(|t| if t > 6 { with_errors(second(t, 0), ErrorKind::Connect, 4) } else { second(t, 10) })
            .collect();
        let o = &outages(&dead)[0];
        assert_eq!((o.from_s, o.to_s, o.recovered_after_s), (6.0, 10.0, None));
        assert!(o.text().ends_with("not recovered by the end of the run"), "{}", o.text());
        // Partly served is not down: a second with one success is not part of an outage.
        let mut flaky = dead.clone();
        flaky[8].ok = 1;
        assert_eq!(outages(&flaky).len(), 2);
    }

    #[test]
    fn a_collapse_that_lasts_is_metastable() {
        let scenario = scenario_with_storm_at(20, 60);
        let timeline: Vec<Second> = (0..60).map(|t| second(t + 1, if t < 20 { 100 } else { 3 })).collect();
        let r = &recoveries(&scenario, &timeline)[0];
        assert_eq!(r.recovered_after_s, None);
        assert!(r.ended_degraded);
        assert!(r.final_goodput < 10.0);
    }
}
