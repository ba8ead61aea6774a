//! Thresholds, judged: each rule of the scenario measured on the finished run's summary.
//!
//! Everything is computed from the summary alone (so a saved `summary.json` can be judged
//! again): percentiles from the merged HDR histograms, never averaged across steps; rates
//! from exact counts. A rule whose metric has no data (a step that never ran, a persona whose
//! users never arrived) **fails**: a gate that passes because nothing was measured would let
//! a broken rehearsal through CI.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::summary::{decode_histogram, Latency, PersonaSummary, StepSummary, Summary};
use crate::scenario::thresholds::{parse, tightest_latency_ceiling, Metric, Names, Op, Scope, Stat, Threshold, Unit};

/// One threshold and how the run measured against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The rule as written, e.g. `pupil.login p95 < 2s`.
    pub name: String,
    /// In the unit's base: microseconds, a fraction, a count or a ratio. Absent without data.
    pub measured: Option<f64>,
    /// `2.41s`, `0.8%`, `1,204`, or why there is nothing (`no request finished`).
    pub measured_text: String,
    pub op: Op,
    pub limit: f64,
    /// The limit as written.
    pub limit_text: String,
    pub unit: Unit,
    pub pass: bool,
}

impl ThresholdResult {
    /// `measured 2.41s, limit < 2s`: what a failure message says.
    pub fn explain(&self) -> String {
        format!("measured {}, limit {} {}", self.measured_text, self.op.symbol(), self.limit_text)
    }
}

/// Judge every threshold on `summary`, in the scenario's order.
pub fn evaluate(thresholds: &[Threshold], summary: &Summary) -> Vec<ThresholdResult> {
    thresholds.iter().map(|t| judge(t, summary)).collect()
}

/// Whether every threshold passed (true when there are none).
pub fn all_pass(results: &[ThresholdResult]) -> bool {
    results.iter().all(|r| r.pass)
}

/// The tightest latency ceiling (`p95 < 2s`) whose scope covers `persona`'s step `step`, as
/// judged in `summary`: what a latency chart of the step marks. The summary keeps each rule as
/// written, so its scope is read again against the run's own personas and steps (a saved run
/// needs no scenario file); a rule that no longer reads is left out rather than guessed at.
pub fn step_ceiling<'a>(summary: &'a Summary, persona: &str, step: &str) -> Option<&'a ThresholdResult> {
    let mut names = Names::default();
    for p in &summary.personas {
        names.personas.push((p.name.clone(), Vec::new()));
    }
    for st in &summary.steps {
        match names.personas.iter_mut().find(|(p, _)| p == &st.persona) {
            Some((_, steps)) => steps.push(st.name.clone()),
            None => names.personas.push((st.persona.clone(), vec![st.name.clone()])),
        }
    }
    let rules: Vec<(Threshold, &ThresholdResult)> = summary
        .thresholds
        .iter()
        .filter_map(|r| parse(&r.name, &names).ok().map(|t| (t, r)))
        .filter(|(t, _)| t.scope.covers(persona, step))
        .collect();
    let tightest = tightest_latency_ceiling(rules.iter().map(|(t, _)| t))?;
    rules.iter().find(|(t, _)| std::ptr::eq(t, tightest)).map(|(_, r)| *r)
}

fn judge(t: &Threshold, summary: &Summary) -> ThresholdResult {
    let unit = t.metric.unit();
    let measured = measure(&t.metric, &t.scope, summary);
    let (measured, measured_text) = match measured {
        Ok(value) => (Some(value), show(value, unit)),
        Err(why) => (None, why.to_string()),
    };
    ThresholdResult {
        name: t.text.clone(),
        pass: measured.is_some_and(|m| t.op.holds(m, t.limit)),
        measured,
        measured_text,
        op: t.op,
        limit: t.limit,
        limit_text: t.limit_text.clone(),
        unit,
    }
}

/// The value of `metric` over `scope`, or why there is none.
fn measure(metric: &Metric, scope: &Scope, s: &Summary) -> Result<f64, &'static str> {
    let steps = || steps_in(scope, s);
    let personas = || personas_in(scope, s);
    match metric {
        Metric::Latency(stat) => {
            let latencies: Vec<&Latency> = steps().map(|st| &st.latency).collect();
            stat_of(&latencies, *stat).ok_or("no request finished")
        }
        Metric::ErrorRate => {
            let (errors, finished) = steps().fold((0u64, 0u64), |(e, f), st| {
                let step_errors: u64 = st.errors.values().sum();
                (e + step_errors, f + st.ok + step_errors)
            });
            if finished == 0 {
                Err("no request finished")
            } else {
                Ok(errors as f64 / finished as f64)
            }
        }
        Metric::Requests => Ok(steps().map(|st| st.sent).sum::<u64>() as f64),
        Metric::Errors => Ok(steps().map(|st| st.errors.values().sum::<u64>()).sum::<u64>() as f64),
        Metric::GoalWithin(window) => {
            let window_us = window.as_micros().min(u64::MAX as u128) as u64;
            let (mut within, mut arrived) = (0u64, 0u64);
            for p in personas() {
                arrived += p.arrived;
                if p.time_to_goal.count > 0 {
                    let h = histogram(&p.time_to_goal).ok_or("the time-to-goal histogram is unreadable")?;
                    within += h.count_between(0, window_us);
                }
            }
            if arrived == 0 {
                Err("no user arrived")
            } else {
                Ok(within as f64 / arrived as f64)
            }
        }
        Metric::TimeToGoal(stat) => {
            let times: Vec<&Latency> = personas().map(|p| &p.time_to_goal).collect();
            stat_of(&times, *stat).ok_or("no user reached the goal")
        }
        Metric::GeneratorLag(stat) => stat_of(&[&s.generator.lag], *stat).ok_or("nothing was scheduled"),
        // Every attempt the target received (retries, reloads, re-logins, polls included)
        // per user who reached the goal.
        Metric::Amplification => {
            let (attempts, goals) = personas()
                .fold((0u64, 0u64), |(a, g), p| (a + p.attempts.values().sum::<u64>(), g + p.time_to_goal.count));
            if goals == 0 {
                Err("no user reached the goal")
            } else {
                Ok(attempts as f64 / goals as f64)
            }
        }
    }
}

fn steps_in<'a>(scope: &'a Scope, s: &'a Summary) -> impl Iterator<Item = &'a StepSummary> + 'a {
    s.steps.iter().filter(move |st| scope.covers(&st.persona, &st.name))
}

fn personas_in<'a>(scope: &'a Scope, s: &'a Summary) -> impl Iterator<Item = &'a PersonaSummary> + 'a {
    s.personas.iter().filter(move |p| match scope {
        Scope::Run => true,
        Scope::Persona(name) | Scope::Step { persona: name, .. } => &p.name == name,
    })
}

/// A statistic of the union of several distributions: their histograms merged exactly.
fn stat_of(parts: &[&Latency], stat: Stat) -> Option<f64> {
    let parts: Vec<&&Latency> = parts.iter().filter(|l| l.count > 0).collect();
    if parts.is_empty() {
        return None;
    }
    if let [only] = parts.as_slice() {
        // One distribution: its own figures are exact where they exist.
        let stored = match stat {
            Stat::Min => Some(only.min_us),
            Stat::Max => Some(only.max_us),
            Stat::Mean => return Some(only.mean_us),
            Stat::Percentile(50.0) => Some(only.p50_us),
            Stat::Percentile(95.0) => Some(only.p95_us),
            Stat::Percentile(99.0) => Some(only.p99_us),
            _ => None,
        };
        if let Some(v) = stored {
            return Some(v as f64);
        }
    }
    let mut merged: Option<Histogram<u64>> = None;
    for part in parts {
        let h = histogram(part)?;
        match &mut merged {
            None => merged = Some(h),
            Some(m) => m.add(&h).ok()?,
        }
    }
    let h = merged?;
    Some(match stat {
        Stat::Min => h.min() as f64,
        Stat::Max => h.max() as f64,
        Stat::Mean => h.mean(),
        Stat::Percentile(p) => h.value_at_quantile(p / 100.0) as f64,
    })
}

fn histogram(l: &Latency) -> Option<Histogram<u64>> {
    decode_histogram(&l.histogram)
}

/// A measured value in its unit, for people (the formatters of `crate::format`).
pub fn show(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Duration => crate::format::micros(value.max(0.0).round() as u64),
        Unit::Percent => crate::format::percent_exact(value),
        Unit::Count => format!("{value:.0}"),
        Unit::Ratio => format!("{value:.2}"),
    }
}

#[cfg(test)]
mod tests;
