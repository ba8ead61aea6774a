//! Quick mode: a [`Scenario`] built from a handful of command-line flags, for an ad-hoc check
//! of one URL without writing YAML (`schoolday run --url URL --users 50`), and what the
//! benchmark suite drives.
//!
//! Both classic load-generator models are expressed with the ordinary scenario model, so a
//! quick run has the same runtime, summary, run directory and exit codes as any scenario:
//!
//! - **Closed loop** (`--users N`, optional `--think`): N users arrive evenly over a short
//!   ramp-up and each repeats one request forever (a loop of `u32::MAX` iterations), sending the
//!   next one when the last completes (plus the think time). The run ends at `duration` with no
//!   grace: users still looping then are cut off, which is how a closed loop ends.
//! - **Open loop** (`--rate R`): R arrivals per second, evenly spaced, each sending one request.
//!   Latency counts from the intended start, so a slow target cannot slow the offered load
//!   down. Requests still in flight at `duration` get a grace period to finish: cutting them off
//!   would drop exactly the slowest answers from the histogram.
//!
//! The request is the same for every user: a literal URL (no `{{ }}` templates), method,
//! headers and body. This module only builds values; it never sees clap.

use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, Method};

use crate::scenario::template::Template;
use crate::scenario::{
    Arrival, Body, Check, ClientSettings, ConnectionMode, HttpSettings, Journey, Op, Persona, RequestSpec, Scenario,
    Shape, Spacing, Target, Think, UserSource,
};

/// How long an open-loop run waits for requests still in flight after `duration`: the same
/// default as a scenario's `grace`.
pub const OPEN_LOOP_GRACE: Duration = Duration::from_secs(10);

/// The longest default ramp-up of a closed loop: long enough that thousands of users do not
/// all arrive in the same instant (which would show up as arrival lag), short enough that the
/// run is at full concurrency almost at once.
pub const MAX_DEFAULT_RAMP_UP: Duration = Duration::from_secs(1);

/// The load model of a quick run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// `users` users, each sending its next request when the last one completes, after
    /// `think`. They all arrive within `ramp_up` (`None`: the default ramp-up).
    Closed { users: u64, think: Option<Duration>, ramp_up: Option<Duration> },
    /// `rate` requests per second from the schedule, whatever the responses do.
    Open { rate: f64 },
}

/// Everything a quick run needs, as given on the command line (strings not yet checked).
#[derive(Debug, Clone)]
pub struct Options {
    pub url: String,
    pub duration: Duration,
    pub load: Load,
    pub connections: ConnectionMode,
    /// Pool size, TLS and the rest of the wire settings (`--pool`, `--insecure`).
    pub client: ClientSettings,
    pub method: String,
    /// `Name: value` lines.
    pub headers: Vec<String>,
    pub body: Option<String>,
    pub timeout: Duration,
    pub seed: u64,
}

impl Options {
    /// Defaults for `url` under `load`: 30 s, per-user connections, `GET`, no headers.
    pub fn new(url: &str, load: Load) -> Options {
        Options {
            url: url.to_string(),
            duration: Duration::from_secs(30),
            load,
            connections: ConnectionMode::PerUser,
            client: ClientSettings::default(),
            method: "GET".to_string(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(30),
            seed: 1,
        }
    }
}

/// A quick-mode flag that cannot be turned into a run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QuickError {
    #[error("--url `{url}` is not a URL: {reason}")]
    Url { url: String, reason: String },
    #[error("--url `{0}` must start with http:// or https://")]
    Scheme(String),
    #[error("--method `{0}` is not an HTTP method")]
    Method(String),
    #[error("--header `{0}` must be `Name: value`")]
    Header(String),
    #[error("--users must be at least 1")]
    NoUsers,
    #[error("--rate must be more than 0 requests per second")]
    NoRate,
    #[error("--duration must be more than 0s")]
    NoDuration,
    #[error("--timeout must be more than 0s")]
    NoTimeout,
    #[error("{0} arrivals is more than one run can schedule (at most {limit}): lower --users or --rate, or shorten --duration", limit = crate::scenario::limits::MAX_ARRIVALS)]
    TooMany(u64),
}

/// Build the scenario of a quick run.
pub fn scenario(options: &Options) -> Result<Scenario, QuickError> {
    let url = url::Url::parse(&options.url)
        .map_err(|e| QuickError::Url { url: options.url.clone(), reason: e.to_string() })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(QuickError::Scheme(options.url.clone()));
    }
    if options.duration.is_zero() {
        return Err(QuickError::NoDuration);
    }
    if options.timeout.is_zero() {
        return Err(QuickError::NoTimeout);
    }
    let method = Method::from_bytes(options.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| QuickError::Method(options.method.clone()))?;
    let headers = options.headers.iter().map(|line| header(line)).collect::<Result<Vec<_>, _>>()?;

    // The runtime appends each request's path to the base URL, so split the URL there.
    let mut path = url.path().to_string();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    let mut base = url.clone();
    base.set_path("");
    base.set_query(None);
    base.set_fragment(None);

    let asked = match options.load {
        Load::Closed { users, .. } => users as f64,
        Load::Open { rate } => rate * options.duration.as_secs_f64(),
    };
    if asked > crate::scenario::limits::MAX_ARRIVALS as f64 {
        return Err(QuickError::TooMany(asked.min(u64::MAX as f64) as u64));
    }
    let (population, arrival, journey, grace, description) = match options.load {
        Load::Closed { users, think, ramp_up } => {
            if users == 0 {
                return Err(QuickError::NoUsers);
            }
            let ramp_up = ramp_up.unwrap_or((options.duration / 10).min(MAX_DEFAULT_RAMP_UP));
            let arrival = Arrival {
                shape: Shape::Burst { at: Duration::ZERO, spread: ramp_up, decay: None },
                spacing: Spacing::Even,
                stagger: None,
            };
            let think_text =
                think.map(|t| format!(", {} think time", humantime::format_duration(t))).unwrap_or_default();
            let description = format!(
                "closed loop: {users} users, each sending its next request when the last completes{think_text}"
            );
            (Some(users), arrival, closed_journey(think), Duration::ZERO, description)
        }
        Load::Open { rate } => {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(QuickError::NoRate);
            }
            let arrival = Arrival {
                shape: Shape::Constant { rate, from: Duration::ZERO, to: options.duration },
                spacing: Spacing::Even,
                stagger: None,
            };
            let journey = Journey { ops: vec![Op::Request(0)], requests: Vec::new(), vars: Vec::new(), goal: 0 };
            let description = format!("open loop: {rate} requests/s on schedule, latency from intended start");
            (None, arrival, journey, OPEN_LOOP_GRACE, description)
        }
    };
    let mut journey = journey;
    journey.requests.push(RequestSpec {
        name: format!("{method} {path}"),
        method: method.clone(),
        path: Template::literal(&path),
        query: Vec::new(),
        headers: Vec::new(),
        bearer: None,
        body: match &options.body {
            Some(text) => Body::Raw { content_type: None, template: Template::literal(text) },
            None => Body::None,
        },
        captures: Vec::new(),
        check: Check { status: None, body_contains: None },
        // Closed loop: "completed" means the user got at least one good answer; open loop:
        // that its one request succeeded.
        goal: true,
        timeout: None,
        retry: None,
        login: false,
    });

    let host = url.host_str().unwrap_or("");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(Scenario {
        name: format!("quick {method} {host}{port}{path}"),
        description: Some(description),
        source: PathBuf::from("(command line)"),
        target: Target::Url(base),
        http: HttpSettings {
            timeout: options.timeout,
            headers,
            connections: options.connections,
            client: options.client.clone(),
        },
        duration: options.duration,
        grace,
        seed: options.seed,
        scale: 1.0,
        personas: vec![Persona {
            name: "client".to_string(),
            population,
            users: UserSource::Generated,
            arrival,
            journey,
            behaviour: Default::default(),
            blocked: Vec::new(),
            closed_loop: matches!(options.load, Load::Closed { .. }),
        }],
        events: Vec::new(),
        gates: Default::default(),
    })
}

/// `LoopStart` — request — (think) — `LoopEnd`, repeated `u32::MAX` times: at a million
/// requests per second a user would loop for over an hour, longer than any quick run.
fn closed_journey(think: Option<Duration>) -> Journey {
    let mut ops = vec![Op::LoopStart { count: u32::MAX, end: 0 }, Op::Request(0)];
    if let Some(think) = think.filter(|t| !t.is_zero()) {
        ops.push(Op::Think(Think::Fixed(think)));
    }
    let end = ops.len();
    ops[0] = Op::LoopStart { count: u32::MAX, end };
    ops.push(Op::LoopEnd { start: 0 });
    Journey { ops, requests: Vec::new(), vars: Vec::new(), goal: 0 }
}

/// `Name: value` → a header sent with every request.
fn header(line: &str) -> Result<(HeaderName, Template), QuickError> {
    let bad = || QuickError::Header(line.to_string());
    let (name, value) = line.split_once(':').ok_or_else(bad)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
    let value = value.trim();
    http::HeaderValue::from_str(value).map_err(|_| bad())?;
    Ok((name, Template::literal(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load;

    fn closed(users: u64) -> Load {
        Load::Closed { users, think: None, ramp_up: None }
    }

    #[test]
    fn closed_loop_is_n_users_looping_on_one_request() {
        let mut options = Options::new("http://127.0.0.1:8080/health?x=1", closed(50));
        options.duration = Duration::from_secs(5);
        let s = scenario(&options).unwrap();
        assert_eq!(s.grace, Duration::ZERO);
        let persona = &s.personas[0];
        assert_eq!(persona.population, Some(50));
        assert_eq!(
            persona.journey.ops,
            vec![Op::LoopStart { count: u32::MAX, end: 2 }, Op::Request(0), Op::LoopEnd { start: 0 }]
        );
        assert_eq!(persona.journey.requests[0].path.as_literal(), Some("/health?x=1"));
        assert!(matches!(&s.target, Target::Url(u) if u.as_str() == "http://127.0.0.1:8080/"));
        let plan = load::plan(&s);
        assert_eq!(plan.arrivals.len(), 50);
        // The default ramp-up is a tenth of the run, at most a second.
        assert!(plan.arrivals.last().unwrap().offset() <= Duration::from_millis(500));
    }

    #[test]
    fn think_time_sits_inside_the_loop() {
        let load = Load::Closed { users: 2, think: Some(Duration::from_millis(100)), ramp_up: Some(Duration::ZERO) };
        let s = scenario(&Options::new("http://localhost/", load)).unwrap();
        let ops = &s.personas[0].journey.ops;
        assert_eq!(ops[0], Op::LoopStart { count: u32::MAX, end: 3 });
        assert_eq!(ops[2], Op::Think(Think::Fixed(Duration::from_millis(100))));
        assert_eq!(ops[3], Op::LoopEnd { start: 0 });
    }

    #[test]
    fn open_loop_schedules_rate_times_duration_requests() {
        let mut options = Options::new("http://127.0.0.1:9/", Load::Open { rate: 200.0 });
        options.duration = Duration::from_secs(3);
        options.method = "post".into();
        options.headers = vec!["Content-Type: application/json".into()];
        options.body = Some("{}".into());
        let s = scenario(&options).unwrap();
        assert_eq!(s.personas[0].population, None);
        assert_eq!(s.personas[0].journey.ops, vec![Op::Request(0)]);
        assert_eq!(s.personas[0].journey.requests[0].method, Method::POST);
        assert_eq!(s.http.headers.len(), 1);
        assert_eq!(load::plan(&s).arrivals.len(), 600);
    }

    #[test]
    fn bad_flags_are_named() {
        let err = |o: Options| scenario(&o).unwrap_err();
        assert!(matches!(err(Options::new("nope", closed(1))), QuickError::Url { .. }));
        assert_eq!(err(Options::new("ftp://x/", closed(1))), QuickError::Scheme("ftp://x/".into()));
        assert_eq!(err(Options::new("http://x/", closed(0))), QuickError::NoUsers);
        assert_eq!(err(Options::new("http://x/", Load::Open { rate: 0.0 })), QuickError::NoRate);
        assert_eq!(err(Options::new("http://x/", closed(4_294_967_296))), QuickError::TooMany(4_294_967_296));
        let mut o = Options::new("http://x/", closed(1));
        o.headers = vec!["no colon".into()];
        assert_eq!(err(o), QuickError::Header("no colon".into()));
        let mut o = Options::new("http://x/", closed(1));
        o.method = "GE T".into();
        assert_eq!(err(o), QuickError::Method("GE T".into()));
    }
}
