//! The waiting room in front of `POST /login` (`Overload::WaitingRoom`).
//!
//! Modelled on what Île-de-France switched on in April 2021 and on Cloudflare's and
//! Queue-it's rooms (docs/background.md#waiting-rooms): new sessions are admitted at a fixed rate, first come
//! first served, and everyone else is told to come back, with a ticket that keeps their place.
//!
//! - Admissions come from a token bucket filled at `admit_per_second` that holds one second's
//!   worth when nobody waits, so an idle room lets a small burst straight through.
//! - While tickets wait, every token goes to the oldest ticket: a newcomer never overtakes
//!   the queue, even when a token happens to be there when it arrives (fair FIFO).
//! - A ticket is `<number>.<signature>` in the `ENTQUEUE` cookie. The signature is a keyed
//!   hash, so a client cannot jump the queue by presenting a smaller number; an unknown or
//!   forged ticket counts as no ticket (the back of the queue).
//! - A ticket whose turn has come stays valid (a retry after a shed login keeps its
//!   admission); the successful login clears the cookie, exchanging it for a session.
//! - The bucket is advanced lazily on each visit from the elapsed time rather than by a
//!   ticker task: admissions happen at exact times, and nothing needs stopping at shutdown.
//!
//! One mutex guards the bucket and the two ticket counters. FIFO needs one order, and the
//! critical section is a few float operations with no allocation, on the login path only, in
//! this mode only; queued answers are built outside it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::header::COOKIE as COOKIE_HEADER;
use http::HeaderMap;

use super::counts::WaitingRoomCounts;

/// Name of the queue cookie that holds a ticket.
pub(crate) const QUEUE_COOKIE: &str = "ENTQUEUE";

/// Keeps ticket signatures apart from any other use of the same keys.
const TICKET_SALT: u64 = 0x7e1c_4e75;

pub(crate) struct WaitingRoom {
    /// Admissions per second; finite and ≥ 0 (0: only the first login ever gets in).
    rate: f64,
    /// Tokens the bucket holds at most while nobody waits.
    burst: f64,
    retry_after: Duration,
    keys: RandomState,
    state: Mutex<State>,
    queued_answers: AtomicU64,
}

struct State {
    tokens: f64,
    /// When `tokens` was last brought up to date.
    refilled: Instant,
    /// Tickets issued so far: tickets are numbered `1..=issued`.
    issued: u64,
    /// Tickets whose turn has come: `1..=admitted`.
    admitted: u64,
    /// Logins let straight through without a ticket.
    direct: u64,
}

/// What the room decided for one login.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry {
    /// Go on to the login; `ticket` says whether a ticket was used (its cookie is cleared
    /// once the login succeeds).
    Admitted { ticket: bool },
    /// Come back later.
    Queued(Queued),
}

/// A queued answer's content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Queued {
    /// The `ENTQUEUE` cookie value: the ticket that keeps the place.
    pub(crate) ticket: String,
    /// 1 for the next ticket to be admitted.
    pub(crate) position: u64,
    /// Expected wait at the configured rate; `None` when the rate is 0.
    pub(crate) eta: Option<Duration>,
    pub(crate) retry_after: Duration,
}

impl WaitingRoom {
    pub(crate) fn new(admit_per_second: f64, retry_after: Duration, now: Instant) -> WaitingRoom {
        // Validation belongs to the scenario loader; here a NaN or negative rate must only
        // not crash the target, and "admit nobody" is the least surprising reading.
        let rate = if admit_per_second.is_finite() && admit_per_second > 0.0 { admit_per_second } else { 0.0 };
        let burst = rate.max(1.0);
        WaitingRoom {
            rate,
            burst,
            retry_after,
            keys: RandomState::new(),
            state: Mutex::new(State { tokens: burst, refilled: now, issued: 0, admitted: 0, direct: 0 }),
            queued_answers: AtomicU64::new(0),
        }
    }

    /// Decides for a login carrying `headers` (where a ticket cookie may be) at `now`.
    pub(crate) fn enter(&self, headers: &HeaderMap, now: Instant) -> Entry {
        let presented = self.presented_ticket(headers);
        let mut state = self.lock();
        self.advance(&mut state, now);
        let number = match presented {
            Some(number) if number <= state.admitted => return Entry::Admitted { ticket: true },
            // A validly signed number never exceeds `issued`; checked anyway so that a
            // signature collision cannot make a position out of thin air.
            Some(number) if number <= state.issued => number,
            _ if state.issued == state.admitted && state.tokens >= 1.0 => {
                state.tokens -= 1.0;
                state.direct += 1;
                return Entry::Admitted { ticket: false };
            }
            _ => {
                state.issued += 1;
                state.issued
            }
        };
        let position = number - state.admitted;
        let short = (position as f64 - state.tokens).max(0.0);
        drop(state);
        self.queued_answers.fetch_add(1, Ordering::Relaxed);
        let eta = (self.rate > 0.0).then(|| Duration::from_secs_f64(short / self.rate));
        Entry::Queued(Queued { ticket: self.sign(number), position, eta, retry_after: self.retry_after })
    }

    /// The room's counters as of `now`.
    pub(crate) fn counts(&self, now: Instant) -> WaitingRoomCounts {
        let mut state = self.lock();
        self.advance(&mut state, now);
        WaitingRoomCounts {
            queued: self.queued_answers.load(Ordering::Relaxed),
            admitted: state.direct + state.admitted,
            tickets: state.issued,
            waiting: state.issued - state.admitted,
        }
    }

    /// Brings the bucket up to `now`: tokens accrued since the last visit go to waiting
    /// tickets in order, and the rest (only once nobody waits) stay, up to `burst`.
    fn advance(&self, state: &mut State, now: Instant) {
        // Clock readings from several threads can arrive out of order; never go backwards.
        let elapsed = now.saturating_duration_since(state.refilled);
        state.refilled = state.refilled.max(now);
        state.tokens += elapsed.as_secs_f64() * self.rate;
        let waiting = state.issued - state.admitted;
        // `tokens` is finite and ≥ 0, so the float-to-int conversion is exact enough and
        // saturates rather than wraps.
        let turns = waiting.min(state.tokens.floor() as u64);
        state.admitted += turns;
        state.tokens -= turns as f64;
        if state.issued == state.admitted {
            state.tokens = state.tokens.min(self.burst);
        }
    }

    /// The first validly signed ticket among the request's `ENTQUEUE` cookies.
    fn presented_ticket(&self, headers: &HeaderMap) -> Option<u64> {
        headers
            .get_all(COOKIE_HEADER)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == QUEUE_COOKIE).then_some(value)
            })
            .find_map(|ticket| {
                // Comparing with the canonical signed form also refuses leading zeros and
                // trailing junk.
                let (number, _) = ticket.split_once('.')?;
                let number: u64 = number.parse().ok()?;
                (self.sign(number) == ticket).then_some(number)
            })
    }

    fn sign(&self, number: u64) -> String {
        let signature = self.keys.hash_one((number, TICKET_SALT));
        format!("{number}.{signature:016x}")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Only arithmetic runs under the lock, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ticket_header(queued: &Queued) -> HeaderMap {
        cookie(&format!("lang=fr; {QUEUE_COOKIE}={}", queued.ticket))
    }

    fn cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(COOKIE_HEADER, value);
        }
        headers
    }

    fn queued(entry: Entry) -> Queued {
        match entry {
            Entry::Queued(queued) => queued,
            other => panic!("expected a queued answer, got {other:?}"),
        }
    }

    #[test]
    fn a_burst_beyond_one_second_of_admissions_queues_in_order() {
        let start = Instant::now();
        let room = WaitingRoom::new(10.0, Duration::from_secs(5), start);
        let none = HeaderMap::new();
        for _ in 0..10 {
            assert_eq!(room.enter(&none, start), Entry::Admitted { ticket: false });
        }
        let tickets: Vec<Queued> = (0..5).map(|_| queued(room.enter(&none, start))).collect();
        let positions: Vec<u64> = tickets.iter().map(|t| t.position).collect();
        assert_eq!(positions, [1, 2, 3, 4, 5]);
        assert_eq!(tickets[4].eta, Some(Duration::from_millis(500)));
        assert_eq!(tickets[0].retry_after, Duration::from_secs(5));

        // 250 ms later two turns have come (at 100 and 200 ms), not three.
        let later = start + Duration::from_millis(250);
        let first = room.enter(&ticket_header(&tickets[0]), later);
        assert_eq!(first, Entry::Admitted { ticket: true });
        assert_eq!(room.enter(&ticket_header(&tickets[1]), later), Entry::Admitted { ticket: true });
        let third = queued(room.enter(&ticket_header(&tickets[2]), later));
        assert_eq!((third.position, third.ticket.as_str()), (1, tickets[2].ticket.as_str()));
        assert_eq!(third.eta, Some(Duration::from_millis(50)));
        let counts = room.counts(later);
        assert_eq!((counts.admitted, counts.tickets, counts.waiting), (12, 5, 3));
        assert_eq!(counts.queued, 6);
    }

    #[test]
    fn a_newcomer_never_overtakes_waiting_tickets() {
        let start = Instant::now();
        let room = WaitingRoom::new(1.0, Duration::from_secs(1), start);
        let none = HeaderMap::new();
        assert_eq!(room.enter(&none, start), Entry::Admitted { ticket: false });
        let waiting = queued(room.enter(&none, start));
        // 1.5 s later a token has accrued, but it is the waiting ticket's, not the newcomer's.
        let later = start + Duration::from_millis(1500);
        let newcomer = queued(room.enter(&none, later));
        assert_eq!(newcomer.position, 1);
        assert_ne!(newcomer.ticket, waiting.ticket);
        assert_eq!(room.enter(&ticket_header(&waiting), later), Entry::Admitted { ticket: true });
        // Once the queue is empty and a second has passed, a newcomer walks straight in.
        let much_later = start + Duration::from_secs(10);
        assert_eq!(room.enter(&ticket_header(&newcomer), much_later), Entry::Admitted { ticket: true });
        assert_eq!(room.enter(&none, much_later), Entry::Admitted { ticket: false });
    }

    #[test]
    fn forged_tickets_go_to_the_back() {
        let start = Instant::now();
        let room = WaitingRoom::new(1.0, Duration::from_secs(1), start);
        let none = HeaderMap::new();
        room.enter(&none, start);
        let real = queued(room.enter(&none, start));
        for forged in ["1.0000000000000000", "1", "1.", "x.y", "0.abc", "99999999999999999999.a"] {
            let entry = queued(room.enter(&cookie(&format!("{QUEUE_COOKIE}={forged}")), start));
            assert!(entry.position > real.position, "{forged}: {entry:?}");
        }
        // A signature with trailing junk is not the signature.
        let padded = cookie(&format!("{QUEUE_COOKIE}={}0", real.ticket));
        assert!(queued(room.enter(&padded, start)).position > 1);
    }

    #[test]
    fn a_zero_or_nonsense_rate_admits_one_and_never_crashes() {
        for rate in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            let start = Instant::now();
            let room = WaitingRoom::new(rate, Duration::ZERO, start);
            let none = HeaderMap::new();
            assert_eq!(room.enter(&none, start), Entry::Admitted { ticket: false });
            let later = start + Duration::from_secs(3600);
            let waiting = queued(room.enter(&none, later));
            assert_eq!((waiting.position, waiting.eta), (1, None), "{rate}");
        }
    }
}
