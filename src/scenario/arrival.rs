//! `arrival:` → [`Arrival`]: which keys each shape takes, their defaults, and the checks that
//! keep a curve inside the run.
//!
//! `arrival` is one flat mapping whose `shape` decides which other keys apply; a key that does
//! not apply to the chosen shape is an error (rather than ignored), because it usually means
//! the author believes it has an effect.

use std::time::Duration;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::{Arrival, Shape, Spacing};
use crate::scenario::raw::{RawArrival, Scalar};
use crate::scenario::suggest::{self, one_of};
use crate::scenario::units::{format_duration, parse_rate};
use crate::scenario::validate::{duration_at, time_in_run};

type Result<T> = std::result::Result<T, ScenarioError>;

const SHAPES: [&str; 8] = ["constant", "ramp", "steps", "points", "peak", "burst", "deadline", "csv"];

/// Keys each shape accepts (besides `shape` and `spacing`), required ones first.
fn keys_of(shape: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match shape {
        "constant" => (&["rate"], &["from", "to"]),
        "ramp" => (&["from_rate", "to_rate"], &["from", "to"]),
        "steps" => (&["stages"], &["from"]),
        "points" => (&["points"], &[]),
        "peak" => (&["at", "spread"], &["from", "to"]),
        "deadline" => (&["at", "rise"], &["from", "rate"]),
        "csv" => (&["file"], &[]),
        _ => (&["at"], &["spread", "decay"]),
    }
}

fn example(shape: &str) -> &'static str {
    match shape {
        "constant" => "`{ shape: constant, rate: 5/s }`",
        "ramp" => "`{ shape: ramp, from_rate: 0/s, to_rate: 50/s, to: 5m }`",
        "steps" => "`{ shape: steps, stages: [ { rate: 10/s, for: 1m }, { rate: 20/s, for: 1m } ] }`",
        "points" => "`{ shape: points, points: [[0s, 0], [1m, 30/s], [4m, 0]] }`",
        "peak" => "`{ shape: peak, at: 4m, spread: 1m }`",
        "deadline" => "`{ shape: deadline, at: 9m, rise: 1m, rate: 20/s }`",
        "csv" => "`{ shape: csv, file: arrivals.csv }`",
        _ => "`{ shape: burst, at: 1m, spread: 10s }`",
    }
}

/// Validate the arrival at `path`. `has_population`: the curve is only a shape; otherwise its
/// rates are absolute. Rates are multiplied by `scale`.
pub fn arrival(
    src: &Source,
    path: &str,
    raw: &RawArrival,
    has_population: bool,
    duration: Duration,
    scale: f64,
) -> Result<Arrival> {
    let key = |k: &str| join(path, k);
    let Some(shape) = raw.shape.as_deref().map(str::trim) else {
        return Err(src
            .error(path, At::Value, format!("missing `shape`: one of {}", one_of(&SHAPES)))
            .with_hint(format!("e.g. {}", example("peak"))));
    };
    if !SHAPES.contains(&shape) {
        let hint = suggest::did_you_mean(shape, SHAPES).unwrap_or_else(|| format!("e.g. {}", example("peak")));
        return Err(src
            .error(&key("shape"), At::Value, format!("unknown shape `{shape}`: expected {}", one_of(&SHAPES)))
            .with_hint(hint));
    }
    let (required, optional) = keys_of(shape);
    for given in raw.present() {
        if !required.contains(&given) && !optional.contains(&given) {
            let takes: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(src
                .error(&key(given), At::Key, format!("`{given}` does not apply to `shape: {shape}`"))
                .with_hint(format!("`{shape}` takes {}", suggest::all_of(&takes))));
        }
    }
    let present = raw.present();
    if let Some(absent) = required.iter().find(|k| !present.contains(k)) {
        return Err(src
            .error(path, At::Value, format!("`shape: {shape}` needs `{absent}`"))
            .with_hint(format!("e.g. {}", example(shape))));
    }
    if matches!(shape, "peak" | "burst") && !has_population {
        return Err(src
            .error(&key("shape"), At::Value, format!("`shape: {shape}` spreads a number of users over time, so the persona needs a `population`"))
            .with_hint("add `population: <users>` to the persona (or `users: { csv: … }`), or use a rate shape such as `constant`"));
    }
    let spacing = match raw.spacing.as_deref().map(str::trim) {
        None | Some("poisson") => Spacing::Poisson,
        Some("even") => Spacing::Even,
        Some(other) => {
            return Err(src
                .error(&key("spacing"), At::Value, format!("unknown spacing `{other}`: expected `poisson` or `even`"))
                .with_hint_opt(suggest::did_you_mean(other, ["poisson", "even"])))
        }
    };
    let rate = |k: &str, text: &Scalar| -> Result<f64> {
        Ok(parse_rate(text.as_str()).map_err(|why| src.error(&key(k), At::Value, why))? * scale)
    };
    let time = |k: &str, text: &Option<Scalar>, default: Duration| -> Result<Duration> {
        text.as_ref().map_or(Ok(default), |t| time_in_run(src, &key(k), t, duration))
    };
    let window = |from: Duration, to: Duration| -> Result<()> {
        if from >= to {
            return Err(src.error(
                &key(if raw.to.is_some() { "to" } else { "from" }),
                At::Value,
                format!(
                    "the window is empty: `from` ({}) must be before `to` ({})",
                    format_duration(from),
                    format_duration(to)
                ),
            ));
        }
        Ok(())
    };
    // `required` was checked above, so these `unwrap_or_default`s never supply a value.
    let shape = match shape {
        "constant" => {
            let (from, to) = (time("from", &raw.from, Duration::ZERO)?, time("to", &raw.to, duration)?);
            window(from, to)?;
            Shape::Constant { rate: rate("rate", raw.rate.as_ref().unwrap_or(&Scalar::default()))?, from, to }
        }
        "ramp" => {
            let (from, to) = (time("from", &raw.from, Duration::ZERO)?, time("to", &raw.to, duration)?);
            window(from, to)?;
            let from_rate = rate("from_rate", raw.from_rate.as_ref().unwrap_or(&Scalar::default()))?;
            let to_rate = rate("to_rate", raw.to_rate.as_ref().unwrap_or(&Scalar::default()))?;
            Shape::Ramp { from_rate, to_rate, from, to }
        }
        "steps" => steps(src, path, raw, duration, scale)?,
        "points" => points(src, path, raw, duration, scale)?,
        "peak" => {
            let (from, to) = (time("from", &raw.from, Duration::ZERO)?, time("to", &raw.to, duration)?);
            window(from, to)?;
            let at = time("at", &raw.at, Duration::ZERO)?;
            if at < from || at > to {
                return Err(src.error(&key("at"), At::Value, "the peak is outside its `from`..`to` window"));
            }
            let spread = duration_at(src, &key("spread"), raw.spread.as_ref().unwrap_or(&Scalar::default()))?;
            if spread.is_zero() {
                return Err(src
                    .error(&key("spread"), At::Value, "a peak needs a spread above 0s")
                    .with_hint("for everyone at the same instant, use `shape: burst`"));
            }
            Shape::Peak { at, spread, from, to }
        }
        "deadline" => deadline(src, path, raw, has_population, duration, scale)?,
        "csv" => crate::scenario::arrival_csv::csv(src, path, raw, duration, scale)?,
        _ => burst(src, path, raw, duration)?,
    };
    if zero_everywhere(&shape) {
        return Err(src.error(path, At::Value, "the rate is 0 everywhere: nobody would arrive"));
    }
    let stagger = match &raw.stagger {
        Some(st) => Some(crate::scenario::behaviour::stagger(src, &key("stagger"), st, duration)?),
        None => None,
    };
    Ok(Arrival { shape, spacing, stagger })
}

fn steps(src: &Source, path: &str, raw: &RawArrival, duration: Duration, scale: f64) -> Result<Shape> {
    let from = raw.from.as_ref().map_or(Ok(Duration::ZERO), |t| time_in_run(src, &join(path, "from"), t, duration))?;
    let stages_raw = raw.stages.as_deref().unwrap_or_default();
    if stages_raw.is_empty() {
        return Err(src
            .error(&join(path, "stages"), At::Key, "`stages` is empty")
            .with_hint(format!("e.g. {}", example("steps"))));
    }
    let mut end = from;
    let mut stages = Vec::with_capacity(stages_raw.len());
    for (i, stage) in stages_raw.iter().enumerate() {
        let at = format!("{path}.stages[{i}]");
        let rate =
            parse_rate(stage.rate.as_str()).map_err(|why| src.error(&join(&at, "rate"), At::Value, why))? * scale;
        let length = duration_at(src, &join(&at, "for"), &stage.duration)?;
        if length.is_zero() {
            return Err(src.error(&join(&at, "for"), At::Value, "a stage must last more than 0s"));
        }
        end = end.saturating_add(length);
        if end > duration {
            return Err(src
                .error(
                    &join(&at, "for"),
                    At::Value,
                    format!(
                        "the stages run until {}, after the end of the run (`duration: {}`)",
                        format_duration(end),
                        format_duration(duration)
                    ),
                )
                .with_hint("shorten the stages, or lengthen `duration`"));
        }
        stages.push((rate, length));
    }
    Ok(Shape::Steps { from, stages })
}

fn points(src: &Source, path: &str, raw: &RawArrival, duration: Duration, scale: f64) -> Result<Shape> {
    let raw_points = raw.points.as_deref().unwrap_or_default();
    if raw_points.len() < 2 {
        return Err(src
            .error(&join(path, "points"), At::Value, "a curve needs at least two points")
            .with_hint(format!("e.g. {}", example("points"))));
    }
    let mut points: Vec<(Duration, f64)> = Vec::with_capacity(raw_points.len());
    for (i, (t, r)) in raw_points.iter().enumerate() {
        let t_path = format!("{path}.points[{i}][0]");
        let time = time_in_run(src, &t_path, t, duration)?;
        let rate =
            parse_rate(r.as_str()).map_err(|why| src.error(&format!("{path}.points[{i}][1]"), At::Value, why))? * scale;
        if let Some((previous, _)) = points.last() {
            if time <= *previous {
                return Err(src.error(
                    &t_path,
                    At::Value,
                    format!(
                        "points must be in time order: {} comes after {}",
                        format_duration(time),
                        format_duration(*previous)
                    ),
                ));
            }
        }
        points.push((time, rate));
    }
    Ok(Shape::Points { points })
}

/// `deadline`: `at` (the deadline and cut-off), `rise` (the e-folding time), `from` (default
/// 0s) and `rate` (arrivals per second at the deadline; required without a population, where
/// it decides how many arrive, and only a shape with one).
fn deadline(
    src: &Source,
    path: &str,
    raw: &RawArrival,
    has_population: bool,
    duration: Duration,
    scale: f64,
) -> Result<Shape> {
    let key = |k: &str| join(path, k);
    let at = time_in_run(src, &key("at"), raw.at.as_ref().unwrap_or(&Scalar::default()), duration)?;
    let rise = duration_at(src, &key("rise"), raw.rise.as_ref().unwrap_or(&Scalar::default()))?;
    if rise.is_zero() {
        return Err(src
            .error(&key("rise"), At::Value, "a deadline needs a `rise` above 0s")
            .with_hint("`rise: 1m`: the rate a minute before the deadline is 1/e (37%) of the rate at the deadline"));
    }
    let from = raw.from.as_ref().map_or(Ok(Duration::ZERO), |t| time_in_run(src, &key("from"), t, duration))?;
    if from >= at {
        return Err(src.error(
            &key("from"),
            At::Value,
            format!(
                "the window is empty: `from` ({}) must be before the deadline `at` ({})",
                format_duration(from),
                format_duration(at)
            ),
        ));
    }
    let rate = match &raw.rate {
        Some(text) => parse_rate(text.as_str()).map_err(|why| src.error(&key("rate"), At::Value, why))? * scale,
        None if has_population => 1.0,
        None => {
            return Err(src
                .error(
                    path,
                    At::Value,
                    "without a `population`, `shape: deadline` needs `rate`: the arrival rate at the deadline",
                )
                .with_hint(format!("e.g. {}, or give the persona a `population`", example("deadline"))))
        }
    };
    Ok(Shape::Deadline { at, rise, from, rate })
}

fn burst(src: &Source, path: &str, raw: &RawArrival, duration: Duration) -> Result<Shape> {
    let at = time_in_run(src, &join(path, "at"), raw.at.as_ref().unwrap_or(&Scalar::default()), duration)?;
    if raw.spread.is_some() && raw.decay.is_some() {
        return Err(src
            .error(
                &join(path, "decay"),
                At::Key,
                "a burst has either `spread` (uniform) or `decay` (exponential), not both",
            )
            .with_hint(
                "`spread: 10s`: everyone within 10s after `at`; `decay: 5s`: arrivals fade with a mean delay of 5s",
            ));
    }
    let spread = raw.spread.as_ref().map_or(Ok(Duration::ZERO), |t| duration_at(src, &join(path, "spread"), t))?;
    if at.saturating_add(spread) > duration {
        return Err(src.error(
            &join(path, "spread"),
            At::Value,
            format!(
                "the burst lasts until {}, after the end of the run (`duration: {}`)",
                format_duration(at + spread),
                format_duration(duration)
            ),
        ));
    }
    let decay = match &raw.decay {
        Some(t) => {
            let d = duration_at(src, &join(path, "decay"), t)?;
            if d.is_zero() {
                return Err(src.error(
                    &join(path, "decay"),
                    At::Value,
                    "`decay` must be more than 0s (use `spread: 0s` for everyone at once)",
                ));
            }
            Some(d)
        }
        None => None,
    };
    Ok(Shape::Burst { at, spread, decay })
}

/// Whether a rate curve can never produce an arrival.
fn zero_everywhere(shape: &Shape) -> bool {
    match shape {
        Shape::Constant { rate, .. } => *rate == 0.0,
        Shape::Ramp { from_rate, to_rate, .. } => *from_rate == 0.0 && *to_rate == 0.0,
        Shape::Steps { stages, .. } => stages.iter().all(|(r, _)| *r == 0.0),
        Shape::Points { points } => points.iter().all(|(_, r)| *r == 0.0),
        Shape::Deadline { rate, .. } => *rate == 0.0,
        Shape::Csv { stages, .. } => stages.iter().all(|(r, _)| *r == 0.0),
        Shape::Peak { .. } | Shape::Burst { .. } => false,
    }
}
