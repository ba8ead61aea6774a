//! The run directory: `reports/<scenario>-<UTC timestamp>/`, created before the run starts so
//! that a bad output path fails before any load is sent.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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
        let tmp = self.file(&format!(".{name}.tmp"));
        std::fs::write(&tmp, contents).map_err(|e| named(e, &tmp))?;
        std::fs::rename(&tmp, &path).map_err(|e| named(e, &path))?;
        Ok(path)
    }
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
