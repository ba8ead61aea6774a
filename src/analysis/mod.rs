//! Analysis: from measurements to conclusions. For now the run summary (percentiles from
//! merged histograms, user outcomes with closing accounting, generator health); saturation and
//! thresholds build on it.

mod summary;
pub mod thresholds;

pub use summary::*;
