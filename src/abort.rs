//! `abort_on_fail`: stop a run as soon as its thresholds have failed, instead of spending the
//! rest of a long rehearsal on an answer that is already known (k6's `abortOnFail`).
//!
//! Every few seconds after a grace period, the thresholds are judged on what has been measured
//! so far, exactly as they will be at the end (same summary, same evaluator). The first failing
//! rule stops the run; the report says which rule and when. Judging runs on the collector's
//! task, once every `EVERY` seconds, so it costs the generator nothing per request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::analysis::{self, Due, Measured};
use crate::format::clock;
use crate::load::Plan;
use crate::runtime::SecondHook;
use crate::scenario::Scenario;

/// Seconds between two judgements.
const EVERY: u32 = 5;

/// Why the run was stopped early, once it has been.
pub type Reason = Arc<Mutex<Option<String>>>;

/// A hook for `runtime::Hooks::every_second` that cancels `stop` when a threshold fails after
/// `after`, and the slot where it writes why.
pub fn hook(
    scenario: Arc<Scenario>,
    plan: &Plan,
    base_url: String,
    stop: CancellationToken,
    after: Duration,
) -> (SecondHook, Reason) {
    let reason: Reason = Arc::default();
    let written = reason.clone();
    let due = Due::per_persona(plan);
    let arrivals_due = analysis::validity::due_by_second(plan);
    let started_at = SystemTime::now();
    let hook: SecondHook = Box::new(move |collector, t, last| {
        // The end of the run is judged by the run itself, not as an early stop.
        if last || Duration::from_secs(t as u64) < after || t % EVERY != 0 || stop.is_cancelled() {
            return;
        }
        // Borrowed from the collector: judging copies no histogram.
        let measured = Measured {
            layout: collector.layout(),
            totals: collector.totals(),
            timeline: collector.timeline(),
            started_at,
            elapsed: Duration::from_secs(t as u64),
            interrupted: false,
            client: None,
        };
        let summary = analysis::summarize(&scenario, measured, &due, &arrivals_due, &base_url, None);
        let results = analysis::thresholds::evaluate(&scenario.gates.thresholds, &summary);
        if let Some(failed) = results.iter().find(|r| !r.pass) {
            let why = format!(
                "threshold `{}` failed {} in ({})",
                failed.name,
                clock(Duration::from_secs(t as u64)),
                failed.explain()
            );
            *written.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
            stop.cancel();
        }
    });
    (hook, reason)
}
