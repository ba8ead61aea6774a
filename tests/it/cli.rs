//! The command line as a user meets it: exit codes and messages.

use std::process::{Command, Output};

use super::temp_dir;

fn schoolday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().expect("run schoolday")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_accepts_the_shipped_scenarios() {
    for file in ["scenarios/smoke.yaml", "scenarios/monday-8am.yaml"] {
        let out = schoolday(&["validate", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("scenario OK"), "{stdout}");
        assert!(stdout.contains("pupil"), "{stdout}");
    }
}

#[test]
fn a_misspelled_field_names_file_line_column_and_the_fix() {
    let dir = temp_dir("cli-misspelled");
    let path = dir.join("typo.yaml");
    std::fs::write(
        &path,
        "name: typo\ntarget: embedded\nduration: 10s\npersonas:\n  pupil:\n    populaton: 10\n    arrival: { shape: constant, rate: 1/s }\n    journey:\n      - get: /homework\n        goal: true\n",
    )
    .unwrap();
    let out = schoolday(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let location = format!("{}:6:5", path.display());
    assert!(stderr.starts_with(&format!("error: {location}")), "{stderr}");
    assert!(stderr.contains("personas.pupil"), "{stderr}");
    assert!(stderr.contains("unknown field `populaton`"), "{stderr}");
    assert!(stderr.contains("did you mean `population`?"), "{stderr}");
}

#[test]
fn a_missing_scenario_file_is_exit_code_2_naming_the_file() {
    let out = schoolday(&["run", "no/such/scenario.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/scenario.yaml"), "{}", text(&out.stderr));
}

#[test]
fn usage_errors_are_exit_code_2() {
    assert_eq!(schoolday(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(schoolday(&["run"]).status.code(), Some(2));
    let help = schoolday(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Exit codes"));
}

#[test]
fn run_writes_a_summary_and_exits_0() {
    let _machine = super::exclusive();
    let dir = temp_dir("cli-run");
    let reports = dir.join("reports");
    // The generator's health on a busy test machine is not what this test is about.
    let out = schoolday(&["run", "scenarios/smoke.yaml", "--out", reports.to_str().unwrap(), "--lag-limit", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("homework (goal)"), "{stdout}");
    assert!(stdout.contains("accounting closes"), "{stdout}");
    assert!(stdout.contains("matches the 600 the harness sent"), "{stdout}");
    let run_dir = std::fs::read_dir(&reports).unwrap().next().unwrap().unwrap().path();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["requests"]["sent"], 600);
    assert_eq!(summary["personas"][0]["completed"], 200);
}

#[test]
fn ctrl_c_writes_a_partial_report_and_exits_130() {
    let dir = temp_dir("cli-interrupt");
    let scenario = dir.join("long.yaml");
    std::fs::write(
        &scenario,
        "name: long\ntarget: embedded\nduration: 60s\npersonas:\n  pupil:\n    population: 600\n    arrival: { shape: constant, rate: 10/s }\n    think: 1s\n    journey:\n      - post: /login\n        json: { user: \"{{ user.id }}\" }\n      - get: /homework\n        goal: true\n",
    )
    .unwrap();
    let reports = dir.join("reports");
    let child = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["run", scenario.to_str().unwrap(), "--out", reports.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("INTERRUPTED"));
    let run_dir = std::fs::read_dir(&reports).unwrap().next().unwrap().unwrap().path();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["run"]["interrupted"], true);
    let p = &summary["personas"][0];
    let total = ["completed", "failed", "cut_off", "not_started"].iter().map(|k| p[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(total, 600);
    assert!(p["not_started"].as_u64().unwrap() > 400, "most users had not arrived after 3 s: {p}");
}

/// Every malformed fixture (their exact messages are pinned in `src/scenario/tests/invalid.rs`)
/// is refused by the command line with exit code 2 and exactly that message after `error: `.
#[test]
fn every_malformed_fixture_prints_its_exact_message_and_exits_2() {
    let mut fixtures: Vec<_> = std::fs::read_dir("tests/fixtures/scenarios/invalid")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 10, "at least ten malformed scenarios: {}", fixtures.len());
    for path in fixtures {
        let expected = match schoolday::scenario::load_file(&path) {
            Err(e) => format!("error: {e}\n"),
            Ok(_) => panic!("{} loads, but it is in invalid/", path.display()),
        };
        let out = schoolday(&["validate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", path.display());
        assert_eq!(text(&out.stderr), expected, "{}", path.display());
        assert!(out.stdout.is_empty(), "{}: nothing on stdout", path.display());
    }
}

#[test]
fn the_standalone_target_serves_until_ctrl_c_and_prints_what_it_saw() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["target", "--port", "0", "--workers", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    // "embedded school workspace listening on http://127.0.0.1:PORT/ (…)"
    let url = line.split_whitespace().find(|w| w.starts_with("http://127.0.0.1:")).expect(&line).to_string();
    let authority = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    for _ in 0..3 {
        let mut stream = std::net::TcpStream::connect(&authority).unwrap();
        stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("counts as JSON on stdout");
    assert_eq!(counts["received"]["GET /health"], 3, "{counts}");
}

#[test]
fn the_standalone_target_serves_a_scenarios_sizing_and_refuses_a_url_scenario() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["target", "--port", "0", "--scenario", "scenarios/monday-8am.yaml", "--queue", "50"])
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // monday-8am.yaml sizes the workspace with 6 workers; the flag overrides its queue of 300.
    assert!(line.contains("(6 workers, queue 50)"), "{line}");

    let dir = temp_dir("cli-target-url");
    let file = dir.join("url.yaml");
    std::fs::write(&file, TINY_RUN.replace("target: embedded", "target: http://127.0.0.1:9/")).unwrap();
    let out = schoolday(&["target", "--port", "0", "--scenario", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not the embedded workspace"), "{}", text(&out.stderr));
}

/// A run short enough for a CLI test that needs saved runs, not figures.
const TINY_RUN: &str = r#"
name: tiny
target: embedded
duration: 1s
grace: 2s
generator: { lag_p99_limit: 1s }
personas:
  pupil:
    population: 5
    arrival: { shape: constant, rate: 5/s }
    journey:
      - name: health
        get: /health
        goal: true
"#;

#[test]
fn compare_from_a_directory_without_reports_creates_it_and_writes_the_page_inside() {
    let dir = temp_dir("cli-compare");
    let (_, a) = super::run(&temp_dir("cli-compare-a"), TINY_RUN);
    let (_, b) = super::run(&temp_dir("cli-compare-b"), TINY_RUN);
    let cwd = dir.join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["compare", a.to_str().unwrap(), b.to_str().unwrap()])
        .current_dir(&cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run schoolday");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", text(&out.stderr));
    assert!(cwd.join("reports").is_dir(), "`reports` is a directory, not the page");
    let page = std::fs::read_to_string(cwd.join("reports/compare.html")).expect("reports/compare.html");
    assert!(page.contains("<table") && page.contains(a.file_name().unwrap().to_str().unwrap()), "{page}");
    assert!(stdout.contains("Comparison page: reports/compare.html"), "{stdout}");
}
