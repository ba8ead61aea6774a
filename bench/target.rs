//! `bench-target`: the minimal HTTP server the benchmark suite loads, so that what is measured
//! is the generator, not the target.
//!
//! It answers every request at once with `200 OK` and a 13-byte body, on one thread (the suite
//! pins it to its own core). A request is anything ending in an empty line: the suite sends
//! bodiless GETs, so counting `\r\n\r\n` is exact, and pipelined requests are answered in one
//! write. It listens on 127.0.0.1 only, stops after `--max-seconds` (a forgotten process cannot
//! linger) or on stdin closing, and prints the requests and connections it served.
//!
//! `--tls` serves HTTPS instead, with a certificate for `localhost` made at start (rcgen) and
//! written to a PEM file the suite hands the generator as its `tls.ca`; ALPN offers h2 (served
//! by hyper) and http/1.1 (the same counting loop as plain HTTP). Every completed handshake is
//! counted. `--stall-every 5s --stall-for 1s` holds every answer due during the first second
//! of each five (a target that stalls), and reports the latency it gave each request, from
//! the request's arrival to its answer: the server's truth, to compare with the generator's.
//!
//! Usage: `bench-target [--port N] [--max-seconds S] [--tls] [--stall-every D --stall-for D]`;
//! prints `listening 127.0.0.1:PORT` (and ` ca FILE` with `--tls`).

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nhello, world\n";

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);
static HANDSHAKES: AtomicU64 = AtomicU64::new(0);

/// When answers are held: every `every`, for `length`, counted from the server's start.
#[derive(Clone, Copy)]
struct Stall {
    start: tokio::time::Instant,
    every: Duration,
    length: Duration,
}

impl Stall {
    /// When an answer ready now may go out.
    fn release(&self, now: tokio::time::Instant) -> Option<tokio::time::Instant> {
        let into = now.duration_since(self.start).as_nanos() % self.every.as_nanos();
        let into = Duration::from_nanos(into as u64);
        (into < self.length).then(|| now + (self.length - into))
    }
}

/// Server-side latency of every request (arrival to answer), in microseconds.
static TRUTH: std::sync::Mutex<Option<hdrhistogram::Histogram<u64>>> = std::sync::Mutex::new(None);

fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut max_seconds = 600u64;
    let mut tls = false;
    let (mut every, mut length) = (None, Duration::ZERO);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--tls" {
            tls = true;
            continue;
        }
        let value = args.next().unwrap_or_default();
        let duration = || humantime::parse_duration(&value).expect("a duration");
        match arg.as_str() {
            "--stall-every" => every = Some(duration()),
            "--stall-for" => length = duration(),
            "--port" => port = value.parse().expect("--port N"),
            "--max-seconds" => max_seconds = value.parse().expect("--max-seconds S"),
            other => panic!("unknown argument {other}"),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let acceptor = if tls { Some(tls_acceptor()?) } else { None };
        let ca = match &acceptor {
            Some((_, file)) => format!(" ca {}", file.display()),
            None => String::new(),
        };
        println!("listening {}{ca}", listener.local_addr()?);
        let stall = every.map(|every| Stall { start: tokio::time::Instant::now(), every, length });
        if stall.is_some() {
            *TRUTH.lock().unwrap() = Some(hdrhistogram::Histogram::new(3).unwrap());
        }
        std::io::stdout().flush()?;
        // Stdin closing (the harness exiting, even on a panic) stops the server.
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().lock().read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
            let _ = closed_tx.send(());
        });
        let accept = async {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    // Out of descriptors (a surge of connections): retrying at once would spin
                    // on the error and starve the connections it holds; give them a moment.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let _ = socket.set_nodelay(true);
                CONNECTIONS.fetch_add(1, Ordering::Relaxed);
                match &acceptor {
                    None => {
                        tokio::spawn(serve(socket, stall));
                    }
                    Some((acceptor, _)) => {
                        tokio::spawn(serve_tls(acceptor.clone(), socket));
                    }
                }
            }
        };
        tokio::select! {
            _ = accept => {}
            _ = closed_rx => {}
            _ = tokio::time::sleep(Duration::from_secs(max_seconds)) => {}
        }
        println!(
            "served {} requests on {} connections, {} TLS handshakes",
            REQUESTS.load(Ordering::Relaxed),
            CONNECTIONS.load(Ordering::Relaxed),
            HANDSHAKES.load(Ordering::Relaxed)
        );
        if let Some(h) = TRUTH.lock().unwrap().as_ref() {
            println!(
                "truth p50_us={} p99_us={} max_us={} count={}",
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.max(),
                h.len()
            );
        }
        Ok(())
    })
}

/// A self-signed certificate for localhost and 127.0.0.1, its PEM written to a temporary file.
fn tls_acceptor() -> std::io::Result<(tokio_rustls::TlsAcceptor, std::path::PathBuf)> {
    let key = rcgen::KeyPair::generate().map_err(std::io::Error::other)?;
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(std::io::Error::other)?;
    let cert = params.self_signed(&key).map_err(std::io::Error::other)?;
    let file = std::env::temp_dir().join(format!("schoolday-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&file, cert.pem())?;
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key)
        .map_err(std::io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)), file))
}

async fn serve_tls(acceptor: tokio_rustls::TlsAcceptor, socket: tokio::net::TcpStream) {
    let Ok(stream) = acceptor.accept(socket).await else { return };
    HANDSHAKES.fetch_add(1, Ordering::Relaxed);
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        let service = hyper::service::service_fn(|_request| async {
            REQUESTS.fetch_add(1, Ordering::Relaxed);
            let body = http_body_util::Full::new(bytes::Bytes::from_static(b"hello, world\n"));
            Ok::<_, std::convert::Infallible>(hyper::Response::new(body))
        });
        let io = hyper_util::rt::TokioIo::new(stream);
        let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .serve_connection(io, service)
            .await;
    } else {
        serve(stream, None).await;
    }
}

async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut socket: S, stall: Option<Stall>) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(RESPONSE.len() * 4);
    // How much of "\r\n\r\n" the previous read ended with, so a terminator split across two
    // reads still counts once.
    let mut matched = 0usize;
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut complete = 0u64;
        for &b in &buf[..n] {
            matched = match (matched, b) {
                (0 | 2, b'\r') => matched + 1,
                (1 | 3, b'\n') => matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if matched == 4 {
                complete += 1;
                matched = 0;
            }
        }
        if complete == 0 {
            continue;
        }
        REQUESTS.fetch_add(complete, Ordering::Relaxed);
        if let Some(stall) = stall {
            let arrived = tokio::time::Instant::now();
            if let Some(release) = stall.release(arrived) {
                tokio::time::sleep_until(release).await;
            }
            let us = arrived.elapsed().as_micros() as u64;
            if let Some(h) = TRUTH.lock().unwrap().as_mut() {
                let _ = h.record_n(us.max(1), complete);
            }
        }
        out.clear();
        for _ in 0..complete {
            out.extend_from_slice(RESPONSE);
        }
        if socket.write_all(&out).await.is_err() {
            return;
        }
    }
}
