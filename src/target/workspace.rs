//! One request's life in the demo workspace: counted, queued for a worker, served, counted.
//!
//! Every route except `/health` and unknown paths takes a worker slot and holds it for the
//! route's service time: CPU for logins, then a sleep that stands for the database and
//! templating time of a real ENT page. Requests refused inside a slot (no session, a bad
//! body) hold it only briefly, see [`REJECT_COST`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::request::Parts;
use http::StatusCode;
use serde_json::json;

use super::capacity::Capacity;
use super::config::{EmbeddedConfig, ServiceTimes};
use super::content::Content;
use super::counts::Counters;
use super::cpu;
use super::credentials::{presented_tokens, Credentials};
use super::reply;
use super::route::Route;
use super::sessions::Sessions;

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
        Workspace {
            service: config.service_time.clone(),
            login_cpu: config.login_cpu,
            capacity: Capacity::new(config.workers, config.queue),
            sessions: Sessions::new(),
            counters: Counters::new(),
            content: Content::new(file_size),
        }
    }

    /// Serves a request taking a worker slot when the route needs one.
    async fn serve(&self, route: Route, request: Request) -> Response {
        if !route.takes_slot() {
            return match route {
                Route::Health => reply::text(StatusCode::OK, "ok"),
                _ => reply::error(StatusCode::NOT_FOUND, "no such page"),
            };
        }
        let Ok(_slot) = self.capacity.admit(&self.counters).await else {
            self.counters.shed();
            return reply::shed();
        };
        // Service time runs from the moment the slot is taken: time spent queued is the
        // client's latency, not the worker's.
        let started = Instant::now();
        let (response, cost) = self.work(route, request).await;
        let service = route.service_time(&self.service);
        let hold = match cost {
            Cost::Full => service,
            Cost::Rejected => service.min(REJECT_COST),
        };
        tokio::time::sleep_until((started + hold).into()).await;
        response
    }

    /// The route's own work, inside its slot.
    async fn work(&self, route: Route, request: Request) -> (Response, Cost) {
        let (parts, body) = request.into_parts();
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
            Route::Login | Route::Health | Route::Other => {
                reply::error(StatusCode::NOT_FOUND, "no such page")
            }
        };
        (response, Cost::Full)
    }

    async fn login(&self, parts: &Parts, body: Body) -> (Response, Cost) {
        let Some(body) = read_body(body).await else {
            return (bad_request("the body could not be read"), Cost::Rejected);
        };
        let credentials = match Credentials::parse(&parts.headers, &body) {
            Ok(credentials) => credentials,
            Err(reason) => return (bad_request(&reason.to_string()), Cost::Rejected),
        };
        // The hash of the password (and the user, as a salt) is what burns the CPU.
        let secret = format!("{}:{}", credentials.user, credentials.password);
        cpu::burn(secret.as_bytes(), self.login_cpu);
        let token = self.sessions.open(&credentials.user);
        self.counters.session_created();
        (reply::logged_in(&token, &credentials.user), Cost::Full)
    }

    /// `POST /exam/answer`: any JSON body is an answer; it is counted in the session.
    async fn answer(&self, token: &str, body: Body) -> (Response, Cost) {
        let valid = match read_body(body).await {
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
        (
            reply::json(StatusCode::OK, reply::to_bytes(&ack)),
            Cost::Full,
        )
    }

    /// The first presented token naming a live session, with its user.
    fn session(&self, parts: &Parts) -> Option<(String, Arc<str>)> {
        presented_tokens(&parts.headers).find_map(|token| {
            let user = self.sessions.user(token)?;
            Some((token.to_owned(), user))
        })
    }
}

/// The one handler of the router: counts the request on receipt and its response's status.
pub(crate) async fn handle(State(workspace): State<Arc<Workspace>>, request: Request) -> Response {
    let route = Route::classify(request.method(), request.uri().path());
    workspace.counters.received(route);
    let response = workspace.serve(route, request).await;
    workspace.counters.responded(response.status());
    response
}

async fn read_body(body: Body) -> Option<bytes::Bytes> {
    axum::body::to_bytes(body, MAX_BODY).await.ok()
}

fn unauthorized() -> Response {
    reply::error(StatusCode::UNAUTHORIZED, "no valid session, log in again")
}

fn bad_request(reason: &str) -> Response {
    reply::error(StatusCode::BAD_REQUEST, reason)
}
