//! What a user does after an attempt: the decision table of one request step, kept apart from
//! the sending and the waiting so that it can be read, and tested, as a table.
//!
//! `user.rs` is the executor: it sends an attempt, classifies what happened into a
//! [`Happened`], records it, and carries out the [`Next`] that [`decide`] returns (sleep, log in
//! again, reload, poll, stop). [`decide`] does no I/O and reads no clock: what happened, the
//! step's [`Rules`], its [`Counts`] so far and the user's retry budget go in; what to do next
//! comes out, with the counters and the budget updated. The split follows cargo-nextest's
//! runner, whose dispatcher decides and whose executor acts.

use std::time::Duration;

use super::retry::{backoff_delay, with_retry_after, BudgetState, Failure};
use crate::metrics::{Cause, ErrorKind};
use crate::rng::Rng;
use crate::scenario::RetryPolicy;

/// Why a walk through the journey, or a step of it, stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// A step failed for good.
    Failed,
    /// The run ended.
    CutOff,
    /// Goal patience ran out.
    GaveUp,
}

/// What one attempt came to, as far as deciding what comes next is concerned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Happened {
    /// The request could not be built (a capture it needs is missing): nothing was sent.
    Unbuildable(ErrorKind),
    /// Page patience ran out before the answer came.
    PageTimedOut,
    /// A storm dropped the session while the request was in flight.
    Storm,
    /// Goal patience ran out while the request was in flight.
    GaveUp,
    /// The run ended while the request was in flight.
    CutOff,
    /// The answer said "you are in the waiting room; poll again after `poll`".
    Queued { poll: Duration, bytes: u64 },
    /// The answer passed the step's check (and its captures were taken).
    Accepted { bytes: u64 },
    /// No acceptable answer: `kind` is what is recorded, `failure` what retrying looks at,
    /// `status` the HTTP status when there was an answer, `server_asked` its `Retry-After`.
    Failed { kind: ErrorKind, failure: Failure, status: Option<u16>, server_asked: Option<Duration> },
}

/// What the user does next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Next {
    /// The application sends the step again after `after`.
    Retry { after: Duration },
    /// A person reloads the page: after `after` in front of an error page, at once (`None`)
    /// when the page never came.
    Reload { after: Option<Duration> },
    /// The session is lost (a 401): log in again, then send the step again.
    Relogin,
    /// A storm cut the connection: start a new session, logging in again before the next
    /// attempt unless the user is already logging in.
    Reconnect,
    /// Still in the waiting room: poll again after `after`.
    Poll { after: Duration },
    /// The step ends unsuccessfully.
    Fail(End),
    /// The step succeeded.
    Done,
}

/// What one step allows: its retry policy and the person's limits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules<'a> {
    pub policy: &'a RetryPolicy,
    /// A person reloads an error page or a page that is too slow (with page patience only).
    pub page_patience: Option<Duration>,
    /// Reloads of this step before the person gives up on it.
    pub max_reloads: u32,
    /// Re-logins in a row for this step before the user gives up on it.
    pub max_relogins: u32,
    /// A 401 means "log in again" (the persona re-logs in, has login steps, and is not
    /// replaying them right now).
    pub may_relogin: bool,
}

/// What a step has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    /// The application's own sends (first, retries, re-logins): what `max_attempts` limits.
    pub attempts: u32,
    pub retries: u32,
    pub reloads: u32,
    pub relogins: u32,
    /// The last delay waited before an attempt (decorrelated jitter grows from it).
    pub previous_delay: Duration,
}

impl Counts {
    /// An attempt with this cause is about to be sent. A person's reloads and waiting-room
    /// polls do not use up the application's attempts; first attempts feed a ratio budget.
    pub fn start(&mut self, cause: Cause, budget: &mut BudgetState) {
        if !matches!(cause, Cause::Reload | Cause::Poll) {
            self.attempts += 1;
        }
        if cause == Cause::First {
            budget.first_attempt();
        }
    }
}

/// The decision table. `since_arrival` is the time from the user's arrival to the end of the
/// attempt (a ratio budget's per-second allowance grows with it); `rng` draws the jitter and
/// a person's pause before reloading.
pub(super) fn decide(
    happened: &Happened,
    rules: &Rules<'_>,
    counts: &mut Counts,
    budget: &mut BudgetState,
    since_arrival: Duration,
    rng: &mut Rng,
) -> Next {
    match *happened {
        Happened::Accepted { .. } => {
            budget.success(rules.policy.budget.as_ref());
            Next::Done
        }
        Happened::Unbuildable(_) => Next::Fail(End::Failed),
        Happened::GaveUp => Next::Fail(End::GaveUp),
        Happened::CutOff => Next::Fail(End::CutOff),
        Happened::Storm => Next::Reconnect,
        Happened::Queued { poll, .. } => Next::Poll { after: poll },
        Happened::PageTimedOut if counts.reloads < rules.max_reloads => {
            counts.reloads += 1;
            Next::Reload { after: None }
        }
        Happened::PageTimedOut => Next::Fail(End::Failed),
        Happened::Failed { status: Some(401), .. } if rules.may_relogin && counts.relogins < rules.max_relogins => {
            counts.relogins += 1;
            Next::Relogin
        }
        // The application retries if its policy, its attempt limit and its budget allow;
        // otherwise a person in front of an error page may reload it (no budget applies to
        // people); otherwise the step fails.
        Happened::Failed { failure, server_asked, .. } => {
            let policy = rules.policy;
            let after_timeout = failure == Failure::Transport(ErrorKind::Timeout);
            let (next, delay) = if counts.attempts < policy.max_attempts
                && policy.retries(failure)
                && budget.allow(policy.budget.as_ref(), after_timeout, since_arrival)
            {
                let backoff = backoff_delay(&policy.backoff, counts.retries, counts.previous_delay, rng);
                let after = with_retry_after(policy.retry_after, backoff, server_asked);
                counts.retries += 1;
                (Next::Retry { after }, after)
            } else if rules.page_patience.is_some() && counts.reloads < rules.max_reloads && is_error_page(failure) {
                let after = rng.duration_between(Duration::from_secs(1), Duration::from_secs(5));
                counts.reloads += 1;
                (Next::Reload { after: Some(after) }, after)
            } else {
                return Next::Fail(End::Failed);
            };
            counts.previous_delay = delay;
            next
        }
    }
}

/// An answer a person would see as an error page (worth a reload), as opposed to a page
/// that loaded but was wrong.
pub(super) fn is_error_page(failure: Failure) -> bool {
    match failure {
        Failure::Transport(kind) => kind != ErrorKind::Other,
        Failure::Status(status) => status >= 500 || status == 429,
        Failure::Content(_) => false,
    }
}

#[cfg(test)]
mod tests;
