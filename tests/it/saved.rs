//! Saved run directories are input too: `schoolday report` and `compare` on a summary.json
//! from another version, cut short or hand-edited refuse it with the file, the place and
//! what to do (exit code 2), and never rewrite what they refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{run, temp_dir};

/// A real (tiny) run directory: one user against a port nobody listens on.
fn saved_run(name: &str) -> PathBuf {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let yaml = format!(
        "name: saved\ntarget: http://127.0.0.1:{port}\nduration: 1s\ngrace: 1s\npersonas:\n  pupil:\n    population: 1\n    arrival: {{ shape: constant, rate: 1/s }}\n    journey: [ {{ get: /, goal: true }} ]\n"
    );
    run(&temp_dir(name), &yaml).1
}

fn schoolday(args: &[&Path]) -> (Option<i32>, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn edit(dir: &Path, f: impl FnOnce(String) -> String) -> String {
    let file = dir.join("summary.json");
    let text = f(std::fs::read_to_string(&file).unwrap());
    std::fs::write(&file, &text).unwrap();
    text
}

#[test]
fn report_refuses_a_summary_from_another_version_and_leaves_it_as_it_was() {
    let dir = saved_run("saved-v99");
    let text = edit(&dir, |t| t.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1));
    let (code, stderr) = schoolday(&[Path::new("report"), &dir]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("summary.json: schema_version 99, but this schoolday"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.join("summary.json")).unwrap(), text, "not rewritten");
}

#[test]
fn compare_names_the_run_whose_summary_was_cut_short() {
    let (a, b) = (saved_run("saved-a"), saved_run("saved-b"));
    edit(&b, |t| t[..t.len() / 3].to_string());
    let (code, stderr) = schoolday(&[Path::new("compare"), &a, &b, Path::new("--out"), &a]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:", b.join("summary.json").display())), "{stderr}");
    assert!(stderr.contains("cut short"), "{stderr}");
}

#[test]
fn a_hand_edited_summary_is_re_rendered_with_a_warning() {
    let dir = saved_run("saved-edited");
    edit(&dir, |t| t.replacen("\"failed\": 1", "\"failed\": 7", 1));
    let (code, stderr) = schoolday(&[Path::new("report"), &dir]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("warning: persona pupil:") && stderr.contains("was the file edited?"), "{stderr}");
}
