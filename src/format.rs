//! Human formatting of durations, counts and shares: the bottom layer every text output (analysis
//! verdicts, reports, the terminal) uses, so one unit has one formatter.

use std::time::Duration;

/// `850µs`, `41.2ms`, `1.20s`, `1m 05s`.
pub fn micros(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 100_000 {
        format!("{:.1}ms", us as f64 / 1_000.0)
    } else if us < 1_000_000 {
        format!("{}ms", us / 1_000)
    } else if us < 60_000_000 {
        format!("{:.2}s", us as f64 / 1_000_000.0)
    } else {
        let s = us / 1_000_000;
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

pub fn duration(d: Duration) -> String {
    micros(d.as_micros().min(u64::MAX as u128) as u64)
}

/// Whole seconds as `4m 12s` (or `12s`).
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m {:02}s", s / 3600, (s / 60) % 60, s % 60),
    }
}

/// `12,345`
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `97.1%`; `n/a` when there is nothing to divide.
pub fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "n/a".to_string()
    } else {
        percent(part as f64 / whole as f64)
    }
}

pub fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p >= 99.95 && fraction < 1.0 {
        // Never round a shortfall up to a perfect score.
        "99.9%".to_string()
    } else {
        format!("{p:.1}%")
    }
}

/// A percentage with as many digits as a comparison with a limit such as `0.1%` needs, never
/// rounding a miss away: `99.999%`, `0.123%`, `12.5%`, `100%` (thresholds and their reports;
/// [`percent`] is for tables).
pub fn percent_exact(fraction: f64) -> String {
    let p = fraction * 100.0;
    let text = if p == 0.0 || p == 100.0 {
        format!("{p:.0}")
    } else if p > 99.0 {
        // Rounded down: 99.9996% must not read as 100%.
        format!("{:.3}", (p * 1000.0).floor() / 1000.0)
    } else if p < 1.0 {
        format!("{p:.3}")
    } else {
        format!("{p:.2}")
    };
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    format!("{text}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(micros(850), "850µs");
        assert_eq!(micros(41_234), "41.2ms");
        assert_eq!(micros(412_000), "412ms");
        assert_eq!(micros(1_204_000), "1.20s");
        assert_eq!(micros(65_000_000), "1m 05s");
        assert_eq!(clock(Duration::from_secs(252)), "4m 12s");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(share(1, 3), "33.3%");
        assert_eq!(share(9999, 10000), "99.9%");
        assert_eq!(share(0, 0), "n/a");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent_exact(0.999996), "99.999%");
        assert_eq!(percent_exact(0.00123), "0.123%");
        assert_eq!(percent_exact(0.125), "12.5%");
    }
}
