//! `arrival: { shape: csv, file: arrivals.csv }`: an arrival curve typed in from a file of
//! per-interval counts or rates, such as the per-minute curve `schoolday import log` writes.
//!
//! The file is read when the scenario is loaded (like a users CSV), so a bad row fails before
//! the run. Its errors point at the `file:` value in the scenario and name the CSV file and
//! line, since the YAML locator cannot see inside the CSV.
//!
//! Format: a header row, then one row per interval. `start` (a duration from the start of the
//! run: `0s`, `1m`, `1m30s`) and exactly one of `count` (arrivals in the interval) or `rate`
//! (`20/s`, `1200/min`; a bare number is per second). An optional `clock` column is free text
//! for the reader (the wall-clock time the row came from) and is ignored. A row lasts until
//! the next row's `start`; the last row lasts as long as the one before it.

use std::path::Path;
use std::time::Duration;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::Shape;
use crate::scenario::raw::RawArrival;
use crate::scenario::units::{format_duration, parse_duration, parse_rate};

type Result<T> = std::result::Result<T, ScenarioError>;

const COLUMNS: &str = "`start` and either `count` or `rate` (and optionally `clock`)";

/// What a row's number means.
#[derive(Clone, Copy, PartialEq)]
enum Value {
    Count,
    Rate,
}

/// Reads the file named by `arrival.file` into consecutive constant-rate intervals.
pub fn csv(src: &Source, path: &str, raw: &RawArrival, duration: Duration, scale: f64) -> Result<Shape> {
    let at = join(path, "file");
    let name = raw.file.as_deref().unwrap_or_default().trim();
    let resolved = src.file.parent().unwrap_or(Path::new("")).join(name);
    let fail = |why: String| {
        src.error(&at, At::Value, format!("arrival file `{}`: {why}", resolved.display()))
            .with_hint(format!("the file has a header row naming {COLUMNS}, then one row per interval, e.g. `start,count` / `0s,12` / `1m,30`"))
    };
    let text = std::fs::read(&resolved).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_slice());
    let header = reader.headers().map_err(|e| fail(format!("cannot read its header row: {e}")))?.clone();
    let column = |n: &str| header.iter().position(|c| c == n);
    if let Some(other) = header.iter().find(|c| !["start", "count", "rate", "clock"].contains(c)) {
        return Err(fail(format!("unknown column `{other}` in the header row: expected {COLUMNS}")));
    }
    let start =
        column("start").ok_or_else(|| fail(format!("the header row has no `start` column: expected {COLUMNS}")))?;
    let (value, kind) = match (column("count"), column("rate")) {
        (Some(c), None) => (c, Value::Count),
        (None, Some(r)) => (r, Value::Rate),
        (Some(_), Some(_)) => return Err(fail("the header row has both `count` and `rate`: keep one".into())),
        (None, None) => return Err(fail(format!("the header row has neither `count` nor `rate`: expected {COLUMNS}"))),
    };
    let mut rows: Vec<(Duration, f64)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or_default();
        let t = parse_duration(field(start)).map_err(|why| fail(format!("line {line}, `start`: {why}")))?;
        let number = match kind {
            Value::Count => {
                field(value).parse::<f64>().ok().filter(|c| c.is_finite() && *c >= 0.0).ok_or_else(|| {
                    fail(format!("line {line}, `count`: `{}` is not a count of arrivals (0 or more)", field(value)))
                })?
            }
            Value::Rate => parse_rate(field(value)).map_err(|why| fail(format!("line {line}, `rate`: {why}")))?,
        };
        if let Some((previous, _)) = rows.last() {
            if t <= *previous {
                return Err(fail(format!(
                    "line {line}: rows must be in time order: {} comes after {}",
                    format_duration(t),
                    format_duration(*previous)
                )));
            }
        }
        rows.push((t, number));
    }
    if rows.len() < 2 {
        return Err(fail("it needs at least two rows: a row lasts until the next one starts".into()));
    }
    let stages = stages(&rows, kind, scale);
    let from = rows[0].0;
    let end = from + stages.iter().map(|(_, length)| *length).sum::<Duration>();
    if end > duration {
        return Err(fail(format!(
            "its intervals run until {}, after the end of the run (`duration: {}`)",
            format_duration(end),
            format_duration(duration)
        )));
    }
    Ok(Shape::Csv { file: resolved, from, stages })
}

/// Rows to (rate, length): each row lasts until the next, the last as long as the one before.
fn stages(rows: &[(Duration, f64)], kind: Value, scale: f64) -> Vec<(f64, Duration)> {
    let lengths = rows.windows(2).map(|w| w[1].0 - w[0].0);
    let last = rows[rows.len() - 1].0 - rows[rows.len() - 2].0;
    rows.iter()
        .zip(lengths.chain(std::iter::once(last)))
        .map(|((_, number), length)| {
            let rate = match kind {
                Value::Count => number / length.as_secs_f64(),
                Value::Rate => *number,
            };
            (rate * scale, length)
        })
        .collect()
}
