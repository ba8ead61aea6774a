//! The raw scenario → the validated [`Scenario`]: top-level settings, the target, `embedded:`
//! and `http:`, plus the positioned value parsers every other check uses.
//!
//! Checks stop at the first error. One precise message is more useful to someone new to the
//! tool than a cascade where the later errors are consequences of the first.

use std::time::Duration;

use super::client;
use super::embedded::EmbeddedConfig;
use crate::scenario::claim::{parse_claim, Claim};
use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::{Gates, HttpSettings, Persona, Scenario, Target, Think};
use crate::scenario::names::{compile, Names};
use crate::scenario::persona::persona;
use crate::scenario::raw::{RawEmbedded, RawHttp, RawScenario, RawThink, RawThreshold, Scalar};
use crate::scenario::suggest;
use crate::scenario::thresholds::{self, Threshold};
use crate::scenario::units::{format_duration, parse_duration, parse_size};

type Result<T> = std::result::Result<T, ScenarioError>;

/// Validate a whole scenario.
pub fn scenario(src: &Source, raw: RawScenario) -> Result<Scenario> {
    let name = match raw.name.as_ref().map(|n| n.as_str().trim()) {
        Some(name) if !name.is_empty() => name.to_string(),
        Some(_) => return Err(src.error("name", At::Value, "the name is empty")),
        None => return Err(missing(src, "name", "every scenario has a name, e.g. `name: Monday 8:00`")),
    };
    let Some(target_text) = raw.target.as_deref() else {
        return Err(missing(
            src,
            "target",
            "say what to rehearse against: `target: embedded` or `target: https://ent.example.org`",
        ));
    };
    let Some(duration_text) = &raw.duration else {
        return Err(missing(src, "duration", "say how long arrivals go on, e.g. `duration: 5m`"));
    };
    let duration = duration_at(src, "duration", duration_text)?;
    if duration.is_zero() {
        return Err(src.error("duration", At::Value, "the duration must be more than 0s"));
    }
    let grace = match &raw.grace {
        Some(text) => duration_at(src, "grace", text)?,
        None => Duration::from_secs(10),
    };
    let scale = raw.scale.unwrap_or(1.0);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(src
            .error("scale", At::Value, format!("scale must be more than 0, not {scale}"))
            .with_hint("`scale: 0.1` runs a tenth of every population and rate; `1` runs them as written"));
    }
    let target = target(src, target_text, raw.embedded.as_ref())?;
    let http = http(src, raw.http.as_ref())?;
    let personas_raw = match raw.personas {
        Some(p) if !p.is_empty() => p,
        Some(_) => return Err(src.error("personas", At::Key, "there are no personas").with_hint(PERSONA_EXAMPLE)),
        None => return Err(missing(src, "personas", PERSONA_EXAMPLE)),
    };
    if personas_raw.len() > super::limits::MAX_PERSONAS {
        return Err(src.error(
            "personas",
            At::Key,
            format!("{} personas is more than {}", personas_raw.len(), super::limits::MAX_PERSONAS),
        ));
    }
    let mut personas = Vec::with_capacity(personas_raw.len());
    for (persona_name, raw_persona) in &personas_raw {
        personas.push(persona(src, persona_name, raw_persona, duration, scale)?);
    }
    super::limits::check_arrivals(src, &personas, duration, scale)?;
    let names: Vec<&str> = personas.iter().map(|p| p.name.as_str()).collect();
    let events = match &raw.events {
        Some(events) => crate::scenario::behaviour::events(src, events, &names, duration)?,
        None => Vec::new(),
    };
    let (thresholds, claim) = gates(src, raw.thresholds.as_deref(), raw.claim.as_ref(), &personas)?;
    let abort_on_fail = match &raw.abort_on_fail {
        Some(_) if thresholds.is_empty() => {
            return Err(src
                .error("abort_on_fail", At::Key, "`abort_on_fail` needs `thresholds` to judge")
                .with_hint("add `thresholds:`, or remove `abort_on_fail`"))
        }
        Some(text) => Some(duration_at(src, "abort_on_fail", text)?),
        None => None,
    };
    let lag_limit = match raw.generator.as_ref().and_then(|g| g.lag_p99_limit.as_ref()) {
        Some(text) => Some(duration_at(src, "generator.lag_p99_limit", text)?),
        None => None,
    };
    Ok(Scenario {
        name,
        description: raw.description.map(|d| d.0),
        source: src.file.to_path_buf(),
        target,
        http,
        duration,
        grace,
        seed: raw.seed.unwrap_or(1),
        scale,
        personas,
        events,
        gates: Gates { thresholds, claim, lag_limit, abort_on_fail },
    })
}

/// Thresholds and the claim, parsed against the personas' names (see `thresholds.rs`).
fn gates(
    src: &Source,
    raw: Option<&[RawThreshold]>,
    claim: Option<&RawThreshold>,
    personas: &[Persona],
) -> Result<(Vec<Threshold>, Option<Claim>)> {
    let names = thresholds::Names {
        personas: personas
            .iter()
            .map(|p| (p.name.clone(), p.journey.requests.iter().map(|r| r.name.clone()).collect()))
            .collect(),
    };
    let mut parsed = Vec::new();
    for (i, line) in raw.unwrap_or_default().iter().enumerate() {
        let path = format!("thresholds[{i}]");
        parsed.push(thresholds::parse(&line.0, &names).map_err(|e| line_error(src, &path, &line.0, e))?);
    }
    let claim = match claim {
        Some(line) => Some(parse_claim(&line.0, &names).map_err(|e| line_error(src, "claim", &line.0, e))?),
        None => None,
    };
    Ok((parsed, claim))
}

/// A threshold or claim error, with the caret under the offending word when the line is
/// written on one line of the file (plain or quoted).
fn line_error(src: &Source, path: &str, text: &str, e: thresholds::ParseError) -> ScenarioError {
    let mut error = src.error(path, At::Value, e.message).with_hint_opt(e.hint);
    if let (Some(column), Some(line)) = (error.column, error.source_line.as_deref()) {
        let from = line.char_indices().nth(column - 1).map(|(b, _)| b).unwrap_or(line.len());
        let rest = &line[from..];
        let quote = usize::from(rest.starts_with(['"', '\'']));
        if rest[quote..].starts_with(text) {
            error.column = Some(column + quote + text[..e.offset.min(text.len())].chars().count());
        }
    }
    error
}

const PERSONA_EXAMPLE: &str =
    "add at least one, e.g. `personas: { pupil: { population: 100, arrival: { shape: constant }, journey: [ { get: /agenda, goal: true } ] } }`";

/// A required top-level key is absent: reported at the top of the file.
fn missing(src: &Source, key: &str, hint: &str) -> ScenarioError {
    let mut error = src.error("", At::Value, format!("missing `{key}`")).with_hint(hint);
    if error.line.is_none() {
        error.line = Some(1);
        error.column = Some(1);
        error.source_line = src.line_text(1);
    }
    error
}

fn target(src: &Source, text: &str, embedded: Option<&RawEmbedded>) -> Result<Target> {
    let text = text.trim();
    if text == "embedded" {
        return Ok(Target::Embedded(embedded_config(src, embedded)?));
    }
    let looks_like_url = text.contains("://");
    if !looks_like_url {
        let hint = suggest::did_you_mean(text, ["embedded"])
            .unwrap_or_else(|| format!("for a server, write its URL with the scheme: `http://{text}`"));
        return Err(src
            .error(
                "target",
                At::Value,
                format!("`{text}` is not a target: expected `embedded` or a URL starting with http:// or https://"),
            )
            .with_hint(hint));
    }
    let url = url::Url::parse(text)
        .map_err(|e| src.error("target", At::Value, format!("`{text}` is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(src.error(
            "target",
            At::Value,
            format!("`{}` URLs are not supported: the target must be http:// or https://", url.scheme()),
        ));
    }
    if embedded.is_some() {
        return Err(src
            .error("embedded", At::Key, "`embedded:` settings only apply with `target: embedded`")
            .with_hint("remove the `embedded:` section, or set `target: embedded`"));
    }
    Ok(Target::Url(url))
}

fn embedded_config(src: &Source, raw: Option<&RawEmbedded>) -> Result<EmbeddedConfig> {
    let mut config = EmbeddedConfig::default();
    let Some(raw) = raw else { return Ok(config) };
    let positive = |key: &str, value: Option<usize>, default: usize| -> Result<usize> {
        match value {
            Some(0) => Err(src.error(&join("embedded", key), At::Value, format!("`{key}` must be at least 1"))),
            Some(n) => Ok(n),
            None => Ok(default),
        }
    };
    config.workers = positive("workers", raw.workers, config.workers)?;
    config.threads = positive("threads", raw.threads, config.threads)?;
    config.queue = raw.queue.unwrap_or(config.queue);
    if let Some(text) = &raw.login_cpu {
        config.login_cpu = duration_at(src, "embedded.login_cpu", text)?;
    }
    if let Some(text) = &raw.file_size {
        config.file_size = parse_size(text.as_str()).map_err(|why| src.error("embedded.file_size", At::Value, why))?;
    }
    overload(src, raw, &mut config)?;
    if let Some(times) = &raw.service_time {
        let st = &mut config.service_time;
        let path = |key: &str| join("embedded.service_time", key);
        if let Some(text) = &times.default {
            st.default = duration_at(src, &path("default"), text)?;
        }
        let routes = [
            ("login", &times.login, &mut st.login),
            ("agenda", &times.agenda, &mut st.agenda),
            ("homework", &times.homework, &mut st.homework),
            ("grades", &times.grades, &mut st.grades),
            ("messages", &times.messages, &mut st.messages),
            ("files", &times.files, &mut st.files),
            ("exam_start", &times.exam_start, &mut st.exam_start),
            ("exam_answer", &times.exam_answer, &mut st.exam_answer),
            ("logout", &times.logout, &mut st.logout),
        ];
        for (key, given, slot) in routes {
            if let Some(text) = given {
                *slot = Some(duration_at(src, &path(key), text)?);
            }
        }
    }
    Ok(config)
}

fn http(src: &Source, raw: Option<&RawHttp>) -> Result<HttpSettings> {
    let mut settings = HttpSettings::default();
    let Some(raw) = raw else { return Ok(settings) };
    if let Some(text) = &raw.timeout {
        settings.timeout = duration_at(src, "http.timeout", text)?;
        if settings.timeout.is_zero() {
            return Err(src.error("http.timeout", At::Value, "the timeout must be more than 0s"));
        }
    }
    let names = Names::scenario_wide();
    for (key, value) in raw.headers.iter().flatten() {
        let path = join("http.headers", key);
        settings.headers.push((header_name(src, &path, key)?, compile(src, &path, value.as_str(), &names)?));
    }
    client_settings(src, raw, &mut settings)?;
    Ok(settings)
}

/// A duration at `path`, with the accepted forms in the error.
pub fn duration_at(src: &Source, path: &str, text: &Scalar) -> Result<Duration> {
    parse_duration(text.as_str()).map_err(|why| src.error(path, At::Value, why))
}

/// A duration that must fall within the run: `at`, `from`, `to`.
pub fn time_in_run(src: &Source, path: &str, text: &Scalar, duration: Duration) -> Result<Duration> {
    let t = duration_at(src, path, text)?;
    if t > duration {
        return Err(src
            .error(
                path,
                At::Value,
                format!(
                    "{} is after the end of the run (`duration: {}`)",
                    format_duration(t),
                    format_duration(duration)
                ),
            )
            .with_hint("times are measured from the start of the run"));
    }
    Ok(t)
}

/// A think time: `3s`, `2s..15s` or `{ median: 10s, p90: 40s }`.
pub fn think_at(src: &Source, path: &str, raw: &RawThink) -> Result<Think> {
    const FORMS: &str = "a think time is `3s` (fixed), `2s..15s` (uniform) or `{ median: 10s, p90: 40s }` (log-normal)";
    match raw {
        RawThink::Text(text) => match text.as_str().split_once("..") {
            None => Ok(Think::Fixed(duration_at(src, path, text).map_err(|e| e.with_hint(FORMS))?)),
            Some((low, high)) => {
                let low = duration_at(src, path, &Scalar(low.to_string())).map_err(|e| e.with_hint(FORMS))?;
                let high = duration_at(src, path, &Scalar(high.to_string())).map_err(|e| e.with_hint(FORMS))?;
                if low > high {
                    return Err(src.error(
                        path,
                        At::Value,
                        format!("`{}`: the low end is above the high end", text.as_str()),
                    ));
                }
                Ok(Think::Uniform(low, high))
            }
        },
        RawThink::LogNormal { median, p90 } => {
            let (Some(median), Some(p90)) = (median, p90) else {
                return Err(src
                    .error(path, At::Value, "a log-normal think time needs both `median` and `p90`")
                    .with_hint(FORMS));
            };
            let median_d = duration_at(src, &join(path, "median"), median)?;
            let p90_d = duration_at(src, &join(path, "p90"), p90)?;
            if median_d.is_zero() || p90_d < median_d {
                return Err(src.error(path, At::Value, "a log-normal think time needs 0 < median ≤ p90"));
            }
            Ok(Think::LogNormal { median: median_d, p90: p90_d })
        }
    }
}

/// A header name, checked the way the HTTP client will check it.
pub fn header_name(src: &Source, path: &str, name: &str) -> Result<http::HeaderName> {
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        src.error(path, At::Key, format!("`{name}` is not a valid header name"))
            .with_hint("header names are letters, digits and `-`, e.g. `X-Request-Id`")
    })
}

/// `overload`, `admit`, `retry_after`, `session_idle` and `block` of `embedded:`.
fn overload(src: &Source, raw: &RawEmbedded, config: &mut EmbeddedConfig) -> Result<()> {
    use super::embedded::{Block, Overload};
    const MODES: [&str; 4] = ["shed", "queue", "metastable", "waiting_room"];
    let mode = raw.overload.as_deref().map(str::trim).unwrap_or("shed");
    let waiting_room = mode == "waiting_room";
    if !waiting_room {
        for (key, set) in [("admit", raw.admit.is_some()), ("retry_after", raw.retry_after.is_some())] {
            if set {
                return Err(src.error(
                    &join("embedded", key),
                    At::Key,
                    format!("`{key}` only applies with `overload: waiting_room`"),
                ));
            }
        }
    }
    config.overload = match mode {
        "shed" => Overload::Shed,
        "queue" => Overload::Queue,
        "metastable" => Overload::Metastable,
        "waiting_room" => {
            let Some(admit) = &raw.admit else {
                return Err(src
                    .error(
                        "embedded",
                        At::Value,
                        "`overload: waiting_room` needs `admit`: how many logins per second it lets in",
                    )
                    .with_hint("e.g. `admit: 50/s`"));
            };
            let admit_per_second = crate::scenario::units::parse_rate(admit.as_str())
                .map_err(|why| src.error("embedded.admit", At::Value, why))?;
            if admit_per_second <= 0.0 {
                return Err(src.error("embedded.admit", At::Value, "the admission rate must be more than 0"));
            }
            let retry_after = match &raw.retry_after {
                Some(t) => duration_at(src, "embedded.retry_after", t)?,
                None => Duration::from_secs(5),
            };
            Overload::WaitingRoom { admit_per_second, retry_after }
        }
        other => {
            return Err(src
                .error(
                    "embedded.overload",
                    At::Value,
                    format!("unknown overload behaviour `{other}`: expected {}", suggest::one_of(&MODES)),
                )
                .with_hint_opt(suggest::did_you_mean(other, MODES)))
        }
    };
    if let Some(t) = &raw.session_idle {
        config.session_idle = Some(duration_at(src, "embedded.session_idle", t)?).filter(|d| !d.is_zero());
    }
    for (i, block) in raw.block.iter().flatten().enumerate() {
        let path = format!("embedded.block[{i}]");
        let from = duration_at(src, &join(&path, "from"), &block.from)?;
        let to = duration_at(src, &join(&path, "to"), &block.to)?;
        if to <= from {
            return Err(src.error(&join(&path, "to"), At::Value, "`to` must be after `from`"));
        }
        config.blocks.push(Block { user_prefix: block.users.clone(), from, to });
    }
    Ok(())
}

/// The connection side of `http:` (see `client.rs`).
fn client_settings(src: &Source, raw: &RawHttp, settings: &mut HttpSettings) -> Result<()> {
    if let Some(value) = &raw.connections {
        (settings.connections, settings.client.pool) = client::connections(src, value)?;
    }
    if let Some(text) = &raw.version {
        settings.client.version = client::version(src, text)?;
    }
    if let Some(tls) = &raw.tls {
        settings.client.tls = client::tls(src, tls)?;
    }
    if let Some(items) = &raw.local_addresses {
        settings.client.local_addresses = client::local_addresses(src, items)?;
    }
    if let Some(timeouts) = &raw.timeouts {
        settings.client.timeouts = client::timeouts(src, timeouts)?;
    }
    Ok(())
}
