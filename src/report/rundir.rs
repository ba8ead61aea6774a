//! The run directory: `reports/<scenario>-<UTC timestamp>/`, created before the run starts so
//! that a bad output path fails before any load is sent, written file by file through a
//! temporary name (a run stopped at any moment never leaves a half-written file), and read back
//! by `report`, `compare` and `merge` through one loader that checks what it reads.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::analysis::{Summary, SCHEMA_VERSION};

/// The name of the scenario's copy in a shard's run directory: `merge` re-reads the
/// thresholds and events from it and checks its SHA-256 against every shard's.
pub const SCENARIO_COPY: &str = "scenario.yaml";

#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Create a fresh directory for a run of `scenario_name` under `root`.
    pub fn create(root: &Path, scenario_name: &str, at: SystemTime) -> io::Result<RunDir> {
        std::fs::create_dir_all(root).map_err(|e| named(e, root))?;
        let base = format!("{}-{}", slug(scenario_name), timestamp(at));
        for attempt in 1.. {
            let name = if attempt == 1 { base.clone() } else { format!("{base}-{attempt}") };
            let path = root.join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => continue,
                Err(e) => return Err(named(e, &path)),
            }
        }
        unreachable!("the loop returns")
    }

    /// Use an existing directory (re-rendering a saved run).
    pub fn existing(path: &Path) -> RunDir {
        RunDir { path: path.to_path_buf() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Write a file atomically (temp file + rename), naming the file in any error.
    pub fn write(&self, name: &str, contents: &[u8]) -> io::Result<PathBuf> {
        let path = self.file(name);
        write_atomically(&path, contents)?;
        Ok(path)
    }
}

/// The temporary name `path` is written under before it is renamed into place: beside it (the
/// rename stays on one file system), hidden.
pub fn temporary(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Write `path` through a temporary file and a rename, so that a reader (or a run stopped in
/// the middle) sees the old file or the new one, never half of one. Names the file in errors.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = temporary(path);
    std::fs::write(&tmp, contents).map_err(|e| named(e, &tmp))?;
    std::fs::rename(&tmp, path).map_err(|e| named(e, path))
}

/// A saved run read back, with what its reader should be told about it.
#[derive(Debug)]
pub struct Saved {
    pub summary: Summary,
    /// Things that look wrong in the file but do not stop it being shown (hand edits).
    pub warnings: Vec<String>,
}

/// Why a saved run cannot be read. Every variant names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: no such file; {hint}", path.display())]
    Missing { path: PathBuf, hint: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}:{line}:{column}: {problem}\n  hint: {hint}", path.display())]
    Malformed { path: PathBuf, line: usize, column: usize, problem: String, hint: &'static str },
    #[error("{}: {at} is {number}, larger than any run records\n  hint: undo the edit, or restore the file", path.display())]
    OutOfRange { path: PathBuf, at: String, number: String },
    #[error("{}: schema_version {found}, but this schoolday ({}) reads version {SCHEMA_VERSION}{written_by}\n  hint: {hint}", path.display(), env!("CARGO_PKG_VERSION"))]
    Version { path: PathBuf, found: String, written_by: String, hint: &'static str },
}

/// Read a saved run's `summary.json` (`path` is the run directory or the file itself),
/// refusing a file this version cannot read faithfully: truncated or malformed JSON, a missing
/// or unknown `schema_version`. `report`, `compare` and `merge` all read saved runs here.
pub fn load_summary(path: &Path) -> Result<Saved, LoadError> {
    let file = if path.is_dir() { path.join("summary.json") } else { path.to_path_buf() };
    let bytes = match std::fs::read(&file) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let hint = if file.parent().is_some_and(|d| d.join(super::hlog::DIR).is_dir()) {
                "the run did not finish writing its report (killed?); `schoolday report` on the run directory rebuilds what it can from hlog/"
            } else {
                "give a run directory (it holds summary.json) or the summary.json file itself"
            };
            return Err(LoadError::Missing { path: file, hint: hint.into() });
        }
        Err(source) => return Err(LoadError::Io { path: file, source }),
    };
    check_version(&file, &bytes)?;
    let summary: Summary = serde_json::from_slice(&bytes).map_err(|e| malformed(&file, &e))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&file, &e))?;
    if let Some((at, number)) = out_of_range(&value, &mut String::new()) {
        return Err(LoadError::OutOfRange { path: file, at, number });
    }
    let warnings = doubts(&summary);
    Ok(Saved { summary, warnings })
}

/// The version check, on the version field alone, so that a file from another version is
/// named as such rather than as whichever field it changed.
fn check_version(file: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        schema_version: Option<serde_json::Value>,
        tool: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| malformed(file, &e))?;
    let written_by = probe
        .tool
        .as_ref()
        .and_then(|t| {
            Some(format!(" (it was written by {} {})", t.get("name")?.as_str()?, t.get("version")?.as_str()?))
        })
        .unwrap_or_default();
    match probe.schema_version {
        Some(v) if v.as_u64() == Some(SCHEMA_VERSION as u64) => Ok(()),
        Some(v) => Err(LoadError::Version {
            path: file.to_path_buf(),
            hint: if v.as_u64().is_some_and(|n| n > SCHEMA_VERSION as u64) {
                "re-render it with the schoolday that wrote it, or upgrade this one"
            } else {
                "this is not a version schoolday has written: restore the file as it was saved"
            },
            found: v.to_string(),
            written_by,
        }),
        None => Err(LoadError::Version {
            path: file.to_path_buf(),
            found: "missing".into(),
            written_by,
            hint: "this is not a schoolday summary.json (every one starts with `schema_version`)",
        }),
    }
}

/// Numbers no run writes: counts and durations stay far below 2^53 (the largest integer a
/// JSON number keeps exactly in most readers), and arithmetic on them must not overflow.
const LARGEST: f64 = 9_007_199_254_740_992.0;

/// The path and text of the first number in `value` beyond ±2^53.
fn out_of_range(value: &serde_json::Value, at: &mut String) -> Option<(String, String)> {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.as_f64().is_none_or(|x| x.abs() > LARGEST) => Some((at.clone(), n.to_string())),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            let found = out_of_range(v, at);
            at.truncate(len);
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            let len = at.len();
            at.push_str(&if at.is_empty() { k.clone() } else { format!(".{k}") });
            let found = out_of_range(v, at);
            at.truncate(len);
            found
        }),
        _ => None,
    }
}

fn malformed(file: &Path, e: &serde_json::Error) -> LoadError {
    let hint = if e.is_eof() {
        "the file ends early: it was cut short (a full disk, an interrupted copy); restore it or re-run"
    } else if e.is_syntax() {
        "this is not valid JSON any more: undo the edit at that place, or restore the file"
    } else {
        "a field has a value of the wrong type or is missing: undo the edit at that place, or restore the file"
    };
    LoadError::Malformed {
        path: file.to_path_buf(),
        line: e.line(),
        column: e.column(),
        problem: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
        hint,
    }
}

/// What a reader should be warned about in a summary that parsed: numbers that no run writes.
fn doubts(summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    for p in &summary.personas {
        let ended = [p.completed, p.failed, p.abandoned, p.cut_off, p.not_started];
        if ended.iter().try_fold(0u64, |a, n| a.checked_add(*n)) != Some(p.scheduled) {
            out.push(format!(
                "persona {}: completed + failed + abandoned + cut off + not started is not the {} scheduled (was the file edited?); shown as saved",
                p.name, p.scheduled
            ));
        }
    }
    for s in &summary.steps {
        if crate::analysis::decode_histogram(&s.latency.histogram).is_none() {
            out.push(format!(
                "step {}/{}: its latency histogram is unreadable; its HDR log cannot be rebuilt",
                s.persona, s.name
            ));
        }
    }
    out
}

fn named(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// `Monday 8:00 — first day!` → `monday-8-00-first-day`
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "run".to_string()
    } else {
        out.chars().take(60).collect()
    }
}

/// `20261124-140512` (UTC).
pub fn timestamp(at: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(at).to_string(); // 2026-11-24T14:05:12Z
    text.chars().filter(|c| c.is_ascii_digit() || *c == 'T').collect::<String>().replace('T', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_timestamps() {
        assert_eq!(slug("Monday 8:00 — first day!"), "monday-8-00-first-day");
        assert_eq!(slug("***"), "run");
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_532_712);
        assert_eq!(timestamp(at), "20261124-150512");
    }

    /// A saved summary in a fresh directory, as `text` after `edit`.
    fn saved(name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
        let root = std::env::temp_dir().join(format!("schoolday-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let text = serde_json::to_string_pretty(&crate::analysis::fixture::calm()).unwrap();
        std::fs::write(root.join("summary.json"), edit(text)).unwrap();
        root
    }

    fn refused(name: &str, edit: impl FnOnce(String) -> String) -> String {
        let root = saved(name, edit);
        let e = load_summary(&root).expect_err(name).to_string();
        assert!(e.contains(&root.join("summary.json").display().to_string()), "names the file: {e}");
        std::fs::remove_dir_all(&root).unwrap();
        e
    }

    #[test]
    fn a_saved_run_reads_back_and_bad_ones_are_refused_with_where_and_why() {
        let root = saved("ok", |t| t);
        let back = load_summary(&root).unwrap();
        assert_eq!(back.summary, crate::analysis::fixture::calm());
        assert!(back.warnings.is_empty(), "{:?}", back.warnings);
        std::fs::remove_dir_all(&root).unwrap();

        let e = refused("v99", |t| t.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1));
        assert!(e.contains("schema_version 99, but this schoolday"), "{e}");
        assert!(e.contains("reads version 1 (it was written by schoolday "), "{e}");
        assert!(e.contains("upgrade"), "{e}");
        let e = refused("v0", |t| t.replacen("\"schema_version\": 1", "\"schema_version\": 0", 1));
        assert!(e.contains("schema_version 0") && e.contains("not a version schoolday has written"), "{e}");
        let e = refused("vstring", |t| t.replacen("\"schema_version\": 1", "\"schema_version\": \"1\"", 1));
        assert!(e.contains("schema_version \"1\""), "{e}");
        let e = refused("nover", |t| t.replacen("\"schema_version\": 1,", "", 1));
        assert!(e.contains("schema_version missing") && e.contains("not a schoolday summary.json"), "{e}");
        let e = refused("truncated", |t| t[..t.len() / 2].to_string());
        assert!(e.contains("cut short"), "{e}");
        let e = refused("type", |t| t.replacen("\"sent\": ", "\"sent\": \"many\", \"x\": ", 1));
        assert!(e.contains("wrong type"), "{e}");
        let line = e.split("summary.json:").nth(1).and_then(|r| r.split(':').next()).unwrap();
        assert!(line.parse::<usize>().unwrap() > 1, "a line number: {e}");
        let e = refused("syntax", |t| t.replacen('{', "{,", 2));
        assert!(e.contains("not valid JSON") && e.contains(":1:2:") || e.contains(":2:"), "{e}");
        let e = refused("empty", |_| String::new());
        assert!(e.contains("cut short"), "{e}");
        let e = refused("array", |_| "[]".into());
        assert!(e.contains("wrong type"), "{e}");

        let missing = std::env::temp_dir().join(format!("schoolday-load-none-{}", std::process::id()));
        let e = load_summary(&missing).unwrap_err().to_string();
        assert!(e.contains("no such file") && e.contains("summary.json"), "{e}");
    }

    #[test]
    fn a_hand_edited_summary_that_still_parses_is_shown_with_a_warning() {
        let root = saved("edited", |t| t.replacen("\"completed\": ", "\"completed\": 1", 1));
        let back = load_summary(&root).unwrap();
        assert_eq!(back.warnings.len(), 1, "{:?}", back.warnings);
        assert!(back.warnings[0].contains("was the file edited?"), "{:?}", back.warnings);
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Every way of cutting the file short, and every number turned into an extreme, is an
    /// error or a report: never a panic.
    #[test]
    fn no_truncation_or_extreme_number_panics_the_re_render() {
        let text = serde_json::to_string_pretty(&crate::analysis::fixture::calm()).unwrap();
        let root = saved("extreme", |t| t);
        let step = (text.len() / 40).max(1);
        for cut in (0..text.len()).step_by(step) {
            std::fs::write(root.join("summary.json"), &text[..cut]).unwrap();
            assert!(super::super::rerender(&root).is_err(), "cut at {cut}");
        }
        let numbers: Vec<(usize, usize)> = number_spans(&text);
        for (i, (from, to)) in numbers.iter().enumerate().step_by((numbers.len() / 12).max(1)) {
            for extreme in ["18446744073709551615", "1e308", "-1", "9007199254740992"] {
                let edited = format!("{}{extreme}{}", &text[..*from], &text[*to..]);
                std::fs::write(root.join("summary.json"), &edited).unwrap();
                let result = std::panic::catch_unwind(|| super::super::rerender(&root).map(|_| ()));
                assert!(result.is_ok(), "number {i} ({}) set to {extreme} panics", &text[*from..*to]);
            }
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Byte ranges of the JSON numbers in `text` (outside strings).
    fn number_spans(text: &str) -> Vec<(usize, usize)> {
        let bytes = text.as_bytes();
        let (mut spans, mut in_string, mut i) = (Vec::new(), false, 0);
        while i < bytes.len() {
            let c = bytes[i];
            if in_string {
                in_string = c != b'"' || bytes[i - 1] == b'\\';
            } else if c == b'"' {
                in_string = true;
            } else if c.is_ascii_digit() || c == b'-' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || b".eE+-".contains(&bytes[i])) {
                    i += 1;
                }
                spans.push((start, i));
                continue;
            }
            i += 1;
        }
        spans
    }

    #[test]
    fn two_runs_in_the_same_second_get_two_directories() {
        let root = std::env::temp_dir().join(format!("schoolday-rundir-{}", std::process::id()));
        let at = SystemTime::now();
        let a = RunDir::create(&root, "smoke", at).unwrap();
        let b = RunDir::create(&root, "smoke", at).unwrap();
        assert_ne!(a.path(), b.path());
        a.write("x.json", b"{}").unwrap();
        assert_eq!(std::fs::read(a.file("x.json")).unwrap(), b"{}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
