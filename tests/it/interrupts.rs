//! Interrupts and crashes, on a real child process (`schoolday run` against its embedded
//! target): Ctrl-C (SIGINT) before the arrivals, at their peak and during the grace period
//! writes the partial report marked interrupted with exit code 130; a second Ctrl-C exits at
//! once leaving only whole files; after SIGKILL the HDR logs are on disk and `schoolday
//! report` says what it rebuilt and what is lost.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::temp_dir;

/// Arrivals from 2 s to 5 s (60 pupils), each thinking 8 s after logging in: users are still
/// active during the grace period (5 s to 10 s). The journey, `LOGIN_THEN_HOMEWORK`, is
/// appended when the file is written.
const SCENARIO: &str = r#"name: interrupted
target: embedded
duration: 5s
grace: 5s
generator: { lag_p99_limit: 1s }
personas:
  pupil:
    arrival: { shape: constant, rate: 20/s, from: 2s, to: 5s, spacing: even }
    think: 8s
"#;

/// A `schoolday run` child, and the instant it said it was running.
struct Running {
    child: Child,
    since: Instant,
    stderr: mpsc::Receiver<String>,
    reports: PathBuf,
}

fn start(name: &str) -> Running {
    let dir = temp_dir(name);
    let scenario = dir.join("scenario.yaml");
    std::fs::write(&scenario, format!("{SCENARIO}{}", super::LOGIN_THEN_HOMEWORK)).unwrap();
    let reports = dir.join("reports");
    let mut child = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["run", scenario.to_str().unwrap(), "--out", reports.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // "running …" is printed once Ctrl-C is listened for.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).expect("the run starts");
        if line.starts_with("running") {
            break;
        }
    }
    Running { child, since: Instant::now(), stderr: rx, reports }
}

impl Running {
    /// Send `signal` (`INT`, `KILL`) `at` after the run started.
    fn signal_at(&self, signal: &str, at: Duration) {
        std::thread::sleep(at.saturating_sub(self.since.elapsed()));
        let status = Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Wait for the end (at most 60 s): the exit code, stdout and stderr.
    fn wait(self) -> (Option<i32>, String, String, PathBuf) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut child = self.child;
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the run did not end within 60 s of the signal");
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let stderr: Vec<String> = self.stderr.try_iter().collect();
        let run_dir = std::fs::read_dir(&self.reports).unwrap().next().unwrap().unwrap().path();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr.join("\n"), run_dir)
    }
}

fn summary(run_dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap()
}

/// Interrupted at `at`: exit 130, the report written and marked, every user accounted for.
/// Returns the pupils' line of the summary.
fn interrupted_at(name: &str, at: Duration) -> serde_json::Value {
    let run = start(name);
    run.signal_at("INT", at);
    let (code, stdout, stderr, run_dir) = run.wait();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stdout.contains("INTERRUPTED"), "{stdout}");
    assert!(stderr.contains("interrupted: stopping arrivals"), "{stderr}");
    let s = summary(&run_dir);
    assert_eq!(s["run"]["interrupted"], true);
    assert!(std::fs::read_to_string(run_dir.join("report.html")).unwrap().contains("interrupted"));
    let p = s["personas"][0].clone();
    let ended: u64 =
        ["completed", "failed", "abandoned", "cut_off", "not_started"].iter().map(|k| p[k].as_u64().unwrap()).sum();
    assert_eq!((ended, p["scheduled"].as_u64()), (60, Some(60)), "{p}");
    assert_eq!(p["accounting_closes"], true, "{p}");
    p
}

#[test]
fn ctrl_c_before_the_arrivals_leaves_every_user_not_started() {
    let p = interrupted_at("int-before", Duration::from_millis(300));
    assert_eq!(p["not_started"], 60, "{p}");
}

#[test]
fn ctrl_c_at_the_peak_stops_the_arrivals_half_way() {
    let p = interrupted_at("int-peak", Duration::from_millis(3500));
    let not_started = p["not_started"].as_u64().unwrap();
    assert!((1..60).contains(&not_started), "some users arrived, some did not: {p}");
}

#[test]
fn ctrl_c_during_the_grace_period_cuts_off_the_users_still_on_their_way() {
    let p = interrupted_at("int-grace", Duration::from_secs(7));
    assert_eq!(p["not_started"], 0, "{p}");
    assert!(p["cut_off"].as_u64().unwrap() > 0, "users thinking for 8 s were cut off: {p}");
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_leaves_only_whole_files() {
    let run = start("int-twice");
    run.signal_at("INT", Duration::from_millis(3500));
    run.signal_at("INT", Duration::from_millis(3600));
    let stopped = Instant::now();
    let (code, _, stderr, run_dir) = run.wait();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted again: exiting now"), "the second Ctrl-C came while writing: {stderr}");
    assert!(stopped.elapsed() < Duration::from_secs(5), "exited at once, not after the grace period");
    assert_whole(&run_dir);
    // Whatever it had time to write, the run directory can be reported on.
    let out =
        Command::new(env!("CARGO_BIN_EXE_schoolday")).args(["report", run_dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn after_sigkill_the_logs_are_on_disk_and_report_says_what_is_missing() {
    let run = start("int-kill");
    run.signal_at("KILL", Duration::from_secs(5));
    let (code, _, _, run_dir) = run.wait();
    assert_eq!(code, None, "killed by a signal");
    assert!(!run_dir.join("summary.json").exists());
    let login = run_dir.join("hlog/pupil-login.hlog");
    let log = schoolday::report::hlog::read_partial(&std::fs::read(&login).unwrap());
    // Arrivals started at 2 s: seconds 3 and 4 at least are on disk.
    assert!(log.intervals.len() >= 2, "{} intervals in {}", log.intervals.len(), login.display());
    assert_eq!(log.damaged, None);

    let out = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["report", run_dir.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("has no summary.json"), "{stderr}");
    assert!(stdout.contains("Rebuilt from the HDR interval logs"), "{stdout}");
    assert!(stdout.contains("pupil/login latency from intended start"), "{stdout}");
    assert!(stdout.contains("Missing, because only summary.json holds them:"), "{stdout}");
    let answered: u64 = log.intervals.iter().map(|i| i.histogram.len()).sum();
    assert!(stdout.contains(&format!(" {answered} ")), "the login count {answered} is shown: {stdout}");
    assert!(run_dir.join("recovered.txt").exists());
}

/// No half-written file: no temporary left renamed-to-be, summary and page complete, logs
/// readable to their last line.
fn assert_whole(run_dir: &Path) {
    if run_dir.join("summary.json").exists() {
        summary(run_dir);
    }
    if let Ok(html) = std::fs::read_to_string(run_dir.join("report.html")) {
        assert!(html.trim_end().ends_with("</html>"), "report.html is whole");
    }
    for entry in std::fs::read_dir(run_dir.join("hlog")).unwrap() {
        let path = entry.unwrap().path();
        let log = schoolday::report::hlog::read_partial(&std::fs::read(&path).unwrap());
        assert_eq!(log.damaged, None, "{}", path.display());
    }
}
