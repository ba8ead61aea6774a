//! Login block windows: the "parents locked out 7:30–17:30" mitigation of April 2021.
//!
//! The block is an application rule, not an edge one: it needs the user id, which is in the
//! login body, so it is checked inside the worker slot after the body is parsed and before the
//! password is hashed. A refused login therefore still costs a short slot hold (like a 401),
//! but no hashing, which is why the mitigation relieved the real platforms. Windows are
//! relative to the target's start so that a scenario can place them on its own clock.

use std::time::{Duration, Instant};

use crate::scenario::embedded::Block;

pub(crate) struct Blocks {
    windows: Vec<Block>,
    started: Instant,
}

impl Blocks {
    pub(crate) fn new(windows: &[Block], started: Instant) -> Blocks {
        Blocks {
            // An empty prefix would block everybody, which is a legitimate (if blunt) rule;
            // an empty or inverted window blocks nobody and is dropped here.
            windows: windows.iter().filter(|block| block.from < block.to).cloned().collect(),
            started,
        }
    }

    /// If `user` is blocked at `now`, how long until its (latest-ending) window closes.
    pub(crate) fn refusal(&self, user: &str, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.started);
        self.windows
            .iter()
            .filter(|block| block.from <= elapsed && elapsed < block.to)
            .filter(|block| user.starts_with(block.user_prefix.as_str()))
            .map(|block| block.to - elapsed)
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(prefix: &str, from_s: u64, to_s: u64) -> Block {
        Block { user_prefix: prefix.to_owned(), from: Duration::from_secs(from_s), to: Duration::from_secs(to_s) }
    }

    #[test]
    fn refuses_the_prefix_inside_the_window_only() {
        let started = Instant::now();
        let blocks = Blocks::new(&[block("parent.", 10, 20)], started);
        let at = |s: u64| started + Duration::from_secs(s);
        assert_eq!(blocks.refusal("parent.1", at(9)), None);
        assert_eq!(blocks.refusal("parent.1", at(10)), Some(Duration::from_secs(10)));
        assert_eq!(blocks.refusal("parent.1", at(19)), Some(Duration::from_secs(1)));
        assert_eq!(blocks.refusal("parent.1", at(20)), None);
        assert_eq!(blocks.refusal("eleve.1", at(15)), None);
        // Before the start (a clock read on another thread) is simply not blocked.
        assert_eq!(blocks.refusal("parent.1", started - Duration::from_secs(1)), None);
    }

    #[test]
    fn overlapping_windows_report_the_latest_end_and_bad_windows_block_nobody() {
        let started = Instant::now();
        let blocks = Blocks::new(&[block("parent.", 0, 5), block("par", 2, 8), block("", 9, 3)], started);
        let at = |s: u64| started + Duration::from_secs(s);
        assert_eq!(blocks.refusal("parent.1", at(3)), Some(Duration::from_secs(5)));
        assert_eq!(blocks.refusal("eleve.1", at(5)), None);
    }
}
