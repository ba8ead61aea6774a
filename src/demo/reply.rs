//! Building the workspace's responses, without a fallible builder on the hot path.

use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::credentials::COOKIE;
use super::waiting_room::{Queued, QUEUE_COOKIE};

pub(crate) fn json(status: StatusCode, body: Bytes) -> Response {
    with_type(status, "application/json", body)
}

pub(crate) fn octets(body: Bytes) -> Response {
    with_type(StatusCode::OK, "application/octet-stream", body)
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response {
    with_type(status, "text/plain; charset=utf-8", Bytes::from_static(body.as_bytes()))
}

/// `{"error": "..."}` with the given status.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    json(status, to_bytes(&json!({ "error": message })))
}

/// 503 for a request refused because the queue was full. `Retry-After: 1` invites clients
/// that honour it to come back in a second, as a real overloaded front would.
pub(crate) fn shed() -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, "the workspace is overloaded, retry later");
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// 503 from the waiting room: `Retry-After` in whole seconds (rounded up, as the header
/// allows no fraction), the ticket cookie, and `{"queued", "position", "eta_seconds",
/// "retry_after_seconds"}`. The last field carries the exact poll interval, which the header
/// cannot when it is below a second; `eta_seconds` is `null` when nobody is ever admitted.
pub(crate) fn queued(queued: &Queued) -> Response {
    let body = to_bytes(&json!({
        "queued": true,
        "position": queued.position,
        "eta_seconds": queued.eta.map(millis),
        "retry_after_seconds": millis(queued.retry_after),
    }));
    let mut response = json(StatusCode::SERVICE_UNAVAILABLE, body);
    let seconds = queued.retry_after.as_secs() + u64::from(queued.retry_after.subsec_nanos() > 0);
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    with_cookie(response, format!("{QUEUE_COOKIE}={}; Path=/; HttpOnly", queued.ticket))
}

/// 403 for a login refused by a block window: `{"blocked": true, "until_seconds": s}`, the
/// time left until the window closes.
pub(crate) fn blocked(left: Duration) -> Response {
    let body = to_bytes(&json!({
        "blocked": true,
        "until_seconds": millis(left),
        "error": "logins of this kind of user are closed for now",
    }));
    json(StatusCode::FORBIDDEN, body)
}

/// Adds a `Set-Cookie` that makes the browser forget its waiting-room ticket, once the
/// ticket has been exchanged for a session.
pub(crate) fn forget_ticket(response: &mut Response) {
    let cookie = format!("{QUEUE_COOKIE}=; Path=/; HttpOnly; Max-Age=0");
    if let Ok(value) = HeaderValue::try_from(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Seconds with millisecond precision, for JSON bodies.
fn millis(duration: Duration) -> f64 {
    duration.as_millis() as f64 / 1000.0
}

/// 200 with the session cookie and `{"token", "user"}`, as `POST /login` answers.
pub(crate) fn logged_in(token: &str, user: &str) -> Response {
    let body = to_bytes(&json!({ "token": token, "user": user }));
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly");
    with_cookie(json(StatusCode::OK, body), cookie)
}

/// 200 that also tells the browser to forget the session cookie.
pub(crate) fn logged_out() -> Response {
    let body = to_bytes(&json!({ "logged_out": true }));
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; Max-Age=0");
    with_cookie(json(StatusCode::OK, body), cookie)
}

pub(crate) fn to_bytes(value: &serde_json::Value) -> Bytes {
    // A `Value` built by this module always serialises.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn with_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    // Tokens are hex, so the cookie is always a valid header value; if that ever changed,
    // a missing cookie (the JSON still carries the token) beats a crash.
    if let Ok(value) = HeaderValue::try_from(cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}
