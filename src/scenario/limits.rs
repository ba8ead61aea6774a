//! What a scenario may ask for, so that no typo costs more than a clear error.
//!
//! Every later stage does work in proportion to what the file says: the YAML parsers to its
//! size, depth and aliases, the planner to the number of arrivals (16 bytes each). Without
//! bounds, `population: 4294967296` aborted `validate` on a 64 GiB allocation and a
//! 100,000-deep `[[[…]]]` took 35 s to refuse. These checks run before the work they protect
//! (the file's size before reading it, the YAML's shape in one streaming pass before it is
//! deserialised, the arrivals before planning) and name the field, the limit and the fix.
//!
//! The limits are far above any real morning: the shipped scenarios are a few kilobytes,
//! nest 6 levels and hold a few hundred values; a region's 8:00 is about a million arrivals.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use saphyr_parser::{Event, Parser};

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::{join, Pos};
use crate::scenario::model::{Persona, Shape};

/// Largest scenario file: scenarios are settings, a few kilobytes; identities belong in a
/// `users: { csv: … }` file, which is not bounded by this.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Deepest nesting of mappings and lists (the shipped scenarios use 6; JSON bodies a few more).
pub const MAX_DEPTH: usize = 64;

/// Most values (scalars, lists, mappings) in one file, counting every alias as the values it
/// stands for: what stops a "billion laughs" alias bomb before it is expanded.
pub const MAX_VALUES: u64 = 100_000;

/// Most arrivals one run may schedule, all personas together: the plan holds 16 bytes per
/// arrival (160 MB at the limit) and builds in about a second per million.
pub const MAX_ARRIVALS: u64 = 10_000_000;

/// Most personas in one scenario (a plan addresses them with 16 bits; reports list each).
pub const MAX_PERSONAS: usize = 1_000;

const SPLIT_HINT: &str = "a bigger morning is rehearsed as several runs, each with part of the population \
     (on several machines at once); or lower `scale` to rehearse a fraction of it";

/// Refuse a file too large to be a scenario, before reading it.
pub fn check_file_size(path: &Path, bytes: u64) -> Result<(), ScenarioError> {
    if bytes <= MAX_FILE_BYTES {
        return Ok(());
    }
    Err(ScenarioError::new(
        path,
        format!(
            "the file is {} bytes: a scenario may be at most {} bytes ({} KiB)",
            crate::format::count(bytes),
            crate::format::count(MAX_FILE_BYTES),
            MAX_FILE_BYTES / 1024
        ),
    )
    .with_hint("is this the right file? Scenarios are settings; put users in a `users: { csv: … }` file"))
}

/// One streaming pass over the YAML events: nesting depth and the number of values after
/// alias expansion. Stops at the first excess, so a hostile file costs one linear scan; a
/// syntax error ends the pass quietly (deserialising reports it with more context).
pub fn check_shape(path: &Path, text: &str) -> Result<(), ScenarioError> {
    let mut depth = 0usize;
    let mut values = 0u64;
    // Anchor id → the values it stands for; the stack holds open containers' (anchor, values
    // before them), so that a container's size is known when it closes.
    let mut anchored: HashMap<usize, u64> = HashMap::new();
    let mut open: Vec<(usize, u64)> = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(event) => event,
            // The scanner reads a flow collection ahead (each `[` may start a key), so a deep
            // `[[[…` fails here, at 256 levels, before its events arrive.
            Err(e) if e.info().contains("recursion limit") => {
                let pos = Pos { line: e.marker().line(), column: e.marker().col() + 1 };
                return Err(too_deep(path, text, pos));
            }
            Err(_) => return Ok(()),
        };
        let pos = Pos { line: span.start.line(), column: span.start.col() + 1 };
        match event {
            Event::Scalar(_, _, anchor, _) => {
                values += 1;
                if anchor != 0 {
                    anchored.insert(anchor, 1);
                }
            }
            Event::Alias(anchor) => values += anchored.get(&anchor).copied().unwrap_or(1),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                values += 1;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(path, text, pos));
                }
                open.push((anchor, values - 1));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                depth = depth.saturating_sub(1);
                if let Some((anchor, before)) = open.pop() {
                    if anchor != 0 {
                        anchored.insert(anchor, values - before);
                    }
                }
            }
            _ => {}
        }
        if values > MAX_VALUES {
            return Err(positioned(
                path,
                text,
                pos,
                format!(
                    "the YAML holds more than {} values (aliases count as what they repeat)",
                    crate::format::count(MAX_VALUES)
                ),
            )
            .with_hint("a scenario is settings, not data: shorten the list or body here, and do not nest aliases"));
        }
    }
    Ok(())
}

fn too_deep(path: &Path, text: &str, pos: Pos) -> ScenarioError {
    positioned(path, text, pos, format!("the YAML nests more than {MAX_DEPTH} levels deep"))
        .with_hint("a scenario needs a handful of levels: check for unbalanced `[` or `{`")
}

/// An error at `pos` before a [`Source`] exists (its locator is what these checks protect).
fn positioned(path: &Path, text: &str, pos: Pos, message: String) -> ScenarioError {
    let mut error = ScenarioError::new(path, message);
    error.line = Some(pos.line);
    error.column = Some(pos.column);
    error.source_line = text.lines().nth(pos.line.saturating_sub(1)).map(str::to_string);
    error
}

/// Refuse more arrivals than one run can plan, naming the persona that crosses the limit.
pub fn check_arrivals(src: &Source, personas: &[Persona], duration: Duration, scale: f64) -> Result<(), ScenarioError> {
    let mut total = 0.0;
    for persona in personas {
        let expected = match persona.population {
            Some(n) => n as f64,
            None => expected_arrivals(&persona.arrival.shape, duration),
        };
        total += expected;
        if total <= MAX_ARRIVALS as f64 {
            continue;
        }
        let path = join("personas", &persona.name);
        let (field, asked) = match persona.population {
            Some(n) => (join(&path, "population"), format!("{} users", crate::format::count(n))),
            None => (join(&path, "arrival"), format!("about {} arrivals", count_f64(expected))),
        };
        let scaled = if scale == 1.0 { String::new() } else { format!(" (after `scale: {scale}`)") };
        let others = if total > expected { " with the personas before it" } else { "" };
        return Err(src
            .error(
                &field,
                At::Value,
                format!(
                    "{asked}{scaled}{others} is more than one run can schedule: at most {} arrivals per run",
                    crate::format::count(MAX_ARRIVALS)
                ),
            )
            .with_hint(SPLIT_HINT));
    }
    Ok(())
}

fn count_f64(x: f64) -> String {
    if x < 1e15 {
        crate::format::count(x.round() as u64)
    } else {
        format!("{x:.1e}")
    }
}

/// ∫λ of a rate shape over the run window: the arrivals it asks for. Peak and Burst always
/// come with a population, which is counted instead.
pub fn expected_arrivals(shape: &Shape, duration: Duration) -> f64 {
    let end = duration.as_secs_f64();
    // ∫ of the line through (t0, r0)–(t1, r1) over its part inside [0, end].
    let segment = |t0: f64, t1: f64, r0: f64, r1: f64| -> f64 {
        let (a, b) = (t0.max(0.0), t1.min(end));
        if b <= a || t1 <= t0 {
            return 0.0;
        }
        let at = |t: f64| r0 + (r1 - r0) * (t - t0) / (t1 - t0);
        0.5 * (at(a) + at(b)) * (b - a)
    };
    match shape {
        Shape::Constant { rate, from, to } => segment(from.as_secs_f64(), to.as_secs_f64(), *rate, *rate),
        Shape::Ramp { from_rate, to_rate, from, to } => {
            segment(from.as_secs_f64(), to.as_secs_f64(), *from_rate, *to_rate)
        }
        Shape::Steps { from, stages } | Shape::Csv { from, stages, .. } => {
            let mut t = from.as_secs_f64();
            let mut sum = 0.0;
            for (rate, length) in stages {
                let next = t + length.as_secs_f64();
                sum += segment(t, next, *rate, *rate);
                t = next;
            }
            sum
        }
        Shape::Points { points } => {
            points.windows(2).map(|w| segment(w[0].0.as_secs_f64(), w[1].0.as_secs_f64(), w[0].1, w[1].1)).sum()
        }
        Shape::Deadline { at, rise, from, rate } => {
            // ∫ rate·e^(−(at − t)/rise) dt over [from, min(at, end)].
            let (a, b, tau) = (from.as_secs_f64().max(0.0), at.as_secs_f64().min(end), rise.as_secs_f64());
            if b <= a || tau <= 0.0 {
                return 0.0;
            }
            let at = at.as_secs_f64();
            rate * tau * (((b - at) / tau).exp() - ((a - at) / tau).exp())
        }
        Shape::Peak { .. } | Shape::Burst { .. } => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_error(text: &str) -> Option<String> {
        check_shape(Path::new("x.yaml"), text).err().map(|e| e.to_string())
    }

    #[test]
    fn deep_nesting_is_refused_where_it_starts() {
        let deep = format!("name: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let message = shape_error(&deep).expect("refused");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert!(message.starts_with("x.yaml:1:"), "{message}");
        assert!(message.contains(": the YAML nests more than 64 levels deep"), "{message}");
        let shallow = format!("name: {}{}\n", "[".repeat(60), "]".repeat(60));
        assert_eq!(shape_error(&shallow), None);
    }

    #[test]
    fn alias_bombs_are_refused_before_expansion() {
        let mut bomb =
            String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (name, prev) in
            ["b", "c", "d", "e", "f", "g", "h", "i"].iter().zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            bomb.push_str(&format!(
                "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        let message = shape_error(&bomb).expect("refused");
        assert!(message.contains("more than 100,000 values (aliases count as what they repeat)"), "{message}");
        // Ordinary anchors are fine.
        assert_eq!(shape_error("base: &b { x: 1 }\nother: *b\nmore: *b\n"), None);
    }

    #[test]
    fn a_huge_list_is_refused_without_reading_it_all() {
        let list = format!("json: [{}1]\n", "1,".repeat(2_000_000));
        let message = shape_error(&list).expect("refused");
        assert!(message.starts_with("x.yaml:1:"), "{message}");
        assert!(message.contains("more than 100,000 values"), "{message}");
    }

    #[test]
    fn file_size_is_bounded() {
        assert!(check_file_size(Path::new("x.yaml"), 4_000).is_ok());
        let message = check_file_size(Path::new("x.yaml"), 100_000_000).unwrap_err().to_string();
        assert!(message.starts_with("x.yaml: the file is 100,000,000 bytes: a scenario may be at most"), "{message}");
    }

    #[test]
    fn rate_shapes_integrate_inside_the_run() {
        let s = Duration::from_secs;
        let constant = Shape::Constant { rate: 20.0, from: s(0), to: s(15) };
        assert_eq!(expected_arrivals(&constant, s(15)), 300.0);
        let ramp = Shape::Ramp { from_rate: 0.0, to_rate: 10.0, from: s(0), to: s(10) };
        assert_eq!(expected_arrivals(&ramp, s(10)), 50.0);
        assert_eq!(expected_arrivals(&ramp, s(5)), 12.5, "clipped to the run");
        let steps = Shape::Steps { from: s(0), stages: vec![(10.0, s(10)), (30.0, s(10))] };
        assert_eq!(expected_arrivals(&steps, s(20)), 400.0);
        let points = Shape::Points { points: vec![(s(0), 0.0), (s(10), 10.0), (s(20), 0.0)] };
        assert_eq!(expected_arrivals(&points, s(20)), 100.0);
    }
}
