//! The embedded demo school workspace (`target: embedded`).
//!
//! A real HTTP server on loopback that behaves like an ENT: logins that cost CPU and issue a
//! session, pages that need that session, and a bounded capacity (worker slots, a queue, a
//! service time per route) so that it saturates like the real ones did. It runs on its own
//! threads so the generator's measurements are not disturbed by serving, and it counts what it
//! served per route so that tests can check the harness's counts against it.
//!
//! Routes: `POST /login` (JSON or form; sets the `ENTSESSION` cookie and returns a token),
//! `GET /agenda`, `/homework`, `/grades`, `/messages`, `/files/{id}`, `POST /exam/start`,
//! `/exam/answer`, `/logout` (all need a session, by cookie or `Authorization: Bearer`), and
//! `GET /health` (no session, no worker slot).
//!
//! How it fails is configurable (`Overload`): shed beyond a queue, queue without bound,
//! keep serving clients that have gone (metastable), or admit logins through a waiting room;
//! sessions can expire when idle, and kinds of users can be blocked at login for a while.
//!
//! Layout: `server` owns the runtime and threads, `workspace` is one request's life
//! (queue, slot, service time), `capacity` the slots and queue, `metastable` serving for
//! clients that have gone, `waiting_room` the admission queue in front of logins, `blocks`
//! the login block windows, `route` the route table, `credentials` what clients present,
//! `sessions` the session store, `content` the page bodies, `cpu` the login's hashing
//! work, `counts` what the target saw.

mod blocks;
mod capacity;
mod content;
mod counts;
mod cpu;
mod credentials;
mod metastable;
mod reply;
mod route;
mod server;
mod sessions;
mod waiting_room;
mod workspace;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_overload;

pub use crate::scenario::embedded::{Block, EmbeddedConfig, Overload, ServiceTimes};
pub use counts::{TargetCounts, WaitingRoomCounts};
pub use server::EmbeddedTarget;
