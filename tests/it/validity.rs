//! The generator-health criterion end to end: a really saturated generator is caught without
//! any explicit limit, however generous the thresholds; an explicit limit stays a hard one.

use schoolday::exit_code::ExitCode;

use super::{assert_accounting_closes, exclusive, run, temp_dir};

/// 100,000 arrivals/s for half a second: about three times what the generator can start on a
/// quiet core in release (bench/RESULTS.md, case 5), far more in a debug build. The threshold
/// is generous (a 6 s lag budget), so what must catch it is the offered load falling behind.
const SATURATED: &str = r#"
name: saturated generator
target: embedded
embedded: { workers: 16, queue: 200000, service_time: { default: 0s }, login_cpu: 0s }
duration: 500ms
grace: 5s
http: { connections: shared, timeout: 4s }
personas:
  pupil:
    arrival: { shape: constant, rate: 100000/s, spacing: even }
    journey:
      - name: agenda
        get: /agenda
        # Whatever the target answers (or a refused connection): the generator is on trial.
        check: { status: [200, 401, 503] }
        goal: true
thresholds:
  - pupil.agenda p95 < 60s
"#;

#[test]
fn a_saturated_generator_is_caught_without_an_explicit_limit() {
    let _machine = exclusive();
    let dir = temp_dir("validity-saturated");
    let (summary, _) = run(&dir, SATURATED);
    assert_accounting_closes(&summary);
    let scheduled: u64 = summary.personas.iter().map(|p| p.scheduled).sum();
    assert_eq!(scheduled, 50_000);
    let g = &summary.generator;
    assert!(!g.healthy, "{g:?}");
    assert_eq!(g.lag_p99_limit_us, 6_000_000, "a tenth of the 60 s threshold: {}", g.basis);
    assert!(g.basis.contains("`pupil.agenda p95 < 60s`"), "{}", g.basis);
    let why = g.invalid.as_deref().unwrap_or_default();
    assert!(
        why.contains("trailed the plan") || why.starts_with("generator lag p99"),
        "the reason names what was distorted: {why}"
    );
    assert!(g.arrivals_behind > 1_000, "{g:?}");
    assert_eq!(schoolday::app::exit_code(&summary), ExitCode::GeneratorBottleneck);
}

#[test]
fn an_explicit_lag_limit_is_a_hard_limit() {
    let _machine = exclusive();
    let dir = temp_dir("validity-hard");
    // A quiet run whose thresholds would tolerate seconds of lag; 1 µs is below any timer.
    let yaml = r#"
name: hard limit
target: embedded
duration: 2s
grace: 3s
generator: { lag_p99_limit: 1us }
personas:
  pupil:
    population: 20
    arrival: { shape: constant, rate: 10/s, spacing: even }
    think: 50ms
    journey:
      - { name: agenda, get: /agenda, check: { status: [200, 401] } }
      - { name: grades, get: /grades, check: { status: [200, 401] }, goal: true }
thresholds:
  - p95 < 60s
"#;
    let (summary, _) = run(&dir, yaml);
    let g = &summary.generator;
    assert_eq!(g.lag_p99_limit_us, 1);
    assert!(g.basis.contains("hard limit"), "{}", g.basis);
    assert!(!g.healthy, "{g:?}");
    assert_eq!(schoolday::app::exit_code(&summary), ExitCode::GeneratorBottleneck);
}
