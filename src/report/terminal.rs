//! The end-of-run summary printed to the terminal: what was offered, what came back, who got
//! what they came for, and whether the generator itself kept up.

use std::io::{self, Write};

use super::style::Style;
use super::tables;
use crate::analysis::Summary;
use crate::format::{clock, count, micros};

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
    Table::of(&tables::steps(s)).write(out, style)?;
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

    closed_loops(s, style, out)?;
    if s.personas.iter().any(|p| p.closed_loop.is_none()) {
        goals(s, style, out)?;
    }
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
                "WARNING: run invalid: {}. Latencies still count from intended starts, but do not read this run \
                 as the target's capacity. Give the generator a machine (or cores) of its own, split the run into \
                 several runs with part of the population each, or lower `scale`.",
                s.generator.why_invalid()
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
    /// Per column: left-aligned text, not a right-aligned number.
    text: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        let text = (0..header.len()).map(|i| i == 0).collect();
        Table { header: header.iter().map(|h| h.to_string()).collect(), text, rows: Vec::new() }
    }

    /// A table shared with report.html.
    fn of(grid: &tables::Grid) -> Self {
        Table {
            header: grid.header.iter().map(|h| h.to_string()).collect(),
            text: grid.text.to_vec(),
            rows: grid.rows.iter().map(|r| r.iter().map(|c| c.text.clone()).collect()).collect(),
        }
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
                    if self.text[i] {
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

/// Who got what they came for: outcomes and time to goal, per persona.
fn goals(s: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", style.bold("Users — did they get what they came for?"))?;
    Table::of(&tables::users(s)).write(out, style)
}

/// A closed loop's users all "complete" with their first answer; what matters is the
/// concurrency the loop held, how much each user sent, and how many an error stopped.
fn closed_loops(s: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let loops: Vec<_> = s.personas.iter().filter_map(|p| Some((p, p.closed_loop.as_ref()?))).collect();
    if loops.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", style.bold("Closed loop — the concurrency held"))?;
    let mut table =
        Table::new(&["persona", "users", "held (fewest)", "held (mean)", "requests/user", "stopped by an error"]);
    for (p, l) in loops {
        table.row(vec![
            p.name.clone(),
            count(l.users),
            l.concurrency_min.map(count).unwrap_or_else(|| "-".into()),
            l.concurrency_mean.map(|m| format!("{m:.1}")).unwrap_or_else(|| "-".into()),
            format!("{:.1}", l.requests_per_user),
            count(l.stopped_by_error),
        ]);
    }
    table.write(out, style)
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
