//! The HTTP client side, built for a load generator: hyper's connection API driven directly,
//! a small connection slot per virtual user (or one shared pool), and one request's exchange
//! with every failure classified into an [`ErrorKind`] and explained once in [`Note`]s.
//!
//! A full client per user (reqwest's, ~20 KiB with its pool, its layers and a pool key hashed
//! on every request) was most of the generator's CPU and memory per user. A user here holds
//! one handle to its own connection; the TLS configuration, the target's address and the
//! failure notes are the run's, shared. Bodies stream past and are counted; only what a check
//! or a capture needs is kept, up to [`KEEP_LIMIT`]. System proxies are ignored: load traffic
//! goes where the scenario says, never through a proxy picked up from the environment.
//! Redirects are not followed: one request step is one HTTP request, so the harness's counts
//! match the target's, and a redirect is an answer to check.

mod classify;
mod connect;
mod diagnose;
mod slot;
mod tls;

pub mod html;

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, HOST};
use http_body_util::BodyExt;

use crate::metrics::ErrorKind;
use crate::scenario::{ConnectionMode, HttpSettings};
pub use connect::Body;
use connect::{Conn, Connector};
pub use diagnose::{Note, KEPT as NOTES_KEPT};
use slot::Pool;
pub use slot::Slot;

/// The most of a body kept for checks and captures; the rest is counted, not held, so that a
/// 1 GiB download costs no memory. Far above any page a check or a JSON capture reads.
pub const KEEP_LIMIT: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot use the `tls.ca` certificate: {0}")]
    Ca(String),
    #[error("`{0}` has no host and port to connect to")]
    Url(String),
    #[error("source address {0} cannot reach {1}: one is IPv4, the other IPv6")]
    Family(String, String),
}

/// Makes the connection slot each virtual user talks through.
pub struct Clients {
    mode: ConnectionMode,
    connector: Arc<Connector>,
    shared: Option<Arc<Pool>>,
    insecure: bool,
}

impl Clients {
    /// Set up for a run against `base_url`: resolve it, build the TLS configuration.
    pub fn new(base_url: &str, settings: &HttpSettings) -> Result<Self, HttpError> {
        install_crypto_provider();
        let url = url::Url::parse(base_url).map_err(|_| HttpError::Url(base_url.to_string()))?;
        let connector = Arc::new(Connector::new(&url, settings)?);
        let shared =
            (settings.connections == ConnectionMode::Shared).then(|| Arc::new(Pool::new(settings.client.pool)));
        Ok(Clients { mode: settings.connections, connector, shared, insecure: settings.client.tls.insecure })
    }

    pub fn mode(&self) -> ConnectionMode {
        self.mode
    }

    /// Whether certificates go unchecked (`tls.insecure`): reports must say so.
    pub fn insecure(&self) -> bool {
        self.insecure
    }

    /// The slot for a newly arrived user: empty (it connects on its first request) or a
    /// handle on the shared pool.
    pub fn for_user(&self) -> Slot {
        Slot::new(self.connector.clone(), self.shared.clone())
    }

    /// Why requests failed so far, most frequent first, and how many failures are beyond the
    /// kept messages.
    pub fn notes(&self) -> (Vec<Note>, u64) {
        self.connector.notes.snapshot()
    }
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A request ready to send: an absolute URI on the run's target, and the attempt's timeout.
pub struct Outgoing {
    pub request: http::Request<Body>,
    pub timeout: Duration,
}

/// What came back for one request.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    /// Body size as received.
    pub bytes: u64,
    pub version: http::Version,
}

/// Send `out` and read the whole response. The body is appended to `keep` (up to
/// [`KEEP_LIMIT`]) when given, otherwise only counted as it streams past.
pub async fn exchange(slot: &mut Slot, out: Outgoing, keep: Option<&mut Vec<u8>>) -> Result<Received, ErrorKind> {
    let Outgoing { request, timeout } = out;
    let notes = slot.connector.clone();
    match tokio::time::timeout(timeout, send(slot, request, keep)).await {
        Ok(result) => result,
        Err(_) => Err(notes.notes.fail(ErrorKind::Timeout, || {
            format!("no complete answer from {} within {}", notes.server, crate::format::duration(timeout))
        })),
    }
}

async fn send(
    slot: &mut Slot,
    mut request: http::Request<Body>,
    keep: Option<&mut Vec<u8>>,
) -> Result<Received, ErrorKind> {
    let pool = slot.pool();
    let _permit = Slot::permit(pool.as_deref()).await;
    let (mut conn, mut reused) = slot.take().await?;
    let absolute = request.uri().clone();
    let connector = slot.connector.clone();
    let response = loop {
        prepare(&mut request, &conn, &absolute, &connector.host);
        let sent = classify::within_first_byte(&connector, send_on(&mut conn, request));
        match sent.await? {
            Ok(response) => break response,
            // Never written: the kept connection had closed. Send it on a new one, as a
            // browser does, instead of reporting a reset the target never caused.
            Err(SendError::Unsent(unsent)) if reused => {
                request = unsent;
                conn = slot.reopen().await?;
                reused = false;
            }
            Err(SendError::Unsent(_)) => {
                return Err(connector
                    .notes
                    .fail(ErrorKind::Reset, || format!("{} closed a new connection at once", connector.server)))
            }
            Err(SendError::Failed(e)) => return Err(classify::send_failure(&connector, &e)),
        }
    };
    let (parts, mut body) = response.into_parts();
    let mut bytes = 0u64;
    let mut keep = keep;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify::body_failure(&connector, &e))?;
        if let Ok(data) = frame.into_data() {
            bytes += data.len() as u64;
            if let Some(buf) = keep.as_deref_mut() {
                keep_prefix(buf, &data);
            }
        }
    }
    slot.put(conn);
    Ok(Received { status: parts.status.as_u16(), headers: parts.headers, bytes, version: parts.version })
}

/// HTTP/1.1 wants the path in the request line and the authority in `Host`; HTTP/2 takes
/// both from the absolute URI.
fn prepare(request: &mut http::Request<Body>, conn: &Conn, absolute: &http::Uri, host: &HeaderValue) {
    match conn {
        Conn::H1(_) => {
            let path = absolute.path_and_query().cloned().unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
            *request.uri_mut() = http::Uri::from(path);
            request.headers_mut().entry(HOST).or_insert_with(|| host.clone());
        }
        Conn::H2(_) => {
            *request.uri_mut() = absolute.clone();
            *request.version_mut() = http::Version::HTTP_2;
        }
    }
}

/// Why a send did not give a response. (The unsent request is handed back by value: it is
/// sent again at once, and boxing it would cost every request an allocation.)
#[allow(clippy::large_enum_variant)]
enum SendError {
    /// Never written: the connection was closed before it could carry the request.
    Unsent(http::Request<Body>),
    Failed(hyper::Error),
}

async fn send_on(
    conn: &mut Conn,
    request: http::Request<Body>,
) -> Result<http::Response<hyper::body::Incoming>, SendError> {
    let sent = match conn {
        Conn::H1(sender) => {
            // A kept connection the server has just closed reports it here.
            if sender.ready().await.is_err() {
                return Err(SendError::Unsent(request));
            }
            sender.try_send_request(request).await
        }
        Conn::H2(sender) => sender.try_send_request(request).await,
    };
    sent.map_err(|mut e| match e.take_message() {
        Some(request) => SendError::Unsent(request),
        None => SendError::Failed(e.into_error()),
    })
}

fn keep_prefix(buf: &mut Vec<u8>, data: &Bytes) {
    let room = KEEP_LIMIT.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

/// An HTTP date in any of the three forms RFC 9110 §5.6.7 allows (IMF-fixdate, RFC 850 with
/// dashes, asctime), as used by `Retry-After` and cookie `Expires`.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text.trim()).ok()
}
