//! schoolday: rehearse the school day before it happens.
//!
//! Data flows one way: [`scenario`] (YAML → validated model) → [`load`] (seeded arrival
//! schedule) → [`runtime`] (one task per virtual user) → [`metrics`] (HDR histograms, timeline,
//! outcomes) → [`analysis`] (summary) → [`report`] (terminal, HTML, JSON). [`format`] (human units)
//! sits below them all. The [`demo`] module is the embedded demo school workspace that scenarios
//! can run against out of the box (`target: embedded`, `schoolday target`); it reads its sizing
//! from [`scenario::embedded`]. [`import`] writes scenarios from browser recordings (HAR) and
//! access logs, as YAML that goes back through the validator. The layers and where each concept
//! lives: docs/ARCHITECTURE.md.
//!
//! Beyond one machine: [`launch`] and [`start`] make a process one shard of a run (its part of
//! the plan, a shared start barrier), [`merge`] puts the shards' run directories back together
//! exactly, and [`kube`] prints the Kubernetes manifests that run the whole flow.

pub mod abort;
pub mod analysis;
pub mod app;
pub mod capacity;
pub mod cli;
pub mod demo;
pub mod exit_code;
pub mod format;
pub mod http;
pub mod import;
pub mod kube;
pub mod launch;
pub mod live;
pub mod load;
pub mod merge;
pub mod metrics;
pub mod quick;
pub mod report;
pub mod rng;
pub mod runtime;
pub mod scenario;
pub mod start;
