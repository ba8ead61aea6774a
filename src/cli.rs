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
    Run(RunArgs),
    /// Check a scenario without running it, and print its plan.
    Validate(ValidateArgs),
    /// Serve the embedded demo school workspace on 127.0.0.1 until Ctrl-C.
    Target(TargetArgs),
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
pub struct RunArgs {
    /// The scenario file (YAML).
    pub scenario: PathBuf,
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
