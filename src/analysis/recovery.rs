//! Recovery after a trigger (a storm): how long until the target serves as well as it did
//! before, and whether it ever does within the run. A target that stays degraded after the
//! trigger has passed is in a metastable state (Bronson et al., HotOS 2021): the retries it
//! provoked keep it overloaded.

use serde::{Deserialize, Serialize};

use crate::metrics::Second;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Quantiles, Second};

    fn second(t: u32, ok: u64) -> Second {
        Second {
            t,
            arrivals: 0,
            started: ok,
            attempts: Default::default(),
            ok,
            errors: Default::default(),
            goals: 0,
            active_users: 0,
            in_flight: 0,
            latency: Quantiles::default(),
            lag: Quantiles::default(),
            steps: vec![],
        }
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
