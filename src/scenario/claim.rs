//! A capacity claim, as a vendor states it: `exam 8000 concurrent, p95 < 1s, errors < 0.1%`.
//!
//! Written on the command line (`schoolday capacity --claim "…"`) or as `claim:` in the
//! scenario, with the same grammar: comma-separated parts, the first naming the persona and
//! the load, the others the service levels.
//!
//! - Load: `<persona> <N> concurrent` (users in session at once, converted to an arrival rate
//!   by the capacity search, docs/background.md#capacity-verdict) or `<persona> <rate>` with a unit (`200/s`,
//!   `1200/min`: sessions starting per second, no conversion).
//! - `p<q> < <duration>`: the latency target (required).
//! - `errors < <pct>`: the error rate (default `0.1%`, docs/background.md#capacity-verdict).
//! - `goal >= <pct>`: share of users reaching their goal (default `99%`, docs/background.md#capacity-verdict).

use std::time::Duration;

use crate::scenario::suggest;
use crate::scenario::thresholds::{limit, split_comparison, stat, Names, Op, ParseError, Stat, Unit};
use crate::scenario::units::parse_rate;

/// How much load the claim is about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClaimLoad {
    /// Users in session at the same time.
    Concurrent(u64),
    /// Sessions starting per second.
    Rate(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// As written.
    pub text: String,
    pub persona: String,
    pub load: ClaimLoad,
    /// The latency quantile, as a fraction (`p95` → 0.95).
    pub quantile: f64,
    /// The latency target for that quantile.
    pub latency: Duration,
    /// Highest acceptable error rate, a fraction.
    pub error_rate: f64,
    /// Lowest acceptable share of users reaching their goal, a fraction.
    pub goal_success: f64,
}

pub const DEFAULT_ERROR_RATE: f64 = 0.001;
pub const DEFAULT_GOAL_SUCCESS: f64 = 0.99;

const EXAMPLE: &str = "e.g. `pupil 8000 concurrent, p95 < 1s, errors < 0.1%`";

/// Parse a claim against the scenario's personas. Error offsets are byte offsets in `text`.
pub fn parse_claim(text: &str, names: &Names) -> Result<Claim, ParseError> {
    let mut parts = Vec::new();
    let mut start = 0;
    for piece in text.split(',') {
        let lead = piece.len() - piece.trim_start().len();
        parts.push((start + lead, piece.trim()));
        start += piece.len() + 1;
    }
    let (load_at, load_text) = parts[0];
    let (persona, load) = load_part(load_text, names).map_err(|e| shift(e, load_at))?;
    let mut claim = Claim {
        text: text.trim().to_string(),
        persona,
        load,
        quantile: 0.0,
        latency: Duration::ZERO,
        error_rate: DEFAULT_ERROR_RATE,
        goal_success: DEFAULT_GOAL_SUCCESS,
    };
    for &(at, part) in &parts[1..] {
        service_level(part, &mut claim).map_err(|e| shift(e, at))?;
    }
    if claim.quantile == 0.0 {
        return Err(ParseError::new(text.len(), "the claim has no latency target").hint(format!("add one, {EXAMPLE}")));
    }
    Ok(claim)
}

fn shift(e: ParseError, by: usize) -> ParseError {
    ParseError { offset: e.offset + by, ..e }
}

fn load_part(text: &str, names: &Names) -> Result<(String, ClaimLoad), ParseError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let listed: Vec<&str> = names.personas.iter().map(|(p, _)| p.as_str()).collect();
    let Some(persona) = words.first() else {
        return Err(ParseError::new(0, "the claim is empty").hint(EXAMPLE));
    };
    if !listed.contains(persona) {
        return Err(ParseError::new(
            0,
            format!("unknown persona `{persona}`: the personas are {}", suggest::all_of(&listed)),
        )
        .hint_opt(suggest::did_you_mean(persona, listed.iter().copied())));
    }
    let amount_at = text.find(char::is_whitespace).map(|i| i + text[i..].len() - text[i..].trim_start().len());
    let load = match words[1..] {
        [n, "concurrent", ..] => {
            n.replace([',', '_'], "").parse::<u64>().ok().filter(|n| *n > 0).map(ClaimLoad::Concurrent).ok_or_else(
                || ParseError::new(amount_at.unwrap_or(0), format!("`{n}` is not a number of users")).hint(EXAMPLE),
            )?
        }
        [rate] if rate.contains('/') => {
            let r = parse_rate(rate).map_err(|why| ParseError::new(amount_at.unwrap_or(0), why))?;
            if r <= 0.0 {
                return Err(ParseError::new(amount_at.unwrap_or(0), "the claimed rate must be more than 0"));
            }
            ClaimLoad::Rate(r)
        }
        _ => {
            return Err(ParseError::new(amount_at.unwrap_or(text.len()), "how much load does the claim cover?")
                .hint(format!("write `{persona} <N> concurrent` or `{persona} <rate>/s`, {EXAMPLE}")))
        }
    };
    Ok((persona.to_string(), load))
}

fn service_level(part: &str, claim: &mut Claim) -> Result<(), ParseError> {
    let (subject, op, value_at) = split_comparison(part)?;
    let value = part[value_at..].trim();
    let value_offset = value_at + (part[value_at..].len() - part[value_at..].trim_start().len());
    let at_value = |e: ParseError| shift(e, value_offset);
    let subject_words = subject.trim().to_lowercase().replace('_', " ");
    let upper = matches!(op, Op::Lt | Op::Le);
    match subject_words.as_str() {
        word if stat(word).is_some() => {
            let Some(Stat::Percentile(p)) = stat(word) else {
                return Err(ParseError::new(0, format!("`{word}` is not a percentile")).hint("use e.g. `p95 < 1s`"));
            };
            require(upper, "a latency target is an upper limit: `p95 < 1s`")?;
            let micros = limit(value, Unit::Duration).map_err(at_value)?;
            claim.quantile = p / 100.0;
            claim.latency = Duration::from_secs_f64(micros / 1e6);
        }
        "errors" | "error rate" => {
            require(upper, "an error rate is an upper limit: `errors < 0.1%`")?;
            claim.error_rate = limit(value, Unit::Percent).map_err(at_value)?;
        }
        "goal" | "goal success" => {
            require(!upper, "goal success is a lower limit: `goal >= 99%`")?;
            claim.goal_success = limit(value, Unit::Percent).map_err(at_value)?;
        }
        other => {
            return Err(ParseError::new(0, format!("`{other}` is not part of a claim"))
                .hint("a claim states `p95 < <duration>`, and optionally `errors < <pct>` and `goal >= <pct>`"))
        }
    }
    Ok(())
}

fn require(ok: bool, why: &str) -> Result<(), ParseError> {
    if ok {
        Ok(())
    } else {
        Err(ParseError::new(0, "this comparison goes the wrong way").hint(why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names { personas: vec![("exam".into(), vec!["start".into()]), ("pupil".into(), vec![])] }
    }

    #[test]
    fn a_vendor_claim() {
        let c = parse_claim("exam 8000 concurrent, p95 < 1s, errors < 0.1%", &names()).unwrap();
        assert_eq!(c.persona, "exam");
        assert_eq!(c.load, ClaimLoad::Concurrent(8000));
        assert_eq!(c.quantile, 0.95);
        assert_eq!(c.latency, Duration::from_secs(1));
        assert!((c.error_rate - 0.001).abs() < 1e-12);
        assert_eq!(c.goal_success, DEFAULT_GOAL_SUCCESS);
    }

    #[test]
    fn a_rate_claim_with_goal() {
        let c = parse_claim("pupil 200/s, p99 <= 250ms, goal >= 95%", &names()).unwrap();
        assert_eq!(c.load, ClaimLoad::Rate(200.0));
        assert_eq!(c.quantile, 0.99);
        assert_eq!(c.latency, Duration::from_millis(250));
        assert_eq!(c.error_rate, DEFAULT_ERROR_RATE);
        assert!((c.goal_success - 0.95).abs() < 1e-12);
    }

    #[test]
    fn mistakes_point_at_the_part() {
        let e = parse_claim("exm 10 concurrent, p95 < 1s", &names()).unwrap_err();
        assert_eq!((e.offset, e.hint.as_deref()), (0, Some("did you mean `exam`?")));
        let e = parse_claim("exam 10 concurrent, p95 < 1", &names()).unwrap_err();
        assert_eq!(e.offset, 26);
        assert!(e.message.contains("needs a unit"), "{e}");
        let e = parse_claim("exam 10 concurrent", &names()).unwrap_err();
        assert!(e.message.contains("no latency target"));
        let e = parse_claim("exam lots, p95 < 1s", &names()).unwrap_err();
        assert_eq!(e.offset, 5);
        let e = parse_claim("exam 10 concurrent, p95 > 1s", &names()).unwrap_err();
        assert!(e.message.contains("wrong way"));
        let e = parse_claim("exam 10 concurrent, p95 < 1s, errors < 1", &names()).unwrap_err();
        assert!(e.message.contains("needs a `%`"), "{e}");
        assert_eq!(e.offset, 39);
    }
}
