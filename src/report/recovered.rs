//! What is left of a run that never wrote its report: a run killed (SIGKILL, a crash, a
//! second Ctrl-C) has no `summary.json`, but its HDR interval logs were written second by
//! second. `schoolday report` on such a directory reads them back (as far as they are
//! readable), shows the latency of each step and the generator's lag over the seconds they
//! cover, and says plainly what only the summary held and is lost.

use std::io;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use super::hlog;
use super::style::Style;
use crate::format::{count, micros};

/// What could be rebuilt from the logs.
#[derive(Debug)]
pub struct Recovered {
    pub dir: PathBuf,
    /// One per log, steps first and the generator's lag last, in file-name order.
    pub logs: Vec<Log>,
}

/// One log, merged over the intervals it holds.
#[derive(Debug)]
pub struct Log {
    pub file: String,
    /// What it measures, from its header (the file name when the header says nothing).
    pub what: String,
    pub intervals: usize,
    /// Seconds since the start covered by the last interval read.
    pub until_s: f64,
    pub merged: Histogram<u64>,
    /// Why reading stopped early, when it did.
    pub damaged: Option<String>,
}

/// What only `summary.json` holds, and so is lost with it.
pub const LOST: &str = "error counts and their classes, user outcomes and their accounting, the per-second timeline \
(arrivals, successes, in-flight requests), the target's own counts, thresholds, and the saturation verdict";

/// Whether `dir` holds interval logs to rebuild from.
pub fn possible(dir: &Path) -> bool {
    log_files(dir).is_ok_and(|files| !files.is_empty())
}

fn log_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(hlog::DIR))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "hlog"))
        .collect();
    // Steps in name order, the generator's lag last.
    files.sort_by_key(|p| (p.file_name().is_some_and(|n| n == "generator-lag.hlog"), p.clone()));
    Ok(files)
}

/// Read every interval log of `dir` as far as it is readable.
pub fn rebuild(dir: &Path) -> io::Result<Recovered> {
    let files =
        log_files(dir).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.join(hlog::DIR).display())))?;
    let mut logs = Vec::new();
    for path in files {
        let text = std::fs::read(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let partial = hlog::read_partial(&text);
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut merged = crate::metrics::new_histogram();
        for interval in &partial.intervals {
            // Auto-resizing histograms cannot refuse a merge for range reasons.
            let _ = merged.add(&interval.histogram);
        }
        logs.push(Log {
            what: partial.what.unwrap_or_else(|| file.clone()),
            file,
            intervals: partial.intervals.len(),
            until_s: partial.intervals.last().map_or(0.0, |i| i.start_s + i.length_s),
            merged,
            damaged: partial.damaged,
        });
    }
    Ok(Recovered { dir: dir.to_path_buf(), logs })
}

impl Recovered {
    /// The last second any log covers.
    pub fn until_s(&self) -> f64 {
        self.logs.iter().map(|l| l.until_s).fold(0.0, f64::max)
    }

    /// The text shown in the terminal and kept as `recovered.txt`.
    pub fn text(&self, style: &Style) -> String {
        let mut out = String::new();
        out.push_str(
            &style.bold(&format!("Rebuilt from the HDR interval logs: the first {:.0} s of the run\n", self.until_s())),
        );
        out.push_str(&format!("  {:<52} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "log", "count", "p50", "p95", "p99", "max"));
        for log in &self.logs {
            let h = &log.merged;
            let q = |q: f64| if h.is_empty() { "-".to_string() } else { micros(h.value_at_quantile(q)) };
            out.push_str(&format!(
                "  {:<52} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
                log.what,
                count(h.len()),
                q(0.50),
                q(0.95),
                q(0.99),
                if h.is_empty() { "-".to_string() } else { micros(h.max()) }
            ));
        }
        for log in self.logs.iter().filter(|l| l.damaged.is_some()) {
            out.push_str(&format!(
                "  {}: {}; read up to it ({} intervals)\n",
                log.file,
                log.damaged.as_deref().unwrap_or_default(),
                log.intervals
            ));
        }
        out.push_str(&format!(
            "Counts are steps ended (success or failure), latency from the intended start.\n{} {LOST}.\n",
            style.yellow("Missing, because only summary.json holds them:")
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn a_killed_runs_logs_are_read_back_and_what_is_lost_is_named() {
        let root = std::env::temp_dir().join(format!("schoolday-recovered-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let dir = super::super::RunDir::existing(&root);
        assert!(!possible(&root));
        let layout = crate::metrics::Layout::new([("pupil", vec!["login".to_string(), "homework".to_string()])]);
        let mut logs = hlog::LiveLogs::create(&dir, &layout, SystemTime::now()).unwrap();
        let mut second = layout.empty_tally();
        for t in 1..=4u32 {
            second.reset();
            second.record_request(0, Duration::from_millis(10 * t as u64), Duration::from_millis(1), Ok(1));
            crate::metrics::record(&mut second.lag, Duration::from_micros(50));
            logs.append(&second, t);
        }
        // Killed in the middle of a line of the login log.
        let login = root.join("hlog/pupil-login.hlog");
        let mut text = std::fs::read(&login).unwrap();
        text.truncate(text.len() - 10);
        std::fs::write(&login, text).unwrap();

        assert!(possible(&root));
        let rebuilt = rebuild(&root).unwrap();
        let names: Vec<&str> = rebuilt.logs.iter().map(|l| l.file.as_str()).collect();
        assert_eq!(names, ["pupil-homework.hlog", "pupil-login.hlog", "generator-lag.hlog"]);
        let login = &rebuilt.logs[1];
        assert_eq!((login.intervals, login.merged.len(), login.until_s), (3, 3, 3.0));
        assert!(login.damaged.is_some());
        assert_eq!(rebuilt.logs[0].merged.len(), 0, "a step that never ended has an empty log");
        assert_eq!(rebuilt.logs[2].merged.len(), 4);
        let text = rebuilt.text(&Style::plain());
        assert!(text.contains("the first 4 s of the run"), "{text}");
        assert!(text.contains("pupil/login latency from intended start"), "{text}");
        assert!(text.contains("read up to it (3 intervals)"), "{text}");
        assert!(text.contains("user outcomes"), "{text}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
