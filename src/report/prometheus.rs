//! The run's live figures in the Prometheus text exposition format (version 0.0.4), for
//! `--metrics-listen`: a rehearsal watched next to the target's own dashboards.
//!
//! Rendered once a second from what the collector has just aggregated (its run totals and
//! the second it closed), never from the per-request path: the recording stays one local
//! call, and a scrape only copies the last rendered page.
//!
//! Counters are the run's totals so far, with the same names and units as `summary.json`
//! (attempts by cause, errors by class, users by outcome), so the final scrape of a run equals
//! its summary. Latency per persona × step is a Prometheus histogram (cumulative `le`
//! buckets, log-spaced from 1 ms to 60 s), read from the HDR histograms: the bucket bounds are
//! exact to the HDR precision (0.1%), and `histogram_quantile` over `rate(…_bucket)` gives a
//! windowed percentile that merges across shards.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::metrics::{Cause, Collector, ErrorKind, Outcome};

/// Upper bounds of the latency buckets, in seconds (1, 2, 5 per decade, 1 ms to 60 s).
pub const BUCKETS_S: [f64; 16] =
    [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0];

/// What every series is labelled with.
#[derive(Debug, Clone, Default)]
pub struct RunLabels {
    /// The run directory's name: unique per run.
    pub run: String,
    pub scenario: String,
    /// Set by sharded runs; absent otherwise.
    pub shard: Option<String>,
}

/// Where the run stands, besides what the collector holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunState {
    pub elapsed_s: u32,
    /// The run has ended: these are its final figures.
    pub finished: bool,
}

/// Every metric the endpoint serves, for the dashboard test and the docs.
pub const METRICS: [&str; 14] = [
    "schoolday_run_elapsed_seconds",
    "schoolday_run_finished",
    "schoolday_users_scheduled",
    "schoolday_arrivals_total",
    "schoolday_active_users",
    "schoolday_in_flight_requests",
    "schoolday_attempts_total",
    "schoolday_attempts_ok_total",
    "schoolday_attempt_errors_total",
    "schoolday_steps_total",
    "schoolday_goals_total",
    "schoolday_users_ended_total",
    "schoolday_generator_lag_seconds",
    "schoolday_step_latency_seconds",
];

/// The page a scrape returns.
pub fn render(collector: &Collector, scheduled: &[u64], labels: &RunLabels, state: RunState) -> String {
    let base = base_labels(labels);
    let layout = collector.layout();
    let totals = collector.totals();
    let second = collector.timeline().last();
    let mut out = String::with_capacity(4096 + 2048 * layout.steps.len());

    family(&mut out, "schoolday_run_elapsed_seconds", "gauge", "Seconds since the run started.");
    sample(&mut out, "schoolday_run_elapsed_seconds", &base, "", state.elapsed_s);
    family(&mut out, "schoolday_run_finished", "gauge", "1 once the run has ended and these are its final figures.");
    sample(&mut out, "schoolday_run_finished", &base, "", u8::from(state.finished));

    family(&mut out, "schoolday_users_scheduled", "gauge", "Users the plan schedules, per persona.");
    for (p, name) in layout.personas.iter().enumerate() {
        let l = format!("persona=\"{}\"", escape(name));
        sample(&mut out, "schoolday_users_scheduled", &base, &l, scheduled.get(p).copied().unwrap_or(0));
    }
    family(&mut out, "schoolday_arrivals_total", "counter", "Users who have arrived, per persona.");
    for (p, name) in layout.personas.iter().enumerate() {
        let l = format!("persona=\"{}\"", escape(name));
        sample(&mut out, "schoolday_arrivals_total", &base, &l, totals.personas[p].arrived);
    }
    family(&mut out, "schoolday_active_users", "gauge", "Users on their way, at the end of the last second.");
    sample(&mut out, "schoolday_active_users", &base, "", second.map_or(0, |s| s.active_users));
    family(&mut out, "schoolday_in_flight_requests", "gauge", "Requests sent and not yet answered.");
    sample(&mut out, "schoolday_in_flight_requests", &base, "", second.map_or(0, |s| s.in_flight));

    steps(&mut out, collector, &base);
    personas(&mut out, collector, &base);

    family(
        &mut out,
        "schoolday_generator_lag_seconds",
        "histogram",
        "How late the generator started arrivals and requests.",
    );
    histogram(&mut out, "schoolday_generator_lag_seconds", &base, "", &totals.lag);
    out
}

/// Per persona × step: attempts, outcomes, latency.
fn steps(out: &mut String, collector: &Collector, base: &str) {
    let layout = collector.layout();
    let totals = collector.totals();
    let step_labels: Vec<String> = layout
        .steps
        .iter()
        .map(|(p, step)| format!("persona=\"{}\",step=\"{}\"", escape(&layout.personas[*p]), escape(step)))
        .collect();
    family(out, "schoolday_attempts_total", "counter", "HTTP requests sent, by why they were sent.");
    for (s, l) in step_labels.iter().enumerate() {
        for cause in Cause::ALL {
            let l = format!("{l},cause=\"{}\"", cause.name());
            sample(out, "schoolday_attempts_total", base, &l, totals.steps[s].attempts[cause.index()]);
        }
    }
    family(out, "schoolday_attempts_ok_total", "counter", "HTTP requests that succeeded.");
    for (s, l) in step_labels.iter().enumerate() {
        sample(out, "schoolday_attempts_ok_total", base, l, totals.steps[s].ok);
    }
    family(out, "schoolday_attempt_errors_total", "counter", "HTTP requests that failed, by class.");
    for (s, l) in step_labels.iter().enumerate() {
        for kind in ErrorKind::ALL {
            let l = format!("{l},class=\"{}\"", kind.name());
            sample(out, "schoolday_attempt_errors_total", base, &l, totals.steps[s].errors[kind.index()]);
        }
    }
    family(out, "schoolday_steps_total", "counter", "Steps users finished (retries included), by result.");
    for (s, l) in step_labels.iter().enumerate() {
        sample(out, "schoolday_steps_total", base, &format!("{l},result=\"ok\""), totals.steps[s].steps_ok);
        sample(out, "schoolday_steps_total", base, &format!("{l},result=\"failed\""), totals.steps[s].steps_failed);
    }
    family(
        out,
        "schoolday_step_latency_seconds",
        "histogram",
        "What users waited per step, from its intended start (no coordinated omission).",
    );
    for (s, l) in step_labels.iter().enumerate() {
        histogram(out, "schoolday_step_latency_seconds", base, l, &totals.steps[s].latency);
    }
}

/// Per persona: goals and outcomes.
fn personas(out: &mut String, collector: &Collector, base: &str) {
    let layout = collector.layout();
    let totals = collector.totals();
    family(out, "schoolday_goals_total", "counter", "Users who reached their persona's goal.");
    for (p, name) in layout.personas.iter().enumerate() {
        let l = format!("persona=\"{}\"", escape(name));
        sample(out, "schoolday_goals_total", base, &l, totals.personas[p].time_to_goal.len());
    }
    family(out, "schoolday_users_ended_total", "counter", "Users whose visit ended, by outcome.");
    for (p, name) in layout.personas.iter().enumerate() {
        for outcome in Outcome::ALL {
            let l = format!("persona=\"{}\",outcome=\"{}\"", escape(name), outcome_name(outcome));
            sample(out, "schoolday_users_ended_total", base, &l, totals.personas[p].outcomes[outcome.index()]);
        }
    }
}

/// The names `summary.json` uses for outcomes.
fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Completed => "completed",
        Outcome::Failed => "failed",
        Outcome::Abandoned => "abandoned",
        Outcome::CutOff => "cut_off",
    }
}

fn base_labels(labels: &RunLabels) -> String {
    let mut base = format!("run=\"{}\",scenario=\"{}\"", escape(&labels.run), escape(&labels.scenario));
    if let Some(shard) = &labels.shard {
        let _ = write!(base, ",shard=\"{}\"", escape(shard));
    }
    base
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, base: &str, labels: &str, value: impl std::fmt::Display) {
    let sep = if labels.is_empty() { "" } else { "," };
    let _ = writeln!(out, "{name}{{{base}{sep}{labels}}} {value}");
}

/// A histogram of microseconds as cumulative buckets in seconds, `_sum` and `_count`.
fn histogram(out: &mut String, name: &str, base: &str, labels: &str, h: &Histogram<u64>) {
    let sep = if labels.is_empty() { "" } else { "," };
    for le in BUCKETS_S {
        let upper = (le * 1e6) as u64;
        let count = if h.is_empty() { 0 } else { h.count_between(0, upper) };
        let _ = writeln!(out, "{name}_bucket{{{base}{sep}{labels},le=\"{le}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_bucket{{{base}{sep}{labels},le=\"+Inf\"}} {}", h.len());
    // The HDR histogram keeps no exact sum; its mean × count is exact to its precision.
    let sum = if h.is_empty() { 0.0 } else { h.mean() * h.len() as f64 / 1e6 };
    let _ = writeln!(out, "{name}_sum{{{base}{sep}{labels}}} {sum}");
    let _ = writeln!(out, "{name}_count{{{base}{sep}{labels}}} {}", h.len());
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Layout, Recorder};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn buckets_are_cumulative_and_counters_match_the_tally() {
        let layout = Layout::new([("pupil", vec!["GET /a \"b\"".to_string()])]);
        let recorder = Arc::new(Recorder::new(layout, 1));
        let mut collector = Collector::new(recorder.clone());
        recorder.arrival(0, Duration::ZERO);
        for ms in [3, 30, 300, 3000] {
            recorder.attempt_started(0, Cause::First);
            recorder.attempt_finished(0, Duration::from_millis(ms), Ok(1));
            recorder.step_finished(0, Duration::from_millis(ms), true);
        }
        collector.tick(1);
        let labels = RunLabels { run: "r1".into(), scenario: "s".into(), shard: None };
        let page = render(&collector, &[1], &labels, RunState { elapsed_s: 1, finished: true });
        let l = r#"run="r1",scenario="s",persona="pupil",step="GET /a \"b\"""#;
        for (le, n) in [("0.002", 0), ("0.005", 1), ("0.05", 2), ("0.5", 3), ("5", 4), ("+Inf", 4)] {
            let line = format!("schoolday_step_latency_seconds_bucket{{{l},le=\"{le}\"}} {n}");
            assert!(page.contains(&line), "missing {line}\n{page}");
        }
        assert!(page.contains(&format!("schoolday_attempts_total{{{l},cause=\"first\"}} 4")));
        assert!(page.contains("schoolday_run_finished{run=\"r1\",scenario=\"s\"} 1"));
        assert!(!page.contains("shard="));
        for metric in METRICS {
            assert!(page.contains(&format!("# TYPE {metric} ")), "{metric} is not served");
        }
    }
}
