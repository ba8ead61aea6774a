//! HdrHistogram interval logs (`hlog/*.hlog`): the standard text format of the Java
//! `HistogramLogWriter` (header comments, StartTime/BaseTime, a legend line, then one line per
//! interval with a V2-deflate, base64 histogram), readable by `HistogramLogProcessor`,
//! HdrHistogram's plotter and the Rust `IntervalLogIterator`.
//!
//! One log per persona × step (latency from intended start) and one for the generator's lag.
//! During a run, [`LiveLogs`] appends one interval per second (the histograms of that second,
//! before they are merged into the totals), so the logs show latency over time exactly. A
//! re-render keeps them; only a run directory without them gets logs rebuilt from the summary,
//! which keeps one exact histogram per step for the whole run, so those hold a single interval.
//! Values are microseconds: with the Java tools, pass `-outputValueUnitRatio 1000` to read
//! milliseconds.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::rundir::{slug, RunDir};
use crate::analysis::{decode_histogram, Summary};

/// The subdirectory of the run directory holding the logs.
pub const DIR: &str = "hlog";

/// Legend line of the Java writer (its reader skips it; so does the Rust one).
const LEGEND: &str = "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n";

/// The log text for one histogram covering `length` from `started_at`.
pub fn log(
    histogram: &Histogram<u64>,
    what: &str,
    started_at: Option<SystemTime>,
    length: Duration,
) -> io::Result<Vec<u8>> {
    let mut serializer = V2DeflateSerializer::new();
    let mut buf = header(what, started_at, &mut serializer)?;
    interval(&mut buf, &mut serializer, histogram, Duration::ZERO, length, what)?;
    Ok(buf)
}

/// The header of a log: comments, start and base time, the legend line.
fn header(what: &str, started_at: Option<SystemTime>, serializer: &mut V2DeflateSerializer) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    {
        let mut header = IntervalLogWriterBuilder::new();
        header
            .add_comment(&format!("Logged with schoolday {}", env!("CARGO_PKG_VERSION")))
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(&format!("{what}; values in microseconds"));
        if let Some(at) = started_at {
            header.with_start_time(at).with_base_time(at);
        }
        header.begin_log_with(&mut buf, serializer)?;
    }
    buf.extend_from_slice(LEGEND.as_bytes());
    Ok(buf)
}

/// Append one interval line: `histogram` covering `length` from `start` (relative to the base
/// time).
fn interval(
    buf: &mut Vec<u8>,
    serializer: &mut V2DeflateSerializer,
    histogram: &Histogram<u64>,
    start: Duration,
    length: Duration,
    what: &str,
) -> io::Result<()> {
    // Interval_Max in milliseconds, as the Java writer prints it by default for ns → ms.
    let mut writer = IntervalLogWriterBuilder::new().with_max_value_divisor(1000.0).begin_log_with(buf, serializer)?;
    writer.write_histogram(histogram, start, length, None).map_err(|e| io::Error::other(format!("{what}: {e:?}")))
}

/// Interval logs written while the run goes: one interval per second for each step and for
/// the generator's lag.
pub struct LiveLogs {
    /// One per global step id, then the lag log; `None` once a write failed (the run goes on,
    /// and the report rebuilds single-interval logs for it).
    files: Vec<Option<(PathBuf, std::io::BufWriter<std::fs::File>)>>,
    serializer: V2DeflateSerializer,
    buf: Vec<u8>,
}

impl LiveLogs {
    /// Create `hlog/` in the run directory with a log per step of `layout` and one for the lag.
    pub fn create(dir: &RunDir, layout: &crate::metrics::Layout, started_at: SystemTime) -> io::Result<LiveLogs> {
        let path = dir.file(DIR);
        std::fs::create_dir_all(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut serializer = V2DeflateSerializer::new();
        let mut names: Vec<(String, String)> = layout
            .steps
            .iter()
            .map(|(p, step)| {
                let persona = &layout.personas[*p];
                (step_file(persona, step), format!("{persona}/{step} latency from intended start"))
            })
            .collect();
        names.push(("generator-lag.hlog".into(), "generator lag (actual minus intended start)".into()));
        let mut files = Vec::with_capacity(names.len());
        for (name, what) in names {
            let file_path = path.join(&name);
            let file = std::fs::File::create(&file_path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file_path.display())))?;
            let mut writer = std::io::BufWriter::new(file);
            std::io::Write::write_all(&mut writer, &header(&what, Some(started_at), &mut serializer)?)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file_path.display())))?;
            files.push(Some((file_path, writer)));
        }
        Ok(LiveLogs { files, serializer, buf: Vec::new() })
    }

    /// Append second `t` (covering `t-1 .. t` seconds after the start). Empty histograms are
    /// skipped, as the Java writer does.
    pub fn append(&mut self, second: &crate::metrics::Tally, t: u32) {
        let start = Duration::from_secs(t.saturating_sub(1) as u64);
        let lag_index = self.files.len() - 1;
        for (i, slot) in self.files.iter_mut().enumerate() {
            let histogram = if i == lag_index { &second.lag } else { &second.steps[i].latency };
            if histogram.is_empty() {
                continue;
            }
            let Some((path, writer)) = slot else { continue };
            self.buf.clear();
            let written = interval(&mut self.buf, &mut self.serializer, histogram, start, Duration::from_secs(1), "")
                .and_then(|()| std::io::Write::write_all(writer, &self.buf));
            if let Err(e) = written {
                eprintln!("warning: {}: {e}; this log will hold the whole run as one interval", path.display());
                let _ = std::fs::remove_file(&*path);
                *slot = None;
            }
        }
    }

    /// Flush every log.
    pub fn finish(self) {
        for (path, mut writer) in self.files.into_iter().flatten() {
            if let Err(e) = std::io::Write::flush(&mut writer) {
                eprintln!("warning: {}: {e}", path.display());
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Every histogram read back from a log (intervals in file order).
pub fn read(text: &[u8]) -> io::Result<Vec<Histogram<u64>>> {
    Ok(read_intervals(text)?.into_iter().map(|(_, _, h)| h).collect())
}

/// Every interval of a log: its start (relative to the log's base time), its length and its
/// histogram.
pub fn read_intervals(text: &[u8]) -> io::Result<Vec<(Duration, Duration, Histogram<u64>)>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for entry in IntervalLogIterator::new(text) {
        let entry = entry.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}")))?;
        if let LogEntry::Interval(h) = entry {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.encoded_histogram())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let histogram = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e:?}")))?;
            out.push((h.start_timestamp(), h.duration(), histogram));
        }
    }
    Ok(out)
}

/// A log of one-second intervals, each `(start relative to started_at, histogram)`: what
/// [`LiveLogs`] writes during a run, built afterwards (e.g. from merged shards). Empty
/// histograms are skipped, as the Java writer does.
pub fn log_seconds(
    what: &str,
    started_at: SystemTime,
    intervals: &[(Duration, Histogram<u64>)],
) -> io::Result<Vec<u8>> {
    let mut serializer = V2DeflateSerializer::new();
    let mut buf = header(what, Some(started_at), &mut serializer)?;
    for (start, histogram) in intervals.iter().filter(|(_, h)| !h.is_empty()) {
        interval(&mut buf, &mut serializer, histogram, *start, Duration::from_secs(1), what)?;
    }
    Ok(buf)
}

/// File name of a step's log: `pupil-login.hlog`.
pub fn step_file(persona: &str, step: &str) -> String {
    format!("{}-{}.hlog", slug(persona), slug(step))
}

/// Write one log per step and one for the generator lag under `hlog/`; returns the directory.
/// Steps whose saved histogram is missing or unreadable are skipped (an old or hand-edited
/// summary should not stop the report).
pub fn write_all(summary: &Summary, dir: &RunDir) -> io::Result<PathBuf> {
    let path = dir.file(DIR);
    std::fs::create_dir_all(&path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let logs = RunDir::existing(&path);
    let started_at = humantime::parse_rfc3339(&summary.run.started_at).ok();
    let kept = |name: &str| path.join(name).exists();
    let length =
        Duration::from_secs_f64(if summary.run.elapsed_s.is_finite() { summary.run.elapsed_s.max(0.0) } else { 0.0 });
    for step in &summary.steps {
        // Logs written during the run hold one interval per second: keep them.
        if kept(&step_file(&step.persona, &step.name)) {
            continue;
        }
        if let Some(h) = decode_histogram(&step.latency.histogram) {
            let what = format!("{}/{} latency from intended start", step.persona, step.name);
            logs.write(&step_file(&step.persona, &step.name), &log(&h, &what, started_at, length)?)?;
        }
    }
    if kept("generator-lag.hlog") {
        return Ok(path);
    }
    if let Some(h) = decode_histogram(&summary.generator.lag.histogram) {
        logs.write("generator-lag.hlog", &log(&h, "generator lag (actual minus intended start)", started_at, length)?)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn logs_read_back_equal_to_the_summary_histograms() {
        let summary = fixture::saturating();
        let root = std::env::temp_dir().join(format!("schoolday-hlog-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let dir = RunDir::existing(&root);
        let logs = write_all(&summary, &dir).unwrap();
        for step in &summary.steps {
            let text = std::fs::read(logs.join(step_file(&step.persona, &step.name))).unwrap();
            let back = read(&text).unwrap();
            assert_eq!(back.len(), 1);
            assert_eq!(back[0], decode_histogram(&step.latency.histogram).unwrap());
            let text = String::from_utf8(text).unwrap();
            assert!(text.contains("#[Histogram log format version 1.3]"));
            assert!(text.contains("#[StartTime: "));
            assert!(text.contains(LEGEND));
            let data = text.lines().last().unwrap();
            assert!(data.starts_with("0.000,240.000,"), "{data}");
            assert!(data.contains(",HISTF"), "a V2-deflate histogram: {data}");
        }
        let lag = read(&std::fs::read(logs.join("generator-lag.hlog")).unwrap()).unwrap();
        assert_eq!(lag[0], decode_histogram(&summary.generator.lag.histogram).unwrap());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn empty_histograms_still_make_valid_logs() {
        let h = crate::metrics::new_histogram();
        let text = log(&h, "nothing", None, Duration::ZERO).unwrap();
        assert_eq!(read(&text).unwrap(), vec![h]);
    }
}
