//! The capacity verdict in the terminal, and the sentences it shares with `capacity.html`
//! ([`super::page`]).

use std::io::{self, Write};

use super::step::Verdict;
use super::{CapacityReport, Load};
use crate::report::Style;

/// The verdict sentence: what a buyer reads first.
pub fn headline(r: &CapacityReport) -> String {
    let claim = &r.claim.text;
    let head = match r.verdict {
        Verdict::Pass => format!("PASS: the claim \"{claim}\" holds in every run."),
        Verdict::Fail => format!("FAIL: the claim \"{claim}\" does not hold."),
        Verdict::Inconclusive => {
            format!("INCONCLUSIVE: the evidence neither confirms nor refutes \"{claim}\".")
        }
        Verdict::NotTested => {
            format!("NOT TESTED: the claimed users were never all in session, so \"{claim}\" was not put to the test.")
        }
    };
    format!("{}{head}", indicative(r))
}

/// `INDICATIVE · ` on every line of a report whose plan could not conclude.
pub fn indicative(r: &CapacityReport) -> &'static str {
    if r.settings.indicative {
        "INDICATIVE · "
    } else {
        ""
    }
}

pub fn load_line(l: &Load) -> String {
    format!(
        "{:.3}× the claim: {:.1} sessions/s, {:.1} requests/s, {:.1} users in session (measured)",
        l.fraction, l.rate, l.throughput, l.concurrency
    )
}

pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

pub fn terminal(r: &CapacityReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let mark = indicative(r);
    writeln!(out)?;
    writeln!(out, "{}", style.bold(&format!("{mark}Capacity verdict · {}", r.claim.persona)))?;
    let head = headline(r);
    let head = match r.verdict {
        Verdict::Pass => style.green(&head),
        Verdict::Fail => style.red(&head),
        Verdict::Inconclusive | Verdict::NotTested => style.yellow(&head),
    };
    writeln!(out, "{head}")?;
    writeln!(out, "{}", style.dim(&format!("{mark}method: {}", r.settings.method.describe())))?;
    writeln!(out, "{}", style.dim(&format!("{mark}{}", r.conversion.statement)))?;
    writeln!(out)?;
    writeln!(
        out,
        "  {mark}seed   load      sessions/s  users (target)  req/s   over target (95% CI)   errors (95% CI)     goal    verdict"
    )?;
    for run in &r.runs {
        for s in &run.steps {
            writeln!(
                out,
                "  {mark}{:<6} {:<9} {:>10.1}  {:>6.0} ({:>5.0})  {:>6.1}  {:>8} – {:<8}     {:>7} – {:<7}  {:>6}  {}{}",
                s.seed,
                format!("{:.3}×", s.fraction),
                s.rate,
                s.concurrency,
                s.users_target,
                s.throughput,
                pct(s.latency_low.low),
                pct(s.latency_high.high),
                pct(s.errors.low),
                pct(s.errors.high),
                pct(s.goal_success),
                s.verdict.label(),
                s.worst_step
                    .as_ref()
                    .filter(|_| s.verdict != Verdict::Pass)
                    .map(|w| format!(" (worst: {w})"))
                    .unwrap_or_default()
            )?;
            if s.verdict == Verdict::NotTested {
                if let Some(why) = s.reasons.first() {
                    writeln!(out, "  {mark}{}", style.dim(&format!("       {why}")))?;
                }
            }
        }
    }
    writeln!(out)?;
    match &r.largest_pass {
        Some(l) => writeln!(out, "{mark}Largest load that passed: {}", load_line(l))?,
        None => writeln!(out, "{mark}No load passed.")?,
    }
    if let Some(l) = &r.first_fail {
        writeln!(out, "{mark}First load that failed:   {}", load_line(l))?;
        for reason in &l.reasons {
            writeln!(out, "  {mark}{reason}")?;
        }
        if let Some(w) = &l.worst_step {
            writeln!(out, "  {mark}broke first at step `{w}`")?;
        }
    }
    for note in &r.notes {
        writeln!(out, "{}", style.dim(&format!("{mark}note: {note}")))?;
    }
    Ok(())
}

/// `schoolday capacity --output json`: the report written to `capacity.json`, and where the
/// evidence pack is.
pub fn json(report: &CapacityReport, dir: &std::path::Path) -> serde_json::Value {
    serde_json::json!({ "evidence_dir": dir, "report": report })
}
