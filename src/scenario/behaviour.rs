//! Client behaviour and events: retry policies and budgets, patience, re-login, the
//! waiting-room client, persona windows, staggered starts, and storms. The numbers behind the
//! defaults are in docs/background.md#retries and #retry-model.

use std::time::Duration;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::{
    Backoff, Budget, Event, GoalPatience, Jitter, RetryAfter, RetryOn, RetryPolicy, Stagger, WaitingRoomClient,
};
use crate::scenario::raw::{RawEvent, RawPatience, RawRetry, RawStagger, RawWaitingRoom, RawWindow, Scalar};
use crate::scenario::suggest;
use crate::scenario::validate::{duration_at, time_in_run};

type Result<T> = std::result::Result<T, ScenarioError>;

const POLICIES: [&str; 4] = ["none", "immediate", "fixed", "exponential"];
const JITTERS: [&str; 4] = ["none", "full", "equal", "decorrelated"];
const RETRY_ON: [&str; 3] = ["connect", "timeout", "reset"];

/// A retry policy (`retry:` on a persona or a step).
pub fn retry_policy(src: &Source, path: &str, raw: &RawRetry) -> Result<RetryPolicy> {
    let key = |k: &str| join(path, k);
    let policy = raw.policy.as_deref().map(str::trim).unwrap_or("exponential");
    if !POLICIES.contains(&policy) {
        return Err(src
            .error(
                &key("policy"),
                At::Value,
                format!("unknown retry policy `{policy}`: expected {}", suggest::one_of(&POLICIES)),
            )
            .with_hint_opt(suggest::did_you_mean(policy, POLICIES)));
    }
    let only_for = |k: &str, set: bool, wanted: &[&str]| -> Result<()> {
        if set && !wanted.contains(&policy) {
            return Err(src
                .error(&key(k), At::Key, format!("`{k}` does not apply to `policy: {policy}`"))
                .with_hint(format!("`{k}` is for `policy: {}`", wanted.join("` or `"))));
        }
        Ok(())
    };
    only_for("delay", raw.delay.is_some(), &["fixed"])?;
    only_for("base", raw.base.is_some(), &["exponential"])?;
    only_for("factor", raw.factor.is_some(), &["exponential"])?;
    only_for("cap", raw.cap.is_some(), &["exponential"])?;
    only_for("jitter", raw.jitter.is_some(), &["exponential"])?;
    let backoff = match policy {
        "none" | "immediate" => Backoff::Immediate,
        "fixed" => {
            let Some(delay) = &raw.delay else {
                return Err(src
                    .error(path, At::Value, "`policy: fixed` needs `delay`")
                    .with_hint("e.g. `{ policy: fixed, delay: 3s, max_attempts: 5 }`"));
            };
            Backoff::Fixed(duration_at(src, &key("delay"), delay)?)
        }
        _ => {
            let base = match &raw.base {
                Some(t) => duration_at(src, &key("base"), t)?,
                None => Duration::from_millis(500),
            };
            let cap = match &raw.cap {
                Some(t) => duration_at(src, &key("cap"), t)?,
                None => Duration::from_secs(20),
            };
            let factor = raw.factor.unwrap_or(2.0);
            if !(factor.is_finite() && factor >= 1.0) {
                return Err(src.error(&key("factor"), At::Value, format!("factor must be at least 1, not {factor}")));
            }
            if base.is_zero() {
                return Err(src
                    .error(&key("base"), At::Value, "base must be more than 0s")
                    .with_hint("for no delay, use `policy: immediate`"));
            }
            if cap < base {
                return Err(src.error(&key("cap"), At::Value, "cap is below base"));
            }
            let jitter = match raw.jitter.as_deref().map(str::trim).unwrap_or("full") {
                "none" => Jitter::None,
                "full" => Jitter::Full,
                "equal" => Jitter::Equal,
                "decorrelated" => Jitter::Decorrelated,
                other => {
                    return Err(src
                        .error(
                            &key("jitter"),
                            At::Value,
                            format!("unknown jitter `{other}`: expected {}", suggest::one_of(&JITTERS)),
                        )
                        .with_hint_opt(suggest::did_you_mean(other, JITTERS)))
                }
            };
            Backoff::Exponential { base, factor, cap, jitter }
        }
    };
    let max_attempts = match (policy, raw.max_attempts) {
        ("none", Some(n)) if n > 1 => {
            return Err(src
                .error(&key("max_attempts"), At::Value, "`policy: none` never retries")
                .with_hint("choose `immediate`, `fixed` or `exponential` to retry"))
        }
        ("none", _) => 1,
        (_, Some(0)) => {
            return Err(src.error(&key("max_attempts"), At::Value, "max_attempts counts the first attempt: at least 1"))
        }
        (_, Some(n)) => n,
        (_, None) => 3,
    };
    let attempt_timeout = match &raw.timeout {
        Some(t) => Some(duration_at(src, &key("timeout"), t)?).filter(|d| !d.is_zero()),
        None => None,
    };
    let retry_on = match &raw.on {
        None => RetryOn::default(),
        Some(list) => {
            let mut on = RetryOn { connect: false, timeout: false, reset: false, statuses: Vec::new() };
            for (i, item) in list.iter().enumerate() {
                let at = format!("{}[{i}]", key("on"));
                let text = item.as_str().trim();
                match text {
                    "connect" => on.connect = true,
                    "timeout" => on.timeout = true,
                    "reset" => on.reset = true,
                    _ => match text.parse::<u16>() {
                        Ok(code) if code == 429 || (500..=599).contains(&code) => on.statuses.push(code),
                        Ok(code) if (400..=499).contains(&code) => {
                            return Err(src
                                .error(
                                    &at,
                                    At::Value,
                                    format!(
                                        "{code} is not retried: a 4xx other than 429 means the request itself is wrong"
                                    ),
                                )
                                .with_hint("retry `429` and 5xx statuses, or `connect`, `timeout`, `reset`"))
                        }
                        _ => {
                            return Err(src
                                .error(&at, At::Value, format!("`{text}` is not something to retry on"))
                                .with_hint_opt(suggest::did_you_mean(text, RETRY_ON).or_else(|| {
                                    Some(
                                        "use `connect`, `timeout`, `reset`, `429` or a 5xx status such as `503`".into(),
                                    )
                                })))
                        }
                    },
                }
            }
            on
        }
    };
    let retry_after = match raw.retry_after.as_ref().map(|s| s.as_str().trim()) {
        None | Some("honour") | Some("honor") => RetryAfter::Honour,
        Some("ignore") => RetryAfter::Ignore,
        Some(other) => {
            RetryAfter::Cap(duration_at(src, &key("retry_after"), &Scalar(other.to_string())).map_err(|e| {
                e.with_hint("`retry_after` is `honour`, `ignore`, or a cap such as `120s` (honour up to that)")
            })?)
        }
    };
    let budget = match &raw.budget {
        None => None,
        Some(b) => {
            let bpath = key("budget");
            match (&b.ratio, b.tokens) {
                (Some(ratio), None) => {
                    if b.cost.is_some() || b.refund.is_some() || b.timeout_cost.is_some() {
                        return Err(src.error(&bpath, At::Value, "a budget is either a ratio (`ratio`, `min_per_second`) or a token bucket (`tokens`, `cost`, `refund`), not both"));
                    }
                    let ratio = percent_at(src, &join(&bpath, "ratio"), ratio)?;
                    Some(Budget::Ratio { ratio, min_per_second: b.min_per_second.unwrap_or(0.0).max(0.0) })
                }
                (None, Some(tokens)) => {
                    if b.min_per_second.is_some() {
                        return Err(src.error(&join(&bpath, "min_per_second"), At::Key, "`min_per_second` belongs to a ratio budget"));
                    }
                    if !(tokens.is_finite() && tokens > 0.0) {
                        return Err(src.error(&join(&bpath, "tokens"), At::Value, "tokens must be more than 0"));
                    }
                    let cost = b.cost.unwrap_or(1.0).max(0.0);
                    Some(Budget::Token { capacity: tokens, cost, timeout_cost: b.timeout_cost.unwrap_or(cost).max(0.0), refund: b.refund.unwrap_or(0.1).max(0.0) })
                }
                _ => {
                    return Err(src
                        .error(&bpath, At::Value, "a budget needs `ratio` (a share of requests) or `tokens` (a token bucket), not both")
                        .with_hint("e.g. `budget: { ratio: 10%, min_per_second: 1 }` or `budget: { tokens: 10, cost: 1, refund: 0.1 }`"))
                }
            }
        }
    };
    Ok(RetryPolicy { backoff, max_attempts, attempt_timeout, retry_on, retry_after, budget })
}

/// `patience:` of a persona: (page patience, goal patience).
pub fn patience(src: &Source, path: &str, raw: &RawPatience) -> Result<(Option<Duration>, Option<GoalPatience>)> {
    let key = |k: &str| join(path, k);
    let page = match &raw.page {
        Some(t) => Some(duration_at(src, &key("page"), t)?).filter(|d| !d.is_zero()),
        None => None,
    };
    let goal = match &raw.goal {
        None => {
            if raw.return_probability.is_some() || raw.return_after.is_some() || raw.goal_sigma.is_some() {
                return Err(src
                    .error(path, At::Value, "`return`, `return_after` and `goal_sigma` need a `goal` patience")
                    .with_hint("e.g. `patience: { goal: 30m, return: 50%, return_after: 30m..60m }`"));
            }
            None
        }
        Some(t) => {
            let median = duration_at(src, &key("goal"), t)?;
            if median.is_zero() {
                return Err(src.error(&key("goal"), At::Value, "goal patience must be more than 0s"));
            }
            let sigma = raw.goal_sigma.unwrap_or(0.8);
            if !(sigma.is_finite() && sigma >= 0.0) {
                return Err(src.error(&key("goal_sigma"), At::Value, "goal_sigma must be 0 or more"));
            }
            let return_probability = match &raw.return_probability {
                Some(p) => percent_at(src, &key("return"), p)?,
                None => 0.0,
            };
            let return_after = match &raw.return_after {
                Some(text) => range_at(src, &key("return_after"), text)?,
                None => (Duration::from_secs(30), Duration::from_secs(60)),
            };
            Some(GoalPatience { median, sigma, return_probability, return_after })
        }
    };
    Ok((page, goal))
}

pub fn waiting_room(src: &Source, path: &str, raw: &RawWaitingRoom) -> Result<WaitingRoomClient> {
    let statuses = raw.status.clone().unwrap_or_else(|| vec![202, 429, 503]);
    if let Some((i, bad)) = statuses.iter().enumerate().find(|(_, s)| !(100..=599).contains(*s)) {
        return Err(src.error(
            &format!("{}[{i}]", join(path, "status")),
            At::Value,
            format!("{bad} is not an HTTP status"),
        ));
    }
    let default_poll = match &raw.poll {
        Some(t) => duration_at(src, &join(path, "poll"), t)?,
        None => Duration::from_secs(20),
    };
    if default_poll.is_zero() {
        return Err(src.error(&join(path, "poll"), At::Value, "the poll interval must be more than 0s"));
    }
    Ok(WaitingRoomClient {
        statuses,
        json_field: raw.json_field.clone(),
        location_contains: raw.location_contains.clone(),
        default_poll,
    })
}

/// Windows `[{ from, to }]` within the run.
pub fn windows(src: &Source, path: &str, raw: &[RawWindow], duration: Duration) -> Result<Vec<(Duration, Duration)>> {
    raw.iter()
        .enumerate()
        .map(|(i, w)| {
            let at = format!("{path}[{i}]");
            let from = time_in_run(src, &join(&at, "from"), &w.from, duration)?;
            let to = duration_at(src, &join(&at, "to"), &w.to)?;
            if to <= from {
                return Err(src.error(&join(&at, "to"), At::Value, "`to` must be after `from`"));
            }
            Ok((from, to))
        })
        .collect()
}

pub fn stagger(src: &Source, path: &str, raw: &RawStagger, duration: Duration) -> Result<Stagger> {
    if raw.waves < 1 {
        return Err(src.error(&join(path, "waves"), At::Value, "at least 1 wave"));
    }
    let gap = duration_at(src, &join(path, "gap"), &raw.gap)?;
    let last = gap.saturating_mul(raw.waves - 1);
    if last >= duration {
        return Err(src
            .error(
                path,
                At::Value,
                format!(
                    "the last wave would start {} in, after the end of the run",
                    crate::scenario::units::format_duration(last)
                ),
            )
            .with_hint("use fewer waves, a shorter gap, or a longer duration"));
    }
    Ok(Stagger { waves: raw.waves, gap })
}

/// `events:` of the scenario, in time order. `personas` are the persona names in order.
pub fn events(src: &Source, raw: &[RawEvent], personas: &[&str], duration: Duration) -> Result<Vec<Event>> {
    let mut events = Vec::with_capacity(raw.len());
    for (i, event) in raw.iter().enumerate() {
        let path = format!("events[{i}]");
        let Some(at) = &event.at else {
            return Err(src
                .error(&path, At::Value, "an event needs `at`: when it happens")
                .with_hint("e.g. `{ at: 2m, storm: { personas: [pupil] } }`"));
        };
        let at = time_in_run(src, &join(&path, "at"), at, duration)?;
        let Some(storm) = &event.storm else {
            return Err(src
                .error(&path, At::Value, "an event needs a kind: `storm`")
                .with_hint("e.g. `{ at: 2m, storm: { personas: [pupil] } }`"));
        };
        let spath = join(&path, "storm");
        let indices = match &storm.personas {
            None => (0..personas.len()).collect(),
            Some(names) => {
                let mut indices = Vec::new();
                for (j, name) in names.iter().enumerate() {
                    match personas.iter().position(|p| p == name) {
                        Some(p) => indices.push(p),
                        None => {
                            return Err(src
                                .error(
                                    &format!("{}[{j}]", join(&spath, "personas")),
                                    At::Value,
                                    format!("no persona is called `{name}`"),
                                )
                                .with_hint_opt(suggest::did_you_mean(name, personas.iter().copied())))
                        }
                    }
                }
                indices
            }
        };
        let fraction = match &storm.fraction {
            Some(f) => percent_at(src, &join(&spath, "fraction"), f)?,
            None => 1.0,
        };
        events.push(Event::Storm { at, personas: indices, fraction });
    }
    events.sort_by_key(|Event::Storm { at, .. }| *at);
    Ok(events)
}

/// `10%`, `0.1` → 0.1; must be within [0, 1].
pub fn percent_at(src: &Source, path: &str, text: &Scalar) -> Result<f64> {
    let t = text.as_str().trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match value {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(src
            .error(path, At::Value, format!("`{t}` is not a share between 0% and 100%"))
            .with_hint("write it as `10%` or `0.1`")),
    }
}

/// `30s..60s` → (30 s, 60 s); a single duration is a range of one value.
fn range_at(src: &Source, path: &str, text: &Scalar) -> Result<(Duration, Duration)> {
    match text.as_str().split_once("..") {
        None => {
            let d = duration_at(src, path, text)?;
            Ok((d, d))
        }
        Some((low, high)) => {
            let low = duration_at(src, path, &Scalar(low.trim().to_string()))?;
            let high = duration_at(src, path, &Scalar(high.trim().to_string()))?;
            if low > high {
                return Err(src.error(path, At::Value, "the low end is above the high end"));
            }
            Ok((low, high))
        }
    }
}
