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
    interval(&mut buf, &mut serializer, histogram, Duration::ZERO, length)?;
    Ok(buf)
}

/// Interval_Max is printed in milliseconds (values are microseconds), as the Java writer does
/// for nanoseconds → milliseconds. Declared once, in the header.
const MAX_VALUE_DIVISOR: f64 = 1000.0;

/// The header of a log: comments, start and base time, the max value divisor, the legend line.
fn header(what: &str, started_at: Option<SystemTime>, serializer: &mut V2DeflateSerializer) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    {
        let mut header = IntervalLogWriterBuilder::new();
        header
            .add_comment(&format!("Logged with schoolday {}", env!("CARGO_PKG_VERSION")))
            .add_comment("[Histogram log format version 1.3]")
            .add_comment(&format!("{what}; values in microseconds"))
            .with_max_value_divisor(MAX_VALUE_DIVISOR);
        if let Some(at) = started_at {
            header.with_start_time(at).with_base_time(at);
        }
        header.begin_log_with(&mut buf, serializer)?;
    }
    buf.extend_from_slice(LEGEND.as_bytes());
    Ok(buf)
}

/// Append one interval line: `histogram` covering `length` from `start` (relative to the base
/// time). Written here rather than through the crate's `IntervalLogWriter`, which can only be
/// had from a builder that repeats the `MaxValueDivisor` comment before every line; the line
/// is the one that writer prints (`start,length,max,V2-deflate base64`).
fn interval(
    buf: &mut Vec<u8>,
    serializer: &mut V2DeflateSerializer,
    histogram: &Histogram<u64>,
    start: Duration,
    length: Duration,
) -> io::Result<()> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Serializer as _;
    use std::io::Write as _;
    let max = if histogram.is_empty() { 0.0 } else { histogram.max() as f64 / MAX_VALUE_DIVISOR };
    write!(buf, "{:.3},{:.3},{max:.3},", start.as_secs_f64(), length.as_secs_f64())?;
    let mut bytes = Vec::new();
    serializer.serialize(histogram, &mut bytes).map_err(|e| io::Error::other(format!("{e:?}")))?;
    buf.extend_from_slice(base64::engine::general_purpose::STANDARD.encode(bytes).as_bytes());
    buf.push(b'\n');
    Ok(())
}

/// Interval logs written while the run goes: one interval per second for each step and for
/// the generator's lag. Each line goes straight to its file (no buffer in this process), so a
/// run killed at any moment leaves logs readable up to the last second written.
pub struct LiveLogs {
    /// One per global step id, then the lag log; `None` once a write failed (the run goes on,
    /// and the report rebuilds single-interval logs for it).
    files: Vec<Option<(PathBuf, std::fs::File)>>,
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
        names.push(("generator-lag.hlog".into(), LAG_WHAT.to_string()));
        let mut files = Vec::with_capacity(names.len());
        for (name, what) in names {
            let file_path = path.join(&name);
            let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", file_path.display()));
            let mut file = std::fs::File::create(&file_path).map_err(named)?;
            std::io::Write::write_all(&mut file, &header(&what, Some(started_at), &mut serializer)?).map_err(named)?;
            files.push(Some((file_path, file)));
        }
        Ok(LiveLogs { files, serializer, buf: Vec::new() })
    }

    /// Append second `t` (covering `t-1 .. t` seconds after the start), one whole line per
    /// write. Empty histograms are skipped, as the Java writer does.
    pub fn append(&mut self, second: &crate::metrics::Tally, t: u32) {
        let start = Duration::from_secs(t.saturating_sub(1) as u64);
        let lag_index = self.files.len() - 1;
        for (i, slot) in self.files.iter_mut().enumerate() {
            let histogram = if i == lag_index { &second.lag } else { &second.steps[i].latency };
            if histogram.is_empty() {
                continue;
            }
            let Some((path, file)) = slot else { continue };
            self.buf.clear();
            let written = interval(&mut self.buf, &mut self.serializer, histogram, start, Duration::from_secs(1))
                .and_then(|()| std::io::Write::write_all(file, &self.buf));
            if let Err(e) = written {
                eprintln!("warning: {}: {e}; this log will hold the whole run as one interval", path.display());
                let _ = std::fs::remove_file(&*path);
                *slot = None;
            }
        }
    }
}

/// What the generator's lag log holds.
const LAG_WHAT: &str = "generator lag (actual minus intended start)";

/// Every histogram read back from a log (intervals in file order).
pub fn read(text: &[u8]) -> io::Result<Vec<Histogram<u64>>> {
    let log = read_partial(text);
    match log.damaged {
        Some(problem) => Err(io::Error::new(io::ErrorKind::InvalidData, problem)),
        None => Ok(log.intervals.into_iter().map(|i| i.histogram).collect()),
    }
}

/// One interval read back from a log.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Seconds since the log's base time.
    pub start_s: f64,
    pub length_s: f64,
    pub histogram: Histogram<u64>,
}

/// What a log holds, read as far as it is readable: a run killed in the middle of a line
/// leaves a last line cut short, and everything before it still counts.
#[derive(Debug, Clone, PartialEq)]
pub struct PartialLog {
    /// What the log measures, from its header comment (`pupil/login latency from intended
    /// start`).
    pub what: Option<String>,
    pub intervals: Vec<Interval>,
    /// Why reading stopped before the end, if it did.
    pub damaged: Option<String>,
}

/// Read every interval up to the end of the log or its first unreadable line.
pub fn read_partial(text: &[u8]) -> PartialLog {
    let what = std::str::from_utf8(text).ok().and_then(|t| {
        t.lines().filter_map(|l| l.strip_prefix('#')).find_map(|c| c.strip_suffix("; values in microseconds"))
    });
    let mut log = PartialLog { what: what.map(str::to_string), intervals: Vec::new(), damaged: None };
    for (n, entry) in IntervalLogIterator::new(text).enumerate() {
        match entry.map_err(|e| format!("{e:?}")).and_then(|e| decode(&e)) {
            Ok(Some(interval)) => log.intervals.push(interval),
            Ok(None) => {}
            Err(problem) => {
                log.damaged = Some(format!("entry {} is unreadable ({problem})", n + 1));
                break;
            }
        }
    }
    log
}

/// Every interval of a log as `(start relative to the log's base time, length, histogram)`;
/// an unreadable entry is an error (merging must not silently drop a shard's second).
pub fn read_intervals(text: &[u8]) -> io::Result<Vec<(Duration, Duration, Histogram<u64>)>> {
    let log = read_partial(text);
    if let Some(problem) = log.damaged {
        return Err(io::Error::new(io::ErrorKind::InvalidData, problem));
    }
    let secs = Duration::from_secs_f64;
    Ok(log.intervals.into_iter().map(|i| (secs(i.start_s), secs(i.length_s), i.histogram)).collect())
}

fn decode(entry: &LogEntry) -> Result<Option<Interval>, String> {
    use base64::Engine as _;
    let LogEntry::Interval(h) = entry else { return Ok(None) };
    let bytes = base64::engine::general_purpose::STANDARD.decode(h.encoded_histogram()).map_err(|e| e.to_string())?;
    let histogram = Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(|e| format!("{e:?}"))?;
    Ok(Some(Interval { start_s: h.start_timestamp().as_secs_f64(), length_s: h.duration().as_secs_f64(), histogram }))
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
        interval(&mut buf, &mut serializer, histogram, *start, Duration::from_secs(1))?;
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
        logs.write("generator-lag.hlog", &log(&h, LAG_WHAT, started_at, length)?)?;
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
            let data = assert_well_formed(&text);
            assert_eq!(data.len(), 1);
            assert!(data[0].starts_with("0.000,240.000,"), "{}", data[0]);
        }
        let lag = read(&std::fs::read(logs.join("generator-lag.hlog")).unwrap()).unwrap();
        assert_eq!(lag[0], decode_histogram(&summary.generator.lag.histogram).unwrap());
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Every line of a log is a header comment, the legend or an interval, in that order; the
    /// max value divisor is declared once, in the header. Returns the interval lines.
    fn assert_well_formed(text: &str) -> Vec<&str> {
        let lines: Vec<&str> = text.lines().collect();
        let legend = lines.iter().position(|l| format!("{l}\n") == LEGEND).expect("a legend line");
        assert!(lines[..legend].iter().all(|l| l.starts_with('#')), "only comments before the legend:\n{text}");
        let divisors: Vec<usize> =
            lines.iter().enumerate().filter(|(_, l)| l.starts_with("#[MaxValueDivisor")).map(|(i, _)| i).collect();
        assert_eq!(divisors.len(), 1, "one divisor comment:\n{text}");
        assert!(divisors[0] < legend && lines[divisors[0]] == "#[MaxValueDivisor: 1000.000]", "{text}");
        let data = &lines[legend + 1..];
        for line in data {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 4, "start,length,max,histogram: {line}");
            for number in &fields[..3] {
                assert!(number.parse::<f64>().is_ok(), "{line}");
            }
            assert!(fields[3].starts_with("HISTF"), "a V2-deflate histogram: {line}");
        }
        data.to_vec()
    }

    #[test]
    fn live_logs_are_on_disk_after_every_second_with_one_divisor() {
        let root = std::env::temp_dir().join(format!("schoolday-hlog-live-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let dir = RunDir::existing(&root);
        let layout = crate::metrics::Layout::new([("pupil", vec!["login".to_string()])]);
        let mut logs = LiveLogs::create(&dir, &layout, SystemTime::now()).unwrap();
        let mut second = layout.empty_tally();
        for t in 1..=3u32 {
            second.reset();
            for ms in 1..=t as u64 {
                second.record_request(0, Duration::from_millis(ms * 100), Duration::from_millis(ms), Ok(10));
                crate::metrics::record(&mut second.lag, Duration::from_micros(ms * 7));
            }
            logs.append(&second, t);
            // Read while the logs are still open, as after a SIGKILL: the second is there.
            for name in ["pupil-login.hlog", "generator-lag.hlog"] {
                let text = std::fs::read_to_string(root.join(DIR).join(name)).unwrap();
                let data = assert_well_formed(&text);
                assert_eq!(data.len(), t as usize, "{name} after second {t}:\n{text}");
                assert!(data[t as usize - 1].starts_with(&format!("{}.000,1.000,", t - 1)), "{text}");
            }
        }
        let back = read_partial(&std::fs::read(root.join(DIR).join("pupil-login.hlog")).unwrap());
        assert_eq!(back.what.as_deref(), Some("pupil/login latency from intended start"));
        assert_eq!(back.intervals.iter().map(|i| i.histogram.len()).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(back.intervals[2].histogram.max(), back.intervals[2].histogram.highest_equivalent(300_000));
        drop(logs);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_log_cut_in_the_middle_of_a_line_reads_up_to_it() {
        let mut h = crate::metrics::new_histogram();
        h.record(1234).unwrap();
        let mut serializer = V2DeflateSerializer::new();
        let mut text = header("x", None, &mut serializer).unwrap();
        for t in 0..3 {
            interval(&mut text, &mut serializer, &h, Duration::from_secs(t), Duration::from_secs(1)).unwrap();
        }
        let whole = read_partial(&text);
        assert_eq!((whole.intervals.len(), whole.damaged.as_deref()), (3, None));
        let cut = read_partial(&text[..text.len() - 20]);
        assert_eq!(cut.intervals.len(), 2);
        assert!(cut.damaged.is_some());
        assert!(read(&text[..text.len() - 20]).is_err(), "the strict reader refuses a damaged log");
    }

    #[test]
    fn empty_histograms_still_make_valid_logs() {
        let h = crate::metrics::new_histogram();
        let text = log(&h, "nothing", None, Duration::ZERO).unwrap();
        assert_eq!(read(&text).unwrap(), vec![h]);
    }
}
