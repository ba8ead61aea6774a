//! schoolday: rehearse the school day before it happens.
//!
//! Data flows one way: [`scenario`] (YAML → validated model) → [`load`] (seeded arrival
//! schedule) → [`runtime`] (one task per virtual user) → [`metrics`] (HDR histograms, timeline,
//! outcomes) → [`analysis`] (summary) → [`report`] (terminal, JSON). The [`target`] module is the
//! embedded demo school workspace that scenarios can run against out of the box.

pub mod abort;
pub mod analysis;
pub mod app;
pub mod capacity;
pub mod cli;
pub mod exit_code;
pub mod http;
pub mod load;
pub mod metrics;
pub mod quick;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod scenario;
pub mod target;
