//! `schoolday import log`: a day's access log → a scenario with that day's arrival curve
//! (a `csv` arrival file per persona, sessions started per minute), its route mix as weighted
//! journeys, and its think-time quantiles.
//!
//! The log is streamed (plain or gzip, a progress bar on a terminal), so its size does not
//! matter; only open sessions and the per-minute, per-route and per-journey tables are held.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveTime, Timelike as _};
use regex::Regex;

use crate::import::log_line::{Format, Parser, Record};
use crate::import::sessions::{Day, PersonaDay, Rule, Sessions};
use crate::import::ImportError;

/// Line numbers of unparsable lines quoted in the summary.
const QUOTED_BAD_LINES: usize = 5;

const ASSET_EXTENSIONS: [&str; 20] = [
    "js",
    "mjs",
    "css",
    "map",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "mp4",
    "webm",
    "webmanifest",
];

#[derive(Debug, Clone)]
pub struct LogOptions {
    pub file: PathBuf,
    pub from: Option<NaiveTime>,
    pub to: Option<NaiveTime>,
    pub format: Option<Format>,
    pub gap: Duration,
    pub client: Option<String>,
    pub rules: Vec<Rule>,
    pub out: PathBuf,
    pub target: String,
    /// How long one logged minute lasts in the rehearsal (pauses shrink alike).
    pub clock: Duration,
    /// The scenario's `scale`.
    pub scale: f64,
}

/// The command line's times of day and persona rules, checked (the rest of [`LogOptions`]
/// needs no checking and is taken as given).
pub struct CheckedFlags {
    pub from: Option<NaiveTime>,
    pub to: Option<NaiveTime>,
    pub rules: Vec<Rule>,
}

impl CheckedFlags {
    /// `--from`, `--to` (times of day) and `--persona name=REGEX` rules, or why not.
    pub fn check(from: Option<&str>, to: Option<&str>, personas: &[String]) -> Result<CheckedFlags, ImportError> {
        let usage = |message: String| ImportError::Usage { message };
        let time = |flag: &str, text: Option<&str>| -> Result<Option<NaiveTime>, ImportError> {
            text.map(|t| {
                NaiveTime::parse_from_str(t, "%H:%M")
                    .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
                    .map_err(|_| usage(format!("--{flag} `{t}`: expected a time of day such as `07:00`")))
            })
            .transpose()
        };
        let mut rules = Vec::new();
        for rule in personas {
            let (name, pattern) = rule
                .split_once('=')
                .ok_or_else(|| usage(format!("--persona `{rule}`: expected `name=REGEX`, e.g. `parent=^/parents/`")))?;
            let valid = !name.is_empty()
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !valid {
                return Err(usage(format!(
                    "--persona `{rule}`: `{name}` is not a persona name (lowercase letters, digits, `_`, `-`)"
                )));
            }
            let pattern = Regex::new(pattern)
                .map_err(|e| usage(format!("--persona `{rule}`: `{pattern}` is not a regex: {e}")))?;
            rules.push(Rule { persona: name.to_string(), pattern });
        }
        Ok(CheckedFlags { from: time("from", from)?, to: time("to", to)?, rules })
    }
}

/// What was left out of the log, for the summary.
#[derive(Debug, Clone, Default)]
pub struct Left {
    pub lines: u64,
    pub unparsable: u64,
    pub bad_lines: Vec<u64>,
    pub assets: u64,
    pub outside_window: u64,
}

#[derive(Debug)]
pub struct LogImport {
    pub scenario: String,
    pub day: Day,
    pub left: Left,
    pub arrival_files: Vec<PathBuf>,
}

pub fn import(options: &LogOptions) -> Result<LogImport, ImportError> {
    let (day, left) = read(options)?;
    if day.requests == 0 {
        return Err(ImportError::Invalid {
            file: options.file.clone(),
            message: format!(
                "no request left to import ({} lines: {} unparsable, {} static assets, {} outside --from/--to)",
                left.lines, left.unparsable, left.assets, left.outside_window
            ),
        });
    }
    let stem = options.out.file_stem().map_or_else(|| "imported".into(), |s| s.to_string_lossy().into_owned());
    let dir = options.out.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut arrival_files = Vec::new();
    for persona in day.personas.iter().filter(|p| p.sessions > 0) {
        let path = dir.join(format!("{stem}-{}-arrivals.csv", persona.name));
        std::fs::write(&path, arrivals_csv(options, &day, persona)).map_err(|e| ImportError::io(&path, e))?;
        arrival_files.push(path);
    }
    let scenario = crate::import::log_write::scenario(options, &day, &left, &arrival_files);
    std::fs::write(&options.out, &scenario).map_err(|e| ImportError::io(&options.out, e))?;
    Ok(LogImport { scenario, day, left, arrival_files })
}

/// Streams the log through the parser and the sessions.
fn read(options: &LogOptions) -> Result<(Day, Left), ImportError> {
    let file = std::fs::File::open(&options.file).map_err(|e| ImportError::io(&options.file, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    // The bar counts bytes read from disk (compressed ones for a gzip log); indicatif draws
    // nothing when stderr is not a terminal.
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut raw = BufReader::new(bar.wrap_read(file));
    let gzip = raw.fill_buf().map_err(|e| ImportError::io(&options.file, e))?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzip { Box::new(flate2::read::MultiGzDecoder::new(raw)) } else { Box::new(raw) };
    let mut lines = BufReader::with_capacity(1 << 16, reader);
    let default_persona = if options.rules.is_empty() { "visitor" } else { "other" };
    let mut sessions = Sessions::new(options.gap, options.rules.clone(), default_persona);
    let mut left = Left::default();
    let mut parser: Option<Parser> = options.format.map(|f| Parser::new(f, options.client.clone()));
    let mut buffer = Vec::with_capacity(1024);
    loop {
        buffer.clear();
        let n = lines.read_until(b'\n', &mut buffer).map_err(|e| ImportError::io(&options.file, e))?;
        if n == 0 {
            break;
        }
        left.lines += 1;
        let line = String::from_utf8_lossy(&buffer);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let parser = parser.get_or_insert_with(|| Parser::new(Parser::guess(line), options.client.clone()));
        let Some(record) = parser.parse(line) else {
            left.unparsable += 1;
            if left.bad_lines.len() < QUOTED_BAD_LINES {
                left.bad_lines.push(left.lines);
            }
            continue;
        };
        if is_asset(&record) {
            left.assets += 1;
        } else if !in_window(&record, options.from, options.to) {
            left.outside_window += 1;
        } else {
            sessions.add(&record);
        }
    }
    bar.finish_and_clear();
    Ok((sessions.finish(), left))
}

fn is_asset(record: &Record) -> bool {
    let path = record.path.split(['?', '#']).next().unwrap_or_default();
    let ext = path.rsplit('/').next().and_then(|name| name.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    ext.is_some_and(|e| ASSET_EXTENSIONS.contains(&e.as_str()))
}

/// Whether the request's time of day (in the log's own offset) is in [from, to).
fn in_window(record: &Record, from: Option<NaiveTime>, to: Option<NaiveTime>) -> bool {
    let t = record.time.time().with_nanosecond(0).unwrap_or_else(|| record.time.time());
    from.is_none_or(|f| t >= f) && to.is_none_or(|end| t < end)
}

/// The persona's sessions started per minute, every minute of the day's span.
fn arrivals_csv(options: &LogOptions, day: &Day, persona: &PersonaDay) -> String {
    let mut out = String::from("start,count,clock\n");
    let (Some(first), Some(last)) = (day.first_minute, day.last_minute) else { return out };
    let offset = day.offset.unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("0 is a valid offset"));
    for minute in first..=last {
        let count = persona.starts.get(&minute).copied().unwrap_or(0);
        let _ = writeln!(out, "{},{count},{}", start(minute - first, options.clock), clock(minute, offset));
    }
    // A closing empty minute: the last logged minute then lasts one minute like the others.
    let _ = writeln!(out, "{},0,{}", start(last + 1 - first, options.clock), clock(last + 1, offset));
    out
}

/// The rehearsal time of the `index`th logged minute.
fn start(index: i64, clock: Duration) -> String {
    crate::import::write::duration(clock * index.max(0) as u32)
}

/// `07:55` for a minute since the epoch, in the log's offset.
pub fn clock(minute: i64, offset: chrono::FixedOffset) -> String {
    chrono::DateTime::from_timestamp(minute * 60, 0)
        .map(|t| t.with_timezone(&offset).format("%H:%M").to_string())
        .unwrap_or_default()
}

/// The minute with the most sessions started (the earliest of equals) over every persona.
pub fn peak_minute(day: &Day) -> Option<(i64, u64)> {
    let mut total: BTreeMap<i64, u64> = BTreeMap::new();
    for persona in &day.personas {
        for (minute, n) in &persona.starts {
            *total.entry(*minute).or_default() += n;
        }
    }
    total.into_iter().fold(None, |best, (m, n)| match best {
        Some((_, b)) if b >= n => best,
        _ => Some((m, n)),
    })
}

impl LogImport {
    /// What was found and what was left out, for the terminal.
    pub fn summary(&self) -> String {
        let day = &self.day;
        let mut out = String::new();
        let sessions: u64 = day.personas.iter().map(|p| p.sessions).sum();
        let offset = day.offset.unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("0 is a valid offset"));
        let _ = writeln!(out, "{} requests in {sessions} sessions", day.requests);
        for persona in day.personas.iter().filter(|p| p.sessions > 0) {
            let _ = writeln!(out, "  {}: {} sessions", persona.name, persona.sessions);
        }
        if let Some((minute, n)) = peak_minute(day) {
            let _ = writeln!(
                out,
                "peak minute: {} with {n} sessions started (peak rate {:.2}/s)",
                clock(minute, offset),
                n as f64 / 60.0
            );
        }
        let mut routes: BTreeMap<&(String, String), u64> = BTreeMap::new();
        for persona in &day.personas {
            for (route, n) in &persona.routes {
                *routes.entry(route).or_default() += n;
            }
        }
        let mut top: Vec<_> = routes.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let _ = writeln!(out, "top routes:");
        for ((method, pattern), n) in top.iter().take(10) {
            let _ = writeln!(out, "  {n:>8}  {method} {pattern}");
        }
        let left = &self.left;
        let _ = writeln!(out, "left out of {} lines:", left.lines);
        let _ = writeln!(out, "  {} static assets (scripts, stylesheets, images, fonts)", left.assets);
        let _ = writeln!(out, "  {} outside --from/--to", left.outside_window);
        let quoted: Vec<String> = left.bad_lines.iter().map(u64::to_string).collect();
        let at = if quoted.is_empty() { String::new() } else { format!(" (lines {}…)", quoted.join(", ")) };
        let _ = writeln!(out, "  {} lines that are not requests in the log's format{at}", left.unparsable);
        let _ = writeln!(
            out,
            "wrote {}",
            self.arrival_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        out
    }
}
