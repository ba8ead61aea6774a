//! The scenario's JSON Schema, generated from the serde structs in `raw.rs`, for editors.
//!
//! yaml-language-server (VS Code's YAML extension, Neovim, Helix, JetBrains) reads a
//! `# yaml-language-server: $schema=…` comment and then completes keys, shows each key's
//! description and underlines type and key mistakes as they are typed. It validates against
//! draft-07, so the schema is generated for draft-07.
//!
//! The schema is generated, never written by hand, so that a key added to `raw.rs` is in it
//! the moment it exists (a test compares `docs/scenario.schema.json` with this output). It
//! catches what a schema can express: unknown keys, wrong types, closed sets and the forms
//! of durations, rates and sizes. What needs the whole scenario (a threshold naming a step
//! that does not exist, an `at` beyond `duration`) stays with the loader, whose message also
//! shows the line and a hint.
//!
//! Values that `raw.rs` keeps as text ([`Scalar`]) are described here by marker types
//! (`DurationText`, `RateText`, …) that the fields name with `#[schemars(with = …)]`.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::Value;
use std::borrow::Cow;

use super::raw::{RawScenario, RawThink, RawThreshold, Scalar};

/// The scenario schema as the pretty-printed JSON committed at `docs/scenario.schema.json`.
pub fn scenario_json() -> String {
    let settings = schemars::generate::SchemaSettings::draft07();
    let schema = settings.into_generator().into_root_schema_for::<RawScenario>();
    let mut value = schema.to_value();
    if let Some(root) = value.as_object_mut() {
        root.insert("$id".into(), Value::from("https://schoolday.invalid/scenario.schema.json"));
        root.insert("title".into(), Value::from("schoolday scenario"));
    }
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value always serialises");
    text.push('\n');
    text
}

/// The `summary.json` schema, committed at `docs/summary.schema.json` (written by hand: the
/// summary is a contract for other tools, changed deliberately).
pub const SUMMARY_JSON: &str = include_str!("../../docs/summary.schema.json");

// The forms accepted by `units.rs`, as ECMA-262 regular expressions (what JSON Schema uses).
const NUMBER: &str = r"(\d+(\.\d*)?|\.\d+)";
const TIME_UNIT: &str = r"(us|µs|ms|s|sec|m|min|h)";

fn duration_pattern() -> String {
    let part = format!(r"{NUMBER}\s*{TIME_UNIT}");
    format!(r"(0+(\.0*)?|{part}(\s*{part})*)")
}

fn anchored(body: &str) -> String {
    format!(r"^\s*{body}\s*$")
}

/// A marker type for schema generation only: what it stands for is in its `json_schema`.
macro_rules! text_schema {
    ($(#[$doc:meta])* $name:ident, $schema_name:literal, $body:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $schema_name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                $body
            }
        }
    };
}

text_schema!(
    /// `500ms`, `30s`, `1m30s`, `2h`, or `0`.
    DurationText,
    "duration",
    json_schema!({
        "description": "A duration: a number and a unit (us, ms, s, m, h), parts may be combined: `500ms`, `30s`, `1m30s`, `2h`; `0` alone needs no unit.",
        "anyOf": [
            { "type": "string", "pattern": anchored(&duration_pattern()) },
            { "const": 0 }
        ]
    })
);

text_schema!(
    /// `2s..15s`, or one duration.
    RangeText,
    "duration_range",
    json_schema!({
        "description": "A duration (`30s`) or a uniform range of durations (`30s..60s`).",
        "anyOf": [
            { "type": "string", "pattern": anchored(&format!(r"{d}(\s*\.\.\s*{d})?", d = duration_pattern())) },
            { "const": 0 }
        ]
    })
);

text_schema!(
    /// `20/s`, `1200/min`, `30/h`, or a bare number per second.
    RateText,
    "rate",
    json_schema!({
        "description": "A rate: users per second, minute or hour (`20/s`, `1200/min`, `30/h`); a bare number is per second.",
        "anyOf": [
            { "type": "string", "pattern": anchored(&format!(r"{NUMBER}\s*(/\s*(s|sec|second|m|min|minute|h|hour))?")) },
            { "type": "number", "minimum": 0 }
        ]
    })
);

text_schema!(
    /// `512`, `64KB`, `64KiB`, `2MiB`.
    SizeText,
    "size",
    json_schema!({
        "description": "A size: bytes (`512`), or a number and KB (1000), KiB (1024), MB, MiB, GB, GiB (any case): `64KiB`.",
        "anyOf": [
            { "type": "string", "pattern": anchored(&format!(r"{NUMBER}\s*([kKmMgG][iI]?[bB]|[bB]|[kK])?")) },
            { "type": "integer", "minimum": 0 }
        ]
    })
);

text_schema!(
    /// `10%` or `0.1`.
    PercentText,
    "share",
    json_schema!({
        "description": "A share between 0% and 100%: `10%`, or a fraction such as `0.1`.",
        "anyOf": [
            { "type": "string", "pattern": anchored(&format!(r"{NUMBER}\s*%?")) },
            { "type": "number", "minimum": 0, "maximum": 1 }
        ]
    })
);

text_schema!(
    /// `embedded` or an http(s) URL.
    TargetText,
    "target",
    json_schema!({
        "description": "`embedded` (the demo school workspace, started on 127.0.0.1 for the run) or the base URL of the platform under test, starting with `http://` or `https://`.",
        "anyOf": [
            { "const": "embedded", "description": "The embedded demo school workspace." },
            { "type": "string", "pattern": "^https?://\\S+$" }
        ]
    })
);

fn status() -> Value {
    serde_json::json!({
        "anyOf": [
            { "type": "integer", "minimum": 100, "maximum": 599 },
            { "type": "string", "pattern": "^\\s*([1-5][0-9]{2}|[1-5][xX]{2})\\s*$" }
        ]
    })
}

text_schema!(
    /// `200`, `"2xx"`, or a list of them.
    StatusText,
    "status",
    json_schema!({
        "description": "Accepted statuses: a code (`200`), a class (`\"2xx\"`), or a list (`[200, \"3xx\"]`). Default: any status below 400.",
        "anyOf": [ status(), { "type": "array", "items": status(), "minItems": 1 } ]
    })
);

text_schema!(
    /// `connect`, `timeout`, `reset`, or a status.
    RetryOnText,
    "retry_on",
    json_schema!({
        "description": "Something to retry on: `connect`, `timeout`, `reset`, or a status such as `429` or `503`.",
        "anyOf": [ { "enum": ["connect", "timeout", "reset"] }, status() ]
    })
);

text_schema!(
    /// `honour`, `ignore` or a cap.
    RetryAfterText,
    "retry_after",
    json_schema!({
        "description": "`honour` (wait at least what the server asks), `ignore`, or a cap such as `120s` (honour up to that).",
        "anyOf": [ { "enum": ["honour", "honor", "ignore"] }, DurationText::json_schema(&mut SchemaGenerator::default()) ]
    })
);

text_schema!(
    /// `json.token`, `header.ETag`, `cookie.ENTSESSION`.
    CaptureText,
    "capture_source",
    json_schema!({
        "description": "Where the value comes from: `json.<path>` (`json.items[0].id`), `header.<Name>` or `cookie.<name>`.",
        "type": "string",
        "pattern": "^\\s*(json|header|cookie)\\.\\S"
    })
);

text_schema!(
    /// `http.connections`.
    Connections,
    "connections",
    json_schema!({
        "description": "`per-user` (each user its own connections, as browsers, the default), `shared` (one keep-alive pool) or `{ shared: 64 }` (a fixed pool of 64).",
        "anyOf": [
            { "enum": ["per-user", "shared"] },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["shared"],
                "properties": { "shared": { "description": "How many connections the shared pool holds.", "type": "integer", "minimum": 1, "maximum": 1_000_000 } }
            }
        ]
    })
);

text_schema!(
    /// `http.version`.
    HttpVersionText,
    "http_version",
    json_schema!({
        "description": "`auto` (HTTP/2 when the server offers it by ALPN), `http1` or `http2`.",
        "enum": ["auto", "http1", "http1.1", "http2"]
    })
);

impl JsonSchema for Scalar {
    fn schema_name() -> Cow<'static, str> {
        "scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

impl JsonSchema for RawThreshold {
    fn schema_name() -> Cow<'static, str> {
        "rule".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A rule on one line, `[scope] metric operator limit`, e.g. `pupil.login p95 < 2s` or `error_rate < 1%` (no `:` in it).",
            "type": "string",
            "minLength": 1
        })
    }
}

impl JsonSchema for RawThink {
    fn schema_name() -> Cow<'static, str> {
        "think".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A pause: `3s` (always), `2s..15s` (uniform), or `{ median: 10s, p90: 40s }` (log-normal, how people read pages).",
            "anyOf": [
                generator.subschema_for::<RangeText>(),
                {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "median": { "description": "Half the pauses are shorter than this.", "allOf": [generator.subschema_for::<DurationText>()] },
                        "p90": { "description": "90% of the pauses are shorter than this.", "allOf": [generator.subschema_for::<DurationText>()] }
                    }
                }
            ]
        })
    }
}

/// `arrival.shape`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Shape {
    /// A steady stream: `rate`, optionally `from` and `to`.
    Constant,
    /// A rate going linearly from `from_rate` to `to_rate` between `from` and `to`.
    Ramp,
    /// Consecutive constant `stages` (`{ rate, for }`), starting at `from`.
    Steps,
    /// A piecewise-linear curve through `[time, rate]` `points`, zero outside them.
    Points,
    /// A Gaussian bump centred at `at` with standard deviation `spread` (needs a population).
    Peak,
    /// Everyone at `at`, within `spread` or fading with `decay` (needs a population).
    Burst,
    /// Arrivals piling up before a deadline `at`: `rate · exp(−(at − t) / rise)` from `from`,
    /// nothing from `at` on.
    Deadline,
    /// Consecutive constant-rate intervals read from a CSV `file`, starting at `from`.
    Csv,
}

/// `arrival.spacing`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Spacing {
    /// Random arrivals following the curve, as independent people arrive (the default).
    Poisson,
    /// Deterministic, evenly spaced along the curve's cumulative load.
    Even,
}

/// `embedded.overload`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Overload {
    /// `503` beyond the queue (the default).
    Shed,
    /// No limit: latency grows without bound.
    Queue,
    /// Like `shed`, but work for requests whose client has gone is still done.
    Metastable,
    /// Admits `admit` logins per second; the others get `503` with `Retry-After` and a queue cookie.
    WaitingRoom,
}

/// `retry.policy`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Policy {
    /// No retries.
    None,
    /// Retry at once.
    Immediate,
    /// Wait `delay` before each retry.
    Fixed,
    /// Wait `min(cap, base · factor^k)` before retry k (the default).
    Exponential,
}

/// `retry.jitter`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Jitter {
    /// The delay as computed.
    None,
    /// `U(0, d)` (the default).
    Full,
    /// `d/2 + U(0, d/2)`.
    Equal,
    /// `min(cap, U(base, 3 · previous))`.
    Decorrelated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_draft_07_and_closed() {
        let schema: Value = serde_json::from_str(&scenario_json()).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["additionalProperties"], false);
        let required: Vec<&str> = schema["required"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(required, ["name", "target", "duration", "personas"]);
    }

    /// Every key an editor completes comes with its explanation.
    #[test]
    fn every_key_has_a_description() {
        fn walk(value: &Value, path: &str, missing: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    if let Some(Value::Object(props)) = map.get("properties") {
                        for (key, prop) in props {
                            if prop.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
                                missing.push(format!("{path}.{key}"));
                            }
                        }
                    }
                    for (k, v) in map {
                        walk(v, &format!("{path}/{k}"), missing);
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, path, missing)),
                _ => {}
            }
        }
        let schema: Value = serde_json::from_str(&scenario_json()).unwrap();
        let mut missing = Vec::new();
        walk(&schema, "", &mut missing);
        assert!(missing.is_empty(), "keys without a description: {missing:?}");
    }
}
