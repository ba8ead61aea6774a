//! What the target saw: counters written on every request, read as a snapshot.
//!
//! The harness closes its accounting against these numbers ("requests sent per step" must
//! equal "requests received per route"), so they are exact, and they sit on the hot path of
//! every request, so they are plain relaxed atomics in fixed arrays: no lock, no allocation.
//! Only `snapshot` builds maps, and it is called rarely.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::route::Route;

/// A snapshot of what the target saw since it started.
///
/// Maps hold only the keys that were seen, so a fresh target's counts equal
/// `TargetCounts::default()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TargetCounts {
    /// Requests received, per route key such as "POST /login", "GET /files" (one key for all
    /// file ids), "GET /health", or "other" for unknown routes. Counted on receipt, before
    /// any queueing, so a request the client gave up on is still here.
    pub received: BTreeMap<String, u64>,
    /// Responses produced, per status code. A request whose client disconnected while it
    /// waited has no status: `received` minus the sum of `by_status` is what was abandoned
    /// (in `Overload::Metastable`, that work is done anyway and counted in `served_to_nobody`).
    pub by_status: BTreeMap<u16, u64>,
    /// Requests answered 503 at once because the queue for worker slots was full.
    pub shed: u64,
    /// Requests answered 401 because they carried no valid session.
    pub unauthorized: u64,
    /// Sessions created by successful logins.
    pub sessions_created: u64,
    /// Most requests holding a worker slot at the same time.
    pub peak_in_service: u64,
    /// Most requests waiting for a worker slot at the same time.
    pub peak_queued: u64,
    /// `Overload::Metastable`: requests served in full after their client had gone (timed
    /// out, reloaded). They are not in `by_status`: nobody received their status.
    pub served_to_nobody: u64,
    /// Logins refused with 403 by a block window.
    pub blocked: u64,
    /// Requests that presented a session idle for longer than `session_idle` (answered 401;
    /// each expired session is counted once, the first time it is presented after expiry).
    pub sessions_expired: u64,
    /// `Overload::WaitingRoom`: what the waiting room in front of `POST /login` did.
    pub waiting_room: WaitingRoomCounts,
}

/// What the waiting room did. Every admission is either direct or a ticket whose turn came,
/// so `admitted` = logins let straight through + (`tickets` − `waiting`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WaitingRoomCounts {
    /// Queued answers given (503 + `Retry-After` + position), first ones and polls alike.
    pub queued: u64,
    /// Admissions: logins let straight through, plus tickets whose turn has come.
    pub admitted: u64,
    /// Tickets issued (one per login that had to queue without a ticket).
    pub tickets: u64,
    /// Tickets waiting for their turn right now.
    pub waiting: u64,
}

/// Status codes are three digits; one slot per possible code keeps recording an index.
const STATUS_SLOTS: usize = 1000;

/// The live counters behind [`TargetCounts`].
pub(crate) struct Counters {
    received: [AtomicU64; Route::ALL.len()],
    by_status: Box<[AtomicU64]>,
    shed: AtomicU64,
    unauthorized: AtomicU64,
    sessions_created: AtomicU64,
    peak_in_service: AtomicU64,
    peak_queued: AtomicU64,
    served_to_nobody: AtomicU64,
    blocked: AtomicU64,
    sessions_expired: AtomicU64,
}

impl Counters {
    pub(crate) fn new() -> Counters {
        Counters {
            received: std::array::from_fn(|_| AtomicU64::new(0)),
            by_status: (0..STATUS_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            shed: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            sessions_created: AtomicU64::new(0),
            peak_in_service: AtomicU64::new(0),
            peak_queued: AtomicU64::new(0),
            served_to_nobody: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            sessions_expired: AtomicU64::new(0),
        }
    }

    pub(crate) fn received(&self, route: Route) {
        self.received[route as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn responded(&self, status: http::StatusCode) {
        let slot = usize::from(status.as_u16()) % STATUS_SLOTS;
        self.by_status[slot].fetch_add(1, Ordering::Relaxed);
        if status == http::StatusCode::UNAUTHORIZED {
            self.unauthorized.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// A request was served in full, but its client had gone.
    pub(crate) fn served_to_nobody(&self) {
        self.served_to_nobody.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn blocked(&self) {
        self.blocked.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn session_expired(&self) {
        self.sessions_expired.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn session_created(&self) {
        self.sessions_created.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` requests hold a worker slot right now.
    pub(crate) fn in_service(&self, n: u64) {
        self.peak_in_service.fetch_max(n, Ordering::Relaxed);
    }

    /// `n` requests wait for a worker slot right now.
    pub(crate) fn queued(&self, n: u64) {
        self.peak_queued.fetch_max(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TargetCounts {
        let received = Route::ALL
            .iter()
            .filter_map(|route| {
                let n = self.received[*route as usize].load(Ordering::Relaxed);
                (n > 0).then(|| (route.key().to_owned(), n))
            })
            .collect();
        let by_status = self
            .by_status
            .iter()
            .enumerate()
            .filter_map(|(code, n)| {
                let n = n.load(Ordering::Relaxed);
                // `code` < STATUS_SLOTS = 1000, so it fits a u16.
                (n > 0).then_some((code as u16, n))
            })
            .collect();
        TargetCounts {
            received,
            by_status,
            shed: self.shed.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            sessions_created: self.sessions_created.load(Ordering::Relaxed),
            peak_in_service: self.peak_in_service.load(Ordering::Relaxed),
            peak_queued: self.peak_queued.load(Ordering::Relaxed),
            served_to_nobody: self.served_to_nobody.load(Ordering::Relaxed),
            blocked: self.blocked.load(Ordering::Relaxed),
            sessions_expired: self.sessions_expired.load(Ordering::Relaxed),
            // Filled by the workspace, which owns the waiting room.
            waiting_room: WaitingRoomCounts::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_counters_snapshot_to_default() {
        assert_eq!(Counters::new().snapshot(), TargetCounts::default());
    }

    #[test]
    fn snapshot_keeps_only_seen_keys() {
        let counters = Counters::new();
        counters.received(Route::Files);
        counters.received(Route::Files);
        counters.received(Route::Other);
        counters.responded(http::StatusCode::OK);
        counters.responded(http::StatusCode::UNAUTHORIZED);
        let counts = counters.snapshot();
        assert_eq!(counts.received, BTreeMap::from([("GET /files".to_owned(), 2), ("other".to_owned(), 1)]));
        assert_eq!(counts.by_status, BTreeMap::from([(200, 1), (401, 1)]));
        assert_eq!(counts.unauthorized, 1);
    }

    #[test]
    fn peaks_remember_the_maximum() {
        let counters = Counters::new();
        counters.in_service(1);
        counters.in_service(2);
        counters.in_service(1);
        counters.queued(1);
        counters.queued(0);
        let counts = counters.snapshot();
        assert_eq!(counts.peak_in_service, 2);
        assert_eq!(counts.peak_queued, 1);
    }
}
