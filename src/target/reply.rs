//! Building the workspace's responses, without a fallible builder on the hot path.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::credentials::COOKIE;

pub(crate) fn json(status: StatusCode, body: Bytes) -> Response {
    with_type(status, "application/json", body)
}

pub(crate) fn octets(body: Bytes) -> Response {
    with_type(StatusCode::OK, "application/octet-stream", body)
}

pub(crate) fn text(status: StatusCode, body: &'static str) -> Response {
    with_type(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(body.as_bytes()),
    )
}

/// `{"error": "..."}` with the given status.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    json(status, to_bytes(&json!({ "error": message })))
}

/// 503 for a request refused because the queue was full. `Retry-After: 1` invites clients
/// that honour it to come back in a second, as a real overloaded front would.
pub(crate) fn shed() -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the workspace is overloaded, retry later",
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
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
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
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
