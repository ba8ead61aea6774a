//! Integration tests: one binary, a module per area. Everything runs against servers these
//! tests start themselves on 127.0.0.1 (the embedded target, or tiny misbehaving servers), with
//! bounded users and durations.

mod behaviour;
mod bench;
mod capacity;
mod cli;
mod connections;
mod failures;
mod faults;
mod fuzz;
mod gates;
mod import;
mod interrupts;
mod loopback;
mod misbehaving;
mod quick;
mod run;
mod saved;
mod secrets;
mod shard;
mod tooling;
mod validity;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schoolday::analysis::Summary;
use schoolday::report::Style;
use schoolday::scenario::{self, Scenario};

/// The journey several tests walk: log in, then fetch the homework (the goal).
pub const LOGIN_THEN_HOMEWORK: &str = r#"    journey:
      - name: login
        post: /login
        json: { user: "{{ user.id }}" }
      - name: homework
        get: /homework
        goal: true
"#;

/// Held by tests whose outcome depends on the generator keeping to its schedule (an exit
/// code 0 or 1 rather than 3) or on every connection failure being the target's, and by tests
/// that load the machine on purpose (an overloaded generator, which also uses up the process's
/// descriptors; a capacity search), so that the two never overlap on a small CI machine.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("schoolday-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Load scenario text as if it were the file `name` in `dir`.
pub fn scenario_in(dir: &Path, name: &str, yaml: &str) -> Arc<Scenario> {
    let path = dir.join(name);
    std::fs::write(&path, yaml).expect("write scenario");
    match scenario::load_file(&path) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("test scenario does not load:\n{e}"),
    }
}

/// Run a scenario in-process and return its summary (and where it was written).
pub fn run(dir: &Path, yaml: &str) -> (Summary, PathBuf) {
    let scenario = scenario_in(dir, "scenario.yaml", yaml);
    let finished = schoolday::app::run_scenario(scenario, &dir.join("reports"), Style::plain()).expect("run");
    (finished.summary, finished.dir.path().to_path_buf())
}

/// Every persona's users add up, and the summary says so.
pub fn assert_accounting_closes(summary: &Summary) {
    for p in &summary.personas {
        assert_eq!(
            p.completed + p.failed + p.abandoned + p.cut_off + p.not_started,
            p.scheduled,
            "persona {} does not add up: {p:?}",
            p.name
        );
        assert!(p.accounting_closes, "persona {} says its accounting does not close", p.name);
    }
}
