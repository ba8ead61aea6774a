//! The decision table, case by case and as properties over outcomes and policies.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::rng::Rng;
use crate::scenario::{Backoff, Budget, Jitter, RetryAfter, RetryOn};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The application retries up to 3 attempts in all, 100 ms apart.
fn three_attempts() -> RetryPolicy {
    RetryPolicy { max_attempts: 3, backoff: Backoff::Fixed(ms(100)), ..RetryPolicy::none() }
}

fn rules(policy: &RetryPolicy) -> Rules<'_> {
    Rules { policy, page_patience: None, max_reloads: 5, max_relogins: 2, may_relogin: false }
}

fn status(code: u16) -> Happened {
    let kind = if code >= 500 { ErrorKind::Status5xx } else { ErrorKind::Status4xx };
    Happened::Failed { kind, failure: Failure::Status(code), status: Some(code), server_asked: None }
}

fn transport(kind: ErrorKind) -> Happened {
    Happened::Failed { kind, failure: Failure::Transport(kind), status: None, server_asked: None }
}

/// One decision with a fresh budget-less user, after `attempts` of the application's sends.
fn once(happened: Happened, rules: &Rules<'_>, counts: &mut Counts) -> Next {
    let mut budget = BudgetState::new(rules.policy.budget.as_ref());
    decide(&happened, rules, counts, &mut budget, Duration::ZERO, &mut Rng::new(1))
}

#[test]
fn the_table() {
    let policy = three_attempts();
    let plain = rules(&policy);
    let person = Rules { page_patience: Some(Duration::from_secs(20)), may_relogin: true, ..plain };
    let first = Counts { attempts: 1, ..Counts::default() };
    let last = Counts { attempts: 3, ..Counts::default() };
    let cases: [(&str, Happened, &Rules, Counts, Next); 14] = [
        ("accepted", Happened::Accepted { bytes: 10 }, &plain, first, Next::Done),
        ("unbuildable", Happened::Unbuildable(ErrorKind::Capture), &person, first, Next::Fail(End::Failed)),
        ("cut off in flight", Happened::CutOff, &person, first, Next::Fail(End::CutOff)),
        ("gave up in flight", Happened::GaveUp, &person, first, Next::Fail(End::GaveUp)),
        ("storm in flight", Happened::Storm, &plain, first, Next::Reconnect),
        ("queued", Happened::Queued { poll: ms(700), bytes: 5 }, &plain, last, Next::Poll { after: ms(700) }),
        ("slow page", Happened::PageTimedOut, &person, last, Next::Reload { after: None }),
        ("503, attempts left", status(503), &plain, first, Next::Retry { after: ms(100) }),
        ("503, none left", status(503), &plain, last, Next::Fail(End::Failed)),
        ("connect error, attempts left", transport(ErrorKind::Connect), &plain, first, Next::Retry { after: ms(100) }),
        ("404 is never retried", status(404), &person, first, Next::Fail(End::Failed)),
        ("500 is not in retry_on", status(500), &plain, first, Next::Fail(End::Failed)),
        ("401 with re-login", status(401), &person, first, Next::Relogin),
        ("401 without", status(401), &plain, first, Next::Fail(End::Failed)),
    ];
    for (name, happened, rules, counts, expected) in cases {
        let mut counts = counts;
        assert_eq!(once(happened, rules, &mut counts), expected, "{name}");
    }
}

#[test]
fn a_person_reloads_an_error_page_once_the_application_has_given_up() {
    let policy = three_attempts();
    let person = Rules { page_patience: Some(Duration::from_secs(20)), max_reloads: 2, ..rules(&policy) };
    let mut counts = Counts { attempts: 3, ..Counts::default() };
    for reload in 1..=2 {
        let Next::Reload { after: Some(after) } = once(status(503), &person, &mut counts) else {
            panic!("reload {reload}");
        };
        assert!((Duration::from_secs(1)..=Duration::from_secs(5)).contains(&after), "{after:?}");
        assert_eq!((counts.reloads, counts.previous_delay), (reload, after));
    }
    assert_eq!(once(status(503), &person, &mut counts), Next::Fail(End::Failed), "out of reloads");
    // A page that loaded but was wrong is not an error page.
    let content = Happened::Failed {
        kind: ErrorKind::Check,
        failure: Failure::Content(ErrorKind::Check),
        status: Some(200),
        server_asked: None,
    };
    assert_eq!(once(content, &person, &mut Counts::default()), Next::Fail(End::Failed));
}

#[test]
fn relogins_are_limited_and_then_the_401_is_a_plain_failure() {
    let policy = three_attempts();
    let may = Rules { may_relogin: true, ..rules(&policy) };
    let mut counts = Counts { attempts: 1, ..Counts::default() };
    assert_eq!(once(status(401), &may, &mut counts), Next::Relogin);
    assert_eq!(once(status(401), &may, &mut counts), Next::Relogin);
    assert_eq!(counts.relogins, 2);
    assert_eq!(once(status(401), &may, &mut counts), Next::Fail(End::Failed), "401 is not retried");
}

#[test]
fn retry_after_and_budgets_shape_the_retry() {
    let honour = RetryPolicy { retry_after: RetryAfter::Honour, ..three_attempts() };
    let asked = Happened::Failed {
        kind: ErrorKind::Status4xx,
        failure: Failure::Status(429),
        status: Some(429),
        server_asked: Some(Duration::from_secs(7)),
    };
    let mut counts = Counts { attempts: 1, ..Counts::default() };
    assert_eq!(once(asked, &rules(&honour), &mut counts), Next::Retry { after: Duration::from_secs(7) });
    assert_eq!((counts.retries, counts.previous_delay), (1, Duration::from_secs(7)));
    let capped = RetryPolicy { retry_after: RetryAfter::Cap(Duration::from_secs(2)), ..three_attempts() };
    assert_eq!(once(asked, &rules(&capped), &mut Counts::default()), Next::Retry { after: Duration::from_secs(2) });

    // A token bucket with one retry in it: the second failure is not retried.
    let budget = Budget::Token { capacity: 1.0, cost: 1.0, timeout_cost: 1.0, refund: 0.5 };
    let policy = RetryPolicy { max_attempts: 10, budget: Some(budget), ..three_attempts() };
    let rules = rules(&policy);
    let mut state = BudgetState::new(policy.budget.as_ref());
    let mut counts = Counts { attempts: 1, ..Counts::default() };
    let mut rng = Rng::new(1);
    let mut next = || decide(&status(503), &rules, &mut counts, &mut state, Duration::ZERO, &mut rng);
    assert_eq!(next(), Next::Retry { after: ms(100) });
    assert_eq!(next(), Next::Fail(End::Failed), "the budget is spent");
    // A success refunds half a token: not enough for a retry yet, two are.
    for (refunds, retried) in [(1, false), (1, true)] {
        for _ in 0..refunds {
            assert_eq!(
                decide(
                    &Happened::Accepted { bytes: 1 },
                    &rules,
                    &mut Counts::default(),
                    &mut state,
                    Duration::ZERO,
                    &mut Rng::new(1)
                ),
                Next::Done
            );
        }
        let mut counts = Counts { attempts: 1, ..Counts::default() };
        let got = decide(&status(503), &rules, &mut counts, &mut state, Duration::ZERO, &mut Rng::new(1));
        assert_eq!(matches!(got, Next::Retry { .. }), retried, "{got:?}");
    }
}

#[test]
fn reloads_and_polls_do_not_use_up_the_applications_attempts() {
    let mut counts = Counts::default();
    let mut budget = BudgetState::new(None);
    for cause in [Cause::First, Cause::Reload, Cause::Poll, Cause::Poll, Cause::AppRetry, Cause::Relogin] {
        counts.start(cause, &mut budget);
    }
    assert_eq!(counts.attempts, 3);
}

/// A person with 3 reloads and 2 re-logins, with page patience or without.
fn person(policy: &RetryPolicy, patience: bool, may_relogin: bool) -> Rules<'_> {
    Rules {
        policy,
        page_patience: patience.then_some(Duration::from_secs(20)),
        max_reloads: 3,
        max_relogins: 2,
        may_relogin,
    }
}

fn happened() -> impl Strategy<Value = Happened> {
    let kinds = prop::sample::select(ErrorKind::ALL.to_vec());
    prop_oneof![
        kinds.clone().prop_map(Happened::Unbuildable),
        Just(Happened::PageTimedOut),
        Just(Happened::Storm),
        Just(Happened::GaveUp),
        Just(Happened::CutOff),
        (0u64..30_000).prop_map(|p| Happened::Queued { poll: ms(p), bytes: 1 }),
        Just(Happened::Accepted { bytes: 1 }),
        kinds.clone().prop_map(transport),
        prop::sample::select(vec![400u16, 401, 403, 404, 429, 500, 502, 503, 504]).prop_map(status),
        (kinds, 200u16..600).prop_map(|(kind, code)| Happened::Failed {
            kind,
            failure: Failure::Content(kind),
            status: Some(code),
            server_asked: None
        }),
        (0u64..120).prop_map(|s| Happened::Failed {
            kind: ErrorKind::Status5xx,
            failure: Failure::Status(503),
            status: Some(503),
            server_asked: Some(Duration::from_secs(s)),
        }),
    ]
}

fn policy() -> impl Strategy<Value = RetryPolicy> {
    let backoff = prop_oneof![
        Just(Backoff::Immediate),
        (0u64..5_000).prop_map(|d| Backoff::Fixed(ms(d))),
        (
            1u64..2_000,
            1u64..30,
            prop::sample::select(vec![Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated])
        )
            .prop_map(|(base, cap, jitter)| Backoff::Exponential {
                base: ms(base),
                factor: 2.0,
                cap: Duration::from_secs(cap),
                jitter
            }),
    ];
    let retry_after = prop_oneof![
        Just(RetryAfter::Honour),
        Just(RetryAfter::Ignore),
        (0u64..60).prop_map(|s| RetryAfter::Cap(Duration::from_secs(s)))
    ];
    let budget = prop_oneof![
        Just(None),
        (0.0f64..1.0).prop_map(|ratio| Some(Budget::Ratio { ratio, min_per_second: 0.0 })),
        (0.0f64..5.0).prop_map(|capacity| Some(Budget::Token { capacity, cost: 1.0, timeout_cost: 2.0, refund: 0.1 })),
    ];
    (1u32..6, backoff, retry_after, budget, any::<bool>()).prop_map(
        |(max_attempts, backoff, retry_after, budget, timeout)| RetryPolicy {
            max_attempts,
            backoff,
            retry_after,
            budget,
            retry_on: RetryOn { timeout, ..RetryOn::default() },
            attempt_timeout: None,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Every row of the table keeps to the policy: the application retries only what its
    /// policy retries and within its attempts; a person reloads only error pages and slow
    /// pages, within the reloads; counters move by at most one; success and the end of the
    /// run are never turned into anything else.
    #[test]
    fn decisions_keep_to_the_policy(
        happened in happened(),
        policy in policy(),
        patience in any::<bool>(),
        may_relogin in any::<bool>(),
        attempts in 1u32..7,
        reloads in 0u32..4,
        relogins in 0u32..3,
        seed in any::<u64>(),
    ) {
        let rules = person(&policy, patience, may_relogin);
        let before = Counts { attempts, reloads, relogins, ..Counts::default() };
        let mut counts = before;
        let mut budget = BudgetState::new(policy.budget.as_ref());
        let next = decide(&happened, &rules, &mut counts, &mut budget, Duration::from_secs(10), &mut Rng::new(seed));
        prop_assert_eq!(counts.attempts, before.attempts, "only Counts::start counts attempts");
        prop_assert!(counts.retries <= before.retries + 1 && counts.reloads <= before.reloads + 1);
        prop_assert!(counts.relogins <= before.relogins + 1);
        prop_assert!(counts.reloads <= rules.max_reloads.max(before.reloads));
        prop_assert!(counts.relogins <= rules.max_relogins.max(before.relogins));
        match next {
            Next::Done => prop_assert!(matches!(happened, Happened::Accepted { .. }), "done after {:?}", happened),
            Next::Fail(End::CutOff) => prop_assert_eq!(happened, Happened::CutOff),
            Next::Fail(End::GaveUp) => prop_assert_eq!(happened, Happened::GaveUp),
            Next::Fail(End::Failed) => {
                let kept_going = matches!(happened, Happened::Accepted { .. } | Happened::Queued { .. } | Happened::Storm);
                prop_assert!(!kept_going, "failed after {:?}", happened);
            }
            Next::Reconnect => prop_assert_eq!(happened, Happened::Storm),
            Next::Poll { .. } => prop_assert!(matches!(happened, Happened::Queued { .. }), "polled after {:?}", happened),
            Next::Relogin => {
                let lost = matches!(happened, Happened::Failed { status: Some(401), .. });
                prop_assert!(may_relogin && lost, "re-login after {:?}", happened);
                prop_assert_eq!(counts.relogins, before.relogins + 1);
            }
            Next::Retry { after } => {
                let Happened::Failed { failure, server_asked, .. } = happened else {
                    return Err(TestCaseError::fail(format!("retried {happened:?}")));
                };
                prop_assert!(attempts < policy.max_attempts && policy.retries(failure));
                prop_assert!(!matches!(failure, Failure::Content(_)));
                prop_assert_eq!(counts.retries, before.retries + 1);
                prop_assert_eq!(counts.previous_delay, after);
                let ceiling = match policy.backoff {
                    Backoff::Immediate => Duration::ZERO,
                    Backoff::Fixed(d) => d,
                    Backoff::Exponential { cap, .. } => cap,
                };
                let asked = match (policy.retry_after, server_asked) {
                    (RetryAfter::Ignore, _) | (_, None) => Duration::ZERO,
                    (RetryAfter::Honour, Some(a)) => a,
                    (RetryAfter::Cap(c), Some(a)) => a.min(c),
                };
                prop_assert!(after <= ceiling.max(asked), "{:?} over {:?}", after, ceiling.max(asked));
            }
            Next::Reload { after } => {
                prop_assert_eq!(counts.reloads, before.reloads + 1);
                match after {
                    None => prop_assert_eq!(happened, Happened::PageTimedOut),
                    Some(after) => {
                        let Happened::Failed { failure, .. } = happened else {
                            return Err(TestCaseError::fail(format!("reloaded {happened:?}")));
                        };
                        prop_assert!(patience && is_error_page(failure));
                        prop_assert!((Duration::from_secs(1)..=Duration::from_secs(5)).contains(&after));
                    }
                }
            }
        }
    }

    /// A step whose every attempt fails ends: within the application's attempts, the
    /// person's reloads and the re-logins, whatever the policy.
    #[test]
    fn a_step_that_keeps_failing_ends(
        failure in prop::sample::select(vec![status(503), status(429), status(401), transport(ErrorKind::Timeout), transport(ErrorKind::Reset), Happened::PageTimedOut]),
        policy in policy(),
        patience in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let rules = person(&policy, patience, true);
        let (mut counts, mut budget, mut rng) = (Counts::default(), BudgetState::new(policy.budget.as_ref()), Rng::new(seed));
        let mut cause = Cause::First;
        let bound = policy.max_attempts + rules.max_reloads + rules.max_relogins + 1;
        for turn in 0..=bound {
            counts.start(cause, &mut budget);
            cause = match decide(&failure, &rules, &mut counts, &mut budget, Duration::ZERO, &mut rng) {
                Next::Fail(end) => {
                    prop_assert_eq!(end, End::Failed);
                    return Ok(());
                }
                Next::Retry { .. } => Cause::AppRetry,
                Next::Reload { .. } => Cause::Reload,
                Next::Relogin => Cause::Relogin,
                other => return Err(TestCaseError::fail(format!("turn {turn}: {other:?} after {failure:?}"))),
            };
        }
        prop_assert!(false, "still going after {} turns: {:?}", bound, counts);
    }
}
