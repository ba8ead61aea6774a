//! Progress while a run is going: a live bar on an interactive terminal, plain periodic lines
//! elsewhere (CI logs, pipes). Always on stderr, so stdout stays the summary.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::style::Style;
use crate::format::{clock, count, duration};
use crate::runtime::Progress;

/// How often plain progress lines are printed.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Follow `progress` until the sender is dropped. `planned` is duration + grace.
pub async fn show(mut progress: watch::Receiver<Progress>, planned: Duration, style: Style) {
    if style.quiet {
        // `--quiet`: follow the run to its end, print nothing.
        while progress.changed().await.is_ok() {}
        return;
    }
    let bar = style.live_progress.then(|| {
        let bar = ProgressBar::with_draw_target(Some(planned.as_secs().max(1)), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len}s\n  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let mut last_plain = Duration::ZERO;
    while progress.changed().await.is_ok() {
        let p = progress.borrow_and_update().clone();
        let line = describe(&p);
        match &bar {
            Some(bar) => {
                bar.set_position(p.elapsed.as_secs());
                bar.set_message(line);
            }
            None => {
                if p.elapsed >= last_plain + PLAIN_EVERY {
                    last_plain = p.elapsed;
                    let _ = writeln!(std::io::stderr(), "[{}] {line}", clock(p.elapsed));
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

fn describe(p: &Progress) -> String {
    format!(
        "users {}/{} arrived, {} active · {} req/s, {} in flight · {} ok, {} errors · lag p99 {}",
        count(p.arrived),
        count(p.scheduled),
        count(p.active_users),
        count(p.requests_per_second),
        count(p.in_flight),
        count(p.ok_total),
        count(p.errors_total),
        duration(p.lag_p99)
    )
}
