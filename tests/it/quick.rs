//! Quick mode (`schoolday run --url …`): the harness's request count equals what the target
//! received, in both loops, and the command line takes exactly one of a scenario or a URL.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use schoolday::demo::{EmbeddedConfig, EmbeddedTarget};
use schoolday::quick::{self, Load, Options};
use schoolday::report::Style;

use super::{assert_accounting_closes, temp_dir};

fn received_health(target: &EmbeddedTarget) -> u64 {
    target.counts().received.get("GET /health").copied().unwrap_or(0)
}

fn run(dir: &std::path::Path, options: &Options) -> schoolday::analysis::Summary {
    let scenario = Arc::new(quick::scenario(options).expect("valid quick options"));
    schoolday::app::run_scenario(scenario, &dir.join("reports"), Style::plain()).expect("run").summary
}

#[test]
fn open_loop_request_count_equals_the_targets() {
    let target = EmbeddedTarget::start(&EmbeddedConfig::default()).expect("target");
    let mut options = Options::new(&format!("{}health", target.base_url()), Load::Open { rate: 300.0 });
    options.duration = Duration::from_secs(1);
    options.connections = schoolday::scenario::ConnectionMode::Shared;
    let summary = run(&temp_dir("quick-open"), &options);
    assert_accounting_closes(&summary);
    assert_eq!(summary.requests.sent, 300);
    assert_eq!(summary.requests.ok, 300, "{:?}", summary.requests);
    assert_eq!(received_health(&target), 300);
}

#[test]
fn closed_loop_request_count_equals_the_targets() {
    let target = EmbeddedTarget::start(&EmbeddedConfig::default()).expect("target");
    // Requests at 0, 0.4 s and 0.8 s: the run ends at 1 s while every user is thinking, so no
    // request is cut off half-sent and the counts must agree exactly.
    let load = Load::Closed { users: 5, think: Some(Duration::from_millis(400)), ramp_up: Some(Duration::ZERO) };
    let mut options = Options::new(&format!("{}health", target.base_url()), load);
    options.duration = Duration::from_secs(1);
    let summary = run(&temp_dir("quick-closed"), &options);
    assert_accounting_closes(&summary);
    assert_eq!(summary.requests.cut_off, 0, "a request was in flight at the end (slow machine?)");
    assert_eq!(summary.requests.sent, 15, "{:?}", summary.requests);
    assert_eq!(received_health(&target), summary.requests.sent);
    let users = &summary.personas[0];
    assert_eq!((users.completed, users.cut_off), (5, 0), "{users:?}");
    let held = users.closed_loop.as_ref().expect("a closed loop reports the loop");
    assert_eq!((held.users, held.stopped_by_error), (5, 0), "{held:?}");
    assert_eq!(held.requests_per_user, 3.0, "{held:?}");
}

#[test]
fn a_closed_loop_shows_the_concurrency_it_held_and_the_users_an_error_stopped() {
    let target = EmbeddedTarget::start(&EmbeddedConfig::default()).expect("target");
    // Two seconds, so that the end of the first second is read while all 4 users loop.
    let load = Load::Closed { users: 4, think: Some(Duration::from_millis(200)), ramp_up: Some(Duration::ZERO) };
    let mut options = Options::new(&format!("{}health", target.base_url()), load);
    options.duration = Duration::from_secs(2);
    let summary = run(&temp_dir("quick-closed-held"), &options);
    let held = summary.personas[0].closed_loop.clone().expect("closed loop figures");
    assert_eq!((held.users, held.concurrency_min, held.stopped_by_error), (4, Some(4), 0), "{held:?}");
    assert!(held.requests_per_user >= 5.0, "about 10 requests each in 2 s: {held:?}");
    let mut text = Vec::new();
    schoolday::report::terminal::render(&summary, &Style::plain(), &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Closed loop — the concurrency held"), "{text}");
    assert!(!text.contains("did they get what they came for"), "no completed/goal table for a loop: {text}");

    // A URL the target does not serve: every user stops at its first answer, a 404.
    let mut options = Options::new(&format!("{}no-such-page", target.base_url()), load);
    options.duration = Duration::from_secs(1);
    let summary = run(&temp_dir("quick-closed-404"), &options);
    let held = summary.personas[0].closed_loop.clone().expect("closed loop figures");
    assert_eq!((held.users, held.stopped_by_error, held.requests_per_user), (4, 4, 1.0), "{held:?}");
    assert_eq!(summary.personas[0].failed, 4);
    assert!(quick::scenario(&Options::new("http://127.0.0.1:9/", Load::Open { rate: 1.0 })).unwrap().personas[0]
        .closed_loop
        .eq(&false));
}

fn schoolday(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().expect("run schoolday")
}

#[test]
fn the_command_line_runs_a_url_and_exits_0() {
    let _machine = super::exclusive();
    let target = EmbeddedTarget::start(&EmbeddedConfig::default()).expect("target");
    let url = format!("{}health", target.base_url());
    let out = temp_dir("quick-cli");
    let output = schoolday(&[
        "run",
        "--url",
        &url,
        "--rate",
        "50/s",
        "--duration",
        "1s",
        "--connections",
        "shared",
        "--header",
        "X-Test: 1",
        "--out",
        out.to_str().unwrap(),
        // A debug build among parallel tests on two cores: the generator's health is not what
        // this test is about (tests/it/gates.rs pins exit code 3).
        "--lag-limit",
        "1s",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("50 sent, 50 ok"), "{stdout}");
    assert!(stdout.contains("summary.json"), "{stdout}");
    assert_eq!(received_health(&target), 50);
}

#[test]
fn quick_mode_usage_errors_are_exit_code_2() {
    for args in [
        &["run"][..],
        &["run", "--url", "http://127.0.0.1:9/"],
        &["run", "--url", "http://127.0.0.1:9/", "--users", "1", "--rate", "5"],
        &["run", "scenarios/smoke.yaml", "--url", "http://127.0.0.1:9/"],
        &["run", "--users", "5"],
        &["run", "--url", "nope", "--users", "1"],
    ] {
        let output = schoolday(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
}
