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
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a scenario: a mapping with `name`, `target`, `duration` and `personas`")]
pub struct RawScenario {
    pub name: Option<Scalar>,
    pub description: Option<Scalar>,
    pub target: Option<String>,
    pub embedded: Option<RawEmbedded>,
    pub http: Option<RawHttp>,
    pub duration: Option<Scalar>,
    pub grace: Option<Scalar>,
    pub seed: Option<u64>,
    pub scale: Option<f64>,
    pub personas: Option<IndexMap<String, RawPersona>>,
    pub events: Option<Vec<RawEvent>>,
    /// Pass/fail rules, one line each (`thresholds.rs`).
    pub thresholds: Option<Vec<RawThreshold>>,
    /// A capacity claim for `schoolday capacity` (`claim.rs`).
    pub claim: Option<RawThreshold>,
    /// `generator: { lag_p99_limit: 5ms }`
    pub generator: Option<RawGenerator>,
    /// Stop as soon as a threshold fails, after this grace period (`abort_on_fail: 30s`).
    pub abort_on_fail: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "generator settings, e.g. `{ lag_p99_limit: 5ms }`")]
pub struct RawGenerator {
    pub lag_p99_limit: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an event, e.g. `{ at: 2m, storm: { personas: [pupil] } }`")]
pub struct RawEvent {
    pub at: Option<Scalar>,
    pub storm: Option<RawStorm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a storm, e.g. `{ personas: [pupil], fraction: 100% }`")]
pub struct RawStorm {
    pub personas: Option<Vec<String>>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of embedded target settings, e.g. `{ workers: 16 }`")]
pub struct RawEmbedded {
    pub workers: Option<usize>,
    pub queue: Option<usize>,
    pub service_time: Option<RawServiceTimes>,
    pub login_cpu: Option<Scalar>,
    pub file_size: Option<Scalar>,
    pub threads: Option<usize>,
    pub overload: Option<String>,
    pub admit: Option<Scalar>,
    pub retry_after: Option<Scalar>,
    pub session_idle: Option<Scalar>,
    pub block: Option<Vec<RawBlock>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a login block, e.g. `{ users: parent-, from: 30s, to: 2m }`")]
pub struct RawBlock {
    pub users: String,
    pub from: Scalar,
    pub to: Scalar,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of route to service time, e.g. `{ login: 20ms }`")]
pub struct RawServiceTimes {
    pub default: Option<Scalar>,
    pub login: Option<Scalar>,
    pub agenda: Option<Scalar>,
    pub homework: Option<Scalar>,
    pub grades: Option<Scalar>,
    pub messages: Option<Scalar>,
    pub files: Option<Scalar>,
    pub exam_start: Option<Scalar>,
    pub exam_answer: Option<Scalar>,
    pub logout: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a mapping of HTTP settings, e.g. `{ timeout: 30s }`")]
pub struct RawHttp {
    pub timeout: Option<Scalar>,
    pub headers: Option<IndexMap<String, Scalar>>,
    /// `per-user`, `shared` or `{ shared: 64 }`, read in `client.rs`.
    pub connections: Option<serde_yaml::Value>,
    pub version: Option<Scalar>,
    pub tls: Option<crate::scenario::client::RawTls>,
    pub local_addresses: Option<Vec<Scalar>>,
    pub timeouts: Option<crate::scenario::client::RawTimeouts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a persona: a mapping with `population`, `arrival` and `journey`")]
pub struct RawPersona {
    pub population: Option<u64>,
    pub users: Option<RawUsers>,
    pub arrival: Option<RawArrival>,
    pub think: Option<RawThink>,
    pub journey: Option<Vec<RawStep>>,
    pub retry: Option<RawRetry>,
    pub patience: Option<RawPatience>,
    pub relogin: Option<bool>,
    pub waiting_room: Option<RawWaitingRoom>,
    pub blocked: Option<Vec<RawWindow>>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a retry policy, e.g. `{ policy: exponential, base: 500ms, cap: 20s, jitter: full, max_attempts: 6 }`"
)]
pub struct RawRetry {
    pub policy: Option<String>,
    pub delay: Option<Scalar>,
    pub base: Option<Scalar>,
    pub factor: Option<f64>,
    pub cap: Option<Scalar>,
    pub jitter: Option<String>,
    pub max_attempts: Option<u32>,
    pub timeout: Option<Scalar>,
    pub on: Option<Vec<Scalar>>,
    pub retry_after: Option<Scalar>,
    pub budget: Option<RawBudget>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a retry budget, e.g. `{ ratio: 10%, min_per_second: 1 }` or `{ tokens: 10, cost: 1, refund: 0.1 }`"
)]
pub struct RawBudget {
    pub ratio: Option<Scalar>,
    pub min_per_second: Option<f64>,
    pub tokens: Option<f64>,
    pub cost: Option<f64>,
    pub timeout_cost: Option<f64>,
    pub refund: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "patience, e.g. `{ page: 20s, goal: 30m, return: 50%, return_after: 30s..60s }`"
)]
pub struct RawPatience {
    pub page: Option<Scalar>,
    pub goal: Option<Scalar>,
    pub goal_sigma: Option<f64>,
    #[serde(rename = "return")]
    pub return_probability: Option<Scalar>,
    pub return_after: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a waiting-room client, e.g. `{ status: [503], json_field: queued, poll: 20s }`"
)]
pub struct RawWaitingRoom {
    pub status: Option<Vec<u16>>,
    pub json_field: Option<String>,
    pub location_contains: Option<String>,
    pub poll: Option<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a time window, e.g. `{ from: 30s, to: 2m }`")]
pub struct RawWindow {
    pub from: Scalar,
    pub to: Scalar,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a user source, e.g. `{ csv: pupils.csv }`")]
pub struct RawUsers {
    pub csv: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an arrival profile, e.g. `{ shape: peak, at: 4m, spread: 1m }`")]
pub struct RawArrival {
    pub shape: Option<String>,
    pub spacing: Option<String>,
    pub rate: Option<Scalar>,
    pub from_rate: Option<Scalar>,
    pub to_rate: Option<Scalar>,
    pub from: Option<Scalar>,
    pub to: Option<Scalar>,
    pub at: Option<Scalar>,
    pub spread: Option<Scalar>,
    pub decay: Option<Scalar>,
    pub stages: Option<Vec<RawStage>>,
    pub points: Option<Vec<(Scalar, Scalar)>>,
    pub stagger: Option<RawStagger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a stagger, e.g. `{ waves: 4, gap: 1m }`")]
pub struct RawStagger {
    pub waves: u32,
    pub gap: Scalar,
}

impl RawArrival {
    /// The keys that are set, in declaration order, to check them against the shape.
    pub fn present(&self) -> Vec<&'static str> {
        let all: [(&'static str, bool); 10] = [
            ("rate", self.rate.is_some()),
            ("from_rate", self.from_rate.is_some()),
            ("to_rate", self.to_rate.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("at", self.at.is_some()),
            ("spread", self.spread.is_some()),
            ("decay", self.decay.is_some()),
            ("stages", self.stages.is_some()),
            ("points", self.points.is_some()),
        ];
        all.iter().filter(|(_, set)| *set).map(|(k, _)| *k).collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a stage, e.g. `{ rate: 10/s, for: 1m }`")]
pub struct RawStage {
    pub rate: Scalar,
    #[serde(rename = "for")]
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
#[derive(Debug, Default, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a journey step, e.g. `{ get: /agenda }`, `{ think: 5s }` or `{ repeat: 3, steps: [...] }`"
)]
pub struct RawStep {
    pub name: Option<Scalar>,
    pub get: Option<String>,
    pub post: Option<String>,
    pub put: Option<String>,
    pub patch: Option<String>,
    pub delete: Option<String>,
    pub head: Option<String>,
    pub json: Option<serde_yaml::Value>,
    pub form: Option<IndexMap<String, Scalar>>,
    pub body: Option<String>,
    pub content_type: Option<String>,
    pub headers: Option<IndexMap<String, Scalar>>,
    pub query: Option<IndexMap<String, Scalar>>,
    pub bearer: Option<String>,
    pub capture: Option<IndexMap<String, String>>,
    pub check: Option<RawCheck>,
    pub timeout: Option<Scalar>,
    pub goal: Option<bool>,
    pub think: Option<RawThink>,
    pub repeat: Option<u64>,
    pub steps: Option<Vec<RawStep>>,
    pub choose: Option<Vec<RawBranch>>,
    pub retry: Option<RawRetry>,
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a branch, e.g. `{ weight: 3, steps: [ { get: /messages } ] }`")]
pub struct RawBranch {
    pub weight: Option<u64>,
    pub steps: Option<Vec<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a check, e.g. `{ status: 200, body_contains: token }`")]
pub struct RawCheck {
    pub status: Option<serde_yaml::Value>,
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
