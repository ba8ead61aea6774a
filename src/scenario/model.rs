//! The validated scenario: what the rest of schoolday consumes.
//!
//! Everything here has already been checked (names resolved, templates compiled, durations
//! parsed, population scaled), so the load planner and the runtime never re-validate and never
//! see YAML. Shared configuration lives here once and is referenced by index from per-user
//! state, which keeps a virtual user small.

use std::path::PathBuf;
use std::time::Duration;

use super::client::ClientSettings;
use super::embedded::EmbeddedConfig;
use crate::scenario::template::{JsonTemplate, Template};

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
    /// Things that happen on the scenario clock (storms), in time order.
    pub events: Vec<Event>,
    /// Thresholds and the capacity claim.
    pub gates: Gates,
}

/// Something that happens at a time during the run.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Every active session of these personas (indices) is dropped at `at` (cookies, captured
    /// tokens and connections; on the embedded target, server-side sessions too), and each
    /// affected user reconnects through its own retry policy: the synchronised herd. Each
    /// active user is affected with probability `fraction`.
    Storm { at: Duration, personas: Vec<usize>, fraction: f64 },
}

/// What a run is judged against. One field of `Scenario` (rather than two) so that code
/// building a `Scenario` by hand only adds `gates: Default::default()`.
#[derive(Debug, Clone, Default)]
pub struct Gates {
    /// Pass/fail rules evaluated at the end of the run.
    pub thresholds: Vec<crate::scenario::thresholds::Threshold>,
    /// A capacity claim for `schoolday capacity` (the command line may give another).
    pub claim: Option<crate::scenario::claim::Claim>,
    /// Generator lag p99 above which the run is invalid (exit code 3); `None`: the default,
    /// `analysis::LAG_P99_LIMIT`. Raise it only for a machine known to be noisy.
    pub lag_limit: Option<Duration>,
    /// Stop the run as soon as a threshold fails, judging every few seconds once this long
    /// has passed (`abort_on_fail`); `None`: judge only at the end.
    pub abort_on_fail: Option<Duration>,
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
    /// Pool size, version, TLS, source addresses, phase timeouts.
    pub client: ClientSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
            connections: ConnectionMode::PerUser,
            client: ClientSettings::default(),
        }
    }
}

/// How virtual users map onto TCP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
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
    pub behaviour: Behaviour,
    /// Windows during which this persona is switched off: users due to arrive inside one do
    /// not come (the "parents blocked 7:30–17:30" mitigation, played by the clients when the
    /// target cannot enforce it). Counted as `blocked` in the report.
    pub blocked: Vec<(Duration, Duration)>,
    /// Its users loop until the run ends, each sending the next request when the last one
    /// completes (quick mode's `--users`): the summary reports the loop, not "completed".
    pub closed_loop: bool,
}

/// How a persona's users behave when things go wrong. See docs/background.md#retry-model.
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    /// Retries of a failed request by the application (a step may override it).
    pub retry: RetryPolicy,
    /// A person reloads a page that takes longer than this (re-issuing the step). Reloads
    /// are not subject to any retry budget.
    pub page_patience: Option<Duration>,
    /// A user abandons when the goal is not reached this long after arriving.
    pub goal_patience: Option<GoalPatience>,
    /// On a 401 (session lost), replay the login steps and re-issue the step.
    pub relogin: bool,
    /// `ops[..login_end]` is the login sub-journey replayed on session loss and after a storm
    /// (0: the journey has no login steps).
    pub login_end: usize,
    pub waiting_room: Option<WaitingRoomClient>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            retry: RetryPolicy::none(),
            page_patience: None,
            goal_patience: None,
            relogin: true,
            login_end: 0,
            waiting_room: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Timeout of each attempt (defaults to the request timeout).
    pub attempt_timeout: Option<Duration>,
    pub retry_on: RetryOn,
    pub retry_after: RetryAfter,
    pub budget: Option<Budget>,
}

impl RetryPolicy {
    pub fn none() -> Self {
        RetryPolicy {
            backoff: Backoff::Immediate,
            max_attempts: 1,
            attempt_timeout: None,
            retry_on: RetryOn::default(),
            retry_after: RetryAfter::Honour,
            budget: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    Immediate,
    Fixed(Duration),
    /// `min(cap, base · factor^k)` before retry k (0-based), then jittered.
    Exponential {
        base: Duration,
        factor: f64,
        cap: Duration,
        jitter: Jitter,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    None,
    /// `U(0, d)`
    Full,
    /// `d/2 + U(0, d/2)`
    Equal,
    /// `min(cap, U(base, 3 · previous))`
    Decorrelated,
}

/// Which failures are retried. Never other 4xx.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryOn {
    pub connect: bool,
    pub timeout: bool,
    pub reset: bool,
    pub statuses: Vec<u16>,
}

impl Default for RetryOn {
    fn default() -> Self {
        RetryOn { connect: true, timeout: true, reset: true, statuses: vec![429, 502, 503, 504] }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RetryAfter {
    /// Wait at least what the server asks.
    Honour,
    Ignore,
    /// Honour, up to this long.
    Cap(Duration),
}

/// A client-side limit on retries, per user (each virtual user is one client device).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// Retries at most `ratio` of first attempts, plus `min_per_second` per second since
    /// arrival (the SRE book's 10% per client).
    Ratio { ratio: f64, min_per_second: f64 },
    /// A token bucket starting full: a retry costs `cost` (`timeout_cost` after a timeout)
    /// and needs that many tokens; a success refunds `refund` (Brooker; the AWS SDKs).
    Token { capacity: f64, cost: f64, timeout_cost: f64, refund: f64 },
}

/// When a user gives up on its goal: `LogNormal(median, sigma)` after arrival; with
/// probability `return_probability` it comes back after `U(return_after)` and tries again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoalPatience {
    pub median: Duration,
    pub sigma: f64,
    pub return_probability: f64,
    pub return_after: (Duration, Duration),
}

/// How a user recognises a waiting-room answer and polls it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingRoomClient {
    /// Statuses that may mean "queued".
    pub statuses: Vec<u16>,
    /// If set, the JSON body must have this field for the answer to mean "queued".
    pub json_field: Option<String>,
    /// If set, a redirect whose `Location` contains this means "queued".
    pub location_contains: Option<String>,
    /// Poll interval when the server gives none (`refreshIntervalSeconds` in the JSON body,
    /// or `Retry-After`).
    pub default_poll: Duration,
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
    /// Start the persona in `waves` cohorts `gap` apart, each following the shape (the Liège
    /// mitigation): users are dealt round-robin into cohorts.
    pub stagger: Option<Stagger>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stagger {
    pub waves: u32,
    pub gap: Duration,
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
    /// Arrivals piling up before a deadline (homework due at 23:59): the rate grows as
    /// `rate · exp(−(at − t) / rise)` from `from` until `at`, and nothing arrives from `at`
    /// on (the cut-off: the submission closes).
    Deadline { at: Duration, rise: Duration, from: Duration, rate: f64 },
    /// Consecutive constant-rate intervals read from a CSV file (`file`, resolved against the
    /// scenario), starting at `from`: what `schoolday import log` writes.
    Csv { file: std::path::PathBuf, from: Duration, stages: Vec<(f64, Duration)> },
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
    LoopStart {
        count: u32,
        end: usize,
    },
    /// End of a loop body; `start` is the index of the matching `LoopStart`.
    LoopEnd {
        start: usize,
    },
    /// Weighted choice: jump to one branch's first op. Each branch ends with a `Jump` past
    /// the last branch.
    Choose {
        branches: Vec<(u32, usize)>,
    },
    Jump(usize),
}

/// A think time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    Fixed(Duration),
    Uniform(Duration, Duration),
    /// Log-normal with this median and 90th percentile.
    LogNormal {
        median: Duration,
        p90: Duration,
    },
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
    /// Overrides the persona's retry policy for this step.
    pub retry: Option<RetryPolicy>,
    /// Marks the last step of the login sub-journey (see `Behaviour::login_end`).
    pub login: bool,
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
    /// The value of the first `<input name=…>` of an HTML body (a form's CSRF field).
    Input(String),
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
        self.check.needs_body()
            || self.captures.iter().any(|c| matches!(c.source, CaptureSource::Json(_) | CaptureSource::Input(_)))
    }
}
