//! The command line (clap). Parsing only: `app` turns these into actions, and nothing below
//! `app` ever sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::ColorChoice;

#[derive(Debug, Parser)]
#[command(
    name = "schoolday",
    version,
    about = "Rehearse the school day before it happens: a load-testing harness for school platforms",
    long_about = None,
    after_help = "Exit codes: 0 ok · 1 thresholds failed (capacity: claim fails) · 2 invalid scenario or usage · \
                  3 generator bottleneck · 4 target unreachable · 5 other error · 6 capacity verdict inconclusive · \
                  130 interrupted"
)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its report.
    Run(Box<RunArgs>),
    /// Check a scenario without running it, and print its plan.
    Validate(ValidateArgs),
    /// Serve the embedded demo school workspace on 127.0.0.1 until Ctrl-C.
    Target(TargetArgs),
    /// Re-render every output of a saved run (HTML, charts, CSV, HDR logs) from its summary.
    Report(ReportArgs),
    /// Compare saved runs side by side (the first is the baseline): a terminal table and an
    /// HTML page.
    Compare(CompareArgs),
    /// Test a capacity claim: load steps around it, a verdict, and an evidence pack.
    Capacity(CapacityArgs),
}

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// The scenario file (YAML); the claimed persona's journey is what each step runs.
    pub scenario: PathBuf,
    /// The claim, e.g. "exam 8000 concurrent, p95 < 1s, errors < 0.1%" (default: the
    /// scenario's `claim:`).
    #[arg(long)]
    pub claim: Option<String>,
    /// Load steps as multiples of the claim.
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.75,1.0,1.1,1.25")]
    pub fractions: Vec<f64>,
    /// Warm-up of each step, excluded from the verdict.
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    pub warmup: std::time::Duration,
    /// Steady window judged in each step (DOMAIN.md: at least 10 minutes; short for CI).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub step_duration: std::time::Duration,
    /// Independent runs with seeds seed, seed+1, …; the verdict holds only if all agree.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Stop bisecting when the bracket is this narrow (a fraction of the claim).
    #[arg(long, default_value_t = 0.05)]
    pub resolution: f64,
    /// Where the capacity directory is created.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Override the scenario's seed (the first of the repeats).
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory (or its summary.json).
    pub run: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Two or more run directories; the first is the baseline.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// Where to write the comparison page (a directory gets `compare.html`).
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["scenario", "url"])))]
pub struct RunArgs {
    /// The scenario file (YAML). Or `--url` for a quick run without one.
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub quick: QuickArgs,
    /// Where run directories are created.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the thresholds as JUnit XML to this file (the run directory always gets a
    /// junit.xml when the scenario has thresholds).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Generator lag p99 above which the run is invalid (exit code 3). Default 5ms, or the
    /// scenario's `generator.lag_p99_limit`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lag_limit: Option<std::time::Duration>,
}

/// Quick mode: one URL under a closed loop (`--users`) or an open loop (`--rate`), no YAML.
#[derive(Debug, Args)]
#[command(next_help_heading = "Quick mode (instead of a scenario)")]
#[command(group(clap::ArgGroup::new("load").args(["users", "rate"]).multiple(false)))]
pub struct QuickArgs {
    /// The URL every request goes to.
    #[arg(long, conflicts_with = "scenario", requires = "load")]
    pub url: Option<String>,
    /// How long to send load.
    #[arg(long, requires = "url", value_parser = humantime::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Closed loop: N users, each sending its next request when the last one completes.
    #[arg(long, requires = "url")]
    pub users: Option<u64>,
    /// Closed loop: pause between a response and the user's next request.
    #[arg(long, requires = "users", value_parser = humantime::parse_duration)]
    pub think: Option<std::time::Duration>,
    /// Closed loop: users arrive evenly over this long (default: a tenth of the run, at most 1s).
    #[arg(long, requires = "users", value_parser = humantime::parse_duration)]
    pub ramp_up: Option<std::time::Duration>,
    /// Open loop: requests per second on schedule (`500`, `500/s`, `3000/min`).
    #[arg(long, requires = "url", value_parser = crate::scenario::units::parse_rate)]
    pub rate: Option<f64>,
    /// One connection per user (new handshakes, like browsers) or one shared keep-alive pool.
    #[arg(long, value_enum, requires = "url")]
    pub connections: Option<Connections>,
    /// A fixed shared pool of N connections (like wrk's -c): requests wait on the client for
    /// a free one, and the wait counts in their latency. Implies `--connections shared`.
    #[arg(long, requires = "url", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub pool: Option<u32>,
    /// Accept any TLS certificate (the report says so).
    #[arg(long, requires = "url")]
    pub insecure: bool,
    /// HTTP method.
    #[arg(long, requires = "url")]
    pub method: Option<String>,
    /// A header sent with every request, `Name: value` (repeatable).
    #[arg(long, requires = "url")]
    pub header: Vec<String>,
    /// The request body.
    #[arg(long, requires = "url")]
    pub body: Option<String>,
    /// Per-request timeout.
    #[arg(long, requires = "url", value_parser = humantime::parse_duration)]
    pub timeout: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Connections {
    PerUser,
    Shared,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (YAML).
    pub scenario: PathBuf,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Requests served at once.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Requests allowed to wait for a worker before the target answers 503.
    #[arg(long)]
    pub queue: Option<usize>,
    /// Service time of every route without its own (e.g. 5ms).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub service_time: Option<std::time::Duration>,
}
