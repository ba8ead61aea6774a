//! Sessions issued by `POST /login`, looked up by every page.
//!
//! The store is sharded (a `Mutex<HashMap>` per shard) so that thousands of concurrent
//! lookups on a few threads rarely contend, and a session is small (the user name and an
//! answer count) because a login wave creates tens of thousands of them. Sessions do not
//! expire on their own; a storm drops them all at once with [`Sessions::clear`].

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Power of two, a few times the number of threads a target normally runs on.
const SHARDS: usize = 16;

/// The session token as issued: 32 lowercase hex digits.
pub(crate) type Token = Arc<str>;

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) user: Arc<str>,
    /// Answers submitted to `POST /exam/answer` in this session.
    pub(crate) answers: u32,
}

pub(crate) struct Sessions {
    shards: [Mutex<HashMap<Token, Session>>; SHARDS],
    /// Keyed randomly per process: tokens are unguessable across runs, and clients cannot
    /// choose tokens that all land in one shard.
    keys: RandomState,
    issued: AtomicU64,
}

impl Sessions {
    pub(crate) fn new() -> Sessions {
        Sessions {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            keys: RandomState::new(),
            issued: AtomicU64::new(0),
        }
    }

    /// Opens a session for `user` and returns its token.
    pub(crate) fn open(&self, user: &str) -> Token {
        let token: Token = self.new_token().into();
        let session = Session {
            user: user.into(),
            answers: 0,
        };
        self.shard(&token).insert(token.clone(), session);
        token
    }

    /// The user of a live session.
    pub(crate) fn user(&self, token: &str) -> Option<Arc<str>> {
        self.shard(token).get(token).map(|s| s.user.clone())
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

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
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
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_hex() {
        let sessions = Sessions::new();
        let a = sessions.open("eleve.0001");
        let b = sessions.open("eleve.0001");
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(sessions.len(), 2);
    }

    #[test]
    fn a_session_lives_until_closed() {
        let sessions = Sessions::new();
        let token = sessions.open("parent.0042");
        assert_eq!(sessions.user(&token).as_deref(), Some("parent.0042"));
        assert_eq!(sessions.record_answer(&token), Some(1));
        assert_eq!(sessions.record_answer(&token), Some(2));
        assert!(sessions.close(&token));
        assert!(!sessions.close(&token));
        assert_eq!(sessions.user(&token), None);
        assert_eq!(sessions.record_answer(&token), None);
        assert_eq!(sessions.user("not-a-token"), None);
    }

    #[test]
    fn clear_drops_everything() {
        let sessions = Sessions::new();
        for i in 0..40 {
            sessions.open(&format!("eleve.{i}"));
        }
        assert_eq!(sessions.clear(), 40);
        assert_eq!(sessions.len(), 0);
    }
}
