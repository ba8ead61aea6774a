//! The end-of-run summary printed to the terminal: what was offered, what came back, who got
//! what they came for, and whether the generator itself kept up.

use std::io::{self, Write};

use super::style::Style;
use crate::analysis::Summary;
use crate::format::{clock, count, micros, percent, share};

pub fn render(summary: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let s = summary;
    writeln!(out)?;
    writeln!(out, "{} {}", style.bold("schoolday ·"), style.bold(&s.scenario.name))?;
    let connections = match s.target.connections {
        crate::scenario::ConnectionMode::PerUser => "per-user connections",
        crate::scenario::ConnectionMode::Shared => "shared connections",
    };
    writeln!(
        out,
        "{}",
        style.dim(&format!(
            "target {} ({}, {connections}) · duration {} + {} grace · seed {} · scale {} · ran {}",
            s.target.kind,
            s.target.url,
            clock(secs(s.scenario.duration_s)),
            clock(secs(s.scenario.grace_s)),
            s.scenario.seed,
            s.scenario.scale,
            clock(secs(s.run.elapsed_s)),
        ))
    )?;
    if let Some(warning) = super::wire::insecure_warning(s) {
        writeln!(out, "{}", style.yellow(warning))?;
    }
    if let Some(why) = &s.run.aborted {
        writeln!(out, "{}", style.red(&format!("STOPPED EARLY (abort_on_fail): {why}")))?;
    }
    if s.run.interrupted {
        writeln!(
            out,
            "{}",
            style.yellow("INTERRUPTED: partial results (users not yet arrived are counted as not started)")
        )?;
    }

    writeln!(out)?;
    writeln!(out, "{}", style.bold("Requests — latency from intended start (what users waited)"))?;
    let mut table = Table::new(&["persona", "step", "sent", "ok", "p50", "p90", "p99", "p99.9", "max", "errors"]);
    for step in &s.steps {
        let errors = step.errors.iter().map(|(k, n)| format!("{k} {}", count(*n))).collect::<Vec<_>>().join(", ");
        let finished = step.ok + step.errors.values().sum::<u64>();
        table.row(vec![
            step.persona.clone(),
            if step.goal { format!("{} (goal)", step.name) } else { step.name.clone() },
            count(step.sent),
            share(step.ok, finished),
            micros(step.latency.p50_us),
            micros(step.latency.p90_us),
            micros(step.latency.p99_us),
            micros(step.latency.p999_us),
            micros(step.latency.max_us),
            if errors.is_empty() { "-".into() } else { errors },
        ]);
    }
    table.write(out, style)?;
    let r = &s.requests;
    let error_total: u64 = r.errors.values().sum();
    let mut line = format!("{} sent, {} ok, {} errors", count(r.sent), count(r.ok), count(error_total));
    if r.cut_off > 0 {
        line.push_str(&format!(", {} cut off in flight at the end", count(r.cut_off)));
    }
    writeln!(out, "{line}")?;
    if let Some(versions) = super::wire::versions(s) {
        writeln!(out, "{}", style.dim(&versions))?;
    }
    for failure in super::wire::failures(s) {
        writeln!(out, "  {}", style.yellow(&failure))?;
    }

    writeln!(out)?;
    writeln!(out, "{}", style.bold("Users — did they get what they came for?"))?;
    let mut table = Table::new(&[
        "persona",
        "scheduled",
        "completed",
        "failed",
        "abandoned",
        "cut off",
        "not started",
        "goal ≤1m",
        "≤5m",
        "≤15m",
        "p50 to goal",
        "p95 to goal",
        "requests/goal",
    ]);
    for p in &s.personas {
        let within = |k: &str| p.goal_within.get(k).map(|f| percent(*f)).unwrap_or_else(|| "n/a".into());
        table.row(vec![
            p.name.clone(),
            count(p.scheduled),
            count(p.completed),
            count(p.failed),
            count(p.abandoned),
            count(p.cut_off),
            count(p.not_started),
            within("1m"),
            within("5m"),
            within("15m"),
            if p.time_to_goal.count > 0 { micros(p.time_to_goal.p50_us) } else { "-".into() },
            if p.time_to_goal.count > 0 { micros(p.time_to_goal.p95_us) } else { "-".into() },
            p.amplification.map(|a| format!("{a:.2}")).unwrap_or_else(|| "-".into()),
        ]);
    }
    table.write(out, style)?;
    if s.personas.iter().all(|p| p.accounting_closes) {
        writeln!(out, "{}", style.green("accounting closes: scheduled = completed + failed + abandoned + cut off + not started, for every persona"))?;
    } else {
        writeln!(
            out,
            "{}",
            style.red(
                "ACCOUNTING DOES NOT CLOSE: some users are unaccounted for (this is a schoolday bug; please report it)"
            )
        )?;
    }

    behaviour(s, style, out)?;
    writeln!(out)?;
    let lag = &s.generator.lag;
    let lag_line = format!(
        "Generator lag (actual − intended start): p50 {} · p99 {} · max {}",
        micros(lag.p50_us),
        micros(lag.p99_us),
        micros(lag.max_us)
    );
    if s.generator.healthy {
        writeln!(out, "{lag_line} {}", style.green("· kept up"))?;
    } else {
        writeln!(out, "{lag_line}")?;
        writeln!(
            out,
            "{}",
            style.red(&format!(
                "WARNING: generator lag p99 {} exceeds {}: the load generator fell behind its schedule, so the target \
                 received less load than planned. Latencies still count from intended starts, but do not read this run \
                 as the target's capacity. Use a bigger machine, fewer users per process (--shard), or a smaller scale.",
                micros(lag.p99_us),
                micros(s.generator.lag_p99_limit_us)
            ))
        )?;
    }
    if let Some(counts) = &s.target_counts {
        if let Some(received) = counts.get("received").and_then(|r| r.as_object()) {
            let total: u64 = received.iter().filter(|(k, _)| *k != "GET /health").filter_map(|(_, v)| v.as_u64()).sum();
            let shed = counts.get("shed").and_then(|v| v.as_u64()).unwrap_or(0);
            let sent_to_target = r.sent - r.errors.get("connect").copied().unwrap_or(0);
            let agree = if total == sent_to_target { style.green("matches") } else { style.yellow("differs from") };
            writeln!(
                out,
                "Embedded target received {} requests ({} shed with 503) — {agree} the {} the harness sent",
                count(total),
                count(shed),
                count(sent_to_target)
            )?;
        }
    }
    super::thresholds::render(summary, style, out)?;
    Ok(())
}

fn secs(s: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(s.max(0.0))
}

/// A left-aligned first two columns, right-aligned numbers table.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn write(&self, out: &mut dyn Write, style: &Style) -> io::Result<()> {
        let width = |i: usize| {
            std::iter::once(&self.header[i])
                .chain(self.rows.iter().map(|r| &r[i]))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &[String]| {
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let pad = widths[i].saturating_sub(c.chars().count());
                    if i < 2 || i == cells.len() - 1 && self.header[i] == "errors" {
                        format!("{c}{}", " ".repeat(pad))
                    } else {
                        format!("{}{c}", " ".repeat(pad))
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        writeln!(out, "{}", style.dim(line(&self.header).trim_end()))?;
        for row in &self.rows {
            writeln!(out, "{}", line(row).trim_end())?;
        }
        Ok(())
    }
}

/// Retries, reloads, re-logins, waiting rooms, blocked users and recovery: shown only when
/// something of the kind happened, so a quiet run stays short.
fn behaviour(s: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    for p in &s.personas {
        let extra: Vec<String> = ["app_retry", "reload", "relogin", "poll"]
            .iter()
            .filter_map(|k| {
                p.attempts.get(*k).filter(|n| **n > 0).map(|n| format!("{} {}", count(*n), k.replace('_', " ")))
            })
            .collect();
        let mut parts = Vec::new();
        if !extra.is_empty() {
            let first = p.attempts.get("first").copied().unwrap_or(0);
            parts.push(format!("{} first attempts + {}", count(first), extra.join(", ")));
        }
        if p.relogins > 0 {
            parts.push(format!("{} re-logins", count(p.relogins)));
        }
        if p.returns > 0 {
            parts.push(format!("{} came back after abandoning", count(p.returns)));
        }
        if let Some(queue) = p.time_in_queue.as_ref().filter(|_| p.queued > 0) {
            parts.push(format!(
                "{} queued in the waiting room (p50 {} · p95 {}), {} gave up there",
                count(p.queued),
                micros(queue.p50_us),
                micros(queue.p95_us),
                count(p.abandoned_in_queue)
            ));
        }
        if p.blocked > 0 {
            parts.push(format!("{} blocked (did not come)", count(p.blocked)));
        }
        if !parts.is_empty() {
            writeln!(out, "{}: {}", style.bold(&p.name), parts.join(" · "))?;
        }
    }
    for r in &s.recovery {
        let line = match r.recovered_after_s {
            Some(secs) => style.green(&format!(
                "{}: recovered after {} (goodput back to ≥90% of {:.0} ok/s)",
                r.event,
                clock(secs_duration(secs)),
                r.baseline_goodput
            )),
            None => style.red(&format!(
                "{}: did NOT recover — goodput {:.0} ok/s at the end against {:.0} before{}",
                r.event,
                r.final_goodput,
                r.baseline_goodput,
                if r.ended_degraded { " (metastable: the retries keep it overloaded)" } else { "" }
            )),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn secs_duration(s: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(s.max(0.0))
}
