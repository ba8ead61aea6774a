//! Measurement: HDR histograms per persona × step, the per-second timeline, user outcomes
//! and the generator's own lag.
//!
//! Latency is measured from each request's *intended* start, so a generator that falls behind
//! shows up as latency (and as lag), never as a fast request: no coordinated omission. Nothing
//! here keeps individual samples; memory is bounded by the number of steps, not requests.

mod collector;
mod kinds;
mod recorder;
mod tally;
mod timeline;

pub use collector::{Collector, RunMetrics};
pub use kinds::{Cause, CauseCounts, ErrorCounts, ErrorKind, Outcome};
pub use recorder::{Layout, Recorder};
pub use tally::{micros, new_histogram, record, PersonaTally, StepTally, Tally};
pub use timeline::{Quantiles, Second, StepSecond};
