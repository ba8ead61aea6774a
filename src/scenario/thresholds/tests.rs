//! The threshold grammar: every operator, unit, scope and metric, and the mistakes people make.

use super::*;

fn names() -> Names {
    Names {
        personas: vec![
            ("pupil".into(), vec!["login".into(), "GET /agenda".into(), "homework".into()]),
            ("parent".into(), vec!["login".into(), "grades".into()]),
        ],
    }
}

fn ok(text: &str) -> Threshold {
    parse(text, &names()).unwrap_or_else(|e| panic!("{text}: {e} ({:?})", e.hint))
}

fn err(text: &str) -> ParseError {
    match parse(text, &names()) {
        Ok(t) => panic!("{text} parsed: {t:?}"),
        Err(e) => e,
    }
}

#[test]
fn every_operator() {
    for (sym, op) in
        [("<", Op::Lt), ("<=", Op::Le), (">", Op::Gt), (">=", Op::Ge), ("==", Op::Eq), ("≤", Op::Le), ("≥", Op::Ge)]
    {
        let t = ok(&format!("requests {sym} 100"));
        assert_eq!((t.op, t.limit), (op, 100.0), "{sym}");
        // Without spaces too.
        assert_eq!(ok(&format!("requests{sym}100")).op, op, "{sym}");
    }
    assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
    assert!(Op::Le.holds(2.0, 2.0) && !Op::Le.holds(2.1, 2.0));
    assert!(Op::Gt.holds(3.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
    assert!(Op::Ge.holds(2.0, 2.0) && !Op::Ge.holds(1.9, 2.0));
    assert!(Op::Eq.holds(0.0, 0.0) && !Op::Eq.holds(1.0, 0.0));
}

#[test]
fn scopes_and_metrics() {
    let t = ok("pupil.login p95 < 2s");
    assert_eq!(t.scope, Scope::Step { persona: "pupil".into(), step: "login".into() });
    assert_eq!(t.metric, Metric::Latency(Stat::Percentile(95.0)));
    assert_eq!((t.limit, t.limit_text.as_str(), t.text.as_str()), (2e6, "2s", "pupil.login p95 < 2s"));

    // Step names with spaces.
    let t = ok("pupil.GET /agenda p99.9 <= 800ms");
    assert_eq!(t.scope, Scope::Step { persona: "pupil".into(), step: "GET /agenda".into() });
    assert_eq!(t.metric, Metric::Latency(Stat::Percentile(99.9)));

    assert_eq!(ok("pupil error_rate < 1%").scope, Scope::Persona("pupil".into()));
    assert_eq!(ok("error_rate < 1%").metric, Metric::ErrorRate);
    assert_eq!(ok("error rate < 1%").metric, Metric::ErrorRate);
    assert_eq!(ok("Error_Rate < 1%").scope, Scope::Run);
    assert_eq!(ok("p99 < 1s").metric, Metric::Latency(Stat::Percentile(99.0)));
    assert_eq!(ok("latency median < 1s").metric, Metric::Latency(Stat::Percentile(50.0)));
    assert_eq!(ok("pupil.homework max < 5s").metric, Metric::Latency(Stat::Max));
    assert_eq!(ok("parent mean < 5s").metric, Metric::Latency(Stat::Mean));
    assert_eq!(ok("parent.grades min > 0s").metric, Metric::Latency(Stat::Min));
    assert_eq!(ok("pupil.login errors == 0").metric, Metric::Errors);
    assert_eq!(ok("requests > 100").metric, Metric::Requests);
    assert_eq!(ok("pupil goal within 5m >= 99%").metric, Metric::GoalWithin(Duration::from_secs(300)));
    assert_eq!(ok("pupil reached goal within 90s >= 99%").metric, Metric::GoalWithin(Duration::from_secs(90)));
    assert_eq!(ok("goal within 1m30s > 50%").scope, Scope::Run);
    assert_eq!(ok("pupil time_to_goal p95 < 1m").metric, Metric::TimeToGoal(Stat::Percentile(95.0)));
    assert_eq!(ok("time to goal max < 1m").metric, Metric::TimeToGoal(Stat::Max));
    assert_eq!(ok("generator lag p99 < 5ms").metric, Metric::GeneratorLag(Stat::Percentile(99.0)));
}

#[test]
fn units() {
    assert_eq!(ok("p95 < 500us").limit, 500.0);
    assert_eq!(ok("p95 < 500µs").limit, 500.0);
    assert_eq!(ok("p95 < 250ms").limit, 250_000.0);
    assert_eq!(ok("p95 < 1.5s").limit, 1_500_000.0);
    assert_eq!(ok("p95 < 2m").limit, 120e6);
    assert!((ok("error_rate < 0.1%").limit - 0.001).abs() < 1e-15);
    assert_eq!(ok("error_rate <= 0%").limit, 0.0);
    assert_eq!(ok("pupil goal within 5m >= 100%").limit, 1.0);
    assert_eq!(ok("requests >= 1,000").limit, 1000.0);
    assert_eq!(ok("requests >= 10_000").limit, 10_000.0);
}

#[test]
fn limits_without_their_unit_are_refused() {
    let e = err("pupil.login p95 < 2");
    assert!(e.message.contains("`2` needs a unit"), "{e}");
    assert_eq!(e.offset, 18);
    let e = err("error_rate < 1");
    assert!(e.message.contains("needs a `%`"), "{e}");
    assert!(e.hint.unwrap().contains("1% or 100%"));
    assert!(err("error_rate < 150%").message.contains("between 0% and 100%"));
    assert!(err("requests > lots").message.contains("not a count"));
    assert!(err("requests > -1").message.contains("not a count"));
    assert!(err("requests > 1.5").message.contains("not a count"));
}

#[test]
fn unknown_names_have_hints() {
    let e = err("pupl.login p95 < 2s");
    assert_eq!(e.message, "unknown persona `pupl`: the personas are `pupil` and `parent`");
    assert_eq!((e.offset, e.hint.as_deref()), (0, Some("did you mean `pupil`?")));

    let e = err("pupil.logn p95 < 2s");
    assert_eq!(e.message, "persona `pupil` has no step `logn`: its steps are `login`, `GET /agenda` and `homework`");
    assert_eq!((e.offset, e.hint.as_deref()), (6, Some("did you mean `login`?")));

    let e = err("pupil.login p95x < 2s");
    assert_eq!(e.message, "unknown metric `p95x`");
    assert_eq!(e.offset, 12);

    let e = err("eror_rate < 1%");
    assert_eq!(e.message, "`eror` is neither a persona nor a metric");
    assert!(e.hint.unwrap().starts_with("did you mean `error_rate`? Metrics: `p95`, `error_rate`"));

    let e = err("pupils goal within 5m >= 99%");
    assert!(e.hint.unwrap().starts_with("did you mean `pupil`?"));

    assert!(err("pupil latency p101 < 1s").message.contains("not a statistic"));
    assert!(err("generator lag < 1s").message.contains("which statistic"));
}

#[test]
fn metrics_only_where_they_are_measured() {
    let e = err("pupil.login goal within 5m >= 99%");
    assert_eq!(e.message, "`goal within 5m` is measured per persona, not per step");
    assert_eq!(e.hint.as_deref(), Some("write `pupil goal within 5m` instead"));
    let e = err("pupil generator lag p99 < 5ms");
    assert!(e.message.contains("whole run"), "{e}");
}

#[test]
fn amplification_is_per_persona_or_run_not_per_step() {
    ok("pupil amplification < 1.5");
    ok("amplification <= 2");
    let e = err("pupil.login amplification < 1.5");
    assert!(e.message.contains("per persona, not per step"), "{e}");
    assert_eq!(e.offset, 12);
}

#[test]
fn malformed_comparisons() {
    assert!(err("p95 2s").message.contains("has no comparison"));
    assert!(err("p95 = 2s").hint.unwrap().contains("`==`"));
    assert!(err("p95 =< 2s").hint.unwrap().contains("`<=`"));
    assert!(err("p95 != 2s").message.contains("not a comparison"));
    // Found by tests/it/fuzz.rs: a lone `!` used to reach an `unreachable!`.
    assert!(err("p95 ! 2s").message.contains("`!` is not a comparison"));
    assert_eq!(err("!ⴭ").offset, 0);
    assert!(err("p95 <").message.contains("limit is missing"));
    assert!(err("< 2s").message.contains("metric is missing"));
    assert!(err("1s < p95 < 2s").message.contains("one comparison"));
    assert!(err("pupil < 2s").message.contains("metric is missing"));
    let e = err("  pupl p95 < 1s");
    assert_eq!(e.offset, 2, "offsets count from the start of the text as written");
}
