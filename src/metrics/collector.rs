//! Turns the recorder's shards into a timeline and run totals, once a second.

use std::sync::Arc;

use super::recorder::{Layout, Recorder};
use super::tally::Tally;
use super::timeline::{Gauges, Second};

/// Everything measured in a run, ready for analysis.
#[derive(Debug, Clone)]
pub struct RunMetrics {
    pub layout: Layout,
    pub totals: Tally,
    pub timeline: Vec<Second>,
}

pub struct Collector {
    recorder: Arc<Recorder>,
    totals: Tally,
    current: Tally,
    /// The second closed last, kept until the next tick (for per-second interval logs).
    last: Tally,
    spare: Tally,
    gauges: Gauges,
    timeline: Vec<Second>,
}

impl Collector {
    pub fn new(recorder: Arc<Recorder>) -> Self {
        let layout = recorder.layout();
        Collector {
            totals: layout.empty_tally(),
            current: layout.empty_tally(),
            last: layout.empty_tally(),
            spare: layout.empty_tally(),
            recorder,
            gauges: Gauges::default(),
            timeline: Vec::new(),
        }
    }

    /// Close second `t` (seconds since the start): drain the shards, append a timeline row,
    /// fold the second into the totals. Returns the new row.
    pub fn tick(&mut self, t: u32) -> &Second {
        self.recorder.drain_into(&mut self.current, &mut self.spare);
        let row = self.gauges.second(t, &self.current);
        self.totals.add(&self.current);
        std::mem::swap(&mut self.current, &mut self.last);
        self.current.reset();
        self.timeline.push(row);
        self.timeline.last().expect("just pushed")
    }

    /// What happened in the second closed by the last `tick`.
    pub fn last_second(&self) -> &Tally {
        &self.last
    }

    pub fn timeline(&self) -> &[Second] {
        &self.timeline
    }

    pub fn layout(&self) -> &Layout {
        self.recorder.layout()
    }

    pub fn totals(&self) -> &Tally {
        &self.totals
    }

    /// Everything measured, as it stands (after the caller's last `tick`).
    pub fn into_metrics(self) -> RunMetrics {
        RunMetrics { layout: self.recorder.layout().clone(), totals: self.totals, timeline: self.timeline }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Cause, ErrorKind, Outcome};
    use std::time::Duration;

    #[test]
    fn timeline_gauges_follow_cumulative_counts() {
        let layout = Layout::new([("pupil", vec!["login".to_string()])]);
        let recorder = Arc::new(Recorder::new(layout, 2));
        let mut collector = Collector::new(recorder.clone());
        recorder.arrival(0, Duration::ZERO);
        recorder.arrival(0, Duration::ZERO);
        recorder.attempt_started(0, Cause::First);
        recorder.attempt_started(0, Cause::First);
        recorder.attempt_finished(0, Duration::from_millis(4), Ok(10));
        recorder.step_finished(0, Duration::from_millis(5), true);
        let first = collector.tick(1).clone();
        assert_eq!((first.arrivals, first.started, first.ok), (2, 2, 1));
        assert_eq!((first.active_users, first.in_flight), (2, 1));
        assert_eq!(first.latency.count, 1);
        recorder.attempt_finished(0, Duration::from_secs(2), Err(ErrorKind::Status5xx));
        recorder.step_finished(0, Duration::from_secs(2), false);
        recorder.user_ended(0, Outcome::Failed);
        recorder.goal_reached(0, Duration::from_millis(5));
        recorder.user_ended(0, Outcome::Completed);
        let second = collector.tick(2).clone();
        assert_eq!(second.errors_of(ErrorKind::Status5xx), 1);
        assert_eq!((second.active_users, second.in_flight, second.goals), (0, 0, 1));
        assert!(second.latency.p99_us >= 1_990_000);
        collector.tick(3);
        let metrics = collector.into_metrics();
        assert_eq!(metrics.timeline.len(), 3);
        assert_eq!(metrics.totals.steps[0].finished(), 2);
        assert_eq!(metrics.totals.personas[0].ended(), 2);
    }
}
