//! Worker slots and the queue in front of them: why the target saturates.
//!
//! A real ENT front has a fixed pool of application workers (PHP-FPM children, servlet
//! threads) and a bounded accept queue in front of them. Requests beyond the workers wait;
//! requests beyond the queue are refused at once with 503. That is the shape that turned the
//! 8:00 wave into errors, so it is modelled literally: a FIFO semaphore of `workers` permits,
//! and a counter of waiters that refuses to grow past `queue`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::counts::Counters;

/// The queue was full: the request must be shed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

pub(crate) struct Capacity {
    slots: Semaphore,
    queue_limit: usize,
    waiting: AtomicUsize,
    in_service: AtomicU64,
}

/// A held worker slot, released on drop (also when the client disconnects mid-request and
/// the handler future is dropped).
pub(crate) struct Slot<'a> {
    _permit: SemaphorePermit<'a>,
    capacity: &'a Capacity,
}

/// A place in the queue, given back on drop, including when the waiting request is cancelled.
struct Place<'a> {
    capacity: &'a Capacity,
}

impl Capacity {
    /// `workers` is raised to 1: a target with no worker could never answer anything.
    pub(crate) fn new(workers: usize, queue: usize) -> Capacity {
        Capacity {
            slots: Semaphore::new(workers.clamp(1, Semaphore::MAX_PERMITS)),
            queue_limit: queue,
            waiting: AtomicUsize::new(0),
            in_service: AtomicU64::new(0),
        }
    }

    /// Takes a free slot, or waits for one in FIFO order if fewer than `queue` requests are
    /// already waiting, or refuses at once.
    pub(crate) async fn admit<'a>(&'a self, counters: &Counters) -> Result<Slot<'a>, Full> {
        // The semaphore is fair: while anyone waits, released permits go to the waiters, so
        // this fast path cannot overtake the queue.
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(self.enter(permit, counters));
        }
        let place = self.join_queue(counters)?;
        // The semaphore is never closed, so acquiring only fails if that changes.
        let permit = self.slots.acquire().await.map_err(|_| Full)?;
        drop(place);
        Ok(self.enter(permit, counters))
    }

    fn join_queue(&self, counters: &Counters) -> Result<Place<'_>, Full> {
        let before = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (waiting < self.queue_limit).then_some(waiting + 1)
            })
            .map_err(|_| Full)?;
        counters.queued(before as u64 + 1);
        Ok(Place { capacity: self })
    }

    fn enter<'a>(&'a self, permit: SemaphorePermit<'a>, counters: &Counters) -> Slot<'a> {
        let now = self.in_service.fetch_add(1, Ordering::Relaxed) + 1;
        counters.in_service(now);
        Slot { _permit: permit, capacity: self }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.capacity.in_service.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.capacity.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_beyond_workers_plus_queue() {
        let counters = Counters::new();
        let capacity = Capacity::new(1, 1);
        let first = capacity.admit(&counters).await.expect("a free slot");
        // The second request queues; poll it once so that it takes its place.
        let mut second = Box::pin(capacity.admit(&counters));
        assert!(futures_poll_once(second.as_mut()).await.is_none());
        assert!(matches!(capacity.admit(&counters).await, Err(Full)));
        drop(first);
        assert!(second.await.is_ok());
        let counts = counters.snapshot();
        assert_eq!(counts.peak_in_service, 1);
        assert_eq!(counts.peak_queued, 1);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_gives_its_place_back() {
        let counters = Counters::new();
        let capacity = Capacity::new(1, 1);
        let _held = capacity.admit(&counters).await.expect("a free slot");
        let mut waiter = Box::pin(capacity.admit(&counters));
        assert!(futures_poll_once(waiter.as_mut()).await.is_none());
        drop(waiter);
        let mut again = Box::pin(capacity.admit(&counters));
        assert!(futures_poll_once(again.as_mut()).await.is_none(), "queued, not shed");
    }

    /// Polls a future once, returning its output if it was ready.
    async fn futures_poll_once<F: std::future::Future + Unpin>(mut future: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
                std::task::Poll::Ready(output) => Some(output),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
