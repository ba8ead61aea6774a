//! The validated scenario: what the rest of schoolday consumes.
//!
//! Everything here has already been checked (names resolved, templates compiled, durations
//! parsed, population scaled), so the load planner and the runtime never re-validate and never
//! see YAML. Shared configuration lives here once and is referenced by index from per-user
//! state, which keeps a virtual user small.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenario::template::{JsonTemplate, Template};
use crate::target::EmbeddedConfig;

/// One rehearsal, validated.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// Free text from the YAML `description`, shown in reports.
    pub description: Option<String>,
    /// The file it was loaded from (for reports and error messages).
    pub source: PathBuf,
    pub target: Target,
    pub http: HttpSettings,
    /// How long arrivals are scheduled for.
    pub duration: Duration,
    /// After `duration`, users still running get this long to finish before they are cut off.
    pub grace: Duration,
    pub seed: u64,
    /// Population multiplier already applied to every persona's population and rates; kept for
    /// the report.
    pub scale: f64,
    pub personas: Vec<Persona>,
    /// Thresholds and the capacity claim.
    pub gates: Gates,
}

/// What a run is judged against. One field of `Scenario` (rather than two) so that code
/// building a `Scenario` by hand only adds `gates: Default::default()`.
#[derive(Debug, Clone, Default)]
pub struct Gates {
    /// Pass/fail rules evaluated at the end of the run.
    pub thresholds: Vec<crate::scenario::thresholds::Threshold>,
    /// A capacity claim for `schoolday capacity` (the command line may give another).
    pub claim: Option<crate::scenario::claim::Claim>,
}

#[derive(Debug, Clone)]
pub enum Target {
    /// The in-process demo school workspace, started on 127.0.0.1 for the run.
    Embedded(EmbeddedConfig),
    /// A base URL; request paths are joined onto it.
    Url(url::Url),
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Per-request timeout (a step may override it).
    pub timeout: Duration,
    /// Headers sent with every request.
    pub headers: Vec<(http::HeaderName, Template)>,
    pub connections: ConnectionMode,
}

/// How virtual users map onto TCP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionMode {
    /// Each user opens its own connections (a new TCP/TLS handshake per user, as browsers on
    /// the real morning) and closes them when it leaves. The default.
    PerUser,
    /// One keep-alive pool for all users: raw-throughput tests.
    Shared,
}

#[derive(Debug, Clone)]
pub struct Persona {
    pub name: String,
    /// Number of distinct users, after `scale`. For rate-shaped arrivals without a population
    /// this is `None` and the curve decides how many arrive.
    pub population: Option<u64>,
    pub users: UserSource,
    pub arrival: Arrival,
    pub journey: Journey,
}

/// Where users' identities come from.
#[derive(Debug, Clone)]
pub enum UserSource {
    /// `user.id` is `<persona>-<index>` (index from 1, zero-padded to 6 digits).
    Generated,
    /// Rows of a CSV file with a header line; `user.<column>` reads a column. If there is an
    /// `id` column it is `user.id`, otherwise ids are generated.
    Csv { path: PathBuf, columns: Vec<String>, rows: Vec<Vec<String>> },
}

/// When users show up: an open-model arrival process.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub shape: Shape,
    /// `Poisson`: a seeded (non-homogeneous) Poisson process. `Even`: deterministic quantiles
    /// of the curve, evenly spaced in cumulative load.
    pub spacing: Spacing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    Poisson,
    Even,
}

/// An arrival curve. Rates are users per second and already multiplied by `scale`.
///
/// When the persona has a `population`, the curve is only a *shape*: exactly `population`
/// users arrive, distributed in proportion to it. Without one, rates are absolute.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A constant rate between `from` and `to` (to defaults to the run's duration).
    Constant { rate: f64, from: Duration, to: Duration },
    /// A rate going linearly from `from_rate` to `to_rate` between `from` and `to`.
    Ramp { from_rate: f64, to_rate: f64, from: Duration, to: Duration },
    /// Consecutive constant-rate stages starting at `from`.
    Steps { from: Duration, stages: Vec<(f64, Duration)> },
    /// Piecewise-linear rate through (time, rate) points, zero outside them.
    Points { points: Vec<(Duration, f64)> },
    /// A Gaussian bump (the 8:00 wave): centred at `at`, standard deviation `spread`,
    /// truncated to [from, to]. Requires a population.
    Peak { at: Duration, spread: Duration, from: Duration, to: Duration },
    /// Everyone at `at` (an exam start): uniformly within `spread` after it, or with
    /// exponentially decaying density of mean `decay`. Requires a population.
    Burst { at: Duration, spread: Duration, decay: Option<Duration> },
}

/// A persona's journey, compiled: a flat program of operations plus the tables they index.
///
/// Flattening (instead of a tree walked recursively) lets a user be a plain loop over a
/// program counter, with no async recursion and no per-user copy of the journey.
#[derive(Debug, Clone)]
pub struct Journey {
    pub ops: Vec<Op>,
    pub requests: Vec<RequestSpec>,
    /// Names of captured variables; `Template` parts and captures refer to them by index.
    pub vars: Vec<String>,
    /// Index into `requests` of the goal step.
    pub goal: usize,
}

/// One operation of a compiled journey. Jumps are indices into `Journey::ops`.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Send `requests[i]`.
    Request(usize),
    /// Pause.
    Think(Think),
    /// Start of a loop of `count` iterations whose body is `ops[self+1 .. end]`; `end` is the
    /// index of the matching `LoopEnd`.
    LoopStart { count: u32, end: usize },
    /// End of a loop body; `start` is the index of the matching `LoopStart`.
    LoopEnd { start: usize },
    /// Weighted choice: jump to one branch's first op. Each branch ends with a `Jump` past
    /// the last branch.
    Choose { branches: Vec<(u32, usize)> },
    Jump(usize),
}

/// A think time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    Fixed(Duration),
    Uniform(Duration, Duration),
    /// Log-normal with this median and 90th percentile.
    LogNormal { median: Duration, p90: Duration },
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// Step name as shown in reports (`login`, `homework`, or `GET /agenda` by default).
    pub name: String,
    pub method: http::Method,
    /// Path (and optionally query) relative to the target's base URL.
    pub path: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(http::HeaderName, Template)>,
    /// Sent as `Authorization: Bearer <value>`.
    pub bearer: Option<Template>,
    pub body: Body,
    pub captures: Vec<Capture>,
    pub check: Check,
    pub goal: bool,
    /// Overrides `HttpSettings::timeout`.
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(JsonTemplate),
    Form(Vec<(String, Template)>),
    Raw { content_type: Option<String>, template: Template },
}

#[derive(Debug, Clone)]
pub struct Capture {
    /// Index into `Journey::vars`.
    pub var: usize,
    pub source: CaptureSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CaptureSource {
    /// A value inside the JSON body: object keys and array indices, e.g. `data.items[0].id`.
    Json(Vec<JsonKey>),
    Header(http::HeaderName),
    Cookie(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonKey {
    Field(String),
    Index(usize),
}

/// What makes a response a success.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Accepted statuses; `None` means any status below 400.
    pub status: Option<Vec<StatusRange>>,
    pub body_contains: Option<String>,
}

/// An inclusive range of status codes (`200`, or `2xx` = 200..=299).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange {
    pub low: u16,
    pub high: u16,
}

impl Check {
    pub fn status_ok(&self, status: u16) -> bool {
        match &self.status {
            None => status < 400,
            Some(ranges) => ranges.iter().any(|r| (r.low..=r.high).contains(&status)),
        }
    }

    /// Whether the body must be kept to evaluate the check.
    pub fn needs_body(&self) -> bool {
        self.body_contains.is_some()
    }
}

impl RequestSpec {
    /// Whether the response body must be kept in memory (for captures or checks); otherwise
    /// it is only counted as it streams past.
    pub fn needs_body(&self) -> bool {
        self.check.needs_body() || self.captures.iter().any(|c| matches!(c.source, CaptureSource::Json(_)))
    }
}
