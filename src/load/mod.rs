//! The load plan: every persona's arrival curve turned into a seeded schedule of intended
//! start times, built before the run so that the runtime only has to keep appointments.

use std::time::Duration;

use crate::scenario::Scenario;

/// The whole run's arrivals, sorted by time.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub arrivals: Vec<ScheduledArrival>,
    pub personas: Vec<PersonaPlan>,
}

/// One user's appointment: 16 bytes, so a million arrivals cost 16 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScheduledArrival {
    /// Intended arrival, in nanoseconds from the start of the run.
    pub offset_ns: u64,
    /// Index into `Scenario::personas`.
    pub persona: u16,
    /// 0-based index of the user within its persona.
    pub user: u32,
}

impl ScheduledArrival {
    pub fn offset(&self) -> Duration {
        Duration::from_nanos(self.offset_ns)
    }
}

/// What the plan holds for one persona, for `validate` and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonaPlan {
    pub name: String,
    pub users: u64,
    /// Highest arrival rate of the curve (users/s) and when it occurs.
    pub peak_rate: f64,
    pub peak_at: Duration,
    pub first_arrival: Option<Duration>,
    pub last_arrival: Option<Duration>,
}

/// Build the arrival schedule for every persona from the scenario's seed.
pub fn plan(_scenario: &Scenario) -> Plan {
    Plan { arrivals: Vec::new(), personas: Vec::new() }
}
