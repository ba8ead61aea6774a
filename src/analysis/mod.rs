//! Analysis: from measurements to conclusions. For now the run summary (percentiles from
//! merged histograms, user outcomes with closing accounting, generator health); saturation and
//! thresholds build on it.

#[cfg(test)]
pub(crate) mod fixture;
pub mod kneedle;
mod recovery;
pub mod saturation;
pub mod shards;
mod summary;
pub mod thresholds;
pub mod usl;
pub mod validity;
pub mod verdict;
pub mod windows;

pub use recovery::{outages, recoveries, Outage, Recovery};
pub use saturation::{analyze, Saturation};
pub use summary::*;
