//! One virtual user: arrive, walk the persona's journey, leave.
//!
//! The journey is a flat program (see `scenario::Journey`), so a user is a loop over a program
//! counter. Per-user state is what a browser tab would hold: captured values, cookies, a
//! random stream, loop counters, and its HTTP client. Everything shared (the journey, the
//! templates, the TLS configuration) is borrowed from the run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};
use tokio::time::Instant;

use super::cookies::CookieJar;
use super::RunContext;
use crate::http::{exchange, Received};
use crate::load::ScheduledArrival;
use crate::metrics::{ErrorKind, Outcome};
use crate::rng::Rng;
use crate::scenario::template::{Context, MissingVar};
use crate::scenario::{Body, CaptureSource, JsonKey, Op, Persona, RequestSpec, Think, UserSource};

/// Stream id for users' random choices (think times, weighted choices).
const USER_STREAM: u64 = 2;

/// Run one user from its intended arrival to the end of its journey or of the run.
pub async fn run_user(ctx: Arc<RunContext>, arrival: ScheduledArrival, intended: Instant) {
    let persona_index = arrival.persona as usize;
    ctx.recorder.arrival(
        persona_index,
        Instant::now().saturating_duration_since(intended),
    );
    let goal_reached = AtomicBool::new(false);
    let walked = {
        let mut user = User::new(&ctx, arrival);
        tokio::select! {
            biased;
            _ = ctx.cut_off.cancelled() => None,
            result = user.walk(intended, &goal_reached) => Some(result),
        }
    };
    let outcome = if goal_reached.load(Ordering::Relaxed) {
        Outcome::Completed
    } else if walked.is_none() {
        Outcome::CutOff
    } else {
        Outcome::Failed
    };
    ctx.recorder.user_ended(persona_index, outcome);
}

struct User<'a> {
    ctx: &'a RunContext,
    persona_index: usize,
    persona: &'a Persona,
    /// 0-based index within the persona.
    index: u32,
    vars: Vec<Option<Box<str>>>,
    cookies: CookieJar,
    rng: Rng,
    /// Innermost loop last: (LoopStart op index, iteration count, current 1-based iteration).
    loops: Vec<(usize, u32, u32)>,
    client: reqwest::Client,
}

/// Why a journey stopped before its end.
struct Stop;

impl<'a> User<'a> {
    fn new(ctx: &'a RunContext, arrival: ScheduledArrival) -> Self {
        let persona = &ctx.scenario.personas[arrival.persona as usize];
        User {
            ctx,
            persona_index: arrival.persona as usize,
            persona,
            index: arrival.user,
            vars: vec![None; persona.journey.vars.len()],
            cookies: CookieJar::default(),
            rng: Rng::derive(
                ctx.scenario.seed,
                USER_STREAM,
                arrival.persona as u64,
                arrival.user as u64,
            ),
            loops: Vec::new(),
            client: ctx.clients.for_user(),
        }
    }

    /// Walk the journey. `Err(Stop)` when a step failed and the journey cannot go on.
    async fn walk(&mut self, arrived: Instant, goal_reached: &AtomicBool) -> Result<(), Stop> {
        let journey = &self.persona.journey;
        // When the next request is due: the arrival for the first, then the previous
        // completion plus think time. Latency is measured from here.
        let mut intended = arrived;
        let mut pc = 0;
        while let Some(op) = journey.ops.get(pc) {
            match op {
                Op::Request(r) => {
                    let spec = &journey.requests[*r];
                    let ended = self.request(*r, spec, intended).await?;
                    if spec.goal && !goal_reached.swap(true, Ordering::Relaxed) {
                        self.ctx
                            .recorder
                            .goal_reached(self.persona_index, ended - arrived);
                    }
                    intended = ended;
                    pc += 1;
                }
                Op::Think(think) => {
                    let due = intended + sample_think(think, &mut self.rng);
                    tokio::time::sleep_until(due).await;
                    self.ctx
                        .recorder
                        .step_lag(Instant::now().saturating_duration_since(due));
                    intended = due;
                    pc += 1;
                }
                Op::LoopStart { count, end } => {
                    if *count == 0 {
                        pc = end + 1;
                    } else {
                        self.loops.push((pc, *count, 1));
                        pc += 1;
                    }
                }
                Op::LoopEnd { start } => match self.loops.last_mut() {
                    Some((_, count, iteration)) if *iteration < *count => {
                        *iteration += 1;
                        pc = start + 1;
                    }
                    _ => {
                        self.loops.pop();
                        pc += 1;
                    }
                },
                Op::Choose { branches } => {
                    let total: u64 = branches.iter().map(|(w, _)| *w as u64).sum();
                    let mut pick = self.rng.below(total.max(1));
                    pc = branches.last().map(|(_, start)| *start).unwrap_or(pc + 1);
                    for (weight, start) in branches {
                        if pick < *weight as u64 {
                            pc = *start;
                            break;
                        }
                        pick -= *weight as u64;
                    }
                }
                Op::Jump(target) => pc = *target,
            }
        }
        Ok(())
    }

    /// Send one request step, record it, and apply its captures. Returns when it ended.
    async fn request(
        &mut self,
        r: usize,
        spec: &RequestSpec,
        intended: Instant,
    ) -> Result<Instant, Stop> {
        let step = self.ctx.layout_step(self.persona_index, r);
        let recorder = &self.ctx.recorder;
        let request = match self.build(spec) {
            Ok(request) => request,
            Err(kind) => {
                // Nothing was sent; the step still failed where the user could see it.
                let now = Instant::now();
                recorder.request_started(step);
                recorder.request_finished(step, now - intended, Duration::ZERO, Err(kind));
                return Err(Stop);
            }
        };
        let mut body = spec.needs_body().then(Vec::new);
        recorder.request_started(step);
        let sent = Instant::now();
        let result = exchange(&self.client, request, body.as_mut()).await;
        let ended = Instant::now();
        let result = result.and_then(|received| {
            self.accept(spec, &received, body.as_deref())
                .map(|()| received.bytes)
        });
        let failed = result.is_err();
        recorder.request_finished(step, ended - intended, ended - sent, result);
        if failed {
            Err(Stop)
        } else {
            Ok(ended)
        }
    }

    fn build(&self, spec: &RequestSpec) -> Result<reqwest::Request, ErrorKind> {
        let missing = |_: MissingVar| ErrorKind::Capture;
        let mut text = String::with_capacity(64);
        text.push_str(&self.ctx.base_url);
        spec.path.render(self, &mut text).map_err(missing)?;
        let mut separator = if text.contains('?') { '&' } else { '?' };
        let mut value = String::new();
        for (key, template) in &spec.query {
            value.clear();
            template.render(self, &mut value).map_err(missing)?;
            text.push(separator);
            separator = '&';
            text.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
            text.push('=');
            text.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        let url = reqwest::Url::parse(&text).map_err(|_| ErrorKind::Other)?;
        let mut request = reqwest::Request::new(spec.method.clone(), url);
        *request.timeout_mut() = Some(spec.timeout.unwrap_or(self.ctx.scenario.http.timeout));
        let headers = request.headers_mut();
        for (name, template) in self.ctx.scenario.http.headers.iter().chain(&spec.headers) {
            value.clear();
            template.render(self, &mut value).map_err(missing)?;
            headers.insert(name.clone(), header_value(&value)?);
        }
        if let Some(bearer) = &spec.bearer {
            value.clear();
            value.push_str("Bearer ");
            bearer.render(self, &mut value).map_err(missing)?;
            headers.insert(AUTHORIZATION, header_value(&value)?);
        }
        if !self.cookies.is_empty() {
            value.clear();
            self.cookies.header_value(&mut value);
            headers.insert(COOKIE, header_value(&value)?);
        }
        let body = match &spec.body {
            Body::None => None,
            Body::Json(json) => {
                let (mut out, mut scratch) = (String::new(), String::new());
                json.render(self, &mut out, &mut scratch).map_err(missing)?;
                headers
                    .entry(CONTENT_TYPE)
                    .or_insert(HeaderValue::from_static("application/json"));
                Some(out)
            }
            Body::Form(fields) => {
                let mut out = String::new();
                for (i, (key, template)) in fields.iter().enumerate() {
                    value.clear();
                    template.render(self, &mut value).map_err(missing)?;
                    if i > 0 {
                        out.push('&');
                    }
                    out.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
                    out.push('=');
                    out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
                }
                headers
                    .entry(CONTENT_TYPE)
                    .or_insert(HeaderValue::from_static(
                        "application/x-www-form-urlencoded",
                    ));
                Some(out)
            }
            Body::Raw {
                content_type,
                template,
            } => {
                let mut out = String::new();
                template.render(self, &mut out).map_err(missing)?;
                if let Some(content_type) = content_type {
                    headers.insert(CONTENT_TYPE, header_value(content_type)?);
                }
                Some(out)
            }
        };
        if let Some(body) = body {
            *request.body_mut() = Some(body.into());
        }
        Ok(request)
    }

    /// Store cookies, run the check and the captures. The first failure decides the kind.
    fn accept(
        &mut self,
        spec: &RequestSpec,
        received: &Received,
        body: Option<&[u8]>,
    ) -> Result<(), ErrorKind> {
        for set_cookie in received.headers.get_all(SET_COOKIE) {
            if let Ok(text) = set_cookie.to_str() {
                self.cookies.store(text);
            }
        }
        let status = received.status;
        if !spec.check.status_ok(status) {
            return Err(match status {
                400..=499 => ErrorKind::Status4xx,
                500..=599 => ErrorKind::Status5xx,
                _ => ErrorKind::Check,
            });
        }
        if let Some(needle) = &spec.check.body_contains {
            let found = body.is_some_and(|b| contains(b, needle.as_bytes()));
            if !found {
                return Err(ErrorKind::Check);
            }
        }
        let mut json: Option<serde_json::Value> = None;
        for capture in &spec.captures {
            let value: Option<Box<str>> = match &capture.source {
                CaptureSource::Header(name) => received
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(Into::into),
                CaptureSource::Cookie(name) => self.cookies.get(name).map(Into::into),
                CaptureSource::Json(path) => {
                    if json.is_none() {
                        json = body.and_then(|b| serde_json::from_slice(b).ok());
                    }
                    json.as_ref()
                        .and_then(|doc| json_at(doc, path))
                        .map(|v| match v {
                            serde_json::Value::String(s) => s.as_str().into(),
                            other => other.to_string().into(),
                        })
                }
            };
            match value {
                Some(value) => self.vars[capture.var] = Some(value),
                None => return Err(ErrorKind::Capture),
            }
        }
        Ok(())
    }
}

impl Context for User<'_> {
    fn write_user_id(&self, out: &mut String) {
        if let UserSource::Csv { columns, rows, .. } = &self.persona.users {
            if let Some(id) = columns.iter().position(|c| c == "id") {
                if let Some(row) = rows.get(self.index as usize) {
                    out.push_str(&row[id]);
                    return;
                }
            }
        }
        use std::fmt::Write as _;
        let _ = write!(out, "{}-{:06}", self.persona.name, self.index as u64 + 1);
    }

    fn user_index(&self) -> u64 {
        self.index as u64 + 1
    }

    fn column(&self, index: usize) -> &str {
        match &self.persona.users {
            UserSource::Csv { rows, .. } => rows
                .get(self.index as usize % rows.len().max(1))
                .and_then(|row| row.get(index))
                .map(String::as_str)
                .unwrap_or(""),
            UserSource::Generated => "",
        }
    }

    fn var(&self, index: usize) -> Option<&str> {
        self.vars.get(index).and_then(|v| v.as_deref())
    }

    fn iteration(&self) -> u32 {
        self.loops.last().map(|(_, _, i)| *i).unwrap_or(1)
    }
}

fn header_value(text: &str) -> Result<HeaderValue, ErrorKind> {
    HeaderValue::from_str(text).map_err(|_| ErrorKind::Other)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn json_at<'v>(doc: &'v serde_json::Value, path: &[JsonKey]) -> Option<&'v serde_json::Value> {
    path.iter().try_fold(doc, |v, key| match key {
        JsonKey::Field(name) => v.get(name.as_str()),
        JsonKey::Index(i) => v.get(*i),
    })
}

/// Draw one think time.
pub fn sample_think(think: &Think, rng: &mut Rng) -> Duration {
    match *think {
        Think::Fixed(d) => d,
        Think::Uniform(low, high) => rng.duration_between(low, high),
        Think::LogNormal { median, p90 } => {
            // p90 = median · e^(1.2816 σ)
            let median_s = median.as_secs_f64();
            let sigma = if p90 > median {
                (p90.as_secs_f64() / median_s).ln() / 1.281_551_6
            } else {
                0.0
            };
            let seconds = median_s * (sigma * rng.normal()).exp();
            Duration::try_from_secs_f64(seconds).unwrap_or(Duration::ZERO)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_think_hits_its_median_and_p90() {
        let think = Think::LogNormal {
            median: Duration::from_secs(10),
            p90: Duration::from_secs(40),
        };
        let mut rng = Rng::new(9);
        let mut draws: Vec<f64> = (0..20_000)
            .map(|_| sample_think(&think, &mut rng).as_secs_f64())
            .collect();
        draws.sort_by(|a, b| a.total_cmp(b));
        let median = draws[10_000];
        let p90 = draws[18_000];
        assert!((median - 10.0).abs() < 0.5, "median {median}");
        assert!((p90 - 40.0).abs() < 2.5, "p90 {p90}");
    }

    #[test]
    fn uniform_think_stays_in_range() {
        let think = Think::Uniform(Duration::from_secs(2), Duration::from_secs(15));
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let d = sample_think(&think, &mut rng);
            assert!(d >= Duration::from_secs(2) && d <= Duration::from_secs(15));
        }
    }

    #[test]
    fn json_paths_walk_objects_and_arrays() {
        let doc: serde_json::Value =
            serde_json::json!({"data": {"items": [{"id": 7}, {"id": "x"}]}, "token": "t"});
        let path = [
            JsonKey::Field("data".into()),
            JsonKey::Field("items".into()),
            JsonKey::Index(1),
            JsonKey::Field("id".into()),
        ];
        assert_eq!(json_at(&doc, &path), Some(&serde_json::json!("x")));
        assert_eq!(json_at(&doc, &[JsonKey::Field("nope".into())]), None);
        assert!(contains(b"hello token world", b"token"));
        assert!(!contains(b"hello", b"token"));
    }
}
