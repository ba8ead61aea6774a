//! The evaluator on a hand-built summary: every metric, scope and the no-data rule.

use std::collections::BTreeMap;

use super::*;
use crate::analysis::summary::*;
use crate::scenario::thresholds::{parse, Names};

fn latency(values: &[u64]) -> Latency {
    let mut h = crate::metrics::new_histogram();
    for v in values {
        h.record(*v).unwrap();
    }
    Latency::of(&h)
}

fn step(persona: &str, name: &str, ok: u64, errors: u64, lat: &[u64]) -> StepSummary {
    StepSummary {
        persona: persona.into(),
        name: name.into(),
        method: "GET".into(),
        path: "/x".into(),
        goal: false,
        sent: ok + errors,
        ok,
        errors: if errors > 0 { BTreeMap::from([("http_5xx".to_string(), errors)]) } else { BTreeMap::new() },
        bytes: 0,
        latency: latency(lat),
        service: latency(lat),
        ..Default::default()
    }
}

fn persona(name: &str, arrived: u64, to_goal: &[u64]) -> PersonaSummary {
    PersonaSummary {
        name: name.into(),
        scheduled: arrived,
        arrived,
        completed: to_goal.len() as u64,
        failed: arrived - to_goal.len() as u64,
        cut_off: 0,
        not_started: 0,
        accounting_closes: true,
        time_to_goal: latency(to_goal),
        goal_within: BTreeMap::new(),
        // Every user's first attempts, plus 9 retries among the pupils who reached the goal.
        attempts: BTreeMap::from([("first".to_string(), 2 * arrived), ("app_retry".to_string(), to_goal.len() as u64)]),
        ..Default::default()
    }
}

/// pupil.login: 100 ok (latencies 1..=100 ms); pupil.homework: 90 ok + 10 errors at 5 ms;
/// parent.login: nothing sent. 10 pupils arrived, 9 reached the goal (at 10 s … 90 s).
fn summary() -> Summary {
    let login: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
    let json = serde_json::json!({
        "schema_version": 1,
        "tool": { "name": "schoolday", "version": "0" },
        "scenario": { "name": "t", "file": "t.yaml", "seed": 1, "scale": 1.0, "duration_s": 1.0, "grace_s": 0.0 },
        "target": { "kind": "embedded", "url": "http://127.0.0.1:1", "connections": "per-user" },
        "run": { "started_at": "x", "elapsed_s": 1.0, "interrupted": false },
        "generator": { "lag": latency(&[100, 200, 7000]), "lag_p99_limit_us": 5000, "healthy": false },
        "requests": { "sent": 200, "ok": 190, "errors": {}, "cut_off": 0 },
        "steps": [
            step("pupil", "login", 100, 0, &login),
            step("pupil", "homework", 90, 10, &[5000; 100]),
            step("parent", "login", 0, 0, &[]),
        ],
        "personas": [
            persona("pupil", 10, &(1..=9).map(|s| s * 10_000_000).collect::<Vec<_>>()),
            persona("parent", 0, &[]),
        ],
        "timeline": [],
    });
    serde_json::from_value(json).unwrap()
}

fn names() -> Names {
    Names {
        personas: vec![
            ("pupil".into(), vec!["login".into(), "homework".into()]),
            ("parent".into(), vec!["login".into()]),
        ],
    }
}

fn judge(text: &str) -> ThresholdResult {
    let t = parse(text, &names()).unwrap();
    evaluate(&[t], &summary()).remove(0)
}

#[test]
fn latency_percentiles_per_step_persona_and_run() {
    // HDR histograms keep 3 significant digits and report the top of a value's bucket, so a
    // recorded 95 ms reads 95.04 ms: the rounding never favours the target.
    let r = judge("pupil.login p95 < 100ms");
    assert_eq!(r.measured, Some(95_039.0));
    assert!(r.pass);
    assert_eq!(r.explain(), "measured 95.0ms, limit < 100ms");
    let r = judge("pupil.login p95 < 90ms");
    assert!(!r.pass);
    // Merged, not averaged: 200 samples, the top 10 are 91..100 ms.
    let r = judge("pupil p95 <= 90ms");
    assert_eq!(r.measured.map(|v| (v / 1000.0).round()), Some(90.0));
    assert!(judge("pupil.login p99.9 >= 100ms").pass);
    assert!(judge("pupil.login max < 101ms").pass);
    assert!(judge("pupil.login min > 999us").pass);
    assert!(judge("pupil.homework mean <= 5.01ms").pass);
    assert!(judge("p50 < 6ms").pass, "run-wide median over both pupil steps");
}

#[test]
fn error_rates_and_counts() {
    let r = judge("pupil.homework error_rate < 10%");
    assert_eq!((r.measured, r.pass), (Some(0.1), false));
    assert_eq!(r.measured_text, "10%");
    assert!(judge("pupil.homework error_rate <= 10%").pass);
    let r = judge("error_rate < 5.1%");
    assert_eq!((r.measured, r.pass), (Some(0.05), true));
    assert_eq!(r.measured_text, "5%");
    assert!(judge("requests == 200").pass);
    assert!(judge("pupil.homework errors == 10").pass);
    assert!(judge("pupil.login errors == 0").pass);
    assert!(judge("parent requests == 0").pass, "a count of nothing is zero");
}

#[test]
fn user_metrics() {
    let r = judge("pupil goal within 50s >= 50%");
    assert_eq!((r.measured, r.pass), (Some(0.5), true));
    assert!(!judge("pupil goal within 5m >= 99%").pass, "one pupil in ten never got there");
    assert!(judge("pupil goal within 5m >= 90%").pass);
    assert!(judge("pupil time_to_goal max <= 90.1s").pass);
    assert!(!judge("pupil time_to_goal max <= 89s").pass);
    assert!(judge("time_to_goal p50 <= 50.1s").pass);
}

#[test]
fn amplification_is_attempts_per_goal_reached() {
    // pupil: 20 first attempts + 9 retries for 9 goals.
    let r = judge("pupil amplification < 3.3");
    assert_eq!(r.measured.map(|v| (v * 1000.0).round() / 1000.0), Some(3.222));
    assert!(r.pass);
    assert!(!judge("pupil amplification <= 3").pass);
    let r = judge("parent amplification < 10");
    assert!(!r.pass, "no goal reached: nothing to divide by, so the rule fails: {r:?}");
}

#[test]
fn generator_lag() {
    let r = judge("generator lag p99 < 5ms");
    assert!(!r.pass);
    assert_eq!(r.measured_text, "7.0ms");
}

#[test]
fn no_data_fails_the_threshold() {
    let r = judge("parent.login p95 < 10s");
    assert_eq!((r.measured, r.pass), (None, false));
    assert_eq!(r.explain(), "measured no request finished, limit < 10s");
    assert!(!judge("parent error_rate < 50%").pass);
    assert!(!judge("parent goal within 5m >= 0%").pass);
}

#[test]
fn shown_values_never_round_a_miss_away() {
    assert_eq!(show(0.999996, Unit::Percent), "99.999%");
    assert_eq!(show(0.001, Unit::Percent), "0.1%");
    assert_eq!(show(0.00123, Unit::Percent), "0.123%");
    assert_eq!(show(1.0, Unit::Percent), "100%");
    assert_eq!(show(0.0, Unit::Percent), "0%");
    assert_eq!(show(850.0, Unit::Duration), "850µs");
    assert_eq!(show(2_410_000.0, Unit::Duration), "2.41s");
    assert_eq!(show(1204.0, Unit::Count), "1204");
    assert_eq!(show(1.5, Unit::Ratio), "1.50");
}

#[test]
fn results_round_trip_through_the_summary_json() {
    let mut s = summary();
    s.thresholds = evaluate(&[parse("pupil.login p95 < 90ms", &names()).unwrap()], &s);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["thresholds"][0]["op"], "<");
    assert_eq!(json["thresholds"][0]["pass"], false);
    let back: Summary = serde_json::from_value(json).unwrap();
    assert_eq!(back.thresholds, s.thresholds);
    // Summaries without thresholds keep their shape.
    let plain = serde_json::to_value(summary()).unwrap();
    assert!(plain.get("thresholds").is_none());
}

#[test]
fn a_step_is_marked_with_the_tightest_latency_ceiling_that_covers_it() {
    let mut s = summary();
    let rules = [
        "pupil.login p95 < 2s",
        "pupil p99 <= 500ms",
        "pupil.homework p50 < 100ms",
        "parent.login p95 < 50ms",
        "pupil.login p50 > 1ms",
        "pupil time_to_goal p95 < 1ms",
        "error_rate < 1%",
    ];
    let parsed: Vec<_> = rules.iter().map(|r| parse(r, &names()).unwrap()).collect();
    s.thresholds = evaluate(&parsed, &s);
    fn ceiling<'a>(s: &'a Summary, persona: &str, step: &str) -> Option<&'a str> {
        step_ceiling(s, persona, step).map(|r| r.name.as_str())
    }
    // The persona's 500 ms beats the step's own 2 s; lower bounds, other steps, other personas
    // and time to goal do not count.
    assert_eq!(ceiling(&s, "pupil", "login"), Some("pupil p99 <= 500ms"));
    assert_eq!(ceiling(&s, "pupil", "homework"), Some("pupil.homework p50 < 100ms"));
    assert_eq!(ceiling(&s, "parent", "login"), Some("parent.login p95 < 50ms"));
    s.thresholds.retain(|t| t.name.starts_with("error"));
    assert_eq!(ceiling(&s, "pupil", "login"), None);
    // A rule that no longer reads against the run's names (a renamed step) is left out.
    s.thresholds = evaluate(&[parse("pupil.login p95 < 2s", &names()).unwrap()], &s);
    s.steps[0].name = "sign in".into();
    assert_eq!(ceiling(&s, "pupil", "sign in"), None);
}
