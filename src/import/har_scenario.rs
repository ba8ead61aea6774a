//! `schoolday import har`: a browser recording → a scenario whose persona does what the
//! recorded person did, with their pauses, and the values the application handed out
//! captured instead of frozen.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::import::filter::{Filter, Left};
use crate::import::har::{self, Exchange};
use crate::import::steps::{self, Step};
use crate::import::{write, ImportError};

/// Users the placeholder CSV file holds (and so the imported persona's population).
const PLACEHOLDER_USERS: usize = 10;

#[derive(Debug, Clone)]
pub struct HarOptions {
    pub file: PathBuf,
    pub persona: String,
    /// Where the scenario goes; `None`: returned only (the caller prints it).
    pub out: Option<PathBuf>,
    /// `target:` of the scenario; default: the recorded origin.
    pub target: Option<String>,
    pub filter: Filter,
}

/// What the import made and found.
#[derive(Debug, Clone)]
pub struct HarImport {
    pub scenario: String,
    /// The placeholder users file: its path and whether it was written now (an existing one
    /// is left alone).
    pub users_file: Option<(PathBuf, bool)>,
    pub origin: String,
    pub steps: usize,
    pub captures: Vec<String>,
    pub left_out: BTreeMap<Left, usize>,
    pub think: Option<(Duration, Duration)>,
}

pub fn import(options: &HarOptions) -> Result<HarImport, ImportError> {
    let exchanges = har::read(&options.file)?;
    let origin = options.filter.origin_of(&exchanges).ok_or_else(|| ImportError::Invalid {
        file: options.file.clone(),
        message: "the recording has no requests".into(),
    })?;
    let mut kept = Vec::new();
    let mut left_out: BTreeMap<Left, usize> = BTreeMap::new();
    for (i, exchange) in exchanges.iter().enumerate() {
        match options.filter.keep(exchange, &origin) {
            Ok(()) => kept.push(i),
            Err(why) => *left_out.entry(why).or_default() += 1,
        }
    }
    if kept.is_empty() {
        return Err(ImportError::Invalid {
            file: options.file.clone(),
            message: format!("no request to `{origin}` is left once static assets and other origins are left out"),
        });
    }
    let kept_refs: Vec<&Exchange> = kept.iter().map(|&i| &exchanges[i]).collect();
    let credentials = steps::credentials(&kept_refs);
    let steps = steps::build(&exchanges, &kept, &credentials);
    let pauses: Vec<Duration> = steps.iter().filter_map(|s| s.think_before).collect();
    let think = pauses.iter().min().zip(pauses.iter().max()).map(|(lo, hi)| (*lo, *hi));
    let uses_password = credentials.password.is_some();
    // Beside the scenario (in the working directory when the scenario goes to stdout).
    let users_file = Some(users_path(options.out.as_deref().unwrap_or(Path::new("scenario.yaml")), &options.persona));
    let context =
        Context { options, origin: &origin, exchanges: &exchanges, left_out: &left_out, think, uses_password };
    let scenario = render(&context, &steps, users_file.as_deref());
    let users_file = match users_file {
        Some(path) if path.exists() => Some((path, false)),
        Some(path) => {
            std::fs::write(&path, placeholder_users(&options.persona)).map_err(|e| ImportError::io(&path, e))?;
            Some((path, true))
        }
        None => None,
    };
    if let Some(out) = &options.out {
        std::fs::write(out, &scenario).map_err(|e| ImportError::io(out, e))?;
    }
    let captures =
        steps.iter().flat_map(|s| s.captures.iter().map(|(name, expr)| format!("{name} ← {expr}"))).collect();
    Ok(HarImport { scenario, users_file, origin, steps: steps.len(), captures, left_out, think })
}

/// `pupils.csv` beside the scenario.
fn users_path(out: &Path, persona: &str) -> PathBuf {
    out.parent().unwrap_or(Path::new("")).join(format!("{persona}s.csv"))
}

fn placeholder_users(persona: &str) -> String {
    let mut text = String::from("id,password\n");
    for i in 1..=PLACEHOLDER_USERS {
        let _ = writeln!(text, "{persona}-{i:06},change-me");
    }
    text
}

struct Context<'a> {
    options: &'a HarOptions,
    origin: &'a str,
    exchanges: &'a [Exchange],
    left_out: &'a BTreeMap<Left, usize>,
    think: Option<(Duration, Duration)>,
    uses_password: bool,
}

fn render(cx: &Context, steps: &[Step], users_file: Option<&Path>) -> String {
    let mut out = String::new();
    let file_name = cx.options.file.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let first = cx.exchanges.first().map(|e| e.started.to_rfc3339()).unwrap_or_default();
    let left: usize = cx.left_out.values().sum();
    let _ = writeln!(out, "# Imported by `schoolday import har` from {file_name}, recorded {first} on {}.", cx.origin);
    let _ = writeln!(out, "# {} of {} recorded requests are steps; {left} left out:", steps.len(), cx.exchanges.len());
    for (why, n) in cx.left_out {
        let _ = writeln!(out, "#   {n} {}", why.describe());
    }
    let _ = writeln!(out, "# Values the application handed out and the page sent back are captures (see `capture:`);");
    let _ =
        writeln!(out, "# cookies are replayed from each user's jar. Check the arrival, the population and the goal.");
    let _ = writeln!(out, "name: {}", quote_name(&file_name));
    let _ = writeln!(
        out,
        "description: {}",
        write::quote(&format!("One {} as recorded in {file_name}", cx.options.persona))
    );
    let target = cx.options.target.clone().unwrap_or_else(|| cx.origin.to_string());
    let _ = writeln!(out, "target: {}", write::quote(&target));
    // Users arrive over the first 10 s; the grace leaves each of them time for the recorded
    // session's length twice over.
    let session = recorded_length(cx.exchanges);
    let grace = Duration::from_secs((2 * session.as_secs()).max(10) + 10);
    let _ = writeln!(out, "duration: 30s");
    let _ = writeln!(
        out,
        "grace: {}   # twice the recorded session ({}), and 10s",
        write::duration(grace),
        write::duration(session)
    );
    let _ = writeln!(out, "personas:");
    let _ = writeln!(out, "  {}:", cx.options.persona);
    match users_file {
        Some(path) => {
            let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let _ = writeln!(
                out,
                "    # The recorded login{} replaced by each user's: fill {name} with real test accounts.",
                if cx.uses_password { " and password are" } else { " is" }
            );
            let _ = writeln!(out, "    users: {{ csv: {} }}", write::quote(&name));
        }
        None => {
            let _ = writeln!(out, "    population: {PLACEHOLDER_USERS}");
        }
    }
    let _ = writeln!(out, "    arrival: {{ shape: constant, rate: 1/s, to: 10s }}");
    let _ = writeln!(out, "    journey:");
    for (i, step) in steps.iter().enumerate() {
        if let (Some(pause), Some(range)) = (step.think_before, cx.think) {
            write::think_step(&mut out, "      ", pause, range);
        }
        write::request_step(&mut out, "      ", step, i + 1 == steps.len());
    }
    out
}

fn quote_name(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".har").unwrap_or(file_name);
    write::quote(&format!("Imported from {stem}"))
}

fn recorded_length(exchanges: &[Exchange]) -> Duration {
    let (Some(first), Some(last)) = (exchanges.first(), exchanges.iter().map(Exchange::ended).max()) else {
        return Duration::ZERO;
    };
    (last - first.started).to_std().unwrap_or_default()
}

impl HarImport {
    /// What the import found, for the terminal.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} steps for {}", self.steps, self.origin);
        for (why, n) in &self.left_out {
            let _ = writeln!(out, "  left out: {n} {}", why.describe());
        }
        match self.think {
            Some((lo, hi)) => {
                let _ = writeln!(
                    out,
                    "  think times: {}..{} (recorded pauses of 100ms and more)",
                    write::duration(lo),
                    write::duration(hi)
                );
            }
            None => {
                let _ = writeln!(out, "  think times: none recorded (one page load)");
            }
        }
        if self.captures.is_empty() {
            let _ = writeln!(out, "  correlated values: none");
        }
        for capture in &self.captures {
            let _ = writeln!(out, "  captured: {capture}");
        }
        if let Some((path, written)) = &self.users_file {
            let what = if *written { "wrote placeholder users to" } else { "kept the existing users file" };
            let _ = writeln!(out, "  {what} {} (fill it with test accounts)", path.display());
        }
        out
    }
}
