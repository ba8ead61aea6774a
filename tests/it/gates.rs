//! CI gates from the outside: thresholds decide the exit code and the JUnit report, and a run
//! whose generator fell behind never passes silently.

use std::path::Path;
use std::process::{Command, Output};

use schoolday::exit_code::ExitCode;

use super::{exclusive, run, temp_dir};

fn schoolday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().expect("run schoolday")
}

/// `schoolday run SCENARIO --out REPORTS --junit JUNIT`.
fn run_with_junit(scenario: &str, reports: &Path, junit: &Path) -> Output {
    schoolday(&["run", scenario, "--out", reports.to_str().unwrap(), "--junit", junit.to_str().unwrap()])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The only run directory under `reports`.
fn run_dir(reports: &Path) -> std::path::PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir(reports).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

#[test]
fn ci_smoke_passes_on_a_healthy_target_with_junit() {
    let _machine = exclusive();
    let dir = temp_dir("gates-smoke");
    let reports = dir.join("reports");
    let junit = dir.join("ci/junit.xml");
    let out = run_with_junit("scenarios/ci-smoke.yaml", &reports, &junit);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("all 5 thresholds passed"), "{stdout}");
    let xml = read(&junit);
    assert!(xml.contains(r#"<testsuite name="schoolday: CI smoke" tests="6" failures="0""#), "{xml}");
    assert!(xml.contains(r#"name="pupil.login p95 &lt; 250ms""#), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    // The run directory has its own copy, and the summary carries the judged thresholds.
    let dir = run_dir(&reports);
    assert_eq!(read(&dir.join("junit.xml")), xml);
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    assert_eq!(summary["thresholds"].as_array().unwrap().len(), 5);
    assert_eq!(summary["thresholds"][0]["pass"], true);
}

#[test]
fn ci_smoke_fails_with_exit_1_and_a_junit_failure_when_the_target_is_slower() {
    let _machine = exclusive();
    // The same scenario against a target whose logins take 300 ms: above the 250 ms p95
    // limit, while everything else still holds. Shortened so the test stays quick.
    let smoke = read(Path::new("scenarios/ci-smoke.yaml"));
    let slow = [
        ("service_time: { default: 2ms, login: 5ms }", "service_time: { default: 2ms, login: 300ms }"),
        ("duration: 15s", "duration: 5s"),
        ("population: 300", "population: 100"),
        ("requests >= 900", "requests >= 300"),
    ]
    .into_iter()
    .fold(smoke, |text, (from, to)| {
        assert_eq!(text.matches(from).count(), 1, "`{from}` stands once in scenarios/ci-smoke.yaml");
        text.replace(from, to)
    });
    let dir = temp_dir("gates-slow");
    let scenario = dir.join("slow.yaml");
    std::fs::write(&scenario, slow).unwrap();
    let reports = dir.join("reports");
    let junit = dir.join("junit.xml");
    let out = run_with_junit(scenario.to_str().unwrap(), &reports, &junit);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("1 of 5 thresholds FAILED"), "{stdout}");
    assert!(text(&out.stderr).contains("1 of 5 thresholds failed"));
    let xml = read(&junit);
    assert!(xml.contains(r#"tests="6" failures="1""#), "{xml}");
    let failure = xml.lines().find(|l| l.contains("<failure")).expect("a failure element");
    assert!(failure.contains(r#"message="measured 3"#) && failure.contains("limit &lt; 250ms"), "{failure}");
    let case = xml.lines().position(|l| l.contains("<failure")).unwrap() - 1;
    assert!(xml.lines().nth(case).unwrap().contains("pupil.login p95"), "{xml}");
}

#[test]
fn a_bad_threshold_is_exit_code_2_with_its_position() {
    let out = schoolday(&["validate", "tests/fixtures/scenarios/invalid/threshold-unknown-step.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("threshold-unknown-step.yaml:16:11: thresholds[0]: persona `pupil` has no step `logn`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `login`?"), "{stderr}");
}

#[test]
fn a_junit_path_that_cannot_be_written_fails_before_the_run() {
    let dir = temp_dir("gates-badjunit");
    let blocker = dir.join("file");
    std::fs::write(&blocker, "").unwrap();
    let junit = blocker.join("junit.xml");
    let reports = dir.join("reports");
    let out = run_with_junit("scenarios/ci-smoke.yaml", &reports, &junit);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(junit.to_str().unwrap()), "{}", text(&out.stderr));
    assert!(!reports.exists(), "nothing ran");
}

/// 3,000 users due in the same instant on a 2-core machine: the generator cannot start them
/// on time, whatever the target does.
const OVERLOADED_GENERATOR: &str = r#"
name: overloaded generator
target: embedded
embedded: { workers: 64, queue: 100000, service_time: { default: 0s }, login_cpu: 0s }
duration: 2s
grace: 5s
http: { connections: shared }
personas:
  pupil:
    population: 3000
    arrival: { shape: burst, at: 0s }
    journey:
      - name: agenda
        get: /agenda
        check: { status: [200, 401] }
        goal: true
thresholds:
  - error_rate < 100%
"#;

#[test]
fn an_overloaded_generator_is_exit_code_3_not_a_pass() {
    let _machine = exclusive();
    let dir = temp_dir("gates-generator");
    let scenario = dir.join("overloaded.yaml");
    std::fs::write(&scenario, OVERLOADED_GENERATOR).unwrap();
    let reports = dir.join("reports");
    let out = schoolday(&["run", scenario.to_str().unwrap(), "--out", reports.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("run invalid: the generator fell behind"), "{}", text(&out.stderr));
    // Its one threshold passed, and the JUnit report still goes red on run validity.
    assert!(stdout.contains("all 1 thresholds passed"), "{stdout}");
    let xml = read(&run_dir(&reports).join("junit.xml"));
    assert!(xml.contains(r#"tests="2" failures="1""#), "{xml}");
    assert!(xml.contains("run is valid: generator lag p99"), "{xml}");
}

#[test]
fn exit_code_precedence() {
    let _machine = exclusive();
    // In-process: a generator bottleneck outranks failed thresholds.
    let dir = temp_dir("gates-precedence");
    let yaml = OVERLOADED_GENERATOR.replace("error_rate < 100%", "requests > 1000000");
    let (summary, _) = run(&dir, &yaml);
    assert!(!summary.generator.healthy);
    assert!(!summary.thresholds[0].pass);
    assert_eq!(schoolday::app::exit_code(&summary), ExitCode::GeneratorBottleneck);
    let mut healthy = summary.clone();
    healthy.generator.healthy = true;
    assert_eq!(schoolday::app::exit_code(&healthy), ExitCode::ThresholdsFailed);
    healthy.thresholds.clear();
    assert_eq!(schoolday::app::exit_code(&healthy), ExitCode::Success);
    let mut interrupted = summary;
    interrupted.run.interrupted = true;
    assert_eq!(schoolday::app::exit_code(&interrupted), ExitCode::Interrupted);
}

#[test]
fn abort_on_fail_stops_the_run_once_a_threshold_has_failed() {
    let dir = temp_dir("abort-on-fail");
    let yaml = r#"
name: abort on fail
target: embedded
embedded: { workers: 4, service_time: { default: 20ms, login: 20ms } }
duration: 60s
grace: 2s
thresholds:
  - pupil.login p95 < 1ms
abort_on_fail: 2s
# The generator's health on a busy test machine is not what this test is about.
generator: { lag_p99_limit: 1s }
personas:
  pupil:
    arrival: { shape: constant, rate: 5/s }
    journey:
      - name: login
        post: /login
        json: { user: "{{ user.id }}" }
        goal: true
"#;
    let started = std::time::Instant::now();
    let (summary, _) = run(&dir, yaml);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "the run went on for {:?}", started.elapsed());
    let why = summary.run.aborted.as_deref().expect("the run says why it stopped");
    assert!(why.contains("pupil.login p95 < 1ms"), "{why}");
    assert!(!summary.run.interrupted);
    let p = &summary.personas[0];
    assert!(p.not_started > 200, "most of the 300 users never came: {p:?}");
    assert_eq!(p.completed + p.failed + p.abandoned + p.cut_off + p.not_started, p.scheduled);
    assert_eq!(schoolday::app::exit_code(&summary), ExitCode::ThresholdsFailed);
}
