//! The scenario `schoolday import log` writes: one persona per rule (and one for the rest),
//! each arriving along its own per-minute file, pausing with the day's think-time quantiles,
//! and choosing among the day's most frequent journeys with their real weights.
//!
//! Logs have no bodies and no ids worth replaying: a collapsed id (`/files/{id}`) becomes the
//! user's own index, and a login gets a placeholder body. The comments say so, so that the
//! person reading the scenario knows what is real (the curve, the mix, the pauses) and what
//! to fill in.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::import::log_scenario::{clock, peak_minute, Left, LogOptions};
use crate::import::sessions::{Day, PersonaDay, Route, JOURNEY_STEPS};
use crate::import::write::{duration, quote};

pub fn scenario(options: &LogOptions, day: &Day, left: &Left, files: &[PathBuf]) -> String {
    let mut out = String::new();
    let offset = day.offset.unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("0 is a valid offset"));
    let (first, last) = (day.first_minute.unwrap_or(0), day.last_minute.unwrap_or(0));
    let log = options.file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let sessions: u64 = day.personas.iter().map(|p| p.sessions).sum();
    let date = chrono::DateTime::from_timestamp(first * 60, 0).map(|t| t.with_timezone(&offset).format("%Y-%m-%d"));
    let _ = writeln!(
        out,
        "# Imported by `schoolday import log` from {log}: {} {}–{} (UTC{offset}), {} requests in {sessions} sessions.",
        date.map(|d| d.to_string()).unwrap_or_default(),
        clock(first, offset),
        clock(last, offset),
        day.requests
    );
    if let Some((minute, n)) = peak_minute(day) {
        let _ =
            writeln!(out, "# Peak minute {}: {n} sessions started ({:.2}/s).", clock(minute, offset), n as f64 / 60.0);
    }
    let _ = writeln!(
        out,
        "# Left out: {} static assets, {} requests outside --from/--to, {} unparsable lines.",
        left.assets, left.outside_window, left.unparsable
    );
    let _ = writeln!(
        out,
        "# Each logged minute lasts {} here; sessions start per minute as logged (the `csv` files),",
        duration(options.clock)
    );
    let _ = writeln!(out, "# a session being one client's requests until {} idle.", duration(options.gap));
    let _ = writeln!(out, "# The log has no bodies: fill in the login step, and check the goal of each persona.");
    let _ = writeln!(out, "name: {}", quote(&format!("Imported from {log}")));
    let _ = writeln!(out, "target: {}", quote(&options.target));
    let minutes = u32::try_from(last - first + 2).unwrap_or(u32::MAX);
    let _ = writeln!(out, "duration: {}", duration(options.clock * minutes));
    if options.scale != 1.0 {
        let _ = writeln!(out, "scale: {}", options.scale);
    }
    let _ = writeln!(out, "personas:");
    let with_sessions = day.personas.iter().filter(|p| p.sessions > 0);
    for (persona, file) in with_sessions.zip(files) {
        persona_section(&mut out, options, day, persona, file, sessions);
    }
    out
}

fn persona_section(out: &mut String, options: &LogOptions, day: &Day, persona: &PersonaDay, file: &Path, all: u64) {
    let share = 100.0 * persona.sessions as f64 / all.max(1) as f64;
    let _ = writeln!(out, "  # {} sessions: {share:.1}% of the day's.", persona.sessions);
    let _ = writeln!(out, "  {}:", persona.name);
    let name = file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let _ = writeln!(out, "    arrival: {{ shape: csv, file: {} }}", quote(&name));
    let think = &persona.think;
    if !think.is_empty() {
        let compress = options.clock.as_secs_f64() / 60.0;
        let at = |q: f64| Duration::from_secs_f64(think.value_at_quantile(q) as f64 / 1000.0 * compress);
        let (median, p90) = (at(0.5), at(0.9));
        let recorded = |q: f64| duration(Duration::from_millis(think.value_at_quantile(q)));
        let comment = format!("# {} logged pauses: median {}, p90 {}", think.len(), recorded(0.5), recorded(0.9));
        if p90 > median && !median.is_zero() {
            let _ = writeln!(out, "    think: {{ median: {}, p90: {} }}   {comment}", duration(median), duration(p90));
        } else {
            let _ = writeln!(out, "    think: {}   {comment}", duration(median.max(Duration::from_millis(1))));
        }
    }
    let mut journeys: Vec<(&Vec<u32>, &u64)> = persona.journeys.iter().collect();
    journeys.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let shown: u64 = journeys.iter().take(TOP).map(|(_, n)| **n).sum();
    let _ = writeln!(
        out,
        "    # The {} most frequent journeys (first {JOURNEY_STEPS} routes of a session), {:.1}% of its sessions;",
        journeys.len().min(TOP),
        100.0 * shown as f64 / persona.sessions.max(1) as f64
    );
    let _ = writeln!(out, "    # ids in paths become each user's index. The goal is the last step of the first one.");
    let _ = writeln!(out, "    journey:");
    let branches: Vec<(Vec<&Route>, u64)> = journeys
        .iter()
        .take(TOP)
        .map(|(journey, n)| {
            let routes = journey
                .iter()
                .filter_map(|id| day.route_names.get(*id as usize))
                .filter(|(method, _)| METHODS.contains(&method.to_ascii_lowercase().as_str()))
                .collect();
            (routes, **n)
        })
        .filter(|(routes, _): &(Vec<&Route>, u64)| !routes.is_empty())
        .collect();
    if branches.is_empty() {
        // Sessions of only OPTIONS preflights or other methods a step cannot have.
        let _ =
            writeln!(out, "      - {{ get: \"/\", goal: true }}   # no replayable request in this persona's sessions");
        return;
    }
    // The steps every shown journey starts with (the login, usually) are written once.
    let first = branches.first().map(|(r, _)| r.clone()).unwrap_or_default();
    let prefix = (0..first.len())
        .take_while(|&k| branches.iter().all(|(r, _)| r.len() > k && r[k] == first[k]))
        .count()
        .min(first.len().saturating_sub(1));
    let mut names: Vec<String> = Vec::new();
    for route in &first[..prefix] {
        step(out, "      ", route, &mut names, false);
    }
    let _ = writeln!(out, "      - choose:");
    for (i, (routes, n)) in branches.iter().enumerate() {
        let _ = writeln!(out, "          - weight: {n}");
        let rest = &routes[prefix.min(routes.len())..];
        let _ = writeln!(out, "            steps:{}", if rest.is_empty() { " []" } else { "" });
        for (j, route) in rest.iter().enumerate() {
            step(out, "              ", route, &mut names, i == 0 && j + 1 == rest.len());
        }
    }
}

/// Journeys written per persona; the others are counted in the comment.
const TOP: usize = 5;

/// Methods a step can have (others, such as `OPTIONS` preflights, are not replayed).
const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

fn step(out: &mut String, indent: &str, (method, pattern): &Route, names: &mut Vec<String>, goal: bool) {
    let base = format!("{method} {pattern}");
    let mut name = base.clone();
    let mut n = 2;
    while names.contains(&name) {
        name = format!("{base} ({n})");
        n += 1;
    }
    names.push(name.clone());
    let path =
        ["{id}", "{uuid}", "{hash}", "{token}"].iter().fold(pattern.clone(), |p, c| p.replace(c, "{{ user.index }}"));
    let method = method.to_ascii_lowercase();
    let _ = write!(out, "{indent}- {{ name: {}, {method}: {}", quote(&name), quote(&path));
    if method == "post" && pattern.to_ascii_lowercase().contains("login") {
        let _ = write!(out, r#", json: {{ "user": "{{{{ user.id }}}}", "password": "change-me" }}"#);
    }
    if goal {
        let _ = write!(out, ", goal: true");
    }
    let _ = writeln!(out, " }}");
}
