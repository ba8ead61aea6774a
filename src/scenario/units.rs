//! Durations, rates and sizes as people write them in a scenario (`1m30s`, `20/s`, `64KiB`).
//!
//! We parse these ourselves rather than through `humantime` because its grammar has traps for
//! this audience (`5M` is five *months* there, and decimals such as `1.5s` are refused), and
//! because each parser here returns a message that lists the accepted forms, which is what
//! someone with a typo needs to read.

use std::time::Duration;

/// What the duration parser accepts, quoted in its errors.
pub const DURATION_FORMS: &str = "a number and a unit (us, ms, s, m, h), e.g. `500ms`, `30s`, `1m30s`, `2h`";
/// What the rate parser accepts, quoted in its errors.
pub const RATE_FORMS: &str =
    "users per second or minute or hour, e.g. `20/s`, `1200/min`, `30/h`; a bare number is per second";
/// What the size parser accepts, quoted in its errors.
pub const SIZE_FORMS: &str = "bytes, or a number and a unit (KB, KiB, MB, MiB, GB, GiB), e.g. `512`, `64KiB`, `2MB`";

/// Parse a duration such as `500ms`, `30s`, `1m30s`, `1m 30s`, `1.5s`, `2h` or `200us`.
///
/// A bare `0` is accepted (zero needs no unit); any other bare number is refused because
/// `5` could mean seconds or minutes and a wrong guess silently changes the rehearsal.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration: expected {DURATION_FORMS}");
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad());
    }
    if trimmed.parse::<f64>().is_ok_and(|n| n == 0.0) {
        return Ok(Duration::ZERO);
    }
    if trimmed.starts_with('-') {
        return Err(format!("`{text}` is negative: a duration is zero or more, e.g. `0s`, `30s`"));
    }
    let mut total = 0f64;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let (number, after) = split_number(rest).ok_or_else(bad)?;
        let after = after.trim_start();
        let unit_len = after.find(|c: char| !c.is_alphabetic() && c != 'µ').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let seconds_per_unit = match unit {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("`{text}` needs a unit after `{number}`: expected {DURATION_FORMS}")),
            other => return Err(format!("`{other}` is not a time unit in `{text}`: expected {DURATION_FORMS}")),
        };
        total += number * seconds_per_unit;
        rest = after.trim_start();
    }
    // Ten years is far beyond any rehearsal; it keeps `Duration::from_secs_f64` from panicking.
    if !total.is_finite() || total > 315_360_000.0 {
        return Err(format!("`{text}` is too long for a rehearsal"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Parse a rate into users per second: `20/s`, `1200/min`, `30/h`, or a bare number (per
/// second).
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, unit) = match trimmed.split_once('/') {
        Some((n, u)) => (n.trim(), u.trim()),
        None => (trimmed, "s"),
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && !number.is_empty())
        .ok_or_else(|| format!("`{text}` is not a rate: expected {RATE_FORMS}"))?;
    if value < 0.0 {
        return Err(format!("`{text}` is negative: a rate is zero or more"));
    }
    let per_second = match unit {
        "s" | "sec" | "second" => value,
        "m" | "min" | "minute" => value / 60.0,
        "h" | "hour" => value / 3600.0,
        "ms" | "us" | "µs" => {
            return Err(format!(
                "`{text}`: rates per millisecond are not allowed, write them per second (1/ms = 1000/s)"
            ))
        }
        other => return Err(format!("`{other}` is not a rate unit in `{text}`: expected {RATE_FORMS}")),
    };
    if per_second > 1e9 {
        return Err(format!("`{text}` is too large a rate"));
    }
    Ok(per_second)
}

/// Parse a size in bytes: `512`, `64KB` (×1000), `64KiB` (×1024), `2MB`, `2MiB`, `1GiB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("`{text}` is not a size: expected {SIZE_FORMS}");
    let (number, unit) = split_number(text.trim()).ok_or_else(bad)?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "kib" => 1024.0,
        "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = number * multiplier;
    if bytes.fract() != 0.0 {
        return Err(format!("`{text}` is not a whole number of bytes"));
    }
    if bytes > (1u64 << 50) as f64 {
        return Err(format!("`{text}` is too large a size"));
    }
    Ok(bytes as u64)
}

/// Split a leading non-negative decimal number (`12`, `1.5`, `.5`) from the rest.
fn split_number(text: &str) -> Option<(f64, &str)> {
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (digits, rest) = text.split_at(end);
    if !digits.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: f64 = digits.parse().ok()?;
    Some((number, rest))
}

/// Show a duration back to the user the way they would write it (`1m30s`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros == 0 {
        return "0s".into();
    }
    if micros % 1_000_000 != 0 {
        return if micros % 1000 == 0 { format!("{}ms", micros / 1000) } else { format!("{micros}us") };
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("30s"), Ok(ms(30_000)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("1m 30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("2h"), Ok(ms(7_200_000)));
        assert_eq!(parse_duration("200us"), Ok(Duration::from_micros(200)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1500)));
        assert_eq!(parse_duration("10 min"), Ok(ms(600_000)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration(" 0s "), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_durations_say_what_is_accepted() {
        let forms = format!("expected {DURATION_FORMS}");
        assert_eq!(parse_duration("5"), Err(format!("`5` needs a unit after `5`: {forms}")));
        assert_eq!(parse_duration("5M"), Err(format!("`M` is not a time unit in `5M`: {forms}")));
        assert_eq!(parse_duration(""), Err(format!("`` is not a duration: {forms}")));
        assert_eq!(parse_duration("s"), Err(format!("`s` is not a duration: {forms}")));
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("1..2s").is_err());
        assert!(parse_duration("99999999999999999999h").unwrap_err().contains("too long"));
        assert!(parse_duration("1e400s").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("20/s"), Ok(20.0));
        assert_eq!(parse_rate("20"), Ok(20.0));
        assert_eq!(parse_rate("1200/min"), Ok(20.0));
        assert_eq!(parse_rate("1200 / m"), Ok(20.0));
        assert_eq!(parse_rate("36/h"), Ok(0.01));
        assert_eq!(parse_rate("0.5/s"), Ok(0.5));
        assert_eq!(parse_rate("0"), Ok(0.0));
        assert!(parse_rate("3/ms").unwrap_err().contains("per millisecond are not allowed"));
        assert!(parse_rate("-1/s").unwrap_err().contains("negative"));
        assert!(parse_rate("fast").unwrap_err().contains("is not a rate"));
        assert!(parse_rate("/s").is_err());
        assert!(parse_rate("5/fortnight").unwrap_err().contains("not a rate unit"));
        assert!(parse_rate("inf").is_err());
        assert!(parse_rate("NaN").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("64KB"), Ok(64_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("64 kib"), Ok(65_536));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("2MiB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("1.5").unwrap_err().contains("whole number"));
        assert!(parse_size("12 parsecs").unwrap_err().contains(SIZE_FORMS));
        assert!(parse_size("-1").is_err());
        assert!(parse_size("9999999GiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn durations_print_back() {
        assert_eq!(format_duration(ms(90_000)), "1m30s");
        assert_eq!(format_duration(ms(500)), "500ms");
        assert_eq!(format_duration(Duration::from_micros(200)), "200us");
        assert_eq!(format_duration(ms(7_200_000)), "2h");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
