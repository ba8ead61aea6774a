//! schoolday: rehearse the school day before it happens.
//!
//! Data flows one way: [`scenario`] (YAML → validated model) → [`load`] (seeded arrival
//! schedule) → [`runtime`] (one task per virtual user) → [`metrics`] (HDR histograms, timeline,
//! outcomes) → [`analysis`] (summary) → [`report`] (terminal, HTML, JSON). [`format`] (human units)
//! sits below them all. The [`demo`] module is the embedded demo school workspace that scenarios
//! can run against out of the box (`target: embedded`, `schoolday target`); it reads its sizing
//! from [`scenario::embedded`]. The layers and where each concept lives: docs/ARCHITECTURE.md.

pub mod abort;
pub mod analysis;
pub mod app;
pub mod capacity;
pub mod cli;
pub mod demo;
pub mod exit_code;
pub mod format;
pub mod http;
pub mod live;
pub mod load;
pub mod metrics;
pub mod quick;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod scenario;
