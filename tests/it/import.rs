//! `schoolday import`: recordings and logs become scenarios that validate and run.
//!
//! - A HAR shaped like a Chrome export (`tests/fixtures/import/ent-session.har`: a login form
//!   with a CSRF field, a redirect, a token in a JSON body reused as a bearer, a homework id
//!   reused in a path, CDN assets, a font, an analytics ping) imports into a scenario that runs
//!   against a loopback application checking every one of those values.
//! - A HAR recorded here from real exchanges with the embedded target imports into a scenario
//!   whose run reaches the goal for every user.
//! - A seeded Monday-morning access log (written by [`log_fixture`]) imports with its peak
//!   minute and its session count recovered, plain and gzip, and the scenario runs.

mod har_app;
mod log_fixture;
mod recorder;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use schoolday::analysis::Summary;
use schoolday::report::Style;
use schoolday::scenario;

use super::{assert_accounting_closes, exclusive, temp_dir};

const HAR: &str = "tests/fixtures/import/ent-session.har";

fn schoolday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().expect("run schoolday")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `schoolday import …` must succeed; returns (stdout, stderr).
fn import(args: &[&str]) -> (String, String) {
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    let out = schoolday(&all);
    assert_eq!(out.status.code(), Some(0), "import {args:?}:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

/// Loads the written scenario (the real validator) and runs it in-process.
fn run_file(path: &Path, dir: &Path) -> Summary {
    let scenario = match scenario::load_file(path) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("imported scenario does not load:\n{e}"),
    };
    let finished = schoolday::app::run_scenario(scenario, &dir.join("reports"), Style::plain()).expect("run");
    finished.summary
}

fn out_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[test]
fn a_chrome_har_becomes_a_correlated_scenario_that_runs_against_its_application() {
    let _serial = exclusive();
    let app = har_app::App::start();
    let dir = temp_dir("import-har-app");
    let out = out_path(&dir, "ent.yaml");
    let (_, stderr) = import(&["har", HAR, "--out", out.to_str().unwrap(), "--target", &app.url()]);
    let yaml = std::fs::read_to_string(&out).unwrap();
    // The application's six requests, in order; the CDN, the font, the image and the ping
    // are left out and counted.
    let requests: Vec<&str> = yaml.lines().filter_map(|l| l.trim().strip_prefix("- name: ")).collect();
    assert_eq!(
        requests,
        [
            r#""GET /login""#,
            r#""login""#,
            r#""GET /home""#,
            r#""GET /api/session""#,
            r#""GET /api/homework""#,
            r#""GET /api/homework/{items_id}""#
        ]
    );
    assert!(stderr.contains("left out: 4 other origins"), "{stderr}");
    assert!(stderr.contains("left out: 1 fonts"), "{stderr}");
    assert!(stderr.contains("left out: 1 static assets"), "{stderr}");
    // Correlation: the CSRF field, the token and the homework id are captured and templated.
    for expected in [
        r#"csrf_token: "input.csrf_token""#,
        r#""csrf_token": "{{ csrf_token }}""#,
        r#"token: "json.token""#,
        r#"bearer: "{{ token }}""#,
        r#"items_id: "json.items[0].id""#,
        r#"get: "/api/homework/{{ items_id }}""#,
        r#""username": "{{ user.id }}""#,
        r#""password": "{{ user.password }}""#,
        "think: 1475ms..3065ms",
    ] {
        assert!(yaml.contains(expected), "missing `{expected}` in:\n{yaml}");
    }
    // Nothing recorded that identifies the person or the browser is copied.
    for frozen in
        ["eleve.1", "Chèvre", "Ch%C3%A8vre", "tok_8c1d", "Zk9xT2c1", "sid=", "Mozilla", "Content-Length", ":path"]
    {
        assert!(!yaml.contains(frozen), "`{frozen}` was copied into:\n{yaml}");
    }
    let users = std::fs::read_to_string(dir.join("pupils.csv")).unwrap();
    assert!(users.starts_with("id,password\n") && !users.contains("eleve.1"), "{users}");
    let summary = run_file(&out, &dir);
    assert_accounting_closes(&summary);
    let pupil = &summary.personas[0];
    assert_eq!((pupil.scheduled, pupil.completed), (10, 10), "{pupil:?}\n{:?}", summary.requests.errors);
    // The application saw each value come back: 10 good CSRF posts, 10 homework detail pages.
    assert_eq!(app.counts(), har_app::Counts { logins: 10, bad_csrf: 0, details: 10, refused: 0 });
}

#[test]
fn a_session_recorded_against_the_embedded_target_replays_to_the_goal_for_every_user() {
    let _serial = exclusive();
    let dir = temp_dir("import-har-recorded");
    let har = dir.join("recorded.har");
    recorder::record_demo_session(&har);
    let out = out_path(&dir, "recorded.yaml");
    import(&[
        "har",
        har.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--target",
        "embedded",
        "--persona",
        "eleve",
    ]);
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.contains(r#"token: "json.token""#), "{yaml}");
    assert!(yaml.contains(r#"bearer: "{{ token }}""#), "{yaml}");
    assert!(yaml.contains(r#"get: "/files/{{ items_id }}""#), "{yaml}");
    assert!(!yaml.contains(recorder::PASSWORD), "{yaml}");
    let summary = run_file(&out, &dir);
    assert_accounting_closes(&summary);
    let eleve = &summary.personas[0];
    assert_eq!(eleve.completed, eleve.scheduled, "{eleve:?}\n{:?}", summary.requests.errors);
    assert!(eleve.scheduled >= 10, "{eleve:?}");
    let goal = summary.steps.iter().find(|s| s.goal).expect("a goal step");
    assert_eq!((goal.sent, goal.ok), (eleve.scheduled, eleve.scheduled), "{goal:?}");
}

#[test]
fn a_har_that_is_not_json_names_its_line_and_column() {
    let dir = temp_dir("import-har-bad");
    let bad = dir.join("bad.har");
    std::fs::write(&bad, "{\n  \"log\": {\n    \"entries\": [ { \"startedDateTime\": 12 ]\n").unwrap();
    let out = schoolday(&["import", "har", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with(&format!("error: {}:3:", bad.display())), "{stderr}");
    assert!(stderr.contains("hint: export it from the browser"), "{stderr}");
}

#[test]
fn a_monday_log_gives_back_its_sessions_and_peak_minute() {
    let dir = temp_dir("import-log");
    let (log, truth) = log_fixture::monday(2021, 3000);
    for (name, bytes) in [("access.log", log.clone().into_bytes()), ("access.log.gz", log_fixture::gzip(&log))] {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = dir.join(format!("{name}.yaml"));
        let (stdout, _) = import(&["log", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        let sessions = log_fixture::number_before(&stdout, " sessions\n").expect("a session count");
        let within = |got: u64, want: u64| (got as f64 - want as f64).abs() <= 0.02 * want as f64;
        assert!(
            within(sessions, truth.sessions),
            "{name}: {sessions} sessions, expected {}:\n{stdout}",
            truth.sessions
        );
        let peak = format!("peak minute: {} with ", truth.peak_clock);
        assert!(stdout.contains(&peak), "{name}: expected `{peak}{}`:\n{stdout}", truth.peak_count);
        let count = log_fixture::number_after(&stdout, &peak).unwrap();
        assert!(within(count, truth.peak_count), "{name}: peak {count}, expected {}", truth.peak_count);
        assert!(stdout.contains(&format!("{} static assets", truth.assets)), "{stdout}");
        assert!(stdout.contains(&format!("{} lines that are not requests", truth.garbage)), "{stdout}");
        assert!(stdout.contains("GET /files/{id}"), "ids are collapsed in the top routes:\n{stdout}");
        let arrivals = std::fs::read_to_string(dir.join(format!("{name}-visitor-arrivals.csv"))).unwrap();
        let total: u64 = arrivals.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap()).sum();
        assert_eq!(total, sessions, "the arrival file holds every session");
    }
}

#[test]
fn persona_rules_split_the_log_and_the_scenario_runs_on_a_compressed_clock() {
    let _serial = exclusive();
    let dir = temp_dir("import-log-run");
    let (log, truth) = log_fixture::monday(7, 1200);
    let file = dir.join("access.log");
    std::fs::write(&file, log).unwrap();
    let out = dir.join("monday.yaml");
    let (stdout, _) = import(&[
        "log",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--persona",
        r"parent=^parent\.",
        "--from",
        "07:00",
        "--to",
        "09:00",
        "--clock",
        "250ms",
        "--scale",
        "0.05",
    ]);
    let parents = log_fixture::number_after(&stdout, "  parent: ").unwrap();
    let others = log_fixture::number_after(&stdout, "  other: ").unwrap();
    assert_eq!(parents, truth.parent_sessions, "{stdout}");
    assert_eq!(parents + others, truth.sessions, "{stdout}");
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(yaml.contains("arrival: { shape: csv, file: \"monday-parent-arrivals.csv\" }"), "{yaml}");
    assert!(yaml.contains("think: { median: "), "{yaml}");
    let summary = run_file(&out, &dir);
    assert_accounting_closes(&summary);
    let scheduled: u64 = summary.personas.iter().map(|p| p.scheduled).sum();
    // 5% of the sessions, give or take the Poisson draw of each minute.
    let expected = truth.sessions as f64 * 0.05;
    assert!((scheduled as f64 - expected).abs() < 5.0 * expected.sqrt() + 3.0, "{scheduled} vs {expected}");
    assert!(summary.requests.sent > scheduled, "{:?}", summary.requests);
    assert!(summary.requests.errors.is_empty(), "every imported route is served: {:?}", summary.requests.errors);
}
