//! The shards of a distributed run, in the terminal and in report.html: each shard's users,
//! requests, start skew against the barrier, machine and generator health. A merged run is
//! invalid if any one shard fell behind, so that is the first thing this section says.

use std::fmt::Write as _;
use std::io;

use super::escape::markup as esc;
use super::style::Style;
use crate::analysis::shards::{start_spread_us, ShardRun};
use crate::analysis::Summary;
use crate::format::{count, micros};

fn skew(s: &ShardRun) -> String {
    match s.skew_us {
        Some(us) if us < 0 => format!("-{}", micros(us.unsigned_abs())),
        Some(us) => format!("+{}", micros(us as u64)),
        None => "-".into(),
    }
}

fn headline(summary: &Summary) -> Option<String> {
    let shards = &summary.shards;
    let first = shards.first()?;
    let spread = start_spread_us(shards).map(micros).unwrap_or_else(|| "-".into());
    Some(if shards.len() == 1 && first.count > 1 {
        format!("Shard {}/{} of a distributed run (merge the shards with `schoolday merge`).", first.index, first.count)
    } else {
        let behind = shards.iter().filter(|s| !s.healthy).count();
        format!(
            "Merged from {} shards; actual starts spread over {spread}{}.",
            shards.len(),
            if behind > 0 {
                format!("; {behind} shard(s) fell behind their schedule, so the whole run is invalid")
            } else {
                String::new()
            }
        )
    })
}

/// The shards table for the terminal (nothing for a run that was not sharded).
pub fn terminal(summary: &Summary, style: &Style, out: &mut impl io::Write) -> io::Result<()> {
    let Some(line) = headline(summary) else { return Ok(()) };
    writeln!(out, "{}", style.bold("Shards"))?;
    writeln!(out, "  {line}")?;
    writeln!(
        out,
        "  {:>5}  {:>9}  {:>10}  {:>10}  {:>10}  {:<9}  machine",
        "shard", "users", "requests", "start skew", "lag p99", "generator"
    )?;
    for s in &summary.shards {
        let health = if s.healthy { style.green("kept up") } else { style.red("BEHIND") };
        writeln!(
            out,
            "  {:>5}  {:>9}  {:>10}  {:>10}  {:>10}  {:<9}  {} ({} cores)",
            format!("{}/{}", s.index, s.count),
            count(s.scheduled),
            count(s.sent),
            skew(s),
            micros(s.lag_p99_us),
            health,
            s.machine,
            s.cores
        )?;
    }
    Ok(())
}

/// The shards section of report.html (empty for a run that was not sharded).
pub fn html(summary: &Summary) -> String {
    let Some(line) = headline(summary) else { return String::new() };
    let mut out = String::new();
    let bad = summary.shards.iter().any(|s| !s.healthy);
    let _ = write!(out, "<h3>Shards</h3><p class=\"{}\">{}</p>", if bad { "warn" } else { "note" }, esc(&line));
    out.push_str(
        "<table><tr><th>shard</th><th>users</th><th>requests</th><th>start skew</th><th>lag p99</th>\
         <th>generator</th><th>machine</th><th>started at</th></tr>",
    );
    for s in &summary.shards {
        let _ = write!(
            out,
            "<tr><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{} ({} cores)</td><td>{}</td></tr>",
            s.index,
            s.count,
            count(s.scheduled),
            count(s.sent),
            esc(&skew(s)),
            micros(s.lag_p99_us),
            if s.healthy { "ok" } else { "notok" },
            if s.healthy { "kept up" } else { "fell behind" },
            esc(&s.machine),
            s.cores,
            esc(&s.started_at)
        );
    }
    let barrier = summary.shards.first().and_then(|s| s.start_at.as_deref());
    let _ = write!(
        out,
        "</table><p class=\"note\">Start skew is each shard's actual start minus the start barrier{}. \
         Percentiles are computed from the shards' added HDR histograms, not averaged.</p>",
        barrier.map(|b| format!(" ({})", esc(b))).unwrap_or_default()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(index: u32, healthy: bool, skew_us: i64) -> ShardRun {
        ShardRun {
            index,
            count: 2,
            scenario_sha256: "0".repeat(64),
            seed: 1,
            start_at: Some("2026-12-02T09:00:00.000Z".into()),
            started_at: format!("2026-12-02T09:00:00.{:06}Z", skew_us.max(0)),
            skew_us: Some(skew_us),
            machine: format!("pod-{index}"),
            cores: 2,
            scheduled: 10,
            sent: 20,
            lag_p99_us: 100,
            healthy,
        }
    }

    #[test]
    fn a_merged_run_with_a_lagging_shard_says_it_is_invalid() {
        let mut summary = crate::analysis::fixture::saturating();
        assert_eq!(html(&summary), "", "nothing for an unsharded run");
        summary.shards = vec![shard(0, true, 1_500), shard(1, false, 4_000)];
        let page = html(&summary);
        assert!(page.contains("Merged from 2 shards; actual starts spread over 2.5ms"), "{page}");
        assert!(page.contains("1 shard(s) fell behind"), "{page}");
        assert!(page.contains("<td>+1.5ms</td>") && page.contains("fell behind"), "{page}");
        let mut text = Vec::new();
        terminal(&summary, &Style::plain(), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("BEHIND") && text.contains("pod-1 (2 cores)"), "{text}");
        summary.shards.truncate(1);
        assert!(html(&summary).contains("Shard 0/2 of a distributed run"));
    }
}
