//! Why requests failed, in words: the metrics count failures by kind (`tls`, `timeout`…);
//! this keeps the distinct messages behind them ("127.0.0.1:8080 does not speak TLS"), so
//! that a run whose every request failed the same way says how, once.
//!
//! Failures are the cold path, but a refused port fails every request of a run: the list is
//! capped and a message is only formatted when a failure happens.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::metrics::ErrorKind;

/// Distinct messages kept; later ones only count under `other_failures`.
/// The distinct failure reasons a run keeps words for (a merge keeps as many).
pub const KEPT: usize = 16;

/// One distinct failure message and how often it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub kind: ErrorKind,
    pub message: String,
    pub count: u64,
}

#[derive(Debug, Default)]
pub struct Notes {
    notes: Mutex<(Vec<Note>, u64)>,
}

impl Notes {
    /// Record a failure of `kind` and return the kind (for `map_err`).
    pub fn fail(&self, kind: ErrorKind, message: impl FnOnce() -> String) -> ErrorKind {
        let message = message();
        let mut guard = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        let (notes, others) = &mut *guard;
        match notes.iter().position(|n| n.kind == kind && n.message == message) {
            Some(i) => notes[i].count += 1,
            None if notes.len() < KEPT => notes.push(Note { kind, message, count: 1 }),
            None => *others += 1,
        }
        kind
    }

    /// The messages so far, most frequent first, and the count of failures beyond them.
    pub fn snapshot(&self) -> (Vec<Note>, u64) {
        let guard = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        let mut notes = guard.0.clone();
        notes.sort_by_key(|n| std::cmp::Reverse(n.count));
        (notes, guard.1)
    }
}
