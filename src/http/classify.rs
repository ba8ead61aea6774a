//! From what the HTTP/1.1 reader, hyper (HTTP/2), rustls and the socket say to the
//! [`ErrorKind`] a report counts, with the message kept in the run's notes.
//!
//! The rules: nothing came back in time → `timeout`; the connection went away under the
//! exchange → `reset`; bytes came back that are not HTTP → `protocol`. A connection that never
//! opened is `connect` (or `tls`), classified where it is opened (`connect.rs`).

use std::future::Future;

use super::connect::Connector;
use super::h1::Failure;
use crate::metrics::ErrorKind;

/// `fut` (a request waiting for its response head) within `http.timeouts.first_byte`.
pub async fn within_first_byte<F: Future>(connector: &Connector, fut: F) -> Result<F::Output, ErrorKind> {
    let Some(limit) = connector.first_byte() else { return Ok(fut.await) };
    tokio::time::timeout(limit, fut).await.map_err(|_| {
        connector.notes.fail(ErrorKind::Timeout, || {
            format!("no first byte from {} within {}", connector.server, crate::format::duration(limit))
        })
    })
}

/// An HTTP/1.1 exchange that failed `at` some point ("before the answer", "in the middle of a
/// body").
pub fn h1_failure(connector: &Connector, at: &str, failure: Failure) -> ErrorKind {
    let (kind, why) = match failure {
        Failure::Closed(what) => (ErrorKind::Reset, what.to_string()),
        Failure::Malformed(what) => (ErrorKind::Protocol, what),
        Failure::Io(e) => (io_kind(&e).unwrap_or(ErrorKind::Other), e.to_string()),
    };
    connector.notes.fail(kind, || format!("{} {at}: {why}", connector.server))
}

fn io_kind(io: &std::io::Error) -> Option<ErrorKind> {
    use std::io::ErrorKind as Io;
    match io.kind() {
        Io::TimedOut => Some(ErrorKind::Timeout),
        Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => Some(ErrorKind::Reset),
        // rustls reports a broken record as invalid data; hyper's HTTP/2 body decoder a bad
        // frame as invalid input.
        Io::InvalidData | Io::InvalidInput => Some(ErrorKind::Protocol),
        _ => None,
    }
}

/// An HTTP/2 request that was sent and got no response head.
pub fn send_failure(connector: &Connector, error: &hyper::Error) -> ErrorKind {
    let kind = kind_of(error);
    connector.notes.fail(kind, || format!("{} before the answer: {}", connector.server, chain(error)))
}

/// An HTTP/2 response whose body did not arrive whole.
pub fn body_failure(connector: &Connector, error: &hyper::Error) -> ErrorKind {
    let kind = kind_of(error);
    connector.notes.fail(kind, || format!("{} in the middle of a body: {}", connector.server, chain(error)))
}

fn kind_of(error: &hyper::Error) -> ErrorKind {
    if error.is_timeout() {
        return ErrorKind::Timeout;
    }
    if error.is_parse() || error.is_parse_status() || error.is_parse_too_large() || error.is_parse_version_h2() {
        return ErrorKind::Protocol;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(kind) = e.downcast_ref::<std::io::Error>().and_then(io_kind) {
            return kind;
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return if h2.is_reset() || h2.is_go_away() || h2.is_io() { ErrorKind::Reset } else { ErrorKind::Protocol };
        }
        source = e.source();
    }
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() || error.is_body_write_aborted() {
        ErrorKind::Reset
    } else {
        ErrorKind::Other
    }
}

/// The error and its causes, `: `-separated (hyper's own messages say little alone).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}
