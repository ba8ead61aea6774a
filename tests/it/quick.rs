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
