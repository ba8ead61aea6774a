//! The runtime: keep every arrival's appointment, run each user as its own task, and end the
//! run cleanly (on time, or early on Ctrl-C) with every user accounted for.
//!
//! The schedule is a sorted list of intended instants. The pacing task waits for the next one
//! (to within microseconds, see `pacer.rs`) and spawns every user that is due; if it falls
//! behind, users start late, the lag is recorded, and their latency still counts from the
//! intended instant. A collector task closes each second of the timeline and publishes
//! progress. The runtime never formats output.

mod cookies;
mod decide;
pub mod interrupt;
mod pacer;
mod request;
pub mod retry;
mod user;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::http::Clients;
use crate::load::Plan;
use crate::metrics::{Collector, Layout, Recorder, RunMetrics};
use crate::scenario::{Event, Scenario};
use pacer::Pacer;

pub use cookies::CookieJar;
pub use user::sample_think;

/// What every user task shares, read-only.
pub struct RunContext {
    pub scenario: Arc<Scenario>,
    /// The target's base URL without a trailing slash; request paths are appended to it.
    pub base_url: String,
    pub clients: Clients,
    pub recorder: Arc<Recorder>,
    /// Cancelled when the run ends: users still on their way are cut off.
    pub cut_off: CancellationToken,
    /// Per persona, the storm channel (the event index + 1 is sent when one strikes), for
    /// the personas that some storm targets.
    pub storms: Vec<Option<watch::Sender<usize>>>,
    /// Per persona and request, the URL when the path is literal and there is no query:
    /// parsed once here instead of once per request (URL parsing was 7% of the generator's
    /// CPU in the benchmark).
    literal_urls: Vec<Vec<Option<http::Uri>>>,
    /// Per step of the layout, the HTTP versions its responses came in (bits of `VERSIONS`).
    versions: Vec<AtomicU8>,
}

/// The versions a step can report, by bit.
const VERSIONS: [(http::Version, &str); 3] =
    [(http::Version::HTTP_11, "HTTP/1.1"), (http::Version::HTTP_2, "HTTP/2"), (http::Version::HTTP_10, "HTTP/1.0")];

/// What the HTTP client says about a run, beyond the metrics.
#[derive(Debug, Clone, Default)]
pub struct ClientOutput {
    /// Per layout step, the HTTP versions its responses came in ("HTTP/1.1", "HTTP/2").
    pub versions: Vec<Vec<&'static str>>,
    /// Why requests failed, in words, most frequent first; and failures beyond those kept.
    pub failures: (Vec<crate::http::Note>, u64),
    /// Certificates went unchecked (`tls.insecure`).
    pub insecure: bool,
}

/// Called when a storm strikes, e.g. to drop the embedded target's server-side sessions.
pub type StormHook = Arc<dyn Fn() + Send + Sync>;

/// Called after each second of the timeline is closed, with what has been measured so far,
/// the second's number, and whether it is the run's last (partial) second: e.g. to judge
/// thresholds and stop a run that already failed, or to log each second's histograms.
pub type SecondHook = Box<dyn FnMut(&Collector, u32, bool) + Send>;

/// Optional callbacks into the run, so that the caller can react to it without the runtime
/// knowing about targets or thresholds.
#[derive(Default)]
pub struct Hooks {
    pub on_storm: Option<StormHook>,
    pub every_second: Option<SecondHook>,
}

impl RunContext {
    fn new(scenario: Arc<Scenario>, base_url: &str, clients: Clients, recorder: Arc<Recorder>) -> Self {
        let steps = recorder.layout().steps.len();
        RunContext {
            versions: (0..steps).map(|_| AtomicU8::new(0)).collect(),
            base_url: base_url.trim_end_matches('/').to_string(),
            clients,
            recorder,
            cut_off: CancellationToken::new(),
            storms: (0..scenario.personas.len())
                .map(|p| {
                    let targeted = scenario.events.iter().any(|Event::Storm { personas, .. }| personas.contains(&p));
                    targeted.then(|| watch::channel(0).0)
                })
                .collect(),
            literal_urls: scenario
                .personas
                .iter()
                .map(|p| {
                    p.journey
                        .requests
                        .iter()
                        .map(|r| {
                            let path = r.path.as_literal().filter(|_| r.query.is_empty())?;
                            request::to_uri(&format!("{}{path}", base_url.trim_end_matches('/'))).ok()
                        })
                        .collect()
                })
                .collect(),
            scenario,
        }
    }

    fn layout_step(&self, persona: usize, request: usize) -> usize {
        self.recorder.layout().step_id(persona, request)
    }

    fn literal_url(&self, persona: usize, request: usize) -> Option<&http::Uri> {
        self.literal_urls.get(persona)?.get(request)?.as_ref()
    }

    /// Note the version a response of layout step `step` came in (a relaxed bit set: no lock
    /// on the request path).
    fn saw_version(&self, step: usize, version: http::Version) {
        if let (Some(bits), Some(bit)) = (self.versions.get(step), VERSIONS.iter().position(|(v, _)| *v == version)) {
            if bits.load(Ordering::Relaxed) & (1 << bit) == 0 {
                bits.fetch_or(1 << bit, Ordering::Relaxed);
            }
        }
    }

    fn client_output(&self) -> ClientOutput {
        let versions = self
            .versions
            .iter()
            .map(|bits| {
                let bits = bits.load(Ordering::Relaxed);
                VERSIONS.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, (_, name))| *name).collect()
            })
            .collect();
        ClientOutput { versions, failures: self.clients.notes(), insecure: self.clients.insecure() }
    }
}

/// A snapshot for progress displays, published once a second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub elapsed: Duration,
    pub arrived: u64,
    pub scheduled: u64,
    pub active_users: u64,
    pub in_flight: u64,
    /// Requests ended in the last second.
    pub requests_per_second: u64,
    pub ok_total: u64,
    pub errors_total: u64,
    pub lag_p99: Duration,
}

/// The result of a run, before analysis.
#[derive(Debug)]
pub struct RunOutput {
    pub metrics: RunMetrics,
    /// Wall-clock time of the run's start.
    pub started_at: SystemTime,
    /// From the start to the last user's end.
    pub elapsed: Duration,
    /// Stopped early by the caller (Ctrl-C).
    pub interrupted: bool,
    /// Users scheduled, per persona (some may not have arrived if interrupted).
    pub scheduled: Vec<u64>,
    pub client: ClientOutput,
}

/// Lead time between setting up and the first appointment, so that set-up work does not
/// count as lag for users due at t = 0.
const START_LEAD: Duration = Duration::from_millis(20);

/// The pacing task wakes at most once per step; arrivals due in between are spawned together.
const PACING_STEP: Duration = Duration::from_micros(200);

/// What a run of `scenario` records: its personas and their request steps.
pub fn layout(scenario: &Scenario) -> Layout {
    Layout::new(
        scenario
            .personas
            .iter()
            .map(|p| (p.name.as_str(), p.journey.requests.iter().map(|r| r.name.clone()).collect::<Vec<_>>())),
    )
}

/// Run `plan` against `base_url`. `stop` ends the run early (the report is then marked
/// interrupted). Progress snapshots are sent on `progress` once a second.
pub async fn run(
    scenario: Arc<Scenario>,
    plan: Arc<Plan>,
    base_url: &str,
    clients: Clients,
    stop: CancellationToken,
    progress: watch::Sender<Progress>,
    hooks: Hooks,
) -> RunOutput {
    let layout = layout(&scenario);
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let recorder = Arc::new(Recorder::new(layout, workers + 2));
    let mut scheduled = vec![0u64; scenario.personas.len()];
    for arrival in &plan.arrivals {
        scheduled[arrival.persona as usize] += 1;
    }
    let ctx = Arc::new(RunContext::new(scenario.clone(), base_url, clients, recorder.clone()));

    let started_at = SystemTime::now();
    let start = Instant::now() + START_LEAD;
    let collector_done = CancellationToken::new();
    let collector = tokio::spawn(collect(
        Collector::new(recorder),
        start,
        plan.arrivals.len() as u64,
        progress,
        collector_done.clone(),
        hooks.every_second,
    ));

    let storms = tokio::spawn(strike(ctx.clone(), start, hooks.on_storm));
    let users = TaskTracker::new();
    let pacing = tokio::spawn(pace(ctx.clone(), plan, start, stop.clone(), users.clone()));
    let mut interrupted = !pacing.await.expect("the pacing task does not panic");

    // Arrivals are over. Users still on their way get until the end of the run plus the grace
    // period, unless the caller stops the run first.
    if !interrupted {
        let deadline = start + scenario.duration + scenario.grace;
        users.close();
        tokio::select! {
            biased;
            _ = stop.cancelled() => interrupted = true,
            _ = users.wait() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
    ctx.cut_off.cancel();
    storms.abort();
    users.close();
    users.wait().await;
    let elapsed = Instant::now().saturating_duration_since(start);

    collector_done.cancel();
    let (mut collector, mut every_second) = collector.await.expect("the collector task does not panic");
    let last = elapsed.as_secs_f64().ceil() as u32;
    collector.tick(last);
    if let Some(hook) = every_second.as_mut() {
        hook(&collector, last, true);
    }
    let metrics = collector.into_metrics();
    let client = ctx.client_output();
    RunOutput { metrics, started_at, elapsed, interrupted, scheduled, client }
}

/// Keep every arrival's appointment: spawn each user on `users` at its intended instant.
/// Runs as a task on the runtime (see `pacer.rs` for why not on a thread of its own).
/// Returns false when `stop` ended the arrivals early.
async fn pace(
    ctx: Arc<RunContext>,
    plan: Arc<Plan>,
    start: Instant,
    stop: CancellationToken,
    users: TaskTracker,
) -> bool {
    let mut pacer = Pacer::new();
    let mut woke = Instant::now();
    for (released, arrival) in plan.arrivals.iter().enumerate() {
        let intended = start + arrival.offset();
        let early = Instant::now() < intended;
        if early || released % TRAILING_EVERY == 0 {
            note_trailing(&ctx, &plan, start);
        }
        if early {
            // Arrivals closer together than `PACING_STEP` are spawned together at one wake-up
            // (each wake-up is a timer to arm and a readiness to poll and read, which at 20,000
            // arrivals a second measured a sixth of the core). Such an arrival is up to one step
            // late, and that is recorded as its lag like any other lateness.
            let wake = intended.max(woke + PACING_STEP);
            tokio::select! {
                biased;
                _ = stop.cancelled() => return false,
                _ = pacer.until(wake) => {}
            }
            woke = Instant::now();
        } else if stop.is_cancelled() {
            return false;
        }
        // Boxed: a user's future is a few KB, and tokio moves a spawned future by value several
        // times (into the task cell, and its stage on completion); a box moves as a pointer.
        users.spawn(Box::pin(user::run_user(ctx.clone(), *arrival, intended)));
        // Behind schedule this loop never waits: let the users it spawned run every so often.
        tokio::task::consume_budget().await;
    }
    // The last users released may still be waiting for a worker: watch them start.
    let everyone = plan.arrivals.len() as u64;
    while ctx.recorder.users_started() < everyone {
        note_trailing(&ctx, &plan, start);
        tokio::select! {
            biased;
            _ = stop.cancelled() => return false,
            _ = tokio::time::sleep(TRAILING_GRACE / 10) => {}
        }
    }
    true
}

/// How late a start may be before its user counts as trailing the plan: a burst the plan puts
/// at one instant (an exam at 14:00:00) takes a generator some milliseconds to start, which is
/// lag (recorded), not load withheld from the target.
const TRAILING_GRACE: Duration = Duration::from_millis(100);

/// How many releases between two looks at the trailing users, besides one before each wait
/// (behind schedule the pacer does not wait).
const TRAILING_EVERY: usize = 64;

/// Record how many users were due more than [`TRAILING_GRACE`] ago and have not started yet.
/// Users start in about the order they were due, so due-before minus started counts them (and
/// never more). The per-second timeline cannot see this when a generator falls behind within
/// a second, as one does in a short run far beyond what it can start.
fn note_trailing(ctx: &RunContext, plan: &Plan, start: Instant) {
    let Some(horizon) = Instant::now().checked_duration_since(start + TRAILING_GRACE) else { return };
    let horizon = horizon.as_nanos() as u64;
    let due = plan.arrivals.partition_point(|a| a.offset_ns < horizon) as u64;
    let behind = due.saturating_sub(ctx.recorder.users_started());
    if behind > 0 {
        ctx.recorder.trailing(behind);
    }
}

/// Close one timeline second per second of the run, publishing progress after each.
async fn collect(
    mut collector: Collector,
    start: Instant,
    scheduled: u64,
    progress: watch::Sender<Progress>,
    done: CancellationToken,
    mut every_second: Option<SecondHook>,
) -> (Collector, Option<SecondHook>) {
    let mut t = 0u32;
    let (mut arrived, mut ok_total, mut errors_total) = (0u64, 0u64, 0u64);
    loop {
        let next = start + Duration::from_secs(t as u64 + 1);
        tokio::select! {
            biased;
            _ = done.cancelled() => return (collector, every_second),
            _ = tokio::time::sleep_until(next) => {}
        }
        t += 1;
        let second = collector.tick(t);
        arrived += second.arrivals;
        ok_total += second.ok;
        errors_total += second.error_total();
        progress.send_replace(Progress {
            elapsed: Duration::from_secs(t as u64),
            arrived,
            scheduled,
            active_users: second.active_users,
            in_flight: second.in_flight,
            requests_per_second: second.finished(),
            ok_total,
            errors_total,
            lag_p99: Duration::from_micros(second.lag.p99_us),
        });
        if let Some(hook) = every_second.as_mut() {
            hook(&collector, t, false);
        }
    }
}

/// Strike each storm at its time: the hook first (server side), then every user of the
/// targeted personas hears of it and decides whether it is hit.
async fn strike(ctx: Arc<RunContext>, start: Instant, hook: Option<StormHook>) {
    for (index, Event::Storm { at, personas, .. }) in ctx.scenario.events.iter().enumerate() {
        tokio::time::sleep_until(start + *at).await;
        if let Some(hook) = &hook {
            hook();
        }
        for p in personas {
            if let Some(Some(sender)) = ctx.storms.get(*p) {
                sender.send_replace(index + 1);
            }
        }
    }
}
