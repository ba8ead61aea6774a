//! A loopback target that reports what it saw on the wire: each connection's source address,
//! HTTP version and the users (`x-user` header) whose requests it carried, and how many TLS
//! handshakes completed. Plain HTTP, or HTTPS with a certificate made in the test (rcgen) and
//! ALPN offering h2 and http/1.1. Bounded: it stops when dropped, or after 60 s.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// One accepted connection, as the target saw it.
#[derive(Debug, Clone)]
pub struct Connection {
    pub peer: IpAddr,
    pub version: Option<hyper::Version>,
    /// The `x-user` header of each request, in order.
    pub users: Vec<String>,
}

#[derive(Default)]
pub struct Seen {
    pub handshakes: AtomicU64,
    pub connections: Mutex<Vec<Connection>>,
}

pub struct Target {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Target {
    /// Plain HTTP/1.1 on 127.0.0.1.
    pub fn http() -> Target {
        Target::start(None)
    }

    /// HTTPS with `cert` (ALPN: h2, http/1.1).
    pub fn https(cert: &Cert) -> Target {
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.der.clone()], cert.key())
                .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Target::start(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }

    fn start(tls: Option<tokio_rustls::TlsAcceptor>) -> Target {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = seen.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let serve = accept_loop(listener, tls, state);
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                }
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        });
        Target { addr, seen, stop: Some(stop), thread: Some(thread) }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn connections(&self) -> Vec<Connection> {
        self.seen.connections.lock().unwrap().clone()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, tls: Option<tokio_rustls::TlsAcceptor>, seen: Arc<Seen>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        let (tls, seen) = (tls.clone(), seen.clone());
        tokio::spawn(async move {
            let index = {
                let mut connections = seen.connections.lock().unwrap();
                connections.push(Connection { peer: peer.ip(), version: None, users: Vec::new() });
                connections.len() - 1
            };
            match tls {
                None => serve(TokioIo::new(stream), index, seen).await,
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(stream).await else { return };
                    seen.handshakes.fetch_add(1, Ordering::Relaxed);
                    serve(TokioIo::new(stream), index, seen).await
                }
            }
        });
    }
}

async fn serve<I>(io: I, index: usize, seen: Arc<Seen>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let seen = seen.clone();
        async move {
            let user = request.headers().get("x-user").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            {
                let mut connections = seen.connections.lock().unwrap();
                let connection = &mut connections[index];
                connection.version = Some(request.version());
                connection.users.push(user);
            }
            Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}"))))
        }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(io, service).await;
}

/// A certificate and its key, made in the test.
pub struct Cert {
    pub der: CertificateDer<'static>,
    pub pem: String,
    key_der: Vec<u8>,
}

impl Cert {
    /// Self-signed for `names`, valid now (or expired since 2001 when `expired`).
    pub fn new(names: &[&str], expired: bool) -> Cert {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let cert = params.self_signed(&key).unwrap();
        Cert { der: cert.der().clone(), pem: cert.pem(), key_der: key.serialize_der() }
    }

    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }

    /// Write the certificate as PEM to `dir/name` (for `tls.ca`).
    pub fn write(&self, dir: &Path, name: &str) {
        std::fs::write(dir.join(name), &self.pem).unwrap();
    }
}
