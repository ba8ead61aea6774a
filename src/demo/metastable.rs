//! Serving requests whose client has gone (`Overload::Metastable`).
//!
//! Normally hyper drops a request's handler when its client disconnects, so a queued request
//! gives its place back and an in-service one frees its worker. Real application servers
//! mostly do not notice: a PHP worker or a servlet thread finishes the page and writes it into
//! a closed socket, and the request that timed out in the client is still in the accept
//! queue. That is what makes a retry storm self-sustaining (docs/background.md#metastability, metastable
//! failures): clients time out and retry, each retry adds work, and the server spends its
//! capacity on answers nobody reads, long after the spike that started it.
//!
//! So in this mode the serve path runs in a detached task that the handler merely awaits:
//! dropping the handler leaves the task queued or working to the end. The task hands its
//! response over a oneshot channel; a closed channel means the client has gone, and the work
//! is counted as `served_to_nobody` instead of under its status.
//!
//! The body is read on arrival, before queueing, as a buffering reverse proxy in front of an
//! application server does: once the client is gone its body can no longer be read, and a
//! dead login must still cost its full service time.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use http::StatusCode;
use tokio::sync::oneshot;

use super::reply;
use super::route::Route;
use super::workspace::{Payload, Workspace};

/// Serves `request` to completion whether or not its client waits for the answer.
pub(crate) async fn serve_detached(workspace: Arc<Workspace>, route: Route, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = Payload::Read(Payload::Streaming(body).read().await);
    let (answer, answered) = oneshot::channel();
    let served = Arc::clone(&workspace);
    tokio::spawn(async move {
        let workspace = served;
        let response = workspace.serve(route, parts, body).await;
        let status = response.status();
        // Counted here rather than by the handler: once the response is handed over the
        // client has it, and a handler dropped right after could not count it any more.
        match answer.send(response) {
            Ok(()) => workspace.counters.responded(status),
            Err(_) => workspace.counters.served_to_nobody(),
        }
    });
    // The task only ends without answering if it panicked or the runtime is shutting down.
    answered.await.unwrap_or_else(|_| {
        workspace.counters.responded(StatusCode::INTERNAL_SERVER_ERROR);
        reply::error(StatusCode::INTERNAL_SERVER_ERROR, "the request was not served")
    })
}
