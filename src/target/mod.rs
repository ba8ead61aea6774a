//! The embedded demo school workspace (`target: embedded`).
//!
//! A real HTTP server on 127.0.0.1 that behaves like an ENT: logins that cost CPU and issue a
//! session, pages that need that session, and a bounded capacity (worker slots, a queue, a
//! service time per route) so that it saturates like the real ones did. It runs on its own
//! threads so the generator's measurements are not disturbed by serving, and it counts what it
//! served per route so that tests can check the harness's counts against it.

mod config;

pub use config::{EmbeddedConfig, ServiceTimes};
