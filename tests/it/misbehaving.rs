//! A loopback HTTP server that misbehaves on purpose, for the fault matrix (`faults.rs`): each
//! connection is handed, on a thread of its own, to a behaviour written in the test (reset,
//! garbage, drip, stall, bursts of 5xx…), and the server counts what it did, so a test can
//! check that the harness counted exactly that. Bound to 127.0.0.1 only; every connection
//! thread ends when the server is stopped or after 60 s, whichever comes first.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any connection of a test server may live.
const LIFETIME: Duration = Duration::from_secs(60);

/// What the server saw and did.
#[derive(Debug, Default)]
pub struct Seen {
    pub connections: AtomicU64,
    /// Request heads read in full.
    pub requests: AtomicU64,
    /// Faults served (what the behaviour counts as its misbehaviour).
    pub faults: AtomicU64,
    /// Normal answers served.
    pub answers: AtomicU64,
    pub paths: Mutex<Vec<String>>,
}

impl Seen {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::SeqCst)
    }
}

/// One request, as far as a behaviour needs it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
}

/// One accepted connection. When its behaviour returns, the connection is closed; if the
/// request was left unread the kernel closes it with a reset (RST), which is how behaviours
/// reset a connection.
pub struct Conn {
    pub stream: TcpStream,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    until: Instant,
    buf: Vec<u8>,
}

impl Conn {
    /// Whether the behaviour should go on (the server is not stopping, the connection not too
    /// old).
    pub fn alive(&self) -> bool {
        !self.stop.load(Ordering::SeqCst) && Instant::now() < self.until
    }

    /// Read the next request (head and Content-Length body); `None` when the client closed
    /// the connection or the server is stopping.
    pub fn request(&mut self) -> Option<Request> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if self.buf.len() >= end + 4 + length {
                    self.buf.drain(..end + 4 + length);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    self.seen.requests.fetch_add(1, Ordering::SeqCst);
                    self.seen.paths.lock().unwrap().push(path.clone());
                    return Some(Request { path });
                }
            }
            if !self.alive() {
                return None;
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return None,
            }
        }
    }

    /// Write `bytes`; false once the client is gone.
    pub fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Answer `status` with a small body (keeping the connection open).
    pub fn answer(&mut self, status: u16, extra_headers: &str) -> bool {
        let body = b"ok";
        let head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{extra_headers}\r\n", body.len());
        self.answered();
        self.send(head.as_bytes()) && self.send(body)
    }

    pub fn fault(&self) {
        self.seen.faults.fetch_add(1, Ordering::SeqCst);
    }

    pub fn answered(&self) {
        self.seen.answers.fetch_add(1, Ordering::SeqCst);
    }

    /// Sleep `d` in small steps, returning early (false) when the server stops.
    pub fn pause(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if !self.alive() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5).min(end.saturating_duration_since(Instant::now())));
        }
        true
    }
}

pub type Behaviour = Arc<dyn Fn(&mut Conn) + Send + Sync>;

/// A misbehaving server on 127.0.0.1.
pub struct Server {
    pub port: u16,
    pub seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serve on a free port.
    pub fn start(behaviour: impl Fn(&mut Conn) + Send + Sync + 'static) -> Server {
        Server::start_on(0, Arc::new(behaviour), Arc::default())
    }

    /// Serve on `port` (0: any free one), adding to `seen`: a server that comes back after
    /// dying keeps counting where the first one stopped.
    pub fn start_on(port: u16, behaviour: Behaviour, seen: Arc<Seen>) -> Server {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, counts) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + LIFETIME;
            let mut handlers = Vec::new();
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        counts.connections.fetch_add(1, Ordering::SeqCst);
                        stream.set_nonblocking(false).unwrap();
                        stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                        let mut conn = Conn {
                            stream,
                            seen: counts.clone(),
                            stop: flag.clone(),
                            until: Instant::now() + LIFETIME,
                            buf: Vec::new(),
                        };
                        let behaviour = behaviour.clone();
                        handlers.push(std::thread::spawn(move || behaviour(&mut conn)));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            // Stop listening first (new connections are refused), then wait for every
            // connection's behaviour to end.
            drop(listener);
            for h in handlers {
                let _ = h.join();
            }
        });
        Server { port, seen, stop, thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stop: refuse new connections, end every open one, and return what was seen.
    pub fn stop(mut self) -> Arc<Seen> {
        self.halt();
        self.seen.clone()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Serve every request on a connection with `answer` until the client leaves, then close it
/// politely (FIN), for behaviours that are about the answers, not the connection.
pub fn each_request(conn: &mut Conn, mut answer: impl FnMut(&mut Conn, Request) -> bool) {
    while let Some(request) = conn.request() {
        if !answer(conn, request) {
            break;
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}
