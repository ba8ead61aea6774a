//! The HTTP client side, built for a load generator: HTTP/1.1 driven by the user's own task
//! ([`h1`]), HTTP/2 by hyper's connection API, a small connection slot per virtual user (or
//! one shared pool), and one request's exchange with every failure classified into an
//! [`ErrorKind`] and explained once in [`Note`]s.
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
pub mod descriptors;
mod diagnose;
mod h1;
mod slot;
mod tls;

pub mod html;

use std::sync::{Arc, Once};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;

use crate::metrics::ErrorKind;
use crate::scenario::{ConnectionMode, HttpSettings};
pub use connect::Body;
use connect::{Conn, Connector};
pub use diagnose::{Note, KEPT as NOTES_KEPT};
use h1::H1;
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
        descriptors::raise_limit();
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
    request: http::Request<Body>,
    keep: Option<&mut Vec<u8>>,
) -> Result<Received, ErrorKind> {
    let pool = slot.pool();
    let _permit = Slot::permit(pool.as_deref()).await;
    let (mut conn, mut reused) = slot.take().await?;
    let connector = slot.connector.clone();
    let mut keep = keep;
    let mut request = Some(request);
    loop {
        let sent = match &mut conn {
            Conn::H1(h1) => {
                let request = request.as_ref().expect("kept until sent");
                h1_exchange(&connector, h1, request, keep.as_deref_mut()).await
            }
            Conn::H2(sender) => {
                let outgoing = request.take().expect("kept until sent");
                h2_exchange(&connector, sender, outgoing, &mut request, keep.as_deref_mut()).await
            }
        };
        match sent {
            Ok(received) => {
                slot.put(conn);
                return Ok(received);
            }
            // Never carried: the kept connection had closed. Send it on a new one, as a browser
            // does, instead of reporting a reset the target never caused.
            Err(Sent::Unsent) if reused => {
                conn = slot.reopen().await?;
                reused = false;
            }
            Err(Sent::Unsent) => {
                return Err(connector
                    .notes
                    .fail(ErrorKind::Reset, || format!("{} closed a new connection at once", connector.server)))
            }
            Err(Sent::Failed(kind)) => return Err(kind),
        }
    }
}

/// Why an exchange gave no response.
enum Sent {
    /// Not carried: the connection was closed before it could take the request.
    Unsent,
    Failed(ErrorKind),
}

/// One exchange on an HTTP/1.1 connection, driven by this task.
async fn h1_exchange(
    connector: &Connector,
    conn: &mut H1,
    request: &http::Request<Body>,
    keep: Option<&mut Vec<u8>>,
) -> Result<Received, Sent> {
    let head = classify::within_first_byte(connector, async {
        // A write that fails has not reached a server that reads: on a kept connection, the
        // server closed it as it was written to.
        conn.send(request, &connector.host).await.map_err(|_| Sent::Unsent)?;
        let head = conn.read_head(request.method()).await;
        head.map_err(|f| Sent::Failed(classify::h1_failure(connector, "before the answer", f)))
    });
    let head = head.await.map_err(Sent::Failed)??;
    let mut keep = keep;
    let body = conn.read_body(&head, |data| {
        if let Some(buf) = keep.as_deref_mut() {
            keep_prefix(buf, data);
        }
    });
    let bytes = body.await.map_err(|f| Sent::Failed(classify::h1_failure(connector, "in the middle of a body", f)))?;
    Ok(Received { status: head.status, headers: head.headers, bytes, version: head.version })
}

/// One exchange on an HTTP/2 connection, by hyper. A request the connection could not carry
/// is handed back in `unsent`.
async fn h2_exchange(
    connector: &Connector,
    sender: &mut http2::SendRequest<Full<Bytes>>,
    request: http::Request<Body>,
    unsent: &mut Option<http::Request<Body>>,
    keep: Option<&mut Vec<u8>>,
) -> Result<Received, Sent> {
    let mut request = request;
    *request.version_mut() = http::Version::HTTP_2;
    let body = request.body().clone();
    let sent = classify::within_first_byte(connector, sender.try_send_request(request.map(Full::new)));
    let response = match sent.await.map_err(Sent::Failed)? {
        Ok(response) => response,
        Err(mut e) => match e.take_message() {
            Some(request) => {
                *unsent = Some(request.map(|_| body));
                return Err(Sent::Unsent);
            }
            None => return Err(Sent::Failed(classify::send_failure(connector, &e.into_error()))),
        },
    };
    let (parts, mut body) = response.into_parts();
    let mut bytes = 0u64;
    let mut keep = keep;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Sent::Failed(classify::body_failure(connector, &e)))?;
        if let Ok(data) = frame.into_data() {
            bytes += data.len() as u64;
            if let Some(buf) = keep.as_deref_mut() {
                keep_prefix(buf, &data);
            }
        }
    }
    Ok(Received { status: parts.status.as_u16(), headers: parts.headers, bytes, version: parts.version })
}

fn keep_prefix(buf: &mut Vec<u8>, data: &[u8]) {
    let room = KEEP_LIMIT.saturating_sub(buf.len());
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

/// An HTTP date in any of the three forms RFC 9110 §5.6.7 allows (IMF-fixdate, RFC 850 with
/// dashes, asctime), as used by `Retry-After` and cookie `Expires`.
pub fn parse_http_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text.trim()).ok()
}
