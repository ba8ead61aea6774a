//! Ctrl-C during a run. The first one stops the run: arrivals stop, active users are cut off,
//! and the partial report is written (exit code 130). A second one exits at once; every file
//! already written is whole (each is written under a temporary name and renamed, and the HDR
//! logs a line at a time), and `schoolday report` rebuilds what the logs hold.
//!
//! Listening starts when [`Interrupts::listen`] is called, before anything of the run is set
//! up, so that no Ctrl-C falls into the gap between "running" being printed and the run
//! starting: from then on Ctrl-C no longer kills the process, it is delivered here.

use std::io;

/// Ctrl-C presses, one at a time, from the moment [`Interrupts::listen`] was called.
pub struct Interrupts {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
    #[cfg(windows)]
    signal: tokio::signal::windows::CtrlC,
}

impl Interrupts {
    /// Start listening. Must be called inside a tokio runtime (or with one entered).
    pub fn listen() -> io::Result<Interrupts> {
        #[cfg(unix)]
        let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        #[cfg(windows)]
        let signal = tokio::signal::windows::ctrl_c()?;
        Ok(Interrupts { signal })
    }

    /// The next Ctrl-C (pending forever if signals can no longer be received).
    pub async fn next(&mut self) {
        if self.signal.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}
