//! The HTTP client side: one reqwest client per virtual user (or one shared), and one
//! request's exchange with every failure classified into an [`ErrorKind`].
//!
//! TLS is rustls with the ring provider and the platform verifier, configured once and
//! handed to every per-user client, so a user costs a connection pool, not a copy of the root
//! store. System proxies are ignored: load traffic must go where the scenario says, never
//! through a proxy picked up from the environment.

pub mod html;

use std::sync::{Arc, Once};

use reqwest::header::HeaderMap;

use crate::metrics::ErrorKind;
use crate::scenario::ConnectionMode;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Makes the HTTP client each virtual user talks through.
pub struct Clients {
    mode: ConnectionMode,
    tls: Arc<rustls::ClientConfig>,
    shared: Option<reqwest::Client>,
}

impl Clients {
    pub fn new(mode: ConnectionMode) -> Result<Self, HttpError> {
        install_crypto_provider();
        use rustls_platform_verifier::BuilderVerifierExt;
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_platform_verifier()?
            .with_no_client_auth();
        let mut clients = Clients { mode, tls: Arc::new(tls), shared: None };
        if mode == ConnectionMode::Shared {
            clients.shared = Some(clients.build()?);
        }
        // Fail at start-up, not in the first user, if a client cannot be built.
        drop(clients.build()?);
        Ok(clients)
    }

    pub fn mode(&self) -> ConnectionMode {
        self.mode
    }

    /// The client for a newly arrived user: its own (new connections, closed when the user
    /// drops it) or a handle on the shared pool.
    pub fn for_user(&self) -> reqwest::Client {
        match &self.shared {
            Some(shared) => shared.clone(),
            // Building can only fail on configuration, which `new` has already exercised.
            None => self.build().unwrap_or_else(|_| reqwest::Client::new()),
        }
    }

    fn build(&self) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .no_proxy()
            // One request step is one HTTP request, so the harness's counts match the
            // target's: redirects are answers to check, not hops to follow silently.
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&self.tls))
            .dns_resolver(Arc::new(Resolver))
            .build()
    }
}

/// Names resolved by the system (getaddrinfo, as reqwest's default resolver does), except the
/// names RFC 6761 §6.4 reserves never to resolve (`.invalid`): those fail at once, as a
/// connect error, without asking any resolver, so nothing leaves the machine for them.
struct Resolver;

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            if host == "invalid" || host.ends_with(".invalid") {
                return Err(format!("{host}: names under .invalid never resolve (RFC 6761)").into());
            }
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// What came back for one request.
#[derive(Debug)]
pub struct Received {
    pub status: u16,
    pub headers: HeaderMap,
    /// Body size as received.
    pub bytes: u64,
}

/// Send `request` and read the whole response. The body is appended to `keep` when given,
/// otherwise only counted as it streams past.
pub async fn exchange(
    client: &reqwest::Client,
    request: reqwest::Request,
    mut keep: Option<&mut Vec<u8>>,
) -> Result<Received, ErrorKind> {
    let mut response = client.execute(request).await.map_err(|e| classify(&e))?;
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let mut bytes = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
        bytes += chunk.len() as u64;
        if let Some(buf) = keep.as_deref_mut() {
            buf.extend_from_slice(&chunk);
        }
    }
    Ok(Received { status, headers, bytes })
}

/// Map a client error to the kind of failure a report should show.
pub fn classify(err: &reqwest::Error) -> ErrorKind {
    if err.is_timeout() {
        return ErrorKind::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut saw_hyper_parse = false;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            match io.kind() {
                Io::TimedOut => return ErrorKind::Timeout,
                Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe | Io::UnexpectedEof => {
                    return if err.is_connect() { ErrorKind::Connect } else { ErrorKind::Reset }
                }
                _ => {}
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_canceled() {
                return ErrorKind::Reset;
            }
            if h.is_parse() || h.is_parse_status() || h.is_parse_too_large() {
                saw_hyper_parse = true;
            }
        }
        source = e.source();
    }
    if err.is_connect() {
        ErrorKind::Connect
    } else if saw_hyper_parse || err.is_decode() || err.is_body() {
        ErrorKind::Protocol
    } else {
        ErrorKind::Other
    }
}

/// An HTTP date, `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7's preferred form, the only
/// one servers send in practice), as used by `Retry-After` and cookie `Expires`.
pub fn parse_http_date(text: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, _] = parts.as_slice() else {
        return None;
    };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month))?
        + 1;
    humantime::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).ok()
}
