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
    after_help = "Exit codes: 0 ok · 1 thresholds failed · 2 invalid scenario or usage · 3 generator bottleneck · \
                  4 target unreachable · 5 other error · 130 interrupted"
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
