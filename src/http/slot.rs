//! Where a user's connection lives between requests: its own slot (`connections: per-user`,
//! a browser's connection, closed when the user leaves) or the run's shared pool
//! (`connections: shared`, and `shared: N` for a fixed pool of N, like wrk's `-c`).
//!
//! Both hand out a [`Conn`] for one exchange and take it back once the response's body has
//! been read to the end. An exchange cut short (page patience, a storm, the end of the run)
//! never gives its HTTP/1.1 connection back: dropping it closes it, as a browser closes the
//! connection under a page it stops loading, so a half-read response can never be mistaken
//! for the next one. HTTP/2 handles are clones of one connection and stay in the slot.

use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::connect::{Conn, Connector};
use crate::metrics::ErrorKind;

/// One user's connection, or its handle on the shared pool.
pub struct Slot {
    conn: Option<Conn>,
    pool: Option<Arc<Pool>>,
    pub(super) connector: Arc<Connector>,
}

/// The run's shared connections.
pub struct Pool {
    idle: Mutex<Vec<Conn>>,
    /// `shared: N`: N permits, one per connection in use; a request waits here for one.
    limit: Option<Semaphore>,
}

impl Pool {
    pub fn new(limit: Option<u32>) -> Self {
        Pool { idle: Mutex::new(Vec::new()), limit: limit.map(|n| Semaphore::new(n as usize)) }
    }

    fn pop(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(mut conn) = idle.pop() {
            if !conn.is_closed() {
                return Some(conn);
            }
        }
        None
    }

    fn push(&self, conn: Conn) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
    }
}

/// The right to use one of a fixed pool's connections, held for one exchange.
pub struct Permit<'a>(#[allow(dead_code)] Option<SemaphorePermit<'a>>);

impl Slot {
    pub fn new(connector: Arc<Connector>, pool: Option<Arc<Pool>>) -> Self {
        Slot { conn: None, pool, connector }
    }

    /// The pool this slot draws from, if shared (cloned so that a permit can outlive the
    /// borrow of the slot).
    pub fn pool(&self) -> Option<Arc<Pool>> {
        self.pool.clone()
    }

    /// Wait for a free connection of a fixed pool (not at all otherwise).
    pub async fn permit(pool: Option<&Pool>) -> Permit<'_> {
        match pool.and_then(|p| p.limit.as_ref()) {
            // The semaphore is never closed.
            Some(limit) => Permit(limit.acquire().await.ok()),
            None => Permit(None),
        }
    }

    /// A connection for one exchange: the one kept from the last (`true`: reused) or a new one.
    pub async fn take(&mut self) -> Result<(Conn, bool), ErrorKind> {
        let kept = match &self.pool {
            Some(pool) => pool.pop(),
            None => match &self.conn {
                Some(Conn::H2(sender)) if !sender.is_closed() => Some(Conn::H2(sender.clone())),
                _ => {
                    let mut kept = self.conn.take();
                    kept.take_if(|c| c.is_closed());
                    kept
                }
            },
        };
        match kept {
            Some(conn) => Ok((conn, true)),
            None => Ok((self.reopen().await?, false)),
        }
    }

    /// A new connection (none was kept, or a kept one turned out to be closed).
    ///
    /// Boxed: opening holds the TLS and HTTP/2 handshake states by value, some 20 KiB, and
    /// every user's task is as large as its largest await. Unboxed, that was most of an idle
    /// user's memory (29 KiB per user at 20,000 idle users); boxed, it costs one allocation
    /// per new connection, beside the socket, buffers and task that a connection allocates.
    pub async fn reopen(&self) -> Result<Conn, ErrorKind> {
        Box::pin(self.connector.open()).await
    }

    /// Give back a connection whose exchange ended cleanly.
    pub fn put(&mut self, mut conn: Conn) {
        if conn.is_closed() {
            return;
        }
        match &self.pool {
            Some(pool) => pool.push(conn),
            None => self.conn = Some(conn),
        }
    }

    /// Close this user's connections (a dropped session: the next request connects anew).
    pub fn close(&mut self) {
        self.conn = None;
    }
}
