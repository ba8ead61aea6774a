//! Opening one connection to the target: TCP (bound to the next source address when the
//! scenario gives some), then TLS for https, then HTTP/1.1 or the HTTP/2 handshake, as ALPN
//! chose. Each phase has its own timeout and its own failure message.
//!
//! The target's address is resolved once, when the run is set up, as wrk and oha do: a
//! resolver call per connection would cost more than the connection at 10,000 new users a
//! second, and the rehearsal is of the target, not of DNS.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};

use super::diagnose::Notes;
use super::h1::{Io, H1};
use super::{tls, HttpError};
use crate::metrics::ErrorKind;
use crate::scenario::{ConnectionMode, HttpSettings, HttpVersion, Timeouts};

/// A request's body, whole: requests are built before they are sent.
pub type Body = Bytes;

/// The address of `host` (an IP literal, or a name the system resolves), except for the names
/// RFC 6761 §6.4 reserves never to resolve (`.invalid`): those fail at once without asking any
/// resolver, so nothing leaves the machine for them.
fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "invalid" || name.ends_with(".invalid") {
        return Err("names under .invalid never resolve (RFC 6761)".into());
    }
    let mut addrs = std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), port)).map_err(|e| e.to_string())?;
    addrs.next().ok_or_else(|| "the name has no address".into())
}

/// A ready connection. HTTP/1.1 is driven by the task that uses it ([`H1`]); an HTTP/2
/// connection runs in a task of its own, and this is a handle on it, which ends when every
/// handle is dropped (or the server closes it).
pub enum Conn {
    H1(H1),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Conn {
    pub fn is_closed(&mut self) -> bool {
        match self {
            Conn::H1(c) => c.is_closed(),
            Conn::H2(s) => s.is_closed(),
        }
    }
}

/// Everything needed to open a connection to the run's target.
pub struct Connector {
    /// The target's address, or why its name did not resolve: then every connection fails as
    /// a connect error, counted and explained, and the run still ends in a report.
    addr: Result<SocketAddr, String>,
    /// `Some` for https.
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    version: HttpVersion,
    timeouts: Timeouts,
    local: Vec<ipnet::IpNet>,
    /// HTTP/1.1 connections keep their read buffer between exchanges (a shared pool's few
    /// busy connections; a user's own connection mostly waits, and gives it back).
    keep_buffers: bool,
    /// Connections opened so far: picks the next source address.
    opened: AtomicU64,
    /// `host:port`, for messages.
    pub(super) server: String,
    /// The `Host` header for HTTP/1.1: the authority as the URL writes it.
    pub(super) host: http::HeaderValue,
    pub(super) notes: Notes,
}

impl Connector {
    pub fn new(base_url: &url::Url, settings: &HttpSettings) -> Result<Self, HttpError> {
        let host = base_url.host_str().ok_or_else(|| HttpError::Url(base_url.to_string()))?;
        let port = base_url.port_or_known_default().ok_or_else(|| HttpError::Url(base_url.to_string()))?;
        let server = format!("{host}:{port}");
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addr = resolve(bare, port).map_err(|why| format!("cannot resolve {server}: {why}"));
        let client = &settings.client;
        let tls = if base_url.scheme() == "https" {
            let name = client.tls.server_name.as_deref().unwrap_or(bare);
            let name = ServerName::try_from(name.to_string()).map_err(|_| HttpError::Url(base_url.to_string()))?;
            let config = tls::config(&client.tls, client.version)?;
            Some((tokio_rustls::TlsConnector::from(config), name))
        } else {
            None
        };
        let family = |n: &&ipnet::IpNet| addr.as_ref().is_ok_and(|a| n.addr().is_ipv4() != a.is_ipv4());
        if let Some(net) = client.local_addresses.iter().find(family) {
            return Err(HttpError::Family(net.to_string(), server));
        }
        let authority = match base_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let host = http::HeaderValue::from_str(&authority).map_err(|_| HttpError::Url(base_url.to_string()))?;
        Ok(Connector {
            host,
            addr,
            tls,
            version: client.version,
            timeouts: client.timeouts,
            local: client.local_addresses.clone(),
            keep_buffers: settings.connections == ConnectionMode::Shared,
            opened: AtomicU64::new(0),
            server,
            notes: Notes::default(),
        })
    }

    pub(super) fn first_byte(&self) -> Option<Duration> {
        self.timeouts.first_byte
    }

    /// Open a connection. `left` is what remains of the attempt's total timeout, so that a
    /// phase without a timeout of its own ends with the attempt.
    pub async fn open(&self) -> Result<Conn, ErrorKind> {
        let tcp = within(self.timeouts.connect, self.tcp())
            .await
            .map_err(|()| self.notes.fail(ErrorKind::Timeout, || format!("no TCP connection to {}", self.server)))??;
        let Some((connector, name)) = &self.tls else {
            return match self.version {
                HttpVersion::Http2 => self.h2(tcp).await,
                _ => Ok(Conn::H1(H1::new(Io::Plain(tcp), self.keep_buffers))),
            };
        };
        let stream = within(self.timeouts.tls, connector.connect(name.clone(), tcp))
            .await
            .map_err(|()| self.notes.fail(ErrorKind::Timeout, || format!("no TLS handshake with {}", self.server)))?
            .map_err(|e| self.tls_failure(&e))?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        if self.version == HttpVersion::Http2 && !h2 {
            let why = || format!("{} did not agree to HTTP/2 by ALPN (`http.version: http2`)", self.server);
            return Err(self.notes.fail(ErrorKind::Protocol, why));
        }
        if h2 {
            self.h2(stream).await
        } else {
            Ok(Conn::H1(H1::new(Io::Tls(Box::new(stream)), self.keep_buffers)))
        }
    }

    async fn tcp(&self) -> Result<TcpStream, ErrorKind> {
        let addr = match &self.addr {
            Ok(addr) => *addr,
            Err(why) => return Err(self.notes.fail(ErrorKind::Connect, || why.clone())),
        };
        let refused = |e: std::io::Error| {
            let kind = if e.kind() == std::io::ErrorKind::TimedOut { ErrorKind::Timeout } else { ErrorKind::Connect };
            self.notes.fail(kind, || format!("cannot connect to {}: {e}{}", self.server, super::descriptors::hint(&e)))
        };
        let stream = match self.source() {
            None => TcpStream::connect(addr).await.map_err(refused)?,
            Some(local) => {
                let socket =
                    if local.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(refused)?;
                socket.bind(SocketAddr::new(local, 0)).map_err(|e| {
                    self.notes.fail(ErrorKind::Connect, || format!("cannot use source address {local}: {e}"))
                })?;
                socket.connect(addr).await.map_err(refused)?
            }
        };
        // Requests are small and sent whole: Nagle would only delay them.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// The next source address, round robin over every address the ranges hold.
    fn source(&self) -> Option<IpAddr> {
        if self.local.is_empty() {
            return None;
        }
        let total: u128 = self.local.iter().map(host_count).sum();
        let mut n = self.opened.fetch_add(1, Ordering::Relaxed) as u128 % total.max(1);
        for net in &self.local {
            let count = host_count(net);
            if n < count {
                return Some(nth_host(net, n));
            }
            n -= count;
        }
        None
    }

    /// HTTP/2 by hyper over `io`, its connection driven by a task of its own.
    async fn h2<T>(&self, io: T) -> Result<Conn, ErrorKind>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let failed = |e: hyper::Error| {
            self.notes.fail(ErrorKind::Protocol, || format!("HTTP/2 handshake with {} failed: {e}", self.server))
        };
        let (sender, connection) =
            http2::Builder::new(TokioExecutor::new()).handshake(TokioIo::new(io)).await.map_err(failed)?;
        tokio::spawn(connection);
        Ok(Conn::H2(sender))
    }

    fn tls_failure(&self, error: &std::io::Error) -> ErrorKind {
        let rustls_error = error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        match rustls_error {
            Some(e) => self.notes.fail(ErrorKind::Tls, || tls::explain(e, &self.server)),
            // The server closed or reset the connection in the middle of the handshake.
            None => self.notes.fail(ErrorKind::Tls, || format!("TLS handshake with {} failed: {error}", self.server)),
        }
    }
}

/// `fut` within `limit`, if there is one.
async fn within<F: std::future::Future>(limit: Option<Duration>, fut: F) -> Result<F::Output, ()> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, fut).await.map_err(|_| ()),
        None => Ok(fut.await),
    }
}

/// Addresses a range lends to connections: IPv4 ranges wider than /31 skip the network and
/// broadcast addresses.
fn host_count(net: &ipnet::IpNet) -> u128 {
    let bits = net.max_prefix_len() - net.prefix_len();
    let all = if bits >= 128 { u128::MAX } else { 1u128 << bits };
    match net {
        ipnet::IpNet::V4(_) if bits >= 2 => all - 2,
        _ => all,
    }
}

fn nth_host(net: &ipnet::IpNet, n: u128) -> IpAddr {
    match net {
        ipnet::IpNet::V4(v4) => {
            let skip = u32::from(host_count(net) != 1u128 << (32 - v4.prefix_len()));
            IpAddr::from(std::net::Ipv4Addr::from(u32::from(v4.network()) + skip + n as u32))
        }
        ipnet::IpNet::V6(v6) => IpAddr::from(std::net::Ipv6Addr::from(u128::from(v6.network()) + n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ranges_lend_their_hosts_in_turn() {
        let net: ipnet::IpNet = "127.0.0.0/30".parse().unwrap();
        assert_eq!(host_count(&net), 2);
        assert_eq!(nth_host(&net, 0), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(nth_host(&net, 1), "127.0.0.2".parse::<IpAddr>().unwrap());
        let one: ipnet::IpNet = "127.0.0.7/32".parse().unwrap();
        assert_eq!((host_count(&one), nth_host(&one, 0)), (1, "127.0.0.7".parse().unwrap()));
        let eight: ipnet::IpNet = "127.0.0.0/8".parse().unwrap();
        assert_eq!(host_count(&eight), (1 << 24) - 2);
        assert_eq!(nth_host(&eight, 256), "127.0.1.1".parse::<IpAddr>().unwrap());
    }
}
