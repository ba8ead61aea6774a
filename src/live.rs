//! `--metrics-listen`: a Prometheus scrape endpoint that serves the run's live figures.
//!
//! The endpoint runs on its own OS thread and single-threaded tokio runtime, like the
//! embedded target, so that scrapes never compete with the generator's workers. It serves
//! one page, rendered once a second by the run's per-second hook (`report::prometheus`):
//! a scrape takes a lock only long enough to clone that page, and the per-request path is
//! not involved at all.
//!
//! The address is bound before the run starts, so a port already in use fails before any
//! load is sent. The endpoint lives as long as its [`Endpoint`] value: the final figures
//! stay scrapable while the report is written (and for `--metrics-linger`).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::routing::get;
use axum::Router;
use tokio::sync::oneshot;

/// The page, shared between the hook that writes it and the server that reads it.
#[derive(Clone, Default)]
pub struct Page(Arc<Mutex<String>>);

impl Page {
    pub fn publish(&self, text: String) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = text;
    }

    pub fn read(&self) -> String {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A listening scrape endpoint. Dropping it stops serving.
pub struct Endpoint {
    addr: SocketAddr,
    page: Page,
    stop: Option<oneshot::Sender<()>>,
    owner: Option<JoinHandle<()>>,
}

impl Endpoint {
    /// Bind `addr` (port 0 picks one) and serve `GET /metrics` until dropped.
    pub fn bind(addr: SocketAddr) -> io::Result<Endpoint> {
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let page = Page::default();
        page.publish("# the run has not started yet\n".into());
        let served = page.clone();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let owner = std::thread::Builder::new().name("schoolday-metrics".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = Router::new()
                    .route("/metrics", get(move || metrics(served.clone())))
                    .route("/", get(|| async { "schoolday live metrics: scrape /metrics\n" }));
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        })?;
        Ok(Endpoint { addr, page, stop: Some(stop_tx), owner: Some(owner) })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the run publishes its figures.
    pub fn page(&self) -> Page {
        self.page.clone()
    }
}

async fn metrics(page: Page) -> impl axum::response::IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], page.read())
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(owner) = self.owner.take() {
            let _ = owner.join();
        }
    }
}
