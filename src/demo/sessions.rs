//! Sessions issued by `POST /login`, looked up by every page.
//!
//! The store is sharded (a `Mutex<HashMap>` per shard) so that thousands of concurrent
//! lookups on a few threads rarely contend, and a session is small (the user name and an
//! answer count and a last-seen instant) because a login wave creates tens of thousands of
//! them. A storm drops them all at once with [`Sessions::clear`].
//!
//! Idle expiry (`session_idle`, the "sessions shortened" mitigation of April 2021) is checked
//! on access rather than by a sweeper: every lookup already holds the shard lock, so comparing
//! one instant there is free, while a sweeper would walk every shard on a timer. An expired
//! session that is never presented again just sits in its shard until it is counted or
//! cleared; [`Sessions::len`] evicts those so "active sessions" stays true.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Power of two, a few times the number of threads a target normally runs on.
const SHARDS: usize = 16;

/// The session token as issued: 32 lowercase hex digits.
pub(crate) type Token = Arc<str>;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: Arc<str>,
    /// Answers submitted to `POST /exam/answer` in this session.
    pub(crate) answers: u32,
    /// Last time the session was opened or presented.
    last_seen: Instant,
}

/// What a presented token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A live session, of this user; its idle clock restarts.
    Live(Arc<str>),
    /// A session idle for longer than the limit: it is removed, this once reported.
    Expired,
    /// No such session (never issued, logged out, dropped, or already reported expired).
    Unknown,
}

pub(crate) struct Sessions {
    shards: [Mutex<HashMap<Token, Session>>; SHARDS],
    /// Keyed randomly per process: tokens are unguessable across runs, and clients cannot
    /// choose tokens that all land in one shard.
    keys: RandomState,
    issued: AtomicU64,
    /// Sessions unused for longer than this expire; `None`: never.
    idle: Option<Duration>,
}

impl Sessions {
    pub(crate) fn new(idle: Option<Duration>) -> Sessions {
        Sessions {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            keys: RandomState::new(),
            issued: AtomicU64::new(0),
            idle,
        }
    }

    /// Opens a session for `user` and returns its token.
    pub(crate) fn open(&self, user: &str) -> Token {
        let token: Token = self.new_token().into();
        let session = Session { user: user.into(), answers: 0, last_seen: Instant::now() };
        self.shard(&token).insert(token.clone(), session);
        token
    }

    /// The user of the session `token` names at `now`, restarting its idle clock; an expired
    /// session is removed and reported once as [`Lookup::Expired`].
    pub(crate) fn user(&self, token: &str, now: Instant) -> Lookup {
        let mut shard = self.shard(token);
        let Some(session) = shard.get_mut(token) else {
            return Lookup::Unknown;
        };
        if self.expired(session, now) {
            shard.remove(token);
            return Lookup::Expired;
        }
        session.last_seen = session.last_seen.max(now);
        Lookup::Live(session.user.clone())
    }

    /// Counts one more exam answer; returns the new count, or `None` if the session is gone.
    pub(crate) fn record_answer(&self, token: &str) -> Option<u32> {
        let mut shard = self.shard(token);
        let session = shard.get_mut(token)?;
        session.answers = session.answers.saturating_add(1);
        Some(session.answers)
    }

    /// Ends a session; returns whether it existed.
    pub(crate) fn close(&self, token: &str) -> bool {
        self.shard(token).remove(token).is_some()
    }

    /// Drops every session (a reconnect storm); returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let mut shard = lock(shard);
                let n = shard.len();
                shard.clear();
                n
            })
            .sum()
    }

    /// Live sessions; expired ones found on the way are evicted (they are not reported as
    /// `Expired` later: nobody presented them).
    pub(crate) fn len(&self) -> usize {
        let now = Instant::now();
        self.shards
            .iter()
            .map(|shard| {
                let mut shard = lock(shard);
                if self.idle.is_some() {
                    shard.retain(|_, session| !self.expired(session, now));
                }
                shard.len()
            })
            .sum()
    }

    fn expired(&self, session: &Session, now: Instant) -> bool {
        self.idle.is_some_and(|idle| now.saturating_duration_since(session.last_seen) > idle)
    }

    /// 128 bits from a per-process keyed SipHash of a counter. Not a cryptographic token, but
    /// unique, unpredictable to clients, and free of any extra dependency.
    fn new_token(&self) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed);
        let half = |salt: u64| {
            let mut hasher = self.keys.build_hasher();
            hasher.write_u64(n);
            hasher.write_u64(salt);
            hasher.finish()
        };
        format!("{:016x}{:016x}", half(0x5c4e), half(0xd47))
    }

    fn shard(&self, token: &str) -> MutexGuard<'_, HashMap<Token, Session>> {
        let index = self.keys.hash_one(token) as usize % SHARDS;
        lock(&self.shards[index])
    }
}

/// A shard is only held for a map operation that cannot panic half-way, so a poisoned lock
/// still holds a consistent map: keep serving rather than fail every later request.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_hex() {
        let sessions = Sessions::new(None);
        let a = sessions.open("eleve.0001");
        let b = sessions.open("eleve.0001");
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn a_session_lives_until_closed() {
        let sessions = Sessions::new(None);
        let token = sessions.open("parent.0042");
        let later = Instant::now() + Duration::from_secs(86_400);
        assert_eq!(sessions.user(&token, later), Lookup::Live("parent.0042".into()));
        assert_eq!(sessions.record_answer(&token), Some(1));
        assert_eq!(sessions.record_answer(&token), Some(2));
        assert!(sessions.close(&token));
        assert!(!sessions.close(&token));
        assert_eq!(sessions.user(&token, later), Lookup::Unknown);
        assert_eq!(sessions.record_answer(&token), None);
        assert_eq!(sessions.user("not-a-token", later), Lookup::Unknown);
    }

    #[test]
    fn clear_drops_everything() {
        let sessions = Sessions::new(None);
        for i in 0..40 {
            sessions.open(&format!("eleve.{i}"));
        }
        assert_eq!(sessions.clear(), 40);
        assert_eq!(sessions.len(), 0);
    }

    #[test]
    fn an_idle_session_expires_once_and_use_keeps_it_alive() {
        let idle = Duration::from_secs(60);
        let sessions = Sessions::new(Some(idle));
        let token = sessions.open("eleve.0001");
        let opened = Instant::now();
        let user = Lookup::Live("eleve.0001".into());
        // Each use restarts the clock: three uses 50 s apart keep it alive for 150 s.
        for step in 1..=3 {
            let now = opened + Duration::from_secs(50 * step);
            assert_eq!(sessions.user(&token, now), user, "use {step}");
        }
        let late = opened + Duration::from_secs(150) + idle + Duration::from_secs(1);
        assert_eq!(sessions.user(&token, late), Lookup::Expired);
        assert_eq!(sessions.user(&token, late), Lookup::Unknown);
        // A lookup with an earlier clock reading (another thread) does not rewind it.
        let other = sessions.open("eleve.0002");
        assert_eq!(sessions.user(&other, opened), Lookup::Live("eleve.0002".into()));
    }

    #[test]
    fn len_evicts_expired_sessions() {
        let sessions = Sessions::new(Some(Duration::ZERO));
        sessions.open("eleve.0003");
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(sessions.len(), 0);
    }
}
