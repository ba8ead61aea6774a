//! The capacity verdict for people: a terminal summary, and an HTML section that the HTML
//! report can embed as it is (`report.html` is rendered by `report/`; this only produces the
//! fragment, self-contained, with its own small style block).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::step::Verdict;
use super::{CapacityReport, Load};
use crate::analysis::thresholds::show;
use crate::report::escape::markup as esc;
use crate::report::Style;
use crate::scenario::thresholds::Unit;

/// The verdict sentence: what a buyer reads first.
pub fn headline(r: &CapacityReport) -> String {
    let claim = &r.claim.text;
    match r.verdict {
        Verdict::Pass => format!("PASS: the claim \"{claim}\" holds in every run."),
        Verdict::Fail => format!("FAIL: the claim \"{claim}\" does not hold."),
        Verdict::Inconclusive => {
            format!("INCONCLUSIVE: the evidence neither confirms nor refutes \"{claim}\".")
        }
    }
}

fn load_line(l: &Load) -> String {
    format!(
        "{:.3}× the claim: {:.1} sessions/s, {:.1} requests/s, {:.1} users in session (measured)",
        l.fraction, l.rate, l.throughput, l.concurrency
    )
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

pub fn terminal(r: &CapacityReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{}", style.bold(&format!("Capacity verdict · {}", r.claim.persona)))?;
    let head = headline(r);
    let head = match r.verdict {
        Verdict::Pass => style.green(&head),
        Verdict::Fail => style.red(&head),
        Verdict::Inconclusive => style.yellow(&head),
    };
    writeln!(out, "{head}")?;
    writeln!(out, "{}", style.dim(&r.conversion.statement))?;
    writeln!(out)?;
    writeln!(
        out,
        "  seed   load      sessions/s  users  req/s   over target (95% CI)   errors (95% CI)     goal    verdict"
    )?;
    for run in &r.runs {
        for s in &run.steps {
            writeln!(
                out,
                "  {:<6} {:<9} {:>10.1}  {:>5.1}  {:>6.1}  {:>8} – {:<8}     {:>7} – {:<7}  {:>6}  {:?}{}",
                s.seed,
                format!("{:.3}×", s.fraction),
                s.rate,
                s.concurrency,
                s.throughput,
                pct(s.latency_low.low),
                pct(s.latency_high.high),
                pct(s.errors.low),
                pct(s.errors.high),
                pct(s.goal_success),
                s.verdict,
                s.worst_step
                    .as_ref()
                    .filter(|_| s.verdict != Verdict::Pass)
                    .map(|w| format!(" (worst: {w})"))
                    .unwrap_or_default()
            )?;
        }
    }
    writeln!(out)?;
    match &r.largest_pass {
        Some(l) => writeln!(out, "Largest load that passed: {}", load_line(l))?,
        None => writeln!(out, "No load passed.")?,
    }
    if let Some(l) = &r.first_fail {
        writeln!(out, "First load that failed:   {}", load_line(l))?;
        for reason in &l.reasons {
            writeln!(out, "  {reason}")?;
        }
        if let Some(w) = &l.worst_step {
            writeln!(out, "  broke first at step `{w}`")?;
        }
    }
    for note in &r.notes {
        writeln!(out, "{}", style.dim(&format!("note: {note}")))?;
    }
    Ok(())
}

/// The capacity section for report.html: a `<section>` with its own scoped style.
pub fn html_section(r: &CapacityReport) -> String {
    let mut h = String::new();
    let class = match r.verdict {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Inconclusive => "inconclusive",
    };
    let target = show(r.claim.latency_us as f64, Unit::Duration);
    let _ = writeln!(h, r#"<section class="sd-capacity" id="capacity">"#);
    let _ = writeln!(
        h,
        "<style>.sd-capacity table{{border-collapse:collapse}}.sd-capacity td,.sd-capacity th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}\
         .sd-capacity .pass{{color:#1a7f37}}.sd-capacity .fail{{color:#cf222e}}.sd-capacity .inconclusive{{color:#9a6700}}</style>"
    );
    let _ = writeln!(h, "<h2>Capacity verdict</h2>");
    let _ = writeln!(h, r#"<p class="{class}"><strong>{}</strong></p>"#, esc(&headline(r)));
    let _ = writeln!(
        h,
        "<p>Claim: {} concurrent <code>{}</code> users, p{} &lt; {target}, errors &lt; {}, goal reached by ≥ {}.</p>",
        r.claim.concurrency.map(|n| n.to_string()).unwrap_or_else(|| "a rate of".into()),
        esc(&r.claim.persona),
        r.claim.quantile * 100.0,
        pct(r.claim.error_rate),
        pct(r.claim.goal_success)
    );
    let _ = writeln!(h, "<p>Conversion: {}</p>", esc(&r.conversion.statement));
    let _ = writeln!(h, "<ul>");
    if let Some(l) = &r.largest_pass {
        let _ = writeln!(h, "<li>Largest load that passed: {}</li>", esc(&load_line(l)));
    }
    if let Some(l) = &r.first_fail {
        let _ = writeln!(
            h,
            "<li>First load that failed: {}{}: {}</li>",
            esc(&load_line(l)),
            l.worst_step.as_ref().map(|w| format!(", broke first at <code>{}</code>", esc(w))).unwrap_or_default(),
            esc(&l.reasons.join("; "))
        );
    }
    let _ = writeln!(h, "</ul>");
    let _ = writeln!(
        h,
        "<table><tr><th>seed</th><th>load</th><th>sessions/s</th><th>users</th><th>req/s</th><th>over {target} (95% CI)</th>\
         <th>errors (95% CI)</th><th>goal</th><th>generator</th><th>verdict</th></tr>"
    );
    for run in &r.runs {
        for s in &run.steps {
            let v = match s.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "fail",
                Verdict::Inconclusive => "inconclusive",
            };
            let _ = writeln!(
                h,
                r#"<tr><td>{}</td><td>{:.3}×</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{} – {}</td><td>{} – {}</td><td>{}</td><td>{}</td><td class="{v}">{v}</td></tr>"#,
                s.seed,
                s.fraction,
                s.rate,
                s.concurrency,
                s.throughput,
                pct(s.latency_low.low),
                pct(s.latency_high.high),
                pct(s.errors.low),
                pct(s.errors.high),
                pct(s.goal_success),
                if s.generator_healthy { "kept up".to_string() } else { format!("fell behind ({}µs)", s.lag_p99_us) },
            );
        }
    }
    let _ = writeln!(h, "</table>");
    let e = &r.evidence;
    let _ = writeln!(
        h,
        "<p>Evidence: {} {} · scenario <code>{}</code> SHA-256 <code>{}</code> · {} cores{} · seeds {:?} · warm-up {} s, window {} s per step.</p>",
        esc(&e.tool),
        esc(&e.version),
        esc(&e.scenario_file),
        e.scenario_sha256,
        e.machine.cores,
        e.machine.cpu_model.as_ref().map(|m| format!(" ({})", esc(m))).unwrap_or_default(),
        r.settings.seeds,
        r.settings.warmup_s,
        r.settings.window_s
    );
    for note in &r.notes {
        let _ = writeln!(h, "<p><em>{}</em></p>", esc(note));
    }
    let _ = writeln!(h, "</section>");
    h
}
