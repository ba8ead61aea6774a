//! The run summary: one plain, serialisable value holding everything a report shows, built
//! from the measurements once the run is over. Reports render it; `summary.json` is it.
//!
//! Percentiles come from the merged HDR histograms (never averaged), and the histograms
//! themselves are kept (V2-compressed, base64) so a saved run can be re-rendered or merged.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::load::Plan;
use crate::metrics::{Cause, ErrorKind, Layout, Outcome, RunMetrics, Second, Tally};
use crate::runtime::{ClientOutput, RunOutput};
use crate::scenario::{ConnectionMode, Scenario, Target};

/// Bumped whenever a field changes meaning or disappears (additions keep the version).
pub const SCHEMA_VERSION: u32 = 1;

/// The least lag p99 a run is allowed without an explicit limit: the scheduling noise of a
/// shared or virtual machine (`validity.rs` says how it was measured, and raises the limit
/// where the run's latencies are longer).
pub const LAG_P99_LIMIT: Duration = Duration::from_millis(10);

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
    /// Stretches in which the target was gone (nothing succeeded, connections refused or
    /// reset), and how soon it served as before once back.
    #[serde(default)]
    pub outages: Vec<super::Outage>,
    /// A distributed run: this shard (one entry) or, merged, every shard in index order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<super::shards::ShardRun>,
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

impl HttpInfo {
    fn of(client: &ClientOutput) -> Self {
        HttpInfo {
            tls_insecure: client.insecure,
            failures: client.failures.0.clone(),
            other_failures: client.failures.1,
        }
    }
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
    /// False when the generator's lateness changed what the run measures (`validity.rs`):
    /// latencies still count from intended starts, but do not describe the target.
    pub healthy: bool,
    /// How `lag_p99_limit_us` was chosen (a threshold, the measured latency, the floor, or
    /// an explicit hard limit).
    #[serde(default)]
    pub basis: String,
    /// The most users that were due but had not arrived yet, at the end of any second.
    #[serde(default)]
    pub arrivals_behind: u64,
    /// Why the run is invalid, in a sentence; absent when it is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
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
    /// For a closed loop (quick mode's `--users`), what the loop held: in a closed loop every
    /// user "completes" with its first answer, so the outcome counts say little.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_loop: Option<ClosedLoop>,
}

/// A closed loop's figures: the concurrency it held, how much each user sent, and how many
/// users an error stopped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClosedLoop {
    /// Users that arrived (the loop's intended concurrency).
    pub users: u64,
    /// Users active at the end of each second once all had arrived, until the run's end: the
    /// fewest and the mean (absent when the run was too short to show a whole second).
    pub concurrency_min: Option<u64>,
    pub concurrency_mean: Option<f64>,
    /// Requests sent per arrived user.
    pub requests_per_user: f64,
    /// Users whose loop ended at a failed request (a closed-loop user stops at its first).
    pub stopped_by_error: u64,
}

/// Windows for `goal_within`.
pub const GOAL_WINDOWS: [(&str, Duration); 3] =
    [("1m", Duration::from_secs(60)), ("5m", Duration::from_secs(300)), ("15m", Duration::from_secs(900))];

/// What a run measured, borrowed: the end of the run and a judgement during it (`abort.rs`)
/// read the same view, so nothing is copied to summarise.
#[derive(Debug, Clone, Copy)]
pub struct Measured<'a> {
    pub layout: &'a Layout,
    pub totals: &'a Tally,
    pub timeline: &'a [Second],
    /// Wall-clock time of the run's start.
    pub started_at: SystemTime,
    /// From the start to now (during the run) or to the last user's end.
    pub elapsed: Duration,
    /// Stopped early by a person (Ctrl-C).
    pub interrupted: bool,
    /// What the HTTP client saw (versions, failure reasons); `None` during the run.
    pub client: Option<&'a ClientOutput>,
}

impl<'a> Measured<'a> {
    /// The view of a finished run.
    pub fn of(output: &'a RunOutput) -> Self {
        let RunMetrics { layout, totals, timeline } = &output.metrics;
        Measured {
            layout,
            totals,
            timeline,
            started_at: output.started_at,
            elapsed: output.elapsed,
            interrupted: output.interrupted,
            client: Some(&output.client),
        }
    }
}

/// Who was due, for one persona: the users scheduled, and those a `blocked` window kept away
/// (not part of `scheduled`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Due {
    pub scheduled: u64,
    pub blocked: u64,
}

impl Due {
    /// One per persona, in scenario order.
    pub fn per_persona(plan: &Plan) -> Vec<Due> {
        plan.personas.iter().map(|p| Due { scheduled: p.users, blocked: p.blocked }).collect()
    }
}

/// Build the summary of a run from what it measured and who was due (`due[p]` for persona `p`;
/// `arrivals_due`, from [`super::validity::due_by_second`], for the generator's health).
pub fn summarize(
    scenario: &Scenario,
    measured: Measured<'_>,
    due: &[Due],
    arrivals_due: &[u64],
    base_url: &str,
    target_counts: Option<serde_json::Value>,
) -> Summary {
    let totals = measured.totals;
    let mut summary = Summary {
        schema_version: SCHEMA_VERSION,
        tool: Tool { name: "schoolday".into(), version: env!("CARGO_PKG_VERSION").into() },
        scenario: ScenarioInfo::of(scenario),
        target: TargetInfo {
            kind: match scenario.target {
                Target::Embedded(_) => "embedded".into(),
                Target::Url(_) => "url".into(),
            },
            url: base_url.to_string(),
            connections: scenario.http.connections,
        },
        run: RunInfo {
            started_at: humantime::format_rfc3339_seconds(measured.started_at).to_string(),
            elapsed_s: measured.elapsed.as_secs_f64(),
            interrupted: measured.interrupted,
            aborted: None,
        },
        generator: super::validity::judge(scenario, totals, measured.timeline, arrivals_due),
        requests: RequestTotals::of(totals),
        steps: step_summaries(scenario, measured),
        personas: (0..scenario.personas.len())
            .map(|p| persona_summary(scenario, measured, due.get(p).copied().unwrap_or_default(), p))
            .collect(),
        thresholds: Vec::new(),
        target_counts,
        timeline: measured.timeline.to_vec(),
        saturation: None,
        recovery: super::recoveries(scenario, measured.timeline),
        outages: super::outages(measured.timeline),
        shards: Vec::new(),
        http: measured.client.map(HttpInfo::of).unwrap_or_default(),
    };
    summary.saturation = Some(super::saturation::analyze(&summary, &Default::default()));
    summary
}

impl ScenarioInfo {
    fn of(scenario: &Scenario) -> Self {
        ScenarioInfo {
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            file: scenario.source.display().to_string(),
            seed: scenario.seed,
            scale: scenario.scale,
            duration_s: scenario.duration.as_secs_f64(),
            grace_s: scenario.grace.as_secs_f64(),
        }
    }
}

impl RequestTotals {
    fn of(totals: &Tally) -> Self {
        let mut errors = [0u64; ErrorKind::COUNT];
        for s in &totals.steps {
            for (a, e) in errors.iter_mut().zip(s.errors) {
                *a += e;
            }
        }
        let sent: u64 = totals.steps.iter().map(|s| s.started).sum();
        let finished: u64 = totals.steps.iter().map(|s| s.finished()).sum();
        RequestTotals {
            sent,
            ok: totals.steps.iter().map(|s| s.ok).sum(),
            errors: error_map(&errors),
            cut_off: sent.saturating_sub(finished),
        }
    }
}

fn step_summaries(scenario: &Scenario, measured: Measured<'_>) -> Vec<StepSummary> {
    let layout = measured.layout;
    layout
        .steps
        .iter()
        .enumerate()
        .map(|(id, (p, name))| {
            let persona = &scenario.personas[*p];
            let spec = persona.journey.requests.get(id - layout.step_base[*p]);
            let tally = &measured.totals.steps[id];
            StepSummary {
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
                http_versions: measured
                    .client
                    .and_then(|c| c.versions.get(id))
                    .into_iter()
                    .flatten()
                    .map(|v| v.to_string())
                    .collect(),
            }
        })
        .collect()
}

/// The global step ids of persona `p`.
fn steps_of(layout: &Layout, p: usize) -> impl Iterator<Item = usize> + '_ {
    layout.steps.iter().enumerate().filter(move |(_, (sp, _))| *sp == p).map(|(id, _)| id)
}

fn persona_summary(scenario: &Scenario, measured: Measured<'_>, due: Due, p: usize) -> PersonaSummary {
    let t = &measured.totals.personas[p];
    let [completed, failed, abandoned, cut_off] = Outcome::ALL.map(|o| t.outcomes[o.index()]);
    let mut attempts = [0u64; Cause::COUNT];
    for id in steps_of(measured.layout, p) {
        for (a, n) in attempts.iter_mut().zip(measured.totals.steps[id].attempts) {
            *a += n;
        }
    }
    let goals = t.time_to_goal.len();
    let attempts_total: u64 = attempts.iter().sum();
    let ended = completed + failed + abandoned + cut_off;
    let not_started = due.scheduled.saturating_sub(t.arrived);
    PersonaSummary {
        name: scenario.personas[p].name.clone(),
        scheduled: due.scheduled,
        arrived: t.arrived,
        completed,
        failed,
        abandoned,
        cut_off,
        not_started,
        accounting_closes: ended + not_started == due.scheduled && ended == t.arrived,
        blocked: due.blocked,
        attempts: cause_map(&attempts),
        amplification: (goals > 0).then(|| attempts_total as f64 / goals as f64),
        relogins: t.relogins,
        returns: t.returns,
        queued: t.queued,
        time_in_queue: (t.queued > 0).then(|| Latency::of(&t.time_in_queue)),
        abandoned_in_queue: t.abandoned_in_queue,
        time_to_goal: Latency::of(&t.time_to_goal),
        goal_within: goal_within(&t.time_to_goal, t.arrived),
        closed_loop: scenario.personas[p].closed_loop.then(|| ClosedLoop::of(scenario, measured, p, attempts_total)),
    }
}

/// Share of `arrived` users whose time to goal is within each of [`GOAL_WINDOWS`].
pub(super) fn goal_within(time_to_goal: &Histogram<u64>, arrived: u64) -> BTreeMap<String, f64> {
    GOAL_WINDOWS
        .iter()
        .map(|(label, window)| {
            let within =
                if time_to_goal.is_empty() { 0 } else { time_to_goal.count_between(0, window.as_micros() as u64) };
            (label.to_string(), if arrived == 0 { 0.0 } else { within as f64 / arrived as f64 })
        })
        .collect()
}

impl ClosedLoop {
    fn of(scenario: &Scenario, measured: Measured<'_>, p: usize, attempts: u64) -> Self {
        let arrived = measured.totals.personas[p].arrived;
        // A closed-loop user stops at its first failed request, so each failed step is one
        // user stopped (a cut-off request is not counted as a failed step).
        let stopped_by_error: u64 = steps_of(measured.layout, p).map(|id| measured.totals.steps[id].steps_failed).sum();
        // The active-users gauge is read at the end of each second: from the second in which
        // the last user arrived to the last one that ends before the run's cut-off.
        let mut arrivals = 0;
        let held: Vec<u64> = measured
            .timeline
            .iter()
            .skip_while(|s| {
                arrivals += s.arrivals;
                arrivals < arrived
            })
            .take_while(|s| Duration::from_secs(s.t as u64) < scenario.duration)
            .map(|s| s.active_users)
            .collect();
        ClosedLoop {
            users: arrived,
            concurrency_min: held.iter().min().copied(),
            concurrency_mean: (!held.is_empty()).then(|| held.iter().sum::<u64>() as f64 / held.len() as f64),
            requests_per_user: if arrived == 0 { 0.0 } else { attempts as f64 / arrived as f64 },
            stopped_by_error,
        }
    }
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
