//! Starting and stopping the embedded target on its own runtime and threads.
//!
//! The target must not share the generator's runtime: a saturated target would then delay
//! the generator's timers and the harness would blame the target for its own lag (or the
//! reverse). So it gets its own multi-thread tokio runtime with `threads` workers, owned by
//! one extra OS thread that only binds, waits for the stop signal and tears down. Owning the
//! runtime on that thread also makes `Drop` safe from inside an async test: the caller only
//! joins a thread, it never drops a runtime in an async context.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use url::Url;

use super::counts::TargetCounts;
use super::workspace::{handle, Workspace};
use crate::scenario::embedded::EmbeddedConfig;

/// Pending connections the kernel keeps for us: a login wave opens thousands at once, and
/// the default of 128 would turn a burst into connection resets rather than queueing.
const BACKLOG: u32 = 4096;

/// On shutdown, in-flight requests get this long to finish, then the runtime gets this long
/// to stop its threads. Bounds `shutdown` to about twice this.
const GRACE: Duration = Duration::from_millis(500);

/// Largest `file_size` served: the body is held in memory once.
const MAX_FILE_SIZE: u64 = 1 << 30;

/// A running embedded school workspace. Dropping it shuts it down.
pub struct EmbeddedTarget {
    addr: SocketAddr,
    workspace: Arc<Workspace>,
    stop: Option<oneshot::Sender<()>>,
    owner: Option<JoinHandle<()>>,
}

impl EmbeddedTarget {
    /// Bind 127.0.0.1 on an ephemeral port and serve on the target's own tokio runtime, on its
    /// own `config.threads` OS threads (so serving does not disturb the generator's runtime).
    /// Returns once listening.
    pub fn start(config: &EmbeddedConfig) -> io::Result<EmbeddedTarget> {
        EmbeddedTarget::start_on(config, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// Same, on a given loopback address (for the standalone `schoolday target --port N`).
    /// Any non-loopback address is refused: this demo server has no business on a network.
    pub fn start_on(config: &EmbeddedConfig, addr: SocketAddr) -> io::Result<EmbeddedTarget> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the embedded target listens on loopback only (127.0.0.1 or ::1), \
                     not {addr}: it is a demo server, not meant to be reachable from a network"
                ),
            ));
        }
        let file_size =
            usize::try_from(config.file_size).ok().filter(|_| config.file_size <= MAX_FILE_SIZE).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "embedded target file_size of {} bytes is above the 1 GiB it can hold in memory",
                        config.file_size
                    ),
                )
            })?;
        let workspace = Arc::new(Workspace::new(config, file_size));
        let threads = config.threads.max(1);
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let served = Arc::clone(&workspace);
        let owner = std::thread::Builder::new()
            .name("schoolday-target".to_owned())
            .spawn(move || own_runtime(threads, addr, served, ready_tx, stop_rx))?;
        let bound = ready_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("the embedded target thread stopped before listening")));
        let addr = match bound {
            Ok(addr) => addr,
            Err(error) => {
                let _ = owner.join();
                return Err(error);
            }
        };
        Ok(EmbeddedTarget { addr, workspace, stop: Some(stop_tx), owner: Some(owner) })
    }

    /// The address the target listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/` (or `http://[::1]:PORT/`).
    pub fn base_url(&self) -> Url {
        // A socket address always makes a valid http URL authority.
        Url::parse(&format!("http://{}/", self.addr)).expect("socket address forms a valid URL")
    }

    /// What the target saw so far; cheap, callable while it runs.
    pub fn counts(&self) -> TargetCounts {
        self.workspace.counts()
    }

    /// Sessions currently open.
    pub fn active_sessions(&self) -> usize {
        self.workspace.sessions.len()
    }

    /// Drops every open session at once, as a crash or a forced logout does before a
    /// reconnect storm; returns how many were dropped. Clients find out on their next request
    /// (401) and must log in again.
    pub fn drop_sessions(&self) -> usize {
        self.workspace.sessions.clear()
    }

    /// Stops accepting, lets in-flight requests finish for a short grace period, stops the
    /// runtime and joins its threads. Takes about one second at most.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(owner) = self.owner.take() {
            // A panic on the owner thread has already been reported; nothing to add here.
            let _ = owner.join();
        }
    }
}

impl Drop for EmbeddedTarget {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl std::fmt::Debug for EmbeddedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedTarget").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// The owner thread: builds the runtime, binds, reports the address, serves until told to
/// stop, then tears everything down within bounded time.
fn own_runtime(
    threads: usize,
    addr: SocketAddr,
    workspace: Arc<Workspace>,
    ready: mpsc::Sender<io::Result<SocketAddr>>,
    stop: oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("schoolday-target-worker")
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match bind(addr) {
            Ok(listener) => listener,
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        if ready.send(listener.local_addr()).is_err() {
            return;
        }
        let app = Router::new().fallback(handle).with_state(workspace);
        // Small responses must not wait for Nagle's algorithm on loopback.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let (graceful_tx, graceful_rx) = oneshot::channel::<()>();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = graceful_rx.await;
        });
        // Spawned so the accept loop runs on the workers, not on this owner thread.
        let server = tokio::spawn(std::future::IntoFuture::into_future(server));
        // A dropped sender (the target was leaked or its owner panicked) also means stop.
        let _ = stop.await;
        let _ = graceful_tx.send(());
        let _ = tokio::time::timeout(GRACE, server).await;
    });
    // Requests still queued or in service after the grace period are cut off here.
    runtime.shutdown_timeout(GRACE);
}

fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // Lets `schoolday target --port N` restart at once on the same port.
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .map_err(|error| io::Error::new(error.kind(), format!("embedded target cannot bind {addr}: {error}")))?;
    socket.listen(BACKLOG)
}
