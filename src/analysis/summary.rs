//! The run summary: one plain, serialisable value holding everything a report shows, built
//! from the measurements once the run is over. Reports render it; `summary.json` is it.
//!
//! Percentiles come from the merged HDR histograms (never averaged), and the histograms
//! themselves are kept (V2-compressed, base64) so a saved run can be re-rendered or merged.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::load::Plan;
use crate::metrics::{Cause, ErrorKind, Outcome, RunMetrics, Second};
use crate::runtime::RunOutput;
use crate::scenario::{ConnectionMode, Scenario, Target};

/// Bumped whenever a field changes meaning or disappears (additions keep the version).
pub const SCHEMA_VERSION: u32 = 1;

/// Generator lag p99 above this makes the run's measurements suspect: the generator, not the
/// target, may have been the bottleneck.
pub const LAG_P99_LIMIT: Duration = Duration::from_millis(5);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub tool: Tool,
    pub scenario: ScenarioInfo,
    pub target: TargetInfo,
    pub run: RunInfo,
    pub generator: GeneratorHealth,
    pub requests: RequestTotals,
    pub steps: Vec<StepSummary>,
    pub personas: Vec<PersonaSummary>,
    /// The scenario's thresholds, judged (`thresholds.rs`); empty when it has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<super::thresholds::ThresholdResult>,
    /// What the embedded target saw (absent for URL targets).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target_counts: Option<serde_json::Value>,
    pub timeline: Vec<Second>,
    /// Where the target saturated and the plain-language verdict (absent in summaries written
    /// before the analysis existed; `report::rerender` fills it in).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub saturation: Option<super::saturation::Saturation>,
    /// Recovery after each storm: time back to the pre-storm goodput, or a metastable flag.
    #[serde(default)]
    pub recovery: Vec<super::Recovery>,
    /// What the HTTP client says: certificates unchecked, why requests failed in words.
    #[serde(default)]
    pub http: HttpInfo,
}

/// The HTTP client's side of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpInfo {
    /// `tls.insecure` was on: certificates were not checked.
    #[serde(default)]
    pub tls_insecure: bool,
    /// The distinct reasons requests failed, most frequent first (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<crate::http::Note>,
    /// Failures whose reason was not among those kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_failures: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub description: Option<String>,
    pub file: String,
    pub seed: u64,
    pub scale: f64,
    pub duration_s: f64,
    pub grace_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// `embedded` or `url`.
    pub kind: String,
    pub url: String,
    pub connections: ConnectionMode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// RFC 3339, UTC.
    pub started_at: String,
    pub elapsed_s: f64,
    /// Stopped early (Ctrl-C): users not yet arrived count as `not_started`.
    pub interrupted: bool,
    /// Stopped early by `abort_on_fail`: which threshold failed, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorHealth {
    /// Actual minus intended start of arrivals and of requests after think time.
    pub lag: Latency,
    pub lag_p99_limit_us: u64,
    /// False when lag p99 exceeded the limit: latencies still count from intended starts, but
    /// the load actually offered was lower than planned.
    pub healthy: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestTotals {
    pub sent: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    /// Sent but never finished: the run ended while they were in flight.
    pub cut_off: u64,
}

/// Latency statistics in microseconds, from an HDR histogram.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub min_us: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p95_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    /// The histogram, HdrHistogram V2 + deflate, base64: exact for merging and re-rendering.
    pub histogram: String,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        Latency {
            count: h.len(),
            min_us: if h.is_empty() { 0 } else { h.min() },
            p50_us: q(0.50),
            p90_us: q(0.90),
            p95_us: q(0.95),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: if h.is_empty() { 0 } else { h.max() },
            mean_us: if h.is_empty() { 0.0 } else { h.mean() },
            histogram: encode_histogram(h),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepSummary {
    pub persona: String,
    pub name: String,
    pub method: String,
    /// The path template as written.
    pub path: String,
    pub goal: bool,
    pub sent: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub bytes: u64,
    /// Per step, from its intended start to the end of its last attempt: what users
    /// experienced, retries and waiting included.
    pub latency: Latency,
    /// Per attempt, from actual send: what the target took.
    pub service: Latency,
    /// Attempts (`sent`) by cause: first, app_retry, reload, relogin, poll.
    #[serde(default)]
    pub attempts: BTreeMap<String, u64>,
    /// Step executions that succeeded / failed (one step may take several attempts).
    #[serde(default)]
    pub steps_ok: u64,
    #[serde(default)]
    pub steps_failed: u64,
    /// The HTTP versions this step's responses came in (`HTTP/1.1`, `HTTP/2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_versions: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PersonaSummary {
    pub name: String,
    pub scheduled: u64,
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    /// Gave up waiting for their goal (goal patience) and did not come back in time.
    #[serde(default)]
    pub abandoned: u64,
    pub cut_off: u64,
    /// Scheduled but never arrived (only when the run was interrupted).
    pub not_started: u64,
    /// scheduled = completed + failed + abandoned + cut_off + not_started, exactly.
    pub accounting_closes: bool,
    /// Would have arrived inside a `blocked` window of the persona, so did not come (not
    /// part of `scheduled`).
    #[serde(default)]
    pub blocked: u64,
    /// Attempts sent by this persona's users, by cause.
    #[serde(default)]
    pub attempts: BTreeMap<String, u64>,
    /// Attempts ÷ goals reached: the cost of one success, retries included (`None` when no
    /// goal was reached).
    #[serde(default)]
    pub amplification: Option<f64>,
    /// Login replays after a lost session, and users who came back after abandoning.
    #[serde(default)]
    pub relogins: u64,
    #[serde(default)]
    pub returns: u64,
    /// Users put in a waiting room, their time there, and those who gave up in it.
    #[serde(default)]
    pub queued: u64,
    #[serde(default)]
    pub time_in_queue: Option<Latency>,
    #[serde(default)]
    pub abandoned_in_queue: u64,
    /// From intended arrival to reaching the goal, for users who reached it.
    pub time_to_goal: Latency,
    /// Share of arrived users who reached their goal within N of arriving.
    pub goal_within: BTreeMap<String, f64>,
}

/// Windows for `goal_within`.
pub const GOAL_WINDOWS: [(&str, Duration); 3] =
    [("1m", Duration::from_secs(60)), ("5m", Duration::from_secs(300)), ("15m", Duration::from_secs(900))];

/// Build the summary of a finished run.
pub fn summarize(
    scenario: &Scenario,
    plan: &Plan,
    output: &RunOutput,
    base_url: &str,
    target_counts: Option<serde_json::Value>,
) -> Summary {
    let RunMetrics { layout, totals, timeline } = &output.metrics;
    let mut steps = Vec::new();
    for (id, (p, name)) in layout.steps.iter().enumerate() {
        let persona = &scenario.personas[*p];
        let spec = persona.journey.requests.get(id - layout.step_base[*p]);
        let tally = &totals.steps[id];
        steps.push(StepSummary {
            persona: persona.name.clone(),
            name: name.clone(),
            method: spec.map(|s| s.method.to_string()).unwrap_or_default(),
            path: spec.map(|s| template_text(&s.path)).unwrap_or_default(),
            goal: spec.is_some_and(|s| s.goal),
            sent: tally.started,
            ok: tally.ok,
            errors: error_map(&tally.errors),
            bytes: tally.bytes,
            latency: Latency::of(&tally.latency),
            service: Latency::of(&tally.service),
            attempts: cause_map(&tally.attempts),
            steps_ok: tally.steps_ok,
            steps_failed: tally.steps_failed,
            http_versions: output.client.versions.get(id).into_iter().flatten().map(|v| v.to_string()).collect(),
        });
    }
    let mut all_errors = [0u64; ErrorKind::COUNT];
    for s in &totals.steps {
        for (a, e) in all_errors.iter_mut().zip(s.errors) {
            *a += e;
        }
    }
    let sent: u64 = totals.steps.iter().map(|s| s.started).sum();
    let finished: u64 = totals.steps.iter().map(|s| s.finished()).sum();
    let personas = scenario
        .personas
        .iter()
        .enumerate()
        .map(|(p, persona)| {
            let t = &totals.personas[p];
            let scheduled = output.scheduled[p];
            let [completed, failed, abandoned, cut_off] = Outcome::ALL.map(|o| t.outcomes[o.index()]);
            let mut attempts = [0u64; Cause::COUNT];
            for id in layout.steps.iter().enumerate().filter(|(_, (sp, _))| *sp == p).map(|(id, _)| id) {
                for (a, n) in attempts.iter_mut().zip(totals.steps[id].attempts) {
                    *a += n;
                }
            }
            let goals = t.time_to_goal.len();
            let attempts_total: u64 = attempts.iter().sum();
            let not_started = scheduled.saturating_sub(t.arrived);
            let goal_within = GOAL_WINDOWS
                .iter()
                .map(|(label, window)| {
                    let within = if t.time_to_goal.is_empty() {
                        0
                    } else {
                        t.time_to_goal.count_between(0, window.as_micros() as u64)
                    };
                    (label.to_string(), if t.arrived == 0 { 0.0 } else { within as f64 / t.arrived as f64 })
                })
                .collect();
            PersonaSummary {
                name: persona.name.clone(),
                scheduled,
                arrived: t.arrived,
                completed,
                failed,
                abandoned,
                cut_off,
                not_started,
                accounting_closes: completed + failed + abandoned + cut_off + not_started == scheduled
                    && completed + failed + abandoned + cut_off == t.arrived,
                blocked: plan.personas.get(p).map(|pp| pp.blocked).unwrap_or(0),
                attempts: cause_map(&attempts),
                amplification: (goals > 0).then(|| attempts_total as f64 / goals as f64),
                relogins: t.relogins,
                returns: t.returns,
                queued: t.queued,
                time_in_queue: (t.queued > 0).then(|| Latency::of(&t.time_in_queue)),
                abandoned_in_queue: t.abandoned_in_queue,
                time_to_goal: Latency::of(&t.time_to_goal),
                goal_within,
            }
        })
        .collect();
    let lag = Latency::of(&totals.lag);
    let lag_limit = scenario.gates.lag_limit.unwrap_or(LAG_P99_LIMIT);
    let healthy = (lag.p99_us as u128) <= lag_limit.as_micros();
    let mut summary = Summary {
        schema_version: SCHEMA_VERSION,
        tool: Tool { name: "schoolday".into(), version: env!("CARGO_PKG_VERSION").into() },
        scenario: ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            file: scenario.source.display().to_string(),
            seed: scenario.seed,
            scale: scenario.scale,
            duration_s: scenario.duration.as_secs_f64(),
            grace_s: scenario.grace.as_secs_f64(),
        },
        target: TargetInfo {
            kind: match scenario.target {
                Target::Embedded(_) => "embedded".into(),
                Target::Url(_) => "url".into(),
            },
            url: base_url.to_string(),
            connections: scenario.http.connections,
        },
        run: RunInfo {
            started_at: humantime::format_rfc3339_seconds(output.started_at).to_string(),
            elapsed_s: output.elapsed.as_secs_f64(),
            interrupted: output.interrupted,
            aborted: None,
        },
        generator: GeneratorHealth { lag, lag_p99_limit_us: lag_limit.as_micros() as u64, healthy },
        requests: RequestTotals {
            sent,
            ok: totals.steps.iter().map(|s| s.ok).sum(),
            errors: error_map(&all_errors),
            cut_off: sent.saturating_sub(finished),
        },
        steps,
        personas,
        thresholds: Vec::new(),
        target_counts,
        timeline: timeline.clone(),
        saturation: None,
        recovery: super::recoveries(scenario, timeline),
        http: HttpInfo {
            tls_insecure: output.client.insecure,
            failures: output.client.failures.0.clone(),
            other_failures: output.client.failures.1,
        },
    };
    summary.saturation = Some(super::saturation::analyze(&summary, &Default::default()));
    summary
}

fn cause_map(counts: &[u64; Cause::COUNT]) -> BTreeMap<String, u64> {
    Cause::ALL.iter().filter(|c| counts[c.index()] > 0).map(|c| (c.name().to_string(), counts[c.index()])).collect()
}

fn error_map(counts: &[u64; ErrorKind::COUNT]) -> BTreeMap<String, u64> {
    ErrorKind::ALL.iter().filter(|k| counts[k.index()] > 0).map(|k| (k.name().to_string(), counts[k.index()])).collect()
}

/// The template as the user wrote it, for display.
fn template_text(t: &crate::scenario::template::Template) -> String {
    use crate::scenario::template::Part;
    t.parts()
        .iter()
        .map(|p| match p {
            Part::Lit(s) => s.to_string(),
            Part::UserId => "{{ user.id }}".into(),
            Part::UserIndex => "{{ user.index }}".into(),
            Part::UserColumn(_) => "{{ user.… }}".into(),
            Part::Var(_) => "{{ … }}".into(),
            Part::Iteration => "{{ iteration }}".into(),
        })
        .collect()
}

fn encode_histogram(h: &Histogram<u64>) -> String {
    use base64::Engine as _;
    let mut bytes = Vec::new();
    if V2DeflateSerializer::new().serialize(h, &mut bytes).is_err() {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decode a histogram saved by `Latency::of`.
pub fn decode_histogram(text: &str) -> Option<Histogram<u64>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    hdrhistogram::serialization::Deserializer::new().deserialize(&mut bytes.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_round_trips_through_base64() {
        let mut h = crate::metrics::new_histogram();
        for v in [1u64, 10, 100, 1000, 123_456, 30_000_000] {
            h.record(v).unwrap();
        }
        let latency = Latency::of(&h);
        let back = decode_histogram(&latency.histogram).expect("decodes");
        assert_eq!(back.len(), 6);
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
        assert_eq!(latency.max_us, h.max());
        assert_eq!(latency.p50_us, h.value_at_quantile(0.5));
    }

    #[test]
    fn empty_histograms_give_zeros_not_panics() {
        let latency = Latency::of(&crate::metrics::new_histogram());
        assert_eq!((latency.count, latency.p99_us, latency.max_us), (0, 0, 0));
    }
}
