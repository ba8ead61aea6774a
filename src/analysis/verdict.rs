//! The verdict in plain language: the sentences at the top of the report that a platform lead
//! reads to their director. When did the target break, what broke first, how many users did
//! it cost, and can the numbers be trusted. A target that could not be reached, or that went
//! away for a while, is said to be so: its errors are not a sign of saturation.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::saturation::Saturation;
use super::summary::{Summary, GOAL_WINDOWS};
use crate::format::{clock, count, micros, percent};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Some criterion held in a sustained way.
    Saturated,
    /// The target kept up with everything offered.
    Held,
    /// Nothing (or too little) was sent to judge.
    #[default]
    NoData,
    /// No request could connect: refused, or a name that does not resolve.
    Unreachable,
    /// The target went away for a while (see `Summary::outages`), and that is what the
    /// run's errors say.
    Outage,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    /// One sentence: when it broke and at what load, or that it held.
    pub headline: String,
    /// What broke first, what it cost users, and caveats; one sentence each.
    #[serde(default)]
    pub details: Vec<String>,
}

impl Verdict {
    /// Headline and details as one paragraph.
    pub fn text(&self) -> String {
        std::iter::once(self.headline.as_str())
            .chain(self.details.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn rate(r: f64) -> String {
    if r >= 100.0 {
        // "about 310 requests/s": two significant figures is what the measurement supports.
        let magnitude = 10f64.powi(r.log10().floor() as i32 - 1);
        count(((r / magnitude).round() * magnitude) as u64)
    } else {
        format!("{r:.0}")
    }
}

fn plural(name: &str) -> String {
    if name.ends_with('s') {
        name.to_string()
    } else {
        format!("{name}s")
    }
}

const CRITERIA: [(&str, &str); 4] = [
    ("slo", "p95 latency above the objective"),
    ("goodput", "fewer than 95% of requests served successfully"),
    ("errors", "more than 1% errors"),
    ("in_flight_growing", "requests piling up in flight"),
];

/// Every request sent failed to connect: the run says nothing about the target's capacity.
/// (The same test decides exit code 4.)
pub fn unreachable(summary: &Summary) -> bool {
    let connect = summary.requests.errors.get("connect").copied().unwrap_or(0);
    summary.requests.sent > 0 && connect == summary.requests.sent
}

pub fn judge(summary: &Summary, s: &Saturation) -> Verdict {
    let sent = summary.requests.sent;
    if sent == 0 || summary.timeline.is_empty() {
        return Verdict {
            status: Status::NoData,
            headline: "No requests were sent: there is nothing to judge.".into(),
            details: caveats(summary),
        };
    }
    if unreachable(summary) {
        return Verdict {
            status: Status::Unreachable,
            headline: format!(
                "The target was unreachable: all {} requests failed to connect (refused, or the name did not resolve), so nothing can be said about its capacity.",
                count(sent)
            ),
            details: caveats(summary),
        };
    }
    // Seconds in which the target was gone: its errors there are the outage, not saturation.
    let in_outage = |at_s: f64| summary.outages.iter().any(|o| at_s + s.window_s as f64 > o.from_s && at_s <= o.to_s);
    let mut details: Vec<String> = summary.outages.iter().map(outage_sentence).collect();
    let (status, headline) = match &s.point {
        _ if !summary.outages.is_empty() && s.point.as_ref().is_none_or(|p| in_outage(p.at_s)) => {
            let o = &summary.outages[0];
            let more = match summary.outages.len() {
                1 => String::new(),
                n => format!(" ({} outages in all)", n),
            };
            (Status::Outage, format!("The target went down: {}{more}.", o.text()))
        }
        Some(p) => {
            let why: Vec<&str> =
                CRITERIA.iter().filter(|(k, _)| p.criteria.iter().any(|c| c == k)).map(|(_, text)| *text).collect();
            details.push(format!("Signs: {}.", why.join("; ")));
            (
                Status::Saturated,
                format!(
                    "The target saturated {} in, at about {} requests/s offered ({} served) with {} users active and {} requests in flight.",
                    clock(Duration::from_secs_f64(p.at_s)),
                    rate(p.offered_rps),
                    rate(p.ok_rps),
                    count(p.active_users),
                    count(p.in_flight),
                ),
            )
        }
        None => (
            Status::Held,
            format!(
                "The target held: no sign of saturation up to {} requests/s offered and {} users active (p95 objective {}).",
                rate(s.peak_offered_rps),
                count(s.peak_active_users),
                micros(s.slo_p95_us),
            ),
        ),
    };
    if let Some(b) = s.first_to_break.as_ref().filter(|b| !in_outage(b.at_s)) {
        let what = if b.reason == "slo" {
            format!("p95 {} over the run", micros(b.p95_us))
        } else {
            format!("{} errors", percent(b.error_rate))
        };
        details.push(format!(
            "{}/{} broke first, {} in ({what}).",
            b.persona,
            b.step,
            clock(Duration::from_secs_f64(b.at_s))
        ));
    }
    if let Some(line) = users_cost(summary) {
        details.push(line);
    }
    details.extend(caveats(summary));
    Verdict { status, headline, details }
}

/// "Outage from 4s to 7s, recovered in 1s: nothing succeeded; 40 connections refused, 3 reset."
fn outage_sentence(o: &super::Outage) -> String {
    let text = o.text();
    let mut c = text.chars();
    let text: String = c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
    format!(
        "{text}: nothing succeeded; {} connections refused or not established, {} reset.",
        count(o.connect_errors),
        count(o.resets)
    )
}

/// "38% of pupils and 12% of parents did not reach their goal within 5 minutes." Uses the
/// longest goal window the run could observe (a 3-minute run cannot judge 5 minutes).
fn users_cost(summary: &Summary) -> Option<String> {
    let observed = summary.run.elapsed_s.max(summary.scenario.duration_s);
    let (label, window) =
        GOAL_WINDOWS.iter().rev().find(|(_, w)| w.as_secs_f64() <= observed).unwrap_or(&GOAL_WINDOWS[0]);
    let minutes = window.as_secs() / 60;
    let parts: Vec<String> = summary
        .personas
        .iter()
        .filter(|p| p.arrived > 0)
        .filter_map(|p| {
            let missed = 1.0 - p.goal_within.get(*label).copied()?;
            (missed >= 0.005).then(|| format!("{} of {}", percent(missed), plural(&p.name)))
        })
        .collect();
    let within = if minutes == 1 { "within a minute".to_string() } else { format!("within {minutes} minutes") };
    match parts.len() {
        0 if summary.personas.iter().any(|p| p.arrived > 0) => {
            Some(format!("Every user who arrived reached their goal {within}."))
        }
        0 => None,
        1 => Some(format!("{} did not reach their goal {within} of arriving.", capitalise(&parts[0]))),
        _ => {
            let (last, rest) = parts.split_last()?;
            Some(format!("{} and {last} did not reach their goal {within} of arriving.", capitalise(&rest.join(", "))))
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn caveats(summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    if summary.run.interrupted {
        out.push(format!(
            "The run was interrupted after {}: these are partial results.",
            clock(Duration::from_secs_f64(summary.run.elapsed_s.max(0.0)))
        ));
    }
    if !summary.generator.healthy {
        out.push(format!(
            "Caution: the load generator fell behind its schedule (lag p99 {}), so the target received less load than planned; do not read this run as the target's capacity.",
            micros(summary.generator.lag.p99_us)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{fixture, saturation};

    #[test]
    fn names_time_load_first_step_and_cost() {
        let summary = fixture::saturating();
        let s = saturation::analyze(&summary, &saturation::Options::default());
        let v = &s.verdict;
        assert_eq!(v.status, Status::Saturated);
        assert!(v.headline.starts_with("The target saturated 1m "), "{}", v.headline);
        assert!(v.headline.contains("requests/s offered"), "{}", v.headline);
        let text = v.text();
        assert!(text.contains("pupil/login broke first"), "{text}");
        assert!(text.contains("of pupils"), "{text}");
        assert!(text.contains("within a minute"), "{text}");
    }

    #[test]
    fn held_and_empty_runs_say_so() {
        let summary = fixture::calm();
        let s = saturation::analyze(&summary, &saturation::Options::default());
        assert_eq!(s.verdict.status, Status::Held);
        assert!(s.verdict.headline.starts_with("The target held"), "{}", s.verdict.headline);
        let s = saturation::analyze(&fixture::empty(), &saturation::Options::default());
        assert_eq!(s.verdict.status, Status::NoData);
        assert!(s.verdict.details.iter().any(|d| d.contains("interrupted")));
    }

    #[test]
    fn an_unreachable_target_is_unreachable_not_saturated() {
        let mut summary = fixture::calm();
        let sent = summary.requests.sent;
        summary.requests.ok = 0;
        summary.requests.errors = [("connect".to_string(), sent)].into();
        for second in &mut summary.timeline {
            second.errors[crate::metrics::ErrorKind::Connect.index()] = second.finished();
            second.ok = 0;
        }
        summary.outages = crate::analysis::outages(&summary.timeline);
        let s = saturation::analyze(&summary, &saturation::Options::default());
        assert_eq!(s.verdict.status, Status::Unreachable);
        assert!(s.verdict.headline.starts_with("The target was unreachable: all "), "{}", s.verdict.headline);
        assert!(!s.verdict.text().contains("saturated"), "{}", s.verdict.text());
    }

    #[test]
    fn a_target_that_went_away_for_a_while_is_an_outage_not_saturation() {
        let mut summary = fixture::calm();
        let connect = crate::metrics::ErrorKind::Connect.index();
        for second in summary.timeline.iter_mut().filter(|s| (41..=43).contains(&s.t)) {
            second.errors[connect] = second.finished().max(30);
            summary.requests.ok -= second.ok;
            second.ok = 0;
        }
        let refused: u64 = summary.timeline.iter().map(|s| s.errors[connect]).sum();
        summary.requests.errors.insert("connect".into(), refused);
        summary.outages = crate::analysis::outages(&summary.timeline);
        assert_eq!(summary.outages.len(), 1, "{:?}", summary.outages);
        let s = saturation::analyze(&summary, &saturation::Options::default());
        assert_eq!(s.verdict.status, Status::Outage, "{:?}", s.verdict);
        assert_eq!(s.verdict.headline, "The target went down: outage from 40s to 43s, recovered in 1s.");
        let text = s.verdict.text();
        assert!(text.contains(&format!("{refused} connections refused")), "{text}");
        assert!(!text.contains("broke first"), "the outage's errors are not a step breaking: {text}");
    }

    #[test]
    fn rounds_rates_to_what_is_measured() {
        assert_eq!(rate(312.4), "310");
        assert_eq!(rate(2_468.0), "2,500");
        assert_eq!(rate(42.4), "42");
        assert_eq!(plural("pupil"), "pupils");
        assert_eq!(plural("exam takers"), "exam takers");
    }
}
