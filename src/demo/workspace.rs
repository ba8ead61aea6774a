//! One request's life in the demo workspace: counted, queued for a worker, served, counted.
//!
//! Every route except `/health` and unknown paths takes a worker slot and holds it for the
//! route's service time: CPU for logins, then a sleep that stands for the database and
//! templating time of a real ENT page. Requests refused inside a slot (no session, a bad
//! body) hold it only briefly, see [`REJECT_COST`].
//!
//! The overload mode decides what happens around that: `Queue` is a queue that never fills,
//! `Metastable` serves from a detached task (see `metastable`), `WaitingRoom` puts a
//! waiting room in front of logins (see `waiting_room`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::request::Parts;
use http::StatusCode;
use serde_json::json;

use super::blocks::Blocks;
use super::capacity::Capacity;
use super::content::Content;
use super::counts::{Counters, TargetCounts};
use super::cpu;
use super::credentials::{presented_tokens, Credentials};
use super::metastable;
use super::reply;
use super::route::Route;
use super::sessions::{Lookup, Sessions};
use super::waiting_room::{Entry, WaitingRoom};
use crate::scenario::embedded::{EmbeddedConfig, Overload, ServiceTimes};

/// How long a rejected request (401, 400) holds its slot, at most its route's service time.
///
/// A real server pays for authentication too: it looks the session up (a cache or database
/// round trip) before it can refuse, so a 401 is not free and a flood of expired sessions
/// still loads the workers. But it skips the page's queries and rendering, so the cost is a
/// short fixed one rather than the full service time.
pub(crate) const REJECT_COST: Duration = Duration::from_millis(1);

/// Largest request body read (a login form, an exam answer); larger ones are refused.
const MAX_BODY: usize = 64 * 1024;

/// The shared state of a running target.
pub(crate) struct Workspace {
    service: ServiceTimes,
    login_cpu: Duration,
    capacity: Capacity,
    pub(crate) sessions: Sessions,
    pub(crate) counters: Counters,
    content: Content,
    /// `Overload::Metastable`: work goes on after the client has gone.
    detached: bool,
    room: Option<WaitingRoom>,
    blocks: Blocks,
}

/// A request body: still streaming from the client, or read on arrival (`None`: it could
/// not be read, or was too large).
pub(crate) enum Payload {
    Streaming(Body),
    Read(Option<bytes::Bytes>),
}

/// What serving a request cost, which decides how long it keeps its slot.
enum Cost {
    /// The route's full service time.
    Full,
    /// Refused early: [`REJECT_COST`].
    Rejected,
}

impl Workspace {
    pub(crate) fn new(config: &EmbeddedConfig, file_size: usize) -> Workspace {
        let started = Instant::now();
        // `Queue` is `Shed` with a queue that never fills: the semaphore's waiter list is the
        // unbounded queue, and latency grows with it.
        let queue = match config.overload {
            Overload::Queue => usize::MAX,
            _ => config.queue,
        };
        let room = match config.overload {
            Overload::WaitingRoom { admit_per_second, retry_after } => {
                Some(WaitingRoom::new(admit_per_second, retry_after, started))
            }
            _ => None,
        };
        Workspace {
            service: config.service_time.clone(),
            login_cpu: config.login_cpu,
            capacity: Capacity::new(config.workers, queue),
            sessions: Sessions::new(config.session_idle),
            counters: Counters::new(),
            content: Content::new(file_size),
            detached: config.overload == Overload::Metastable,
            room,
            blocks: Blocks::new(&config.blocks, started),
        }
    }

    /// What the target saw so far, the waiting room's state included.
    pub(crate) fn counts(&self) -> TargetCounts {
        let mut counts = self.counters.snapshot();
        if let Some(room) = &self.room {
            counts.waiting_room = room.counts(Instant::now());
        }
        counts
    }

    /// Serves a request taking a worker slot when the route needs one. Logins first pass
    /// the waiting room, if any: it stands at the edge, in front of the workers.
    pub(crate) async fn serve(&self, route: Route, parts: Parts, body: Payload) -> Response {
        if !route.takes_slot() {
            return match route {
                Route::Health => reply::text(StatusCode::OK, "ok"),
                _ => reply::error(StatusCode::NOT_FOUND, "no such page"),
            };
        }
        let mut ticket = false;
        if let (Route::Login, Some(room)) = (route, &self.room) {
            match room.enter(&parts.headers, Instant::now()) {
                Entry::Admitted { ticket: used } => ticket = used,
                Entry::Queued(queued) => return reply::queued(&queued),
            }
        }
        let Ok(_slot) = self.capacity.admit(&self.counters).await else {
            self.counters.shed();
            return reply::shed();
        };
        // Service time runs from the moment the slot is taken: time spent queued is the
        // client's latency, not the worker's.
        let started = Instant::now();
        let (mut response, cost) = self.work(route, parts, body).await;
        let service = route.service_time(&self.service);
        let hold = match cost {
            Cost::Full => service,
            Cost::Rejected => service.min(REJECT_COST),
        };
        tokio::time::sleep_until((started + hold).into()).await;
        if ticket && response.status() == StatusCode::OK {
            reply::forget_ticket(&mut response);
        }
        response
    }

    /// The route's own work, inside its slot.
    async fn work(&self, route: Route, parts: Parts, body: Payload) -> (Response, Cost) {
        if route == Route::Login {
            return self.login(&parts, body).await;
        }
        let Some((token, user)) = self.session(&parts) else {
            return (unauthorized(), Cost::Rejected);
        };
        let response = match route {
            Route::Agenda => reply::json(StatusCode::OK, self.content.agenda(&user)),
            Route::Homework => reply::json(StatusCode::OK, self.content.homework(&user)),
            Route::Grades => reply::json(StatusCode::OK, self.content.grades(&user)),
            Route::Messages => reply::json(StatusCode::OK, self.content.messages(&user)),
            Route::Files => reply::octets(self.content.file.clone()),
            Route::ExamStart => reply::json(StatusCode::OK, self.content.exam.clone()),
            Route::ExamAnswer => return self.answer(&token, body).await,
            Route::Logout => {
                self.sessions.close(&token);
                reply::logged_out()
            }
            // Login was handled above; Health and Other never take a slot.
            Route::Login | Route::Health | Route::Other => reply::error(StatusCode::NOT_FOUND, "no such page"),
        };
        (response, Cost::Full)
    }

    async fn login(&self, parts: &Parts, body: Payload) -> (Response, Cost) {
        let Some(body) = body.read().await else {
            return (bad_request("the body could not be read"), Cost::Rejected);
        };
        let credentials = match Credentials::parse(&parts.headers, &body) {
            Ok(credentials) => credentials,
            Err(reason) => return (bad_request(&reason.to_string()), Cost::Rejected),
        };
        // Checked before hashing: refusing a blocked user is what spares the CPU.
        if let Some(left) = self.blocks.refusal(&credentials.user, Instant::now()) {
            self.counters.blocked();
            return (reply::blocked(left), Cost::Rejected);
        }
        // The hash of the password (and the user, as a salt) is what burns the CPU.
        let secret = format!("{}:{}", credentials.user, credentials.password);
        cpu::burn(secret.as_bytes(), self.login_cpu);
        let token = self.sessions.open(&credentials.user);
        self.counters.session_created();
        (reply::logged_in(&token, &credentials.user), Cost::Full)
    }

    /// `POST /exam/answer`: any JSON body is an answer; it is counted in the session.
    async fn answer(&self, token: &str, body: Payload) -> (Response, Cost) {
        let valid = match body.read().await {
            Some(body) => serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
            None => false,
        };
        if !valid {
            return (bad_request("an answer is a JSON body"), Cost::Rejected);
        }
        // A concurrent logout may have closed the session since it was checked.
        let Some(answers) = self.sessions.record_answer(token) else {
            return (unauthorized(), Cost::Rejected);
        };
        let ack = json!({ "saved": true, "answers": answers });
        (reply::json(StatusCode::OK, reply::to_bytes(&ack)), Cost::Full)
    }

    /// The first presented token naming a live session, with its user.
    fn session(&self, parts: &Parts) -> Option<(String, Arc<str>)> {
        let now = Instant::now();
        presented_tokens(&parts.headers).find_map(|token| match self.sessions.user(token, now) {
            Lookup::Live(user) => Some((token.to_owned(), user)),
            Lookup::Expired => {
                self.counters.session_expired();
                None
            }
            Lookup::Unknown => None,
        })
    }
}

impl Payload {
    /// Reads the body now, or hands over what was read on arrival.
    pub(crate) async fn read(self) -> Option<bytes::Bytes> {
        match self {
            Payload::Streaming(body) => axum::body::to_bytes(body, MAX_BODY).await.ok(),
            Payload::Read(bytes) => bytes,
        }
    }
}

/// The one handler of the router: counts the request on receipt and its response's status.
pub(crate) async fn handle(State(workspace): State<Arc<Workspace>>, request: Request) -> Response {
    let route = Route::classify(request.method(), request.uri().path());
    workspace.counters.received(route);
    if workspace.detached && route.takes_slot() {
        return metastable::serve_detached(workspace, route, request).await;
    }
    let (parts, body) = request.into_parts();
    let response = workspace.serve(route, parts, Payload::Streaming(body)).await;
    workspace.counters.responded(response.status());
    response
}

fn unauthorized() -> Response {
    reply::error(StatusCode::UNAUTHORIZED, "no valid session, log in again")
}

fn bad_request(reason: &str) -> Response {
    reply::error(StatusCode::BAD_REQUEST, reason)
}
