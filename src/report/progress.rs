//! Progress while a run is going: on an interactive terminal, one indicatif bar per phase
//! (users arriving, the run's clock through its duration and then its grace period, writing
//! the report), with the live figures under them; plain lines every 5 s elsewhere (CI logs,
//! pipes). Always on stderr, so stdout stays the summary; nothing at all with `--quiet`.

use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::style::Style;
use crate::format::{clock, count, duration};
use crate::runtime::Progress;

/// How often plain progress lines are printed.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// How long the run is planned to take: arrivals within `duration`, then `grace` for the
/// users still on their way.
#[derive(Debug, Clone, Copy)]
pub struct Planned {
    pub duration: Duration,
    pub grace: Duration,
}

/// Follow `progress` until the sender is dropped.
pub async fn show(mut progress: watch::Receiver<Progress>, planned: Planned, style: Style) {
    if style.quiet {
        // `--quiet`: follow the run to its end, print nothing.
        while progress.changed().await.is_ok() {}
        return;
    }
    let bars = style.live_progress.then(|| Bars::new(planned, ProgressDrawTarget::stderr()));
    let mut last_plain = Duration::ZERO;
    while progress.changed().await.is_ok() {
        let p = progress.borrow_and_update().clone();
        match &bars {
            Some(bars) => bars.update(&p),
            None if p.elapsed >= last_plain + PLAIN_EVERY => {
                last_plain = p.elapsed;
                let _ = writeln!(std::io::stderr(), "[{}] {}", clock(p.elapsed), describe(&p));
            }
            None => {}
        }
    }
    if let Some(bars) = bars {
        bars.multi.clear().ok();
    }
}

/// The bars of an interactive terminal: users arrived of those scheduled, and the run's clock,
/// which becomes the grace period's once `duration` has passed.
struct Bars {
    multi: MultiProgress,
    arrivals: ProgressBar,
    clock: ProgressBar,
    figures: ProgressBar,
    planned: Planned,
}

impl Bars {
    fn new(planned: Planned, target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let bar = |template: &str, len: u64| {
            let bar = multi.add(ProgressBar::new(len));
            bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
            bar
        };
        let arrivals = bar("{prefix:>8} {wide_bar} {msg}", 1);
        arrivals.set_prefix("arrivals");
        let clock = bar("{prefix:>8} {wide_bar} {msg}", planned.duration.as_millis().max(1) as u64);
        clock.set_prefix("run");
        let figures = bar("         {msg}", 0);
        Bars { multi, arrivals, clock, figures, planned }
    }

    fn update(&self, p: &Progress) {
        self.arrivals.set_length(p.scheduled.max(1));
        self.arrivals.set_position(p.arrived);
        self.arrivals.set_message(format!("{}/{} users", count(p.arrived), count(p.scheduled)));
        let Planned { duration, grace } = self.planned;
        if p.elapsed < duration {
            self.clock.set_position(p.elapsed.as_millis() as u64);
            self.clock.set_message(format!("{} of {}", clock(p.elapsed), clock(duration)));
        } else {
            // Arrivals are over: the same bar counts the grace period down.
            let into_grace = p.elapsed - duration;
            self.clock.set_prefix("grace");
            self.clock.set_length(grace.as_millis().max(1) as u64);
            self.clock.set_position(into_grace.as_millis() as u64);
            self.clock.set_message(format!("{} of {}", clock(into_grace), clock(grace)));
        }
        self.figures.set_message(describe(p));
    }
}

/// The last phase on an interactive terminal: a spinner while the report is written, cleared
/// when dropped. Nothing elsewhere (plain logs get the list of files once written).
pub struct Writing(Option<ProgressBar>);

impl Writing {
    pub fn start(style: Style) -> Self {
        Writing((style.live_progress && !style.quiet).then(|| {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            spinner.set_style(
                ProgressStyle::with_template("{prefix:>8} {spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            spinner.set_prefix("report");
            spinner.set_message("writing summary.json, report.html, charts and logs");
            spinner.enable_steady_tick(Duration::from_millis(100));
            spinner
        }))
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(spinner) = self.0.take() {
            spinner.finish_and_clear();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_bar_becomes_the_grace_bar_once_arrivals_are_over() {
        let planned = Planned { duration: Duration::from_secs(10), grace: Duration::from_secs(5) };
        let bars = Bars::new(planned, ProgressDrawTarget::hidden());
        let at = |secs: u64, arrived: u64| Progress {
            elapsed: Duration::from_secs(secs),
            arrived,
            scheduled: 200,
            ..Progress::default()
        };
        bars.update(&at(4, 80));
        assert_eq!((bars.arrivals.position(), bars.arrivals.length()), (80, Some(200)));
        assert_eq!(
            (bars.clock.prefix(), bars.clock.position(), bars.clock.length()),
            ("run".into(), 4_000, Some(10_000))
        );
        assert_eq!(bars.clock.message(), "4s of 10s");
        bars.update(&at(12, 200));
        assert_eq!(
            (bars.clock.prefix(), bars.clock.position(), bars.clock.length()),
            ("grace".into(), 2_000, Some(5_000))
        );
        assert_eq!(bars.clock.message(), "2s of 5s");
        assert!(bars.figures.message().starts_with("users 200/200 arrived"), "{}", bars.figures.message());
    }
}
