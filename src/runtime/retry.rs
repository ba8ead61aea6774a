//! Client retry behaviour: which failures are retried, how long to wait (backoff with jitter,
//! `Retry-After`), and the per-user budget that caps retries. Formulas from docs/background.md#backoff and #retry-budgets
//! (Brooker; the SRE book; the AWS SDKs).

use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, RETRY_AFTER};

use crate::metrics::ErrorKind;
use crate::rng::Rng;
use crate::scenario::{Backoff, Budget, Jitter, RetryAfter, RetryPolicy};

/// What an attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No HTTP answer: connect error, timeout, reset, protocol error…
    Transport(ErrorKind),
    /// An HTTP answer the step does not accept.
    Status(u16),
    /// Answered, but the check or a capture failed: retrying would not help.
    Content(ErrorKind),
}

impl RetryPolicy {
    /// Whether this failure is worth another attempt under the policy (attempt limits and
    /// budgets aside). Never other 4xx: the request itself is wrong.
    pub fn retries(&self, failure: Failure) -> bool {
        let on = &self.retry_on;
        match failure {
            Failure::Transport(ErrorKind::Connect) => on.connect,
            Failure::Transport(ErrorKind::Timeout) => on.timeout,
            Failure::Transport(ErrorKind::Reset) => on.reset,
            Failure::Transport(_) => false,
            Failure::Status(code) => on.statuses.contains(&code),
            Failure::Content(_) => false,
        }
    }
}

/// The delay before retry number `retry` (0 for the first retry). `previous` is the last
/// delay used (for decorrelated jitter; pass `Duration::ZERO` before the first retry).
pub fn backoff_delay(backoff: &Backoff, retry: u32, previous: Duration, rng: &mut Rng) -> Duration {
    match *backoff {
        Backoff::Immediate => Duration::ZERO,
        Backoff::Fixed(delay) => delay,
        Backoff::Exponential { base, factor, cap, jitter } => {
            let cap_s = cap.as_secs_f64();
            let base_s = base.as_secs_f64();
            let expo = (base_s * factor.powi(retry.min(1000) as i32)).min(cap_s);
            let seconds = match jitter {
                Jitter::None => expo,
                Jitter::Full => rng.next_f64() * expo,
                Jitter::Equal => expo / 2.0 + rng.next_f64() * expo / 2.0,
                Jitter::Decorrelated => {
                    let prev = if previous.is_zero() { base_s } else { previous.as_secs_f64() };
                    let high = (3.0 * prev).max(base_s);
                    (base_s + rng.next_f64() * (high - base_s)).min(cap_s)
                }
            };
            Duration::try_from_secs_f64(seconds).unwrap_or(cap)
        }
    }
}

/// Combine the backoff delay with the server's `Retry-After`, as the policy says.
pub fn with_retry_after(policy: RetryAfter, backoff: Duration, server: Option<Duration>) -> Duration {
    match (policy, server) {
        (RetryAfter::Ignore, _) | (_, None) => backoff,
        (RetryAfter::Honour, Some(asked)) => backoff.max(asked),
        (RetryAfter::Cap(cap), Some(asked)) => backoff.max(asked.min(cap)),
    }
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = crate::http::parse_http_date(text)?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// One user's retry budget (each virtual user is one client device with its own).
#[derive(Debug, Clone, Copy)]
pub struct BudgetState {
    tokens: f64,
    first_attempts: u64,
    retries: u64,
}

impl BudgetState {
    pub fn new(budget: Option<&Budget>) -> Self {
        let tokens = match budget {
            Some(Budget::Token { capacity, .. }) => *capacity,
            _ => 0.0,
        };
        BudgetState { tokens, first_attempts: 0, retries: 0 }
    }

    pub fn first_attempt(&mut self) {
        self.first_attempts += 1;
    }

    /// Ask for one retry; `since_arrival` feeds a ratio budget's per-second allowance.
    /// Spends the budget when granted.
    pub fn allow(&mut self, budget: Option<&Budget>, after_timeout: bool, since_arrival: Duration) -> bool {
        let granted = match budget {
            None => true,
            Some(Budget::Ratio { ratio, min_per_second }) => {
                let allowance = ratio * self.first_attempts as f64 + min_per_second * since_arrival.as_secs_f64();
                (self.retries as f64) < allowance
            }
            Some(Budget::Token { cost, timeout_cost, .. }) => {
                let cost = if after_timeout { *timeout_cost } else { *cost };
                if self.tokens >= cost {
                    self.tokens -= cost;
                    true
                } else {
                    false
                }
            }
        };
        if granted {
            self.retries += 1;
        }
        granted
    }

    /// A success refunds a token bucket.
    pub fn success(&mut self, budget: Option<&Budget>) {
        if let Some(Budget::Token { capacity, refund, .. }) = budget {
            self.tokens = (self.tokens + refund).min(*capacity);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::RetryOn;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn expo(jitter: Jitter) -> Backoff {
        Backoff::Exponential { base: ms(500), factor: 2.0, cap: Duration::from_secs(20), jitter }
    }

    #[test]
    fn exponential_without_jitter_doubles_up_to_the_cap() {
        let mut rng = Rng::new(1);
        let delays: Vec<Duration> =
            (0..8).map(|k| backoff_delay(&expo(Jitter::None), k, Duration::ZERO, &mut rng)).collect();
        assert_eq!(delays, [ms(500), ms(1000), ms(2000), ms(4000), ms(8000), ms(16000), ms(20000), ms(20000)]);
    }

    #[test]
    fn jitter_kinds_stay_in_their_ranges_and_follow_the_seed() {
        for k in 0..10 {
            let ceiling = (0.5 * 2f64.powi(k as i32)).min(20.0);
            let mut a = Rng::new(42);
            let mut b = Rng::new(42);
            let full = backoff_delay(&expo(Jitter::Full), k, Duration::ZERO, &mut a).as_secs_f64();
            assert_eq!(full, backoff_delay(&expo(Jitter::Full), k, Duration::ZERO, &mut b).as_secs_f64());
            assert!((0.0..=ceiling).contains(&full), "full {full} for k={k}");
            let equal = backoff_delay(&expo(Jitter::Equal), k, Duration::ZERO, &mut a).as_secs_f64();
            assert!((ceiling / 2.0..=ceiling).contains(&equal), "equal {equal} for k={k}");
        }
        // Decorrelated: min(cap, U(base, 3·prev)), each delay within its bounds.
        let mut rng = Rng::new(7);
        let mut prev = Duration::ZERO;
        for k in 0..20 {
            let d = backoff_delay(&expo(Jitter::Decorrelated), k, prev, &mut rng);
            let high = (3.0 * if prev.is_zero() { 0.5 } else { prev.as_secs_f64() }).max(0.5);
            assert!(d >= ms(500) && d.as_secs_f64() <= high.min(20.0) + 1e-9, "{d:?} after {prev:?}");
            prev = d;
        }
    }

    #[test]
    fn exact_delays_for_a_fixed_seed() {
        // Pinned so that a change to the formulas or the generator is noticed.
        let mut rng = Rng::new(2021);
        let full: Vec<u128> =
            (0..4).map(|k| backoff_delay(&expo(Jitter::Full), k, Duration::ZERO, &mut rng).as_micros()).collect();
        let mut rng = Rng::new(2021);
        let expected: Vec<u128> = (0..4)
            .map(|k| {
                let ceiling = 0.5 * 2f64.powi(k);
                Duration::from_secs_f64(rng.next_f64() * ceiling).as_micros()
            })
            .collect();
        assert_eq!(full, expected);
        assert_eq!(backoff_delay(&Backoff::Fixed(ms(300)), 5, Duration::ZERO, &mut rng), ms(300));
        assert_eq!(backoff_delay(&Backoff::Immediate, 5, Duration::ZERO, &mut rng), Duration::ZERO);
    }

    #[test]
    fn retry_after_in_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, "Thu, 01 Jan 1970 00:00:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::ZERO), "a date in the past means now");
        let future = SystemTime::now() + Duration::from_secs(120);
        let text = httpdate_text(future);
        headers.insert(RETRY_AFTER, text.parse().unwrap());
        let got = retry_after(&headers).unwrap();
        assert!(got > Duration::from_secs(115) && got <= Duration::from_secs(120), "{got:?} from {text}");
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
        assert_eq!(with_retry_after(RetryAfter::Honour, ms(100), Some(ms(5000))), ms(5000));
        assert_eq!(with_retry_after(RetryAfter::Ignore, ms(100), Some(ms(5000))), ms(100));
        assert_eq!(with_retry_after(RetryAfter::Cap(ms(2000)), ms(100), Some(ms(5000))), ms(2000));
        assert_eq!(with_retry_after(RetryAfter::Honour, ms(100), None), ms(100));
    }

    fn httpdate_text(t: SystemTime) -> String {
        httpdate::fmt_http_date(t)
    }

    #[test]
    fn only_retryable_failures_are_retried() {
        let policy = RetryPolicy { max_attempts: 3, retry_on: RetryOn::default(), ..RetryPolicy::none() };
        assert!(policy.retries(Failure::Transport(ErrorKind::Connect)));
        assert!(policy.retries(Failure::Transport(ErrorKind::Timeout)));
        assert!(policy.retries(Failure::Status(503)));
        assert!(policy.retries(Failure::Status(429)));
        assert!(!policy.retries(Failure::Status(404)));
        assert!(!policy.retries(Failure::Status(500)), "500 is not in the default list");
        assert!(!policy.retries(Failure::Transport(ErrorKind::Protocol)));
        assert!(!policy.retries(Failure::Content(ErrorKind::Capture)));
    }

    #[test]
    fn token_budget_spends_and_refunds() {
        let budget = Budget::Token { capacity: 3.0, cost: 1.0, timeout_cost: 2.0, refund: 0.5 };
        let mut state = BudgetState::new(Some(&budget));
        assert!(state.allow(Some(&budget), true, Duration::ZERO)); // 3 → 1
        assert!(state.allow(Some(&budget), false, Duration::ZERO)); // 1 → 0
        assert!(!state.allow(Some(&budget), false, Duration::ZERO));
        state.success(Some(&budget));
        state.success(Some(&budget)); // 0 → 1
        assert!(state.allow(Some(&budget), false, Duration::ZERO));
        assert!(!state.allow(Some(&budget), false, Duration::ZERO));
        for _ in 0..20 {
            state.success(Some(&budget));
        }
        assert!(state.allow(Some(&budget), true, Duration::ZERO), "refunds are capped at capacity, 3 ≥ 2");
        assert!(state.allow(Some(&budget), false, Duration::ZERO));
        assert!(!state.allow(Some(&budget), false, Duration::ZERO));
    }

    #[test]
    fn ratio_budget_allows_a_share_of_first_attempts() {
        let budget = Budget::Ratio { ratio: 0.1, min_per_second: 0.0 };
        let mut state = BudgetState::new(Some(&budget));
        for _ in 0..20 {
            state.first_attempt();
        }
        assert!(state.allow(Some(&budget), false, Duration::ZERO));
        assert!(state.allow(Some(&budget), false, Duration::ZERO));
        assert!(!state.allow(Some(&budget), false, Duration::ZERO), "10% of 20 is 2");
        let with_floor = Budget::Ratio { ratio: 0.0, min_per_second: 1.0 };
        let mut state = BudgetState::new(Some(&with_floor));
        assert!(!state.allow(Some(&with_floor), false, Duration::ZERO));
        assert!(state.allow(Some(&with_floor), false, Duration::from_secs(2)));
        assert!(state.allow(Some(&with_floor), false, Duration::from_secs(2)));
        assert!(!state.allow(Some(&with_floor), false, Duration::from_secs(2)));
    }
}
