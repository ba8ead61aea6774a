//! The scenario exactly as written: serde structs mirroring the YAML, before any checking.
//!
//! Design decisions:
//! - `deny_unknown_fields` everywhere, so a typo is an error rather than a silently ignored
//!   setting (the worst outcome for a rehearsal is running the wrong one confidently).
//! - Required keys are `Option` here and checked in validation, where the message can show an
//!   example instead of serde's bare "missing field".
//! - Durations, rates and sizes are kept as text ([`Scalar`]) and parsed in validation, which
//!   knows the path and can list the accepted forms.
//! - A journey item is one struct with every possible key; its kind (request, think, repeat,
//!   choose) is decided in validation. An untagged enum would turn every typo into "data did
//!   not match any variant".
//! - No untagged enums and no `flatten`: both make serde lose the field names we need for
//!   "did you mean".

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::scenario::schema as sch;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a scenario: a mapping with `name`, `target`, `duration` and `personas`")]
pub struct RawScenario {
    /// Shown in reports.
    #[schemars(required, with = "String", length(min = 1))]
    pub name: Option<Scalar>,
    /// Free text shown in reports.
    pub description: Option<Scalar>,
    /// `embedded` or the base URL of the platform under test.
    #[schemars(required, with = "sch::TargetText")]
    pub target: Option<String>,
    /// Sizing of the embedded target; only with `target: embedded`.
    pub embedded: Option<RawEmbedded>,
    /// Timeout, headers and connections for every request.
    pub http: Option<RawHttp>,
    /// How long arrivals are scheduled for (more than `0s`).
    #[schemars(required, with = "sch::DurationText")]
    pub duration: Option<Scalar>,
    /// After `duration`, users still running get this long to finish, then they are cut off (default `10s`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub grace: Option<Scalar>,
    /// Seed of every random choice (arrival times, think times, choices): same seed, same schedule (default `1`).
    pub seed: Option<u64>,
    /// Multiplies every population and every rate: `0.1` rehearses a tenth of the morning (default `1`).
    #[schemars(range(min = 0.0))]
    pub scale: Option<f64>,
    /// Who arrives and what they do: persona names (lowercase letters, digits, `_`, `-`) to personas.
    #[schemars(required, extend("minProperties" = 1, "propertyNames" = { "pattern": "^[a-z0-9_-]+$" }))]
    pub personas: Option<IndexMap<String, RawPersona>>,
    /// Things that happen during the run, e.g. a storm that drops every session at `at`.
    pub events: Option<Vec<RawEvent>>,
    /// Pass/fail rules, one line each, judged at the end of the run (exit code 1 if one fails).
    pub thresholds: Option<Vec<RawThreshold>>,
    /// A capacity claim for `schoolday capacity`, e.g. `"exam 8000 concurrent, p95 < 1s, errors < 0.1%"`.
    pub claim: Option<RawThreshold>,
    /// Limits on the load generator itself.
    pub generator: Option<RawGenerator>,
    /// Judge the thresholds every 5 s after this grace period and stop at the first failure.
    #[schemars(with = "Option<sch::DurationText>")]
    pub abort_on_fail: Option<Scalar>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "generator settings, e.g. `{ lag_p99_limit: 5ms }`")]
pub struct RawGenerator {
    /// Generator lag p99 above which the run is invalid (exit code 3); default `5ms`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub lag_p99_limit: Option<Scalar>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an event, e.g. `{ at: 2m, storm: { personas: [pupil] } }`")]
pub struct RawEvent {
    /// When it happens, from the start of the run.
    #[schemars(with = "Option<sch::DurationText>")]
    pub at: Option<Scalar>,
    /// Drop every active session of the named personas; users reconnect through their retry policy.
    pub storm: Option<RawStorm>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a storm, e.g. `{ personas: [pupil], fraction: 100% }`")]
pub struct RawStorm {
    /// The personas hit (default: all).
    pub personas: Option<Vec<String>>,
    /// The share of affected users that reconnect at once (default `100%`).
    #[schemars(with = "Option<sch::PercentText>")]
    pub fraction: Option<Scalar>,
}

/// A threshold or a claim: one line of text. Its own type so that a mapping written by
/// mistake (`- pupil.login p95: 2s`) gets a message showing the expected form.
#[derive(Debug, Clone, PartialEq)]
pub struct RawThreshold(pub String);

impl<'de> Deserialize<'de> for RawThreshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LineVisitor;
        impl Visitor<'_> for LineVisitor {
            type Value = RawThreshold;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a rule written on one line, e.g. `pupil.login p95 < 2s` (no `:` in it)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawThreshold, E> {
                Ok(RawThreshold(v.to_string()))
            }
        }
        deserializer.deserialize_str(LineVisitor)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping of embedded target settings, e.g. `{ workers: 16 }`")]
pub struct RawEmbedded {
    /// Requests served at once (default `16`).
    #[schemars(range(min = 1))]
    pub workers: Option<usize>,
    /// Requests allowed to wait for a worker; more are refused with `503` (default `512`).
    pub queue: Option<usize>,
    /// Time a request holds its worker, per route.
    pub service_time: Option<RawServiceTimes>,
    /// CPU burnt per login, like password hashing (default `200us`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub login_cpu: Option<Scalar>,
    /// Size of the body of `GET /files/<id>` (default `64KiB`).
    #[schemars(with = "Option<sch::SizeText>")]
    pub file_size: Option<Scalar>,
    /// OS threads of the target's own runtime (default `1`).
    #[schemars(range(min = 1))]
    pub threads: Option<usize>,
    /// What the target does beyond capacity (default `shed`).
    #[schemars(with = "Option<sch::Overload>")]
    pub overload: Option<String>,
    /// With `overload: waiting_room`: logins admitted per second.
    #[schemars(with = "Option<sch::RateText>")]
    pub admit: Option<Scalar>,
    /// With `overload: waiting_room`: the `Retry-After` sent to queued users (default `5s`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub retry_after: Option<Scalar>,
    /// Sessions unused this long expire: the next request gets `401` (default: never).
    #[schemars(with = "Option<sch::DurationText>")]
    pub session_idle: Option<Scalar>,
    /// Refuse logins (`403`) of users whose id starts with `users`, between `from` and `to`.
    pub block: Option<Vec<RawBlock>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a login block, e.g. `{ users: parent-, from: 30s, to: 2m }`")]
pub struct RawBlock {
    /// The start of the user ids refused, e.g. `parent-`.
    pub users: String,
    /// Start of the window.
    #[schemars(with = "sch::DurationText")]
    pub from: Scalar,
    /// End of the window.
    #[schemars(with = "sch::DurationText")]
    pub to: Scalar,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping of route to service time, e.g. `{ login: 20ms }`")]
pub struct RawServiceTimes {
    /// Service time of every route without its own (default `5ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub default: Option<Scalar>,
    /// Service time of `POST /login` (default `20ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub login: Option<Scalar>,
    /// Service time of `GET /agenda`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub agenda: Option<Scalar>,
    /// Service time of `GET /homework`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub homework: Option<Scalar>,
    /// Service time of `GET /grades`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub grades: Option<Scalar>,
    /// Service time of `GET /messages`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub messages: Option<Scalar>,
    /// Service time of `GET /files/<id>` (default `10ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub files: Option<Scalar>,
    /// Service time of `POST /exam/start` (default `10ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub exam_start: Option<Scalar>,
    /// Service time of `POST /exam/answer` (default `10ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub exam_answer: Option<Scalar>,
    /// Service time of `POST /logout` (default `1ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub logout: Option<Scalar>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping of HTTP settings, e.g. `{ timeout: 30s }`")]
pub struct RawHttp {
    /// Per-request timeout; a step's `timeout` overrides it (default `30s`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub timeout: Option<Scalar>,
    /// Sent with every request; values are templates using only `user.id`, `user.index` and `iteration`.
    pub headers: Option<IndexMap<String, Scalar>>,
    /// `per-user` (each user its own connections, as browsers do: the default), `shared` (one keep-alive pool) or `{ shared: 64 }` (a fixed pool of 64).
    #[schemars(with = "Option<sch::Connections>")]
    pub connections: Option<serde_yaml::Value>,
    /// `auto` (HTTP/2 when the server offers it by ALPN, the default), `http1` or `http2`.
    #[schemars(with = "Option<sch::HttpVersionText>")]
    pub version: Option<Scalar>,
    /// TLS for https targets: extra CA, client certificate, server name, resumption.
    pub tls: Option<crate::scenario::client::RawTls>,
    /// Source addresses (IPs or CIDR ranges) new connections are bound to, round robin.
    #[schemars(with = "Option<Vec<String>>")]
    pub local_addresses: Option<Vec<Scalar>>,
    /// Per-phase timeouts of a new connection and of the first response byte.
    pub timeouts: Option<crate::scenario::client::RawTimeouts>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a persona: a mapping with `population`, `arrival` and `journey`")]
pub struct RawPersona {
    /// Number of distinct users (required for `peak` and `burst`).
    #[schemars(range(min = 1))]
    pub population: Option<u64>,
    /// Identities from a CSV file: `{ csv: pupils.csv }`, relative to the scenario.
    pub users: Option<RawUsers>,
    /// When users show up.
    #[schemars(required)]
    pub arrival: Option<RawArrival>,
    /// Pause after each request (none if absent).
    pub think: Option<RawThink>,
    /// What each user does: a list of requests, `think`, `repeat` and `choose` steps.
    #[schemars(required, length(min = 1))]
    pub journey: Option<Vec<RawStep>>,
    /// The application's retry policy (default: no retries).
    pub retry: Option<RawRetry>,
    /// When a person reloads a slow page or gives up on the goal.
    pub patience: Option<RawPatience>,
    /// On a `401`, replay the login steps and re-issue the step (default `true`).
    pub relogin: Option<bool>,
    /// Recognise a waiting-room answer and poll it.
    pub waiting_room: Option<RawWaitingRoom>,
    /// Windows when this persona is switched off: users due inside them do not come.
    pub blocked: Option<Vec<RawWindow>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a retry policy, e.g. `{ policy: exponential, base: 500ms, cap: 20s, jitter: full, max_attempts: 6 }`"
)]
pub struct RawRetry {
    /// `none`, `immediate`, `fixed` (with `delay`) or `exponential` (default).
    #[schemars(with = "Option<sch::Policy>")]
    pub policy: Option<String>,
    /// With `policy: fixed`: the wait before each retry.
    #[schemars(with = "Option<sch::DurationText>")]
    pub delay: Option<Scalar>,
    /// Exponential: the first delay (default `500ms`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub base: Option<Scalar>,
    /// Exponential: the growth of the delay per retry (default `2`).
    pub factor: Option<f64>,
    /// Exponential: the longest delay (default `20s`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub cap: Option<Scalar>,
    /// Randomisation of each delay (default `full`).
    #[schemars(with = "Option<sch::Jitter>")]
    pub jitter: Option<String>,
    /// Attempts the application sends in all, the first included (default `3`, `1` for `none`).
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// Timeout of each attempt (default: the request timeout).
    #[schemars(with = "Option<sch::DurationText>")]
    pub timeout: Option<Scalar>,
    /// What is retried (default `[connect, timeout, reset, 429, 502, 503, 504]`).
    #[schemars(with = "Option<Vec<sch::RetryOnText>>")]
    pub on: Option<Vec<Scalar>>,
    /// How a `Retry-After` from the server is treated (default `honour`).
    #[schemars(with = "Option<sch::RetryAfterText>")]
    pub retry_after: Option<Scalar>,
    /// Per user: a ratio budget or a token bucket limiting retries.
    pub budget: Option<RawBudget>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a retry budget, e.g. `{ ratio: 10%, min_per_second: 1 }` or `{ tokens: 10, cost: 1, refund: 0.1 }`"
)]
pub struct RawBudget {
    /// Retries at most this share of first attempts.
    #[schemars(with = "Option<sch::PercentText>")]
    pub ratio: Option<Scalar>,
    /// Plus this many retries per second.
    pub min_per_second: Option<f64>,
    /// Token bucket: its size (it starts full).
    pub tokens: Option<f64>,
    /// Token bucket: tokens a retry costs (default `1`).
    pub cost: Option<f64>,
    /// Token bucket: tokens a retry after a timeout costs (default: `cost`).
    pub timeout_cost: Option<f64>,
    /// Token bucket: tokens a success gives back (default `0.1`).
    pub refund: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "patience, e.g. `{ page: 20s, goal: 30m, return: 50%, return_after: 30s..60s }`"
)]
pub struct RawPatience {
    /// A person reloads a page that takes longer than this.
    #[schemars(with = "Option<sch::DurationText>")]
    pub page: Option<Scalar>,
    /// The median time after arriving at which a user gives up on the goal.
    #[schemars(with = "Option<sch::DurationText>")]
    pub goal: Option<Scalar>,
    /// Spread of the goal patience (log-normal sigma, default `0.8`).
    pub goal_sigma: Option<f64>,
    #[serde(rename = "return")]
    /// The share of users who give up and come back later.
    #[schemars(with = "Option<sch::PercentText>")]
    pub return_probability: Option<Scalar>,
    /// When they come back, e.g. `30s..60s`.
    #[schemars(with = "Option<sch::RangeText>")]
    pub return_after: Option<Scalar>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a waiting-room client, e.g. `{ status: [503], json_field: queued, poll: 20s }`"
)]
pub struct RawWaitingRoom {
    /// Statuses that mean "queued" (default `[202, 429, 503]`).
    pub status: Option<Vec<u16>>,
    /// The body must have this field, e.g. `queued`.
    pub json_field: Option<String>,
    /// A redirect whose location contains this is a queue page.
    pub location_contains: Option<String>,
    /// Poll interval without `refreshIntervalSeconds` or `Retry-After` (default `20s`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub poll: Option<Scalar>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a time window, e.g. `{ from: 30s, to: 2m }`")]
pub struct RawWindow {
    /// Start of the window.
    #[schemars(with = "sch::DurationText")]
    pub from: Scalar,
    /// End of the window.
    #[schemars(with = "sch::DurationText")]
    pub to: Scalar,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a user source, e.g. `{ csv: pupils.csv }`")]
pub struct RawUsers {
    /// A CSV file relative to the scenario; the first line names the columns, an `id` column becomes `user.id`.
    pub csv: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an arrival profile, e.g. `{ shape: peak, at: 4m, spread: 1m }`")]
pub struct RawArrival {
    /// The arrival curve.
    #[schemars(required, with = "sch::Shape")]
    pub shape: Option<String>,
    /// `poisson` (random, default) or `even` (deterministic).
    #[schemars(with = "Option<sch::Spacing>")]
    pub spacing: Option<String>,
    /// `constant`: the rate.
    #[schemars(with = "Option<sch::RateText>")]
    pub rate: Option<Scalar>,
    /// `ramp`: the rate at `from`.
    #[schemars(with = "Option<sch::RateText>")]
    pub from_rate: Option<Scalar>,
    /// `ramp`: the rate at `to`.
    #[schemars(with = "Option<sch::RateText>")]
    pub to_rate: Option<Scalar>,
    /// Start of the curve (default `0s`).
    #[schemars(with = "Option<sch::DurationText>")]
    pub from: Option<Scalar>,
    /// End of the curve (default: the duration).
    #[schemars(with = "Option<sch::DurationText>")]
    pub to: Option<Scalar>,
    /// `peak`: the centre; `burst`: when everyone arrives.
    #[schemars(with = "Option<sch::DurationText>")]
    pub at: Option<Scalar>,
    /// `peak`: the standard deviation; `burst`: arrivals uniform within this after `at`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub spread: Option<Scalar>,
    /// `burst`: arrivals fade exponentially with this mean delay.
    #[schemars(with = "Option<sch::DurationText>")]
    pub decay: Option<Scalar>,
    /// `deadline`: how long before `at` the rate is 1/e of its value at `at`.
    #[schemars(with = "Option<sch::DurationText>")]
    pub rise: Option<Scalar>,
    /// `csv`: the file of per-interval counts or rates, relative to the scenario.
    pub file: Option<String>,
    /// `steps`: consecutive constant stages `{ rate, for }`.
    pub stages: Option<Vec<RawStage>>,
    /// `points`: `[time, rate]` pairs, at least two, in time order.
    #[schemars(with = "Option<Vec<(sch::DurationText, sch::RateText)>>", length(min = 2))]
    pub points: Option<Vec<(Scalar, Scalar)>>,
    /// Users dealt into `waves` cohorts, `gap` apart, each following the shape.
    pub stagger: Option<RawStagger>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a stagger, e.g. `{ waves: 4, gap: 1m }`")]
pub struct RawStagger {
    /// How many cohorts.
    #[schemars(range(min = 1))]
    pub waves: u32,
    /// Time between two waves.
    #[schemars(with = "sch::DurationText")]
    pub gap: Scalar,
}

impl RawArrival {
    /// The keys that are set, in declaration order, to check them against the shape.
    pub fn present(&self) -> Vec<&'static str> {
        let all: [(&'static str, bool); 12] = [
            ("rate", self.rate.is_some()),
            ("from_rate", self.from_rate.is_some()),
            ("to_rate", self.to_rate.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("at", self.at.is_some()),
            ("spread", self.spread.is_some()),
            ("decay", self.decay.is_some()),
            ("rise", self.rise.is_some()),
            ("file", self.file.is_some()),
            ("stages", self.stages.is_some()),
            ("points", self.points.is_some()),
        ];
        all.iter().filter(|(_, set)| *set).map(|(k, _)| *k).collect()
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a stage, e.g. `{ rate: 10/s, for: 1m }`")]
pub struct RawStage {
    /// The rate during the stage.
    #[schemars(with = "sch::RateText")]
    pub rate: Scalar,
    #[serde(rename = "for")]
    /// How long the stage lasts.
    #[schemars(with = "sch::DurationText")]
    pub duration: Scalar,
}

/// A think time: `3s`, `2s..15s`, or `{ median: 10s, p90: 40s }`.
#[derive(Debug)]
pub enum RawThink {
    Text(Scalar),
    LogNormal { median: Option<Scalar>, p90: Option<Scalar> },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a log-normal think time, e.g. `{ median: 10s, p90: 40s }`")]
struct RawLogNormal {
    median: Option<Scalar>,
    p90: Option<Scalar>,
}

impl<'de> Deserialize<'de> for RawThink {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Hand-written instead of `untagged` so that a typo inside the mapping form keeps
        // serde's "unknown field … expected one of" (and with it our "did you mean").
        struct ThinkVisitor;
        impl<'de> Visitor<'de> for ThinkVisitor {
            type Value = RawThink;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a think time: `3s`, `2s..15s` or `{ median: 10s, p90: 40s }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawThink, E> {
                Ok(RawThink::Text(Scalar(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawThink, E> {
                Ok(RawThink::Text(Scalar(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawThink, E> {
                Ok(RawThink::Text(Scalar(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawThink, E> {
                Ok(RawThink::Text(Scalar(v.to_string())))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawThink, A::Error> {
                let raw = RawLogNormal::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawThink::LogNormal { median: raw.median, p90: raw.p90 })
            }
        }
        deserializer.deserialize_any(ThinkVisitor)
    }
}

/// One journey item with every key it may have; validation decides what it is.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a journey step, e.g. `{ get: /agenda }`, `{ think: 5s }` or `{ repeat: 3, steps: [...] }`"
)]
pub struct RawStep {
    /// Name in reports (default `<METHOD> <path>`); unique within a persona.
    #[schemars(with = "Option<String>")]
    pub name: Option<Scalar>,
    /// A GET request to this path (a template).
    pub get: Option<String>,
    /// A POST request to this path (a template).
    pub post: Option<String>,
    /// A PUT request to this path (a template).
    pub put: Option<String>,
    /// A PATCH request to this path (a template).
    pub patch: Option<String>,
    /// A DELETE request to this path (a template).
    pub delete: Option<String>,
    /// A HEAD request to this path (a template).
    pub head: Option<String>,
    /// A JSON body: any value; strings inside are templates.
    #[schemars(with = "Option<serde_json::Value>")]
    pub json: Option<serde_yaml::Value>,
    /// A form body `{ field: value }`; values are templates.
    pub form: Option<IndexMap<String, Scalar>>,
    /// A raw body (a template).
    pub body: Option<String>,
    /// The content type of `body`.
    pub content_type: Option<String>,
    /// Request headers `{ Name: value }`; values are templates.
    pub headers: Option<IndexMap<String, Scalar>>,
    /// Query parameters `{ name: value }`; values are templates.
    pub query: Option<IndexMap<String, Scalar>>,
    /// Sends `Authorization: Bearer <value>`, typically `"{{ token }}"`.
    pub bearer: Option<String>,
    /// Values to keep from the response: `{ token: json.token }`.
    #[schemars(with = "Option<IndexMap<String, sch::CaptureText>>", extend("propertyNames" = { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" }))]
    pub capture: Option<IndexMap<String, String>>,
    /// What counts as success (default: any status below 400).
    pub check: Option<RawCheck>,
    /// Overrides `http.timeout` for this request.
    #[schemars(with = "Option<sch::DurationText>")]
    pub timeout: Option<Scalar>,
    /// `true` on the one step that means success for this user.
    pub goal: Option<bool>,
    /// A pause step.
    pub think: Option<RawThink>,
    /// Repeat `steps` this many times (`{{ iteration }}` counts from 1).
    #[schemars(range(min = 1))]
    pub repeat: Option<u64>,
    /// The body of a `repeat`.
    pub steps: Option<Vec<RawStep>>,
    /// A weighted random choice of one branch.
    pub choose: Option<Vec<RawBranch>>,
    /// This request's own retry policy.
    pub retry: Option<RawRetry>,
    /// Marks the last step of the login, replayed after a lost session.
    pub login: Option<bool>,
}

/// The HTTP method keys of a step, in the order they are listed in messages.
pub const METHODS: [&str; 6] = ["get", "post", "put", "patch", "delete", "head"];

impl RawStep {
    /// `(method key, path text)` for every method key present.
    pub fn methods(&self) -> Vec<(&'static str, &str)> {
        let all = [&self.get, &self.post, &self.put, &self.patch, &self.delete, &self.head];
        METHODS.iter().zip(all).filter_map(|(m, p)| p.as_deref().map(|p| (*m, p))).collect()
    }

    /// Keys that only make sense on a request (method keys excluded).
    pub fn request_keys(&self) -> Vec<&'static str> {
        let all: [(&'static str, bool); 14] = [
            ("name", self.name.is_some()),
            ("retry", self.retry.is_some()),
            ("login", self.login.is_some()),
            ("json", self.json.is_some()),
            ("form", self.form.is_some()),
            ("body", self.body.is_some()),
            ("content_type", self.content_type.is_some()),
            ("headers", self.headers.is_some()),
            ("query", self.query.is_some()),
            ("bearer", self.bearer.is_some()),
            ("capture", self.capture.is_some()),
            ("check", self.check.is_some()),
            ("timeout", self.timeout.is_some()),
            ("goal", self.goal.is_some()),
        ];
        all.iter().filter(|(_, set)| *set).map(|(k, _)| *k).collect()
    }

    /// Keys that make a step something other than a request.
    pub fn flow_keys(&self) -> Vec<&'static str> {
        let all: [(&'static str, bool); 4] = [
            ("think", self.think.is_some()),
            ("repeat", self.repeat.is_some()),
            ("steps", self.steps.is_some()),
            ("choose", self.choose.is_some()),
        ];
        all.iter().filter(|(_, set)| *set).map(|(k, _)| *k).collect()
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a branch, e.g. `{ weight: 3, steps: [ { get: /messages } ] }`")]
pub struct RawBranch {
    /// Relative weight (default `1`).
    pub weight: Option<u64>,
    /// The steps of this branch (`[]` does nothing).
    pub steps: Option<Vec<RawStep>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a check, e.g. `{ status: 200, body_contains: token }`")]
pub struct RawCheck {
    /// Accepted statuses.
    #[schemars(with = "Option<sch::StatusText>")]
    pub status: Option<serde_yaml::Value>,
    /// The body must contain this text.
    pub body_contains: Option<String>,
}

/// A YAML scalar kept as its text: `30s`, `20/s`, `64KiB`, `20`, `true`.
///
/// Numbers are accepted and turned back into text so that `rate: 20` and `rate: "20"` mean
/// the same, and the unit parsers in `units.rs` see one kind of input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scalar(pub String);

impl Scalar {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a single value such as `30s`, `20/s` or `text`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}
