//! Thresholds: pass/fail rules over a run's metrics, written as one readable line each.
//!
//! ```text
//! pupil.login p95 < 2s             a step's latency percentile (from intended start)
//! pupil error_rate < 1%            a persona's share of failed requests
//! error rate < 1%                  the whole run's
//! pupil goal within 5m >= 99%      share of arrived pupils who reached their goal within 5 min
//! generator lag p99 < 5ms          the load generator's own lateness
//! requests > 100                   a count
//! ```
//!
//! Grammar: `[persona[.step]] metric op limit`. The scope comes first so that the line reads
//! like a sentence; step names may contain spaces (`pupil.GET /agenda p95 < 1s`) and are
//! matched against the persona's real step names, longest first. `_` and spaces are the same
//! in metric names (`error_rate` = `error rate`), and operators may be written with or
//! without spaces around them.
//!
//! Every metric is one entry of [`METRICS`]: its words, its unit, where it applies, and
//! whether the summary can measure it yet. Adding a metric (e.g. when `amplification`
//! arrives with retries) is one entry plus one arm in `analysis::thresholds`.
//!
//! The limit must carry the metric's unit: a latency needs `ms`/`s`, a rate needs `%`. A bare
//! `1` is refused for a rate because it could mean 1% or 100%, and a wrong guess silently
//! turns a gate off.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::suggest;
use crate::scenario::units::parse_duration;

/// One validated threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The rule as written (whitespace trimmed): its name in reports and JUnit.
    pub text: String,
    pub scope: Scope,
    pub metric: Metric,
    pub op: Op,
    /// The limit in the metric's base unit: microseconds, a fraction (`1%` = 0.01), a count
    /// or a ratio.
    pub limit: f64,
    /// The limit as written, for messages (`2s`, `1%`).
    pub limit_text: String,
}

/// What part of the run a threshold looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every request / every user of the run.
    Run,
    Persona(String),
    Step {
        persona: String,
        step: String,
    },
}

impl Scope {
    /// Whether the requests of `persona`'s step `step` are among those this scope measures.
    pub fn covers(&self, persona: &str, step: &str) -> bool {
        match self {
            Scope::Run => true,
            Scope::Persona(p) => p == persona,
            Scope::Step { persona: p, step: s } => p == persona && s == step,
        }
    }
}

impl Threshold {
    /// A latency the requests must stay under (`p95 < 2s`, `max <= 5s`): something a latency
    /// axis can mark. Lower bounds (`p50 > 1ms`) say nothing about slowness.
    pub fn is_latency_ceiling(&self) -> bool {
        matches!(self.metric, Metric::Latency(_)) && matches!(self.op, Op::Lt | Op::Le)
    }
}

/// The tightest latency ceiling among `thresholds`: the smallest limit, the one a run is
/// judged by first (the generator's lag budget and the report's latency charts both use it).
pub fn tightest_latency_ceiling<'a>(thresholds: impl IntoIterator<Item = &'a Threshold>) -> Option<&'a Threshold> {
    thresholds.into_iter().filter(|t| t.is_latency_ceiling()).min_by(|a, b| a.limit.total_cmp(&b.limit))
}

/// A statistic of a latency distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// A percentile, 0 < p < 100 (`p95`, `p99.9`; `median` is `p50`).
    Percentile(f64),
    Min,
    Max,
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Request latency from intended start.
    Latency(Stat),
    /// Failed requests ÷ finished requests.
    ErrorRate,
    /// Requests sent.
    Requests,
    /// Requests that failed.
    Errors,
    /// Share of arrived users who reached their goal within this long of arriving.
    GoalWithin(Duration),
    /// Time from arrival to goal, for users who reached it.
    TimeToGoal(Stat),
    /// Actual minus intended start of arrivals and of requests after think time.
    GeneratorLag(Stat),
    /// Attempts per successful goal (docs/background.md#amplification). Not measured yet.
    Amplification,
}

/// The unit of a metric, which decides how its limit is written and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Microseconds; written `500ms`, `2s`.
    Duration,
    /// A fraction; written `1%`.
    Percent,
    /// A number of requests or users; written `100`.
    Count,
    /// A multiplier; written `1.5` (or `1.5x`).
    Ratio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
            Op::Eq => measured == limit,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }
}

/// Where a metric can be measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Run,
    Persona,
    Step,
}

/// One entry of the metric registry.
pub struct MetricDef {
    /// The words as shown in messages, with a placeholder for a parameter.
    pub spelling: &'static str,
    pub unit: Unit,
    pub levels: &'static [Level],
    /// `Err(why)` when the summary cannot measure it yet.
    pub available: std::result::Result<(), &'static str>,
}

const ALL: &[Level] = &[Level::Run, Level::Persona, Level::Step];
const USERS: &[Level] = &[Level::Run, Level::Persona];
const RUN: &[Level] = &[Level::Run];

/// Every metric a threshold can name, in the order the docs list them.
pub const METRICS: &[MetricDef] = &[
    MetricDef { spelling: "p95", unit: Unit::Duration, levels: ALL, available: Ok(()) },
    MetricDef { spelling: "error_rate", unit: Unit::Percent, levels: ALL, available: Ok(()) },
    MetricDef { spelling: "requests", unit: Unit::Count, levels: ALL, available: Ok(()) },
    MetricDef { spelling: "errors", unit: Unit::Count, levels: ALL, available: Ok(()) },
    MetricDef { spelling: "goal within 5m", unit: Unit::Percent, levels: USERS, available: Ok(()) },
    MetricDef { spelling: "time_to_goal p95", unit: Unit::Duration, levels: USERS, available: Ok(()) },
    MetricDef { spelling: "generator lag p99", unit: Unit::Duration, levels: RUN, available: Ok(()) },
    MetricDef { spelling: "amplification", unit: Unit::Ratio, levels: USERS, available: Ok(()) },
];

impl Metric {
    /// This metric's registry entry.
    pub fn def(&self) -> &'static MetricDef {
        let index = match self {
            Metric::Latency(_) => 0,
            Metric::ErrorRate => 1,
            Metric::Requests => 2,
            Metric::Errors => 3,
            Metric::GoalWithin(_) => 4,
            Metric::TimeToGoal(_) => 5,
            Metric::GeneratorLag(_) => 6,
            Metric::Amplification => 7,
        };
        &METRICS[index]
    }

    pub fn unit(&self) -> Unit {
        self.def().unit
    }
}

/// The personas and their step names, to resolve scopes.
#[derive(Debug, Default, Clone)]
pub struct Names {
    pub personas: Vec<(String, Vec<String>)>,
}

/// Why a threshold (or a claim) does not parse: a message, an optional hint, and the byte
/// offset in the text of what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl ParseError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        ParseError { offset, message: message.into(), hint: None }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn hint_opt(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }
}

type Result<T> = std::result::Result<T, ParseError>;

const EXAMPLE: &str = "e.g. `pupil.login p95 < 2s`, `error_rate < 1%` or `pupil goal within 5m >= 99%`";

/// Parse one threshold line against the scenario's names. Error offsets are byte offsets
/// into `text`.
pub fn parse(text: &str, names: &Names) -> Result<Threshold> {
    let lead = text.len() - text.trim_start().len();
    parse_trimmed(text.trim(), names).map_err(|e| ParseError { offset: e.offset + lead, ..e })
}

fn parse_trimmed(text: &str, names: &Names) -> Result<Threshold> {
    let (subject, op, value_at) = split_comparison(text)?;
    let after_op = &text[value_at..];
    let value_text = after_op.trim();
    let value_offset = value_at + (after_op.len() - after_op.trim_start().len());
    let (scope, metric_at) = scope(subject, names)?;
    let metric = metric(&subject[metric_at..], metric_at, &scope, names)?;
    let def = metric.def();
    if let Err(why) = def.available {
        let metric_at = metric_at + (subject[metric_at..].len() - subject[metric_at..].trim_start().len());
        return Err(ParseError::new(metric_at, format!("`{}` is not available yet: {why}", def.spelling))
            .hint("remove this threshold for now"));
    }
    let limit = limit(value_text, def.unit).map_err(|e| ParseError { offset: value_offset, ..e })?;
    Ok(Threshold { text: text.to_string(), scope, metric, op, limit, limit_text: value_text.to_string() })
}

/// Split `subject op value`; returns the subject, the operator and where the value starts.
pub(crate) fn split_comparison(text: &str) -> Result<(&str, Op, usize)> {
    let Some(at) = text.find(['<', '>', '=', '≤', '≥', '!']) else {
        return Err(ParseError::new(text.len(), format!("`{text}` has no comparison"))
            .hint(format!("end it with `<`, `<=`, `>`, `>=` or `==` and a limit, {EXAMPLE}")));
    };
    let rest = &text[at..];
    let table: [(&str, Option<Op>, &str); 12] = [
        ("<=", Some(Op::Le), ""),
        (">=", Some(Op::Ge), ""),
        ("==", Some(Op::Eq), ""),
        ("≤", Some(Op::Le), ""),
        ("≥", Some(Op::Ge), ""),
        ("=<", None, "write `<=`"),
        ("=>", None, "write `>=`"),
        ("!=", None, "`!=` is not supported: say what the value must be, with `<`, `>` or `==`"),
        ("<", Some(Op::Lt), ""),
        (">", Some(Op::Gt), ""),
        ("=", None, "write `==` to compare for equality (`=` alone is ambiguous)"),
        ("!", None, "compare with `<`, `<=`, `>`, `>=` or `==`"),
    ];
    for (symbol, op, fix) in table {
        if rest.starts_with(symbol) {
            let Some(op) = op else {
                return Err(ParseError::new(at, format!("`{symbol}` is not a comparison")).hint(fix));
            };
            let value_at = at + symbol.len();
            if text[value_at..].trim().is_empty() {
                return Err(ParseError::new(text.len(), format!("nothing after `{symbol}`: the limit is missing"))
                    .hint(EXAMPLE));
            }
            if text[value_at..].contains(['<', '>', '=', '≤', '≥']) {
                return Err(ParseError::new(at, "a threshold has one comparison")
                    .hint("write each rule as its own line in `thresholds:`"));
            }
            if text[..at].trim().is_empty() {
                return Err(ParseError::new(0, "the metric is missing before the comparison").hint(EXAMPLE));
            }
            return Ok((&text[..at], op, value_at));
        }
    }
    unreachable!("the table covers every character searched for")
}

/// The scope at the start of `subject`, and where the metric words start.
fn scope(subject: &str, names: &Names) -> Result<(Scope, usize)> {
    let first_end = subject.find(char::is_whitespace).unwrap_or(subject.len());
    let first = &subject[..first_end];
    if let Some((persona, _)) = first.split_once('.') {
        if let Some((_, steps)) = names.personas.iter().find(|(p, _)| p == persona) {
            let rest_at = persona.len() + 1;
            let rest = &subject[rest_at..];
            // Longest step name first: `GET /files` must not win over `GET /files/{{ id }}`.
            let mut by_length: Vec<&String> = steps.iter().collect();
            by_length.sort_by_key(|s| std::cmp::Reverse(s.len()));
            for step in by_length {
                if rest.starts_with(step.as_str()) && rest[step.len()..].chars().next().is_none_or(char::is_whitespace)
                {
                    let scope = Scope::Step { persona: persona.to_string(), step: step.clone() };
                    return Ok((scope, rest_at + step.len()));
                }
            }
            let typed = rest.split_whitespace().next().unwrap_or("");
            let listed: Vec<&str> = steps.iter().map(String::as_str).collect();
            return Err(ParseError::new(
                rest_at,
                format!("persona `{persona}` has no step `{typed}`: its steps are {}", suggest::all_of(&listed)),
            )
            .hint_opt(suggest::did_you_mean(typed, listed.iter().copied())));
        }
        if !looks_like_metric(first) {
            let listed: Vec<&str> = names.personas.iter().map(|(p, _)| p.as_str()).collect();
            return Err(ParseError::new(
                0,
                format!("unknown persona `{persona}`: the personas are {}", suggest::all_of(&listed)),
            )
            .hint_opt(suggest::did_you_mean(persona, listed.iter().copied())));
        }
    }
    if names.personas.iter().any(|(p, _)| p == first) {
        return Ok((Scope::Persona(first.to_string()), first_end));
    }
    Ok((Scope::Run, 0))
}

/// Whether a word is the start of a metric rather than a scope (`p99.9` has a dot too).
fn looks_like_metric(word: &str) -> bool {
    percentile(word).is_some()
}

/// The metric words after the scope; `at` is their offset in the subject.
fn metric(words_text: &str, at: usize, scope: &Scope, names: &Names) -> Result<Metric> {
    let lead = words_text.len() - words_text.trim_start().len();
    let at = at + lead;
    // `_` and spaces are the same; case does not matter.
    let normal = words_text.trim().to_lowercase().replace('_', " ");
    let words: Vec<&str> = normal.split_whitespace().collect();
    if words.is_empty() {
        return Err(ParseError::new(at, "the metric is missing")
            .hint(format!("after the scope, name a metric: {}", metric_list())));
    }
    let stat_after = |prefix: usize, what: &str| -> Result<Stat> {
        match &words[prefix..] {
            [one] => stat(one).ok_or_else(|| {
                ParseError::new(at, format!("`{one}` is not a statistic of {what}"))
                    .hint("use a percentile such as `p50`, `p95`, `p99.9`, or `min`, `max`, `mean`")
            }),
            [] => Err(ParseError::new(at, format!("which statistic of {what}?"))
                .hint(format!("e.g. `{} p99`", words.join(" ")))),
            _ => Err(unknown_metric(&words.join(" "), at, names)),
        }
    };
    let metric = match words.as_slice() {
        ["latency", ..] => Metric::Latency(stat_after(1, "latency")?),
        [one] if stat(one).is_some() => Metric::Latency(stat_after(0, "latency")?),
        ["error", "rate"] | ["errors", "%"] => Metric::ErrorRate,
        ["requests"] => Metric::Requests,
        ["errors"] => Metric::Errors,
        ["amplification"] => Metric::Amplification,
        ["generator", "lag", ..] => Metric::GeneratorLag(stat_after(2, "generator lag")?),
        ["time", "to", "goal", ..] => Metric::TimeToGoal(stat_after(3, "time to goal")?),
        ["goal", "within", rest @ ..] | ["reached", "goal", "within", rest @ ..] => {
            let window = rest.join(" ");
            if window.is_empty() {
                return Err(
                    ParseError::new(at, "`goal within` needs a duration").hint("e.g. `pupil goal within 5m >= 99%`")
                );
            }
            let d = parse_duration(&window).map_err(|why| ParseError::new(at, why))?;
            if d.is_zero() {
                return Err(
                    ParseError::new(at, "`goal within 0s` can never be reached").hint("use a window such as `5m`")
                );
            }
            Metric::GoalWithin(d)
        }
        _ => return Err(unknown_metric(&words.join(" "), at, names)),
    };
    let level = match scope {
        Scope::Run => Level::Run,
        Scope::Persona(_) => Level::Persona,
        Scope::Step { .. } => Level::Step,
    };
    let def = metric.def();
    if !def.levels.contains(&level) {
        let (message, hint) = match (level, &metric) {
            (_, Metric::GeneratorLag(_)) => (
                "the generator lag is measured for the whole run, not per persona or step".to_string(),
                "write it without a persona: `generator lag p99 < 5ms`".to_string(),
            ),
            (Level::Step, _) => (
                format!("`{}` is measured per persona, not per step", words.join(" ")),
                match scope {
                    Scope::Step { persona, .. } => {
                        format!("write `{persona} {}` instead", words.join(" "))
                    }
                    _ => String::new(),
                },
            ),
            _ => (format!("`{}` cannot be measured here", words.join(" ")), metric_list()),
        };
        return Err(ParseError::new(at, message).hint(hint));
    }
    Ok(metric)
}

fn unknown_metric(typed: &str, at: usize, names: &Names) -> ParseError {
    const WORDS: [&str; 8] = [
        "latency",
        "error_rate",
        "requests",
        "errors",
        "goal_within",
        "time_to_goal",
        "generator_lag",
        "amplification",
    ];
    let first = typed.split_whitespace().next().unwrap_or(typed);
    // `eror rate` is closer to `error_rate` as a whole than word by word.
    let joined = typed.replace(' ', "_");
    let mut suggestion = suggest::did_you_mean(&joined, WORDS).or_else(|| suggest::did_you_mean(first, WORDS));
    let mut message = format!("unknown metric `{typed}`");
    if at == 0 && !names.personas.is_empty() {
        // Nothing matched as a scope either: the first word may be a misspelt persona.
        message = format!("`{first}` is neither a persona nor a metric");
        let personas = names.personas.iter().map(|(p, _)| p.as_str());
        suggestion = suggestion.or_else(|| suggest::did_you_mean(first, personas));
    }
    let hint = match suggestion {
        Some(dym) => format!("{dym} Metrics: {}", metric_list()),
        None => format!("metrics: {}", metric_list()),
    };
    ParseError::new(at, message).hint(hint)
}

fn metric_list() -> String {
    let spellings: Vec<&str> = METRICS.iter().map(|m| m.spelling).collect();
    suggest::all_of(&spellings).replace(" and ", ", ")
}

/// `p95`, `p99.9`, `median`, `min`, `max`, `mean`, `avg`.
pub(crate) fn stat(word: &str) -> Option<Stat> {
    match word {
        "median" => Some(Stat::Percentile(50.0)),
        "min" => Some(Stat::Min),
        "max" => Some(Stat::Max),
        "mean" | "avg" | "average" => Some(Stat::Mean),
        _ => percentile(word).map(Stat::Percentile),
    }
}

fn percentile(word: &str) -> Option<f64> {
    let digits = word.strip_prefix('p').or_else(|| word.strip_prefix('P'))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    digits.parse::<f64>().ok().filter(|p| *p > 0.0 && *p < 100.0)
}

/// Parse a limit in `unit`, into the unit's base (microseconds, fraction, count, ratio).
pub(crate) fn limit(text: &str, unit: Unit) -> Result<f64> {
    let err = |m: String| ParseError::new(0, m);
    match unit {
        Unit::Duration => parse_duration(text)
            .map(|d| d.as_secs_f64() * 1e6)
            .map_err(|why| err(why).hint("a latency limit is a duration, e.g. `2s` or `500ms`")),
        Unit::Percent => {
            let Some(number) = text.strip_suffix('%') else {
                return Err(err(format!("`{text}` needs a `%`: this limit is a percentage"))
                    .hint("e.g. `1%` or `0.1%` (a bare number could mean 1% or 100%)"));
            };
            let value: f64 = number
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| err(format!("`{text}` is not a percentage, e.g. `1%`")))?;
            if !(0.0..=100.0).contains(&value) {
                return Err(err(format!("`{text}` is not between 0% and 100%")));
            }
            Ok(value / 100.0)
        }
        Unit::Count => {
            let cleaned: String = text.chars().filter(|c| *c != '_' && *c != ',').collect();
            cleaned
                .parse::<u64>()
                .map(|n| n as f64)
                .map_err(|_| err(format!("`{text}` is not a count: expected a whole number, e.g. `100`")))
        }
        Unit::Ratio => {
            let number = text.trim_end_matches(['x', '×']).trim();
            number
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| err(format!("`{text}` is not a ratio, e.g. `1.5`")))
        }
    }
}

#[cfg(test)]
mod tests;
