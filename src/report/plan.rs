//! The one-screen plan shown by `schoolday validate`: who arrives, how fast at the peak, and
//! how many requests that should make, before a single request is sent.

use std::io::{self, Write};

use super::style::Style;
use crate::format::{clock, count};
use crate::load::Plan;
use crate::scenario::{Journey, Op, Scenario, Shape, Target};

pub fn render(scenario: &Scenario, plan: &Plan, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} {} ({})", style.green("scenario OK:"), style.bold(&scenario.name), scenario.source.display())?;
    let target = match &scenario.target {
        Target::Embedded(cfg) => format!(
            "embedded ({} workers, queue {}, default service time {})",
            cfg.workers,
            cfg.queue,
            crate::format::duration(cfg.service_time.default)
        ),
        Target::Url(url) => url.to_string(),
    };
    writeln!(
        out,
        "target {target} · duration {} + {} grace · seed {} · scale {}",
        clock(scenario.duration),
        clock(scenario.grace),
        scenario.seed,
        scenario.scale
    )?;
    writeln!(out)?;
    let header = ["persona", "users", "arrival", "peak rate", "arrivals between", "requests/user", "expected requests"];
    let mut rows = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    let mut total_users = 0u64;
    let mut total_requests = 0.0;
    for (persona, p) in scenario.personas.iter().zip(&plan.personas) {
        let per_user = expected_requests(&persona.journey);
        total_users += p.users;
        total_requests += per_user * p.users as f64;
        rows.push(vec![
            persona.name.clone(),
            count(p.users),
            describe_arrival(persona),
            format!("{:.1}/s at {}", p.peak_rate, clock(p.peak_at)),
            match (p.first_arrival, p.last_arrival) {
                (Some(a), Some(b)) => format!("{} – {}", clock(a), clock(b)),
                _ => "-".into(),
            },
            format!("{per_user:.1}"),
            count(((per_user * p.users as f64).round()) as u64),
        ]);
    }
    let widths: Vec<usize> =
        (0..header.len()).map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    for (n, row) in rows.iter().enumerate() {
        let line = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i] - c.chars().count())))
            .collect::<Vec<_>>()
            .join("  ");
        let line = line.trim_end().to_string();
        writeln!(out, "{}", if n == 0 { style.dim(&line) } else { line })?;
    }
    writeln!(out)?;
    writeln!(out, "{} users, about {} requests", count(total_users), count(total_requests.round() as u64))?;
    Ok(())
}

/// A short description of a persona's arrivals, e.g. `peak at 4m ±1m, 4 waves 45s apart`.
/// With a population, rate shapes are only shapes, so their rates are not shown.
pub fn describe_arrival(persona: &crate::scenario::Persona) -> String {
    let shape = &persona.arrival.shape;
    let mut text = match (shape, persona.population) {
        (Shape::Constant { from, to, .. }, Some(_)) => format!("evenly {}–{}", clock(*from), clock(*to)),
        (Shape::Ramp { from_rate, to_rate, .. }, Some(_)) if from_rate < to_rate => "rising ramp".to_string(),
        (Shape::Ramp { .. }, Some(_)) => "falling ramp".to_string(),
        _ => describe_shape(shape),
    };
    if let Some(stagger) = persona.arrival.stagger {
        text.push_str(&format!(", {} waves {} apart", stagger.waves, clock(stagger.gap)));
    }
    if !persona.blocked.is_empty() {
        text.push_str(&format!(", {} blocked window(s)", persona.blocked.len()));
    }
    text
}

/// A short description of an arrival curve, e.g. `peak at 4m ±1m`.
pub fn describe_shape(shape: &Shape) -> String {
    match shape {
        Shape::Constant { rate, .. } => format!("constant {rate:.1}/s"),
        Shape::Ramp { from_rate, to_rate, .. } => format!("ramp {from_rate:.1}→{to_rate:.1}/s"),
        Shape::Steps { stages, .. } => format!("{} steps", stages.len()),
        Shape::Points { points } => format!("{} points", points.len()),
        Shape::Peak { at, spread, .. } => format!("peak at {} ±{}", clock(*at), clock(*spread)),
        Shape::Burst { at, spread, decay } => match decay {
            Some(m) => format!("burst at {} (decay {})", clock(*at), clock(*m)),
            None if spread.is_zero() => format!("burst at {}", clock(*at)),
            None => format!("burst at {} over {}", clock(*at), clock(*spread)),
        },
        Shape::Deadline { at, rise, .. } => format!("deadline at {} (rise {})", clock(*at), clock(*rise)),
        Shape::Csv { file, stages, .. } => {
            let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into());
            format!("{} intervals from {name}", stages.len())
        }
    }
}

/// Expected number of requests one user sends if every step succeeds: loops multiply,
/// weighted choices average.
pub fn expected_requests(journey: &Journey) -> f64 {
    expected_between(journey, 0, journey.ops.len())
}

fn expected_between(journey: &Journey, mut pc: usize, end: usize) -> f64 {
    let mut total = 0.0;
    while pc < end {
        match &journey.ops[pc] {
            Op::Request(_) => {
                total += 1.0;
                pc += 1;
            }
            Op::Think(_) | Op::LoopEnd { .. } => pc += 1,
            Op::LoopStart { count, end: loop_end } => {
                total += *count as f64 * expected_between(journey, pc + 1, *loop_end);
                pc = loop_end + 1;
            }
            Op::Choose { branches } => {
                let weight: f64 = branches.iter().map(|(w, _)| *w as f64).sum();
                // Each branch ends with a Jump past the last branch: find where.
                let mut after = pc + 1;
                for (w, start) in branches {
                    let branch_end = branch_end(journey, *start);
                    if let Some(Op::Jump(target)) = journey.ops.get(branch_end) {
                        after = *target;
                    }
                    if weight > 0.0 {
                        total += (*w as f64 / weight) * expected_between(journey, *start, branch_end);
                    }
                }
                pc = after;
            }
            Op::Jump(target) => pc = *target,
        }
    }
    total
}

/// Index of the `Jump` that ends the branch starting at `start` (skipping nested structures).
fn branch_end(journey: &Journey, start: usize) -> usize {
    let mut pc = start;
    while let Some(op) = journey.ops.get(pc) {
        match op {
            Op::Jump(_) => return pc,
            Op::LoopStart { end, .. } => pc = end + 1,
            Op::Choose { branches } => {
                // Skip the nested choice: its last branch's jump target is where it ends.
                let last = branches.last().map(|(_, s)| branch_end(journey, *s)).unwrap_or(pc);
                pc = match journey.ops.get(last) {
                    Some(Op::Jump(target)) => *target,
                    _ => pc + 1,
                };
            }
            _ => pc += 1,
        }
    }
    pc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Think;
    use std::time::Duration;

    fn journey(ops: Vec<Op>) -> Journey {
        Journey { ops, requests: Vec::new(), vars: Vec::new(), goal: 0 }
    }

    #[test]
    fn loops_multiply_and_choices_average() {
        // req; think; loop 3 { req; req }; choose (3: req, 1: loop 2 { req }); req
        let ops = vec![
            Op::Request(0),
            Op::Think(Think::Fixed(Duration::from_secs(1))),
            Op::LoopStart { count: 3, end: 5 },
            Op::Request(1),
            Op::Request(2),
            Op::LoopEnd { start: 2 },
            Op::Choose { branches: vec![(3, 7), (1, 9)] },
            Op::Request(3),
            Op::Jump(13),
            Op::LoopStart { count: 2, end: 11 },
            Op::Request(4),
            Op::LoopEnd { start: 9 },
            Op::Jump(13),
            Op::Request(5),
        ];
        let expected = 1.0 + 6.0 + (0.75 * 1.0 + 0.25 * 2.0) + 1.0;
        assert!((expected_requests(&journey(ops)) - expected).abs() < 1e-9);
    }
}
