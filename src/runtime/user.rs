//! One virtual user: arrive, walk the persona's journey, leave — and, on the way, behave like
//! a person with a browser or an app on a bad morning: retry, reload, log in again when the
//! session is lost, wait in a queue, give up, come back.
//!
//! The journey is a flat program (see `scenario::Journey`), so a user is a loop over a program
//! counter. Per-user state is what a browser tab would hold: captured values, cookies, a
//! random stream, loop counters, a retry budget and its HTTP client. Everything shared (the
//! journey, the templates, the TLS configuration) is borrowed from the run.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::cookies::CookieJar;
use super::decide::{decide, Counts, End, Happened, Next, Rules};
use super::retry::{retry_after, BudgetState, Failure};
use super::RunContext;
use crate::http::{exchange, Received};
use crate::load::ScheduledArrival;
use crate::metrics::{Cause, ErrorKind, Outcome};
use crate::rng::Rng;
use crate::scenario::{Behaviour, Body, Event, Op, Persona, RequestSpec, Think, WaitingRoomClient};

/// Stream id for users' random choices (think times, weighted choices, jitter, patience).
const USER_STREAM: u64 = 2;

/// Without a goal patience, a person reloads an error page or a page that is too slow at
/// most this many times for one step (with one, they reload until their patience runs out).
const MAX_RELOADS: u32 = 5;

/// Re-logins in a row for one step before the user gives up on it.
const MAX_RELOGINS: u32 = 2;

/// Run one user from its intended arrival to the end of its visit or of the run.
pub async fn run_user(ctx: Arc<RunContext>, arrival: ScheduledArrival, intended: Instant) {
    let persona = arrival.persona as usize;
    ctx.recorder.arrival(persona, Instant::now().saturating_duration_since(intended));
    let outcome = User::new(&ctx, arrival, intended).live().await;
    ctx.recorder.user_ended(persona, outcome);
}

/// Something that interrupts whatever the user is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interrupt {
    CutOff,
    GaveUp,
    /// A storm dropped this user's session.
    Storm,
}

impl From<Interrupt> for End {
    fn from(i: Interrupt) -> End {
        match i {
            Interrupt::CutOff => End::CutOff,
            Interrupt::GaveUp => End::GaveUp,
            // Storms are handled where they happen; reaching here means the wait had
            // nothing to resume.
            Interrupt::Storm => End::Failed,
        }
    }
}

/// What can interrupt a user's waits, kept apart from the rest of its state so that a wait
/// can borrow the HTTP client while watching these.
struct Signals {
    cut_off: CancellationToken,
    /// Storm events for this persona (the event index + 1), if any storm targets it.
    storms: Option<watch::Receiver<usize>>,
    /// When the user gives up on its goal (goal patience), if it has one.
    give_up_at: Option<Instant>,
    /// A storm hit this user: its session is gone and it must log in again.
    storm_hit: bool,
}

impl Signals {
    /// Wait for `fut`, unless the run ends, patience runs out or a storm hits this user
    /// (`affected` decides, for each storm, whether it does).
    ///
    /// `fut` comes pinned by the caller: held by value here, it would be held twice (an async
    /// fn keeps its argument beside the pinned copy), and the exchange under it is most of a
    /// user's task.
    async fn wait<F: Future>(
        &mut self,
        mut fut: Pin<&mut F>,
        events: &[Event],
        rng: &mut Rng,
    ) -> Result<F::Output, Interrupt> {
        loop {
            let give_up = async {
                match self.give_up_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let storm = async {
                match self.storms.as_mut() {
                    Some(rx) => match rx.changed().await {
                        Ok(()) => *rx.borrow_and_update(),
                        Err(_) => std::future::pending().await,
                    },
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = self.cut_off.cancelled() => return Err(Interrupt::CutOff),
                _ = give_up => return Err(Interrupt::GaveUp),
                event = storm => {
                    let fraction = match events.get(event.wrapping_sub(1)) {
                        Some(Event::Storm { fraction, .. }) => *fraction,
                        None => 0.0,
                    };
                    if rng.next_f64() < fraction {
                        self.storm_hit = true;
                        return Err(Interrupt::Storm);
                    }
                }
                out = fut.as_mut() => return Ok(out),
            }
        }
    }
}

pub(super) struct User<'a> {
    pub(super) ctx: &'a RunContext,
    pub(super) persona_index: usize,
    pub(super) persona: &'a Persona,
    behaviour: &'a Behaviour,
    /// 0-based index within the persona.
    pub(super) index: u32,
    /// Intended arrival (the first; a returning user keeps it for time-to-goal).
    arrived: Instant,
    pub(super) vars: Vec<Option<Box<str>>>,
    pub(super) cookies: CookieJar,
    rng: Rng,
    /// Innermost loop last: (LoopStart op index, iteration count, current 1-based iteration).
    pub(super) loops: Vec<(usize, u32, u32)>,
    client: crate::http::Slot,
    budget: BudgetState,
    signals: Signals,
    goal_reached: bool,
    /// Replaying the login steps: a 401 now is a failure, not another re-login.
    in_relogin: bool,
}

impl<'a> User<'a> {
    fn new(ctx: &'a RunContext, arrival: ScheduledArrival, intended: Instant) -> Self {
        let persona_index = arrival.persona as usize;
        let persona = &ctx.scenario.personas[persona_index];
        let behaviour = &persona.behaviour;
        let mut rng = Rng::derive(ctx.scenario.seed, USER_STREAM, arrival.persona as u64, arrival.user as u64);
        let give_up_at = behaviour.goal_patience.map(|p| intended + sample_patience(p.median, p.sigma, &mut rng));
        User {
            ctx,
            persona_index,
            persona,
            behaviour,
            index: arrival.user,
            arrived: intended,
            vars: vec![None; persona.journey.vars.len()],
            cookies: CookieJar::default(),
            rng,
            loops: Vec::new(),
            client: ctx.clients.for_user(),
            budget: BudgetState::new(behaviour.retry.budget.as_ref()),
            signals: Signals {
                cut_off: ctx.cut_off.clone(),
                storms: ctx.storms.get(persona_index).and_then(|s| s.as_ref()).map(|s| s.subscribe()),
                give_up_at,
                storm_hit: false,
            },
            goal_reached: false,
            in_relogin: false,
        }
    }

    /// The whole visit, returns included.
    async fn live(mut self) -> Outcome {
        let mut came_back = false;
        let mut from = self.arrived;
        loop {
            let end = self.walk(from).await;
            if self.goal_reached {
                return Outcome::Completed;
            }
            match end {
                Ok(()) | Err(End::Failed) => return Outcome::Failed,
                Err(End::CutOff) => return Outcome::CutOff,
                Err(End::GaveUp) => {
                    let Some(patience) = self.behaviour.goal_patience else {
                        return Outcome::Abandoned;
                    };
                    if came_back || self.rng.next_f64() >= patience.return_probability {
                        return Outcome::Abandoned;
                    }
                    // Away for a while, then a fresh start: new tab, new session.
                    let (low, high) = patience.return_after;
                    let away = self.rng.duration_between(low, high);
                    self.signals.give_up_at = None;
                    let events = &self.ctx.scenario.events;
                    if self.signals.wait(pin!(tokio::time::sleep(away)), events, &mut self.rng).await
                        == Err(Interrupt::CutOff)
                    {
                        return Outcome::Abandoned;
                    }
                    came_back = true;
                    from = Instant::now();
                    self.ctx.recorder.returned(self.persona_index);
                    self.drop_session();
                    self.signals.storm_hit = false;
                    self.loops.clear();
                    self.signals.give_up_at =
                        Some(Instant::now() + sample_patience(patience.median, patience.sigma, &mut self.rng));
                }
            }
        }
    }

    /// Walk the journey once from the start; the first step is due at `from`.
    async fn walk(&mut self, from: Instant) -> Result<(), End> {
        let journey = &self.persona.journey;
        // When the next request is due: the arrival for the first, then the previous
        // completion plus think time. Latency is measured from here.
        let mut intended = from;
        let mut pc = 0;
        while let Some(op) = journey.ops.get(pc) {
            match op {
                Op::Request(r) => {
                    let ended = self.step(*r, Cause::First, intended).await?;
                    if journey.requests[*r].goal && !self.goal_reached {
                        self.goal_reached = true;
                        self.signals.give_up_at = None;
                        self.ctx.recorder.goal_reached(self.persona_index, ended - self.arrived);
                    }
                    intended = ended;
                    pc += 1;
                }
                Op::Think(think) => {
                    let due = intended + sample_think(think, &mut self.rng);
                    let events = &self.ctx.scenario.events;
                    match self.signals.wait(pin!(tokio::time::sleep_until(due)), events, &mut self.rng).await {
                        Ok(()) => {
                            self.ctx.recorder.step_lag(Instant::now().saturating_duration_since(due));
                            intended = due;
                        }
                        // The session is gone: reconnect now, at the next step, instead of
                        // finishing the pause.
                        Err(Interrupt::Storm) => intended = Instant::now(),
                        Err(other) => return Err(other.into()),
                    }
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

    /// Forget the session: cookies, and connections (the next request connects anew).
    /// Captured values stay; the login replay overwrites the ones that name a session.
    fn drop_session(&mut self) {
        self.cookies.clear();
        self.client.close();
    }

    /// Replay the login steps after the session was lost.
    async fn relogin(&mut self) -> Result<(), End> {
        let login_end = self.behaviour.login_end;
        self.signals.storm_hit = false;
        if login_end == 0 {
            return Ok(());
        }
        self.ctx.recorder.relogin(self.persona_index);
        self.in_relogin = true;
        let journey = &self.persona.journey;
        let mut result = Ok(());
        for op in &journey.ops[..login_end] {
            if let Op::Request(r) = op {
                if let Err(end) = self.step(*r, Cause::Relogin, Instant::now()).await {
                    result = Err(end);
                    break;
                }
            }
        }
        self.in_relogin = false;
        result
    }

    /// Replay the login steps that come before request `r` (a person starting a login form
    /// over), each as a reload.
    async fn replay_login_before(&mut self, r: usize) -> Result<(), End> {
        let journey = &self.persona.journey;
        let Some(at) = journey.ops[..self.behaviour.login_end].iter().position(|op| *op == Op::Request(r)) else {
            return Ok(());
        };
        self.in_relogin = true;
        let mut result = Ok(());
        for op in &journey.ops[..at] {
            if let Op::Request(q) = op {
                if let Err(end) = self.step(*q, Cause::Reload, Instant::now()).await {
                    result = Err(end);
                    break;
                }
            }
        }
        self.in_relogin = false;
        result
    }

    /// Run one request step to its end: attempts, retries, reloads, re-logins and waiting
    /// room polls included. Returns when the step ended successfully. Each turn of the loop
    /// sends one attempt, records what happened, and carries out what `decide` says.
    async fn step(&mut self, r: usize, first_cause: Cause, intended: Instant) -> Result<Instant, End> {
        let spec = &self.persona.journey.requests[r];
        let policy = spec.retry.as_ref().unwrap_or(&self.behaviour.retry);
        let rules = Rules {
            policy,
            page_patience: self.behaviour.page_patience,
            max_reloads: if self.signals.give_up_at.is_some() { u32::MAX } else { MAX_RELOADS },
            max_relogins: MAX_RELOGINS,
            may_relogin: self.behaviour.relogin && !self.in_relogin && self.behaviour.login_end > 0,
        };
        let timeout = policy.attempt_timeout.or(spec.timeout).unwrap_or(self.ctx.scenario.http.timeout);
        // A person reloading the answer to a login form does not resubmit it: they start the
        // login over from its first page.
        let restarts_login = !self.in_relogin
            && matches!(spec.body, Body::Form(_) | Body::Json(_))
            && self.persona.journey.ops[..self.behaviour.login_end].contains(&Op::Request(r));
        let step = self.ctx.layout_step(self.persona_index, r);
        let mut run = StepRun { step, intended, cause: first_cause, counts: Counts::default(), queued_since: None };
        loop {
            if let Err(end) = self.prepare(&mut run, r, restarts_login).await {
                return self.finish(&run, Err(end));
            }
            run.counts.start(run.cause, &mut self.budget);
            let attempt = self.attempt(&run, r, spec, timeout).await;
            self.record(&mut run, &attempt);
            let since_arrival = attempt.ended.saturating_duration_since(self.arrived);
            let next =
                decide(&attempt.happened, &rules, &mut run.counts, &mut self.budget, since_arrival, &mut self.rng);
            let cause = match next {
                Next::Done => return self.finish(&run, Ok(attempt.ended)),
                Next::Fail(end) => Err(end),
                Next::Retry { after } => self.pause(after, Cause::AppRetry, Cause::Relogin).await,
                Next::Reload { after: Some(after) } => self.pause(after, Cause::Reload, Cause::Relogin).await,
                Next::Reload { after: None } => Ok(Cause::Reload),
                Next::Poll { after } => self.pause(after, Cause::Poll, Cause::Poll).await,
                Next::Relogin => {
                    self.cookies.clear();
                    Box::pin(self.relogin()).await.map(|()| Cause::Relogin)
                }
                Next::Reconnect => {
                    self.drop_session();
                    Ok(Cause::Relogin)
                }
            };
            match cause {
                Ok(cause) => run.cause = cause,
                Err(end) => return self.finish(&run, Err(end)),
            }
        }
    }

    /// Before an attempt: a reloaded login form starts the login over, and a user whose
    /// session a storm dropped logs in again first.
    async fn prepare(&mut self, run: &mut StepRun, r: usize, restarts_login: bool) -> Result<(), End> {
        if run.cause == Cause::Reload && restarts_login {
            Box::pin(self.replay_login_before(r)).await?;
        }
        if self.signals.storm_hit && !self.in_relogin {
            Box::pin(self.relogin()).await?;
            run.cause = Cause::Relogin;
        }
        Ok(())
    }

    /// Send one attempt (the step's only call to `exchange`) and classify what happened.
    async fn attempt(&mut self, run: &StepRun, r: usize, spec: &RequestSpec, timeout: Duration) -> Attempt {
        let request = self.build(r, spec, timeout);
        self.ctx.recorder.attempt_started(run.step, run.cause);
        let sent = Instant::now();
        let request = match request {
            Ok(request) => request,
            // Nothing was sent; the step still failed where the user could see it.
            Err(kind) => return Attempt { happened: Happened::Unbuildable(kind), sent, ended: sent },
        };
        let keep = spec.needs_body() || self.behaviour.waiting_room.as_ref().is_some_and(|w| w.json_field.is_some());
        let mut body = keep.then(Vec::new);
        let events = &self.ctx.scenario.events;
        let exchanged = {
            let patience = self.behaviour.page_patience;
            let exchange = pin!(WithPatience::new(patience, exchange(&mut self.client, request, body.as_mut())));
            self.signals.wait(exchange, events, &mut self.rng).await
        };
        let ended = Instant::now();
        let happened = match exchanged {
            Ok(Some(Ok(received))) => {
                self.ctx.saw_version(run.step, received.version);
                self.classify(spec, &received, body.as_deref())
            }
            Ok(Some(Err(kind))) => {
                Happened::Failed { kind, failure: Failure::Transport(kind), status: None, server_asked: None }
            }
            Ok(None) => Happened::PageTimedOut,
            Err(Interrupt::Storm) => Happened::Storm,
            Err(Interrupt::GaveUp) => Happened::GaveUp,
            Err(Interrupt::CutOff) => Happened::CutOff,
        };
        Attempt { happened, sent, ended }
    }

    /// An answer: keep its cookies, then queued, accepted, or failed and why.
    fn classify(&mut self, spec: &RequestSpec, received: &Received, body: Option<&[u8]>) -> Happened {
        self.store_cookies(received);
        if let Some(room) = &self.behaviour.waiting_room {
            if is_queued(room, received, body) {
                return Happened::Queued { poll: poll_interval(room, received, body), bytes: received.bytes };
            }
        }
        match self.accept(spec, received, body) {
            Ok(()) => Happened::Accepted { bytes: received.bytes },
            Err(kind) => Happened::Failed {
                kind,
                failure: match kind {
                    ErrorKind::Status4xx | ErrorKind::Status5xx => Failure::Status(received.status),
                    other => Failure::Content(other),
                },
                status: Some(received.status),
                server_asked: retry_after(&received.headers),
            },
        }
    }

    /// Record how an attempt ended, and the waiting room it entered or left: every attempt's
    /// recording is here.
    fn record(&self, run: &mut StepRun, attempt: &Attempt) {
        let recorder = &self.ctx.recorder;
        let service = attempt.ended - attempt.sent;
        let result = match attempt.happened {
            // Left in flight: counted as cut off (sent, never finished).
            Happened::CutOff => return,
            Happened::Unbuildable(kind) => Err(kind),
            Happened::PageTimedOut | Happened::GaveUp => Err(ErrorKind::Abandoned),
            // The connection under this request is gone.
            Happened::Storm => Err(ErrorKind::Reset),
            Happened::Queued { bytes, .. } => {
                // The server answered as designed: the user is in the queue.
                run.queued_since.get_or_insert(attempt.sent);
                Ok(bytes)
            }
            Happened::Accepted { bytes } => Ok(bytes),
            Happened::Failed { kind, .. } => Err(kind),
        };
        recorder.attempt_finished(run.step, service, result);
        let answered = matches!(attempt.happened, Happened::Accepted { .. } | Happened::Failed { status: Some(_), .. });
        if let Some(since) = run.queued_since.filter(|_| answered) {
            run.queued_since = None;
            recorder.left_queue(self.persona_index, attempt.ended - since, false);
        }
    }

    /// Record how the step ended (a cut-off step is not a finished one), and pass it on.
    fn finish(&self, run: &StepRun, result: Result<Instant, End>) -> Result<Instant, End> {
        let recorder = &self.ctx.recorder;
        match result {
            Ok(ended) => recorder.step_finished(run.step, ended.saturating_duration_since(run.intended), true),
            Err(end) => {
                if let Some(since) = run.queued_since {
                    recorder.left_queue(self.persona_index, Instant::now() - since, end == End::GaveUp);
                }
                if end != End::CutOff {
                    recorder.step_finished(run.step, Instant::now().saturating_duration_since(run.intended), false);
                }
            }
        }
        result
    }

    /// Wait `delay` before the next attempt, whose cause is `then`, or `after_storm` when a
    /// storm drops the session meanwhile (the next attempt logs in again first).
    async fn pause(&mut self, delay: Duration, then: Cause, after_storm: Cause) -> Result<Cause, End> {
        let events = &self.ctx.scenario.events;
        match self.signals.wait(pin!(tokio::time::sleep(delay)), events, &mut self.rng).await {
            Ok(()) => Ok(then),
            Err(Interrupt::Storm) => {
                self.drop_session();
                Ok(after_storm)
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// One request step under way, between attempts.
struct StepRun {
    /// Global step id (for the recorder).
    step: usize,
    /// When the step was due: its latency counts from here.
    intended: Instant,
    /// The cause of the next attempt.
    cause: Cause,
    counts: Counts,
    /// When the user entered the waiting room, while it is in it.
    queued_since: Option<Instant>,
}

/// One attempt: what happened, when it was sent and when it ended.
struct Attempt {
    happened: Happened,
    sent: Instant,
    ended: Instant,
}

pin_project_lite::pin_project! {
    /// `fut`, or `None` when a person's page patience runs out first. A future of its own,
    /// not an async fn, so that `fut` (the exchange) is held once: an async fn would hold its
    /// argument and the `Timeout` built from it, side by side, in every user's task.
    struct WithPatience<F> {
        #[pin]
        fut: F,
        #[pin]
        patience: Option<tokio::time::Sleep>,
    }
}

impl<F: Future> WithPatience<F> {
    fn new(patience: Option<Duration>, fut: F) -> Self {
        WithPatience { fut, patience: patience.map(tokio::time::sleep) }
    }
}

impl<F: Future> Future for WithPatience<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let this = self.project();
        if let std::task::Poll::Ready(out) = this.fut.poll(cx) {
            return std::task::Poll::Ready(Some(out));
        }
        match this.patience.as_pin_mut() {
            Some(sleep) => sleep.poll(cx).map(|()| None),
            None => std::task::Poll::Pending,
        }
    }
}

/// Whether a response means "you are in the waiting room".
fn is_queued(room: &WaitingRoomClient, received: &Received, body: Option<&[u8]>) -> bool {
    let location_match = room.location_contains.as_deref().is_some_and(|needle| {
        (300..400).contains(&received.status)
            && received
                .headers
                .get(http::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.contains(needle))
    });
    if location_match {
        return true;
    }
    if !room.statuses.contains(&received.status) {
        return false;
    }
    match &room.json_field {
        None => room.location_contains.is_none(),
        Some(field) => body
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
            .and_then(|doc| doc.get(field.as_str()).cloned())
            .is_some_and(|v| !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false))),
    }
}

/// How long to wait before polling again: the body's `refreshIntervalSeconds`, else
/// `Retry-After`, else the configured default.
fn poll_interval(room: &WaitingRoomClient, received: &Received, body: Option<&[u8]>) -> Duration {
    let from_body = body
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .and_then(|doc| doc.get("refreshIntervalSeconds").and_then(|v| v.as_f64()))
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    from_body.or_else(|| retry_after(&received.headers)).unwrap_or(room.default_poll)
}

/// Goal patience: log-normal with this median and σ (of the log).
fn sample_patience(median: Duration, sigma: f64, rng: &mut Rng) -> Duration {
    let seconds = median.as_secs_f64() * (sigma * rng.normal()).exp();
    Duration::try_from_secs_f64(seconds).unwrap_or(median)
}

/// Draw one think time.
pub fn sample_think(think: &Think, rng: &mut Rng) -> Duration {
    match *think {
        Think::Fixed(d) => d,
        Think::Uniform(low, high) => rng.duration_between(low, high),
        Think::LogNormal { median, p90 } => {
            // p90 = median · e^(1.2816 σ)
            let median_s = median.as_secs_f64();
            let sigma = if p90 > median { (p90.as_secs_f64() / median_s).ln() / 1.281_551_6 } else { 0.0 };
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
        let think = Think::LogNormal { median: Duration::from_secs(10), p90: Duration::from_secs(40) };
        let mut rng = Rng::new(9);
        let mut draws: Vec<f64> = (0..20_000).map(|_| sample_think(&think, &mut rng).as_secs_f64()).collect();
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
}
