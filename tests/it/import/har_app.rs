//! The application `ent-session.har` was recorded against, on 127.0.0.1: a login form with a
//! one-time CSRF field, a session cookie, a token handed out in JSON and required as a bearer,
//! and homework ids that belong to the user who listed them. A replay that froze any of those
//! values is refused, so a run that reaches the goal proves the correlation.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// What the application saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub logins: u64,
    pub bad_csrf: u64,
    pub details: u64,
    /// Requests refused for a missing or wrong cookie, token or id.
    pub refused: u64,
}

#[derive(Default)]
struct Inner {
    next: u64,
    csrf: HashSet<String>,
    /// sid → user
    sessions: HashMap<String, String>,
    /// token → (user, homework ids listed to it)
    tokens: HashMap<String, (String, Vec<u64>)>,
    counts: Counts,
}

type Shared = Arc<Mutex<Inner>>;

pub struct App {
    port: u16,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl App {
    pub fn start() -> App {
        let state: Shared = Arc::default();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = Router::new()
            .route("/login", get(login_page).post(login))
            .route("/home", get(home))
            .route("/api/session", get(session))
            .route("/api/homework", get(homework))
            .route("/api/homework/{id}", get(detail))
            .with_state(state.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        App { port, state, stop: Some(stop), thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn counts(&self) -> Counts {
        self.state.lock().unwrap().counts
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn refuse(state: &Shared, status: StatusCode) -> Response {
    state.lock().unwrap().counts.refused += 1;
    status.into_response()
}

async fn login_page(State(state): State<Shared>) -> Html<String> {
    let mut inner = state.lock().unwrap();
    inner.next += 1;
    let csrf = format!("csrf-{:016x}", inner.next.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    inner.csrf.insert(csrf.clone());
    Html(format!(
        r#"<!DOCTYPE html><html><body><form method="post" action="/login"><input type="hidden" name="csrf_token" value="{csrf}"><input name="username"><input type="password" name="password"></form></body></html>"#
    ))
}

#[derive(Deserialize)]
struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
}

async fn login(State(state): State<Shared>, Form(form): Form<LoginForm>) -> Response {
    let mut inner = state.lock().unwrap();
    if !inner.csrf.remove(&form.csrf_token) {
        inner.counts.bad_csrf += 1;
        return StatusCode::FORBIDDEN.into_response();
    }
    if form.username.is_empty() || form.password != "change-me" {
        inner.counts.refused += 1;
        return StatusCode::FORBIDDEN.into_response();
    }
    inner.counts.logins += 1;
    inner.next += 1;
    let sid = format!("sid-{}", inner.next);
    inner.sessions.insert(sid.clone(), form.username);
    let cookie = format!("sid={sid}; Path=/; HttpOnly");
    (StatusCode::FOUND, [(header::LOCATION, "/home".to_string()), (header::SET_COOKIE, cookie)]).into_response()
}

fn user_of_cookie(state: &Shared, headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let sid = cookies.split(';').find_map(|c| c.trim().strip_prefix("sid="))?;
    state.lock().unwrap().sessions.get(sid).cloned()
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::to_string)
}

async fn home(State(state): State<Shared>, headers: HeaderMap) -> Response {
    match user_of_cookie(&state, &headers) {
        Some(_) => Html("<!DOCTYPE html><html><body><div id=app></div></body></html>").into_response(),
        None => refuse(&state, StatusCode::UNAUTHORIZED),
    }
}

async fn session(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Some(user) = user_of_cookie(&state, &headers) else { return refuse(&state, StatusCode::UNAUTHORIZED) };
    let mut inner = state.lock().unwrap();
    inner.next += 1;
    let token = format!("tok-{:024x}", u128::from(inner.next) * 0x1234_5678_9abc_def1);
    inner.tokens.insert(token.clone(), (user.clone(), Vec::new()));
    Json(serde_json::json!({ "token": token, "user": user, "expires_in": 3600 })).into_response()
}

async fn homework(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let Some(token) = token_of(&headers) else { return refuse(&state, StatusCode::UNAUTHORIZED) };
    let mut inner = state.lock().unwrap();
    inner.next += 1;
    let ids = vec![8000 + inner.next, 8001 + inner.next];
    let Some(entry) = inner.tokens.get_mut(&token) else {
        drop(inner);
        return refuse(&state, StatusCode::UNAUTHORIZED);
    };
    entry.1 = ids.clone();
    let items: Vec<_> = ids.iter().map(|id| serde_json::json!({ "id": id, "subject": "Mathématiques" })).collect();
    Json(serde_json::json!({ "week": 37, "items": items })).into_response()
}

async fn detail(State(state): State<Shared>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    let Some(token) = token_of(&headers) else { return refuse(&state, StatusCode::UNAUTHORIZED) };
    let mut inner = state.lock().unwrap();
    let mine = inner.tokens.get(&token).is_some_and(|(_, ids)| ids.contains(&id));
    if !mine {
        drop(inner);
        return refuse(&state, StatusCode::NOT_FOUND);
    }
    inner.counts.details += 1;
    Json(serde_json::json!({ "id": id, "text": "Exercices 12 à 15 page 148" })).into_response()
}
