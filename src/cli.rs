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
                  3 generator bottleneck · 4 target unreachable · 5 other error · 6 capacity verdict inconclusive · 7 shard too late for --start-at · \
                  130 interrupted"
)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,
    /// No progress display (results and errors are still printed).
    #[arg(long, short, global = true)]
    pub quiet: bool,
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
    /// Merge the run directories of a sharded run (`run --shard`) into one, exactly.
    Merge(MergeArgs),
    /// Print Kubernetes manifests that run a scenario as N shards and merge them.
    Kube(KubeArgs),
    /// Write a scenario from a browser recording (HAR) or a web server's access log.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print a JSON Schema: the scenario's (for editors: yaml-language-server, VS Code's YAML
    /// extension) or summary.json's.
    Schema(SchemaArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `schoolday man > ~/.local/share/man/man1/schoolday.1`.
    Man,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' run directories, one per shard (any order).
    #[arg(required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// The merged run directory to write (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the thresholds, judged on the merged data, as JUnit XML to this file.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct KubeArgs {
    /// The scenario file (YAML), put in a ConfigMap as it is.
    pub scenario: PathBuf,
    /// Number of shards (pods of the Indexed Job).
    #[arg(long)]
    pub shards: u32,
    /// The schoolday image the pods run (built from the repository's Dockerfile).
    #[arg(long)]
    pub image: String,
    /// The target's base URL, in place of the scenario's (required if it says `embedded`).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The shared start instant (RFC 3339 or epoch seconds). Default: now + --start-in.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// With no --start-at: how long from now the shards start (time to schedule every pod
    /// and pull the image).
    #[arg(long, default_value = "3m", value_parser = humantime::parse_duration)]
    pub start_in: std::time::Duration,
    /// Name of the Job, the ConfigMap and the volume claim (a DNS label).
    #[arg(long)]
    pub name: Option<String>,
    /// Kubernetes namespace of every object.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Storage class of the ReadWriteMany volume claim for the shard directories.
    #[arg(long)]
    pub storage_class: Option<String>,
    /// Size of that claim.
    #[arg(long, default_value = "1Gi")]
    pub storage: String,
    /// CPU requested (and limited) per shard pod, e.g. 2 or 1500m.
    #[arg(long, default_value = "2")]
    pub cpu: String,
    /// Memory requested (and limited) per shard pod.
    #[arg(long, default_value = "1Gi")]
    pub memory: String,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A browser recording (HAR 1.2) → one persona doing what the recorded person did.
    Har(ImportHarArgs),
    /// An access log (Common/Combined Log Format or JSON lines, plain or gzip) → the arrival
    /// curve, the route mix and the think times of a real day.
    Log(ImportLogArgs),
}

#[derive(Debug, Args)]
pub struct ImportHarArgs {
    /// The HAR file (developer tools → Network → “Save all as HAR with content”).
    pub file: PathBuf,
    /// Name of the persona the recording becomes.
    #[arg(long, default_value = "pupil")]
    pub persona: String,
    /// Where to write the scenario (default: stdout). The users file goes beside it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The scenario's `target:` (default: the recorded origin), e.g. `embedded`.
    #[arg(long)]
    pub target: Option<String>,
    /// The application's origin, e.g. `https://ent.example.org` (default: the first page's).
    #[arg(long)]
    pub origin: Option<String>,
    /// Keep requests whose URL matches this regex, whatever their kind or origin (repeatable).
    #[arg(long)]
    pub include: Vec<String>,
    /// Leave out requests whose URL matches this regex (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Common or Combined Log Format (Apache, nginx).
    Combined,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
pub struct ImportLogArgs {
    /// The access log, plain or gzip (`.gz`).
    pub file: PathBuf,
    /// Keep requests from this time of day on (`07:00`, in the log's own time zone).
    #[arg(long)]
    pub from: Option<String>,
    /// Keep requests before this time of day (`09:00`).
    #[arg(long)]
    pub to: Option<String>,
    /// The log's format (default: guessed from the first line).
    #[arg(long, value_enum)]
    pub format: Option<LogFormat>,
    /// A session ends after this long without a request from its client.
    #[arg(long, default_value = "30m", value_parser = humantime::parse_duration)]
    pub gap: std::time::Duration,
    /// Who a client is: the JSON field (or `user` for CLF's authenticated user) naming it
    /// (default: address + user agent).
    #[arg(long)]
    pub client: Option<String>,
    /// A persona and the routes or users that are it, `name=REGEX` (repeatable; first match
    /// wins; a session is the persona of its first matching request).
    #[arg(long = "persona")]
    pub personas: Vec<String>,
    /// Where to write the scenario; the arrival curve goes beside it as `<stem>-arrivals.csv`.
    #[arg(long, default_value = "imported.yaml")]
    pub out: PathBuf,
    /// The scenario's `target:`.
    #[arg(long, default_value = "embedded")]
    pub target: String,
    /// How long one logged minute lasts in the rehearsal (`1s` replays an hour in a minute;
    /// pauses shrink alike).
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    pub clock: std::time::Duration,
    /// The scenario's `scale` (`0.1` rehearses a tenth of the day's sessions).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which schema.
    #[arg(value_enum, default_value_t = SchemaKind::Scenario)]
    pub which: SchemaKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// The scenario YAML (docs/scenario.schema.json).
    Scenario,
    /// The run's summary.json (docs/summary.schema.json).
    Summary,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// What a command prints on stdout: text for people, or one JSON document for scripts (the
/// human text then goes to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Human,
    Json,
}

/// Write the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "schoolday", out);
}

/// Write the man page (roff) of the whole command line.
pub fn man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    clap_mangen::Man::new(Cli::command()).render(out)
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
    /// Warm-up of each step, excluded from the verdict (the rate method needs about one
    /// session length for the population to build up; the plan says how long).
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub warmup: std::time::Duration,
    /// Window judged in each step; the plan says how long it must be to conclude.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub step_duration: std::time::Duration,
    /// Test "N concurrent" as N users held in session (started over --ramp, kept for the
    /// window) rather than as the arrival rate that produces N at steady state.
    #[arg(long)]
    pub hold: bool,
    /// With --hold: how long the claim allows for the N users to arrive.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration, requires = "hold")]
    pub ramp: std::time::Duration,
    /// Run a plan that cannot conclude anyway; every line of its report says INDICATIVE.
    #[arg(long)]
    pub indicative: bool,
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
    /// `json`: the machine-readable result on stdout, human text on stderr.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory (or its summary.json).
    pub run: PathBuf,
    /// Print the latency histogram of this step as text bars (`persona.step`, or the step's
    /// name when it is unique) instead of re-rendering.
    #[arg(long, value_name = "STEP")]
    pub histogram: Option<String>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Two or more run directories; the first is the baseline.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// Where to write the comparison page: a path ending in `.html` is the page, anything else
    /// a directory (created if missing) that gets `compare.html`.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// `json`: the machine-readable result on stdout, human text on stderr.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
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
    /// `json`: the machine-readable result on stdout, human text on stderr.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Serve live Prometheus metrics on this address during the run (e.g. 127.0.0.1:9464;
    /// off by default). Scrape `/metrics`.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// After the run, keep serving its final figures this long, so that the next scrape
    /// sees them (e.g. your scrape interval, `15s`).
    #[arg(long, value_name = "DURATION", requires = "metrics_listen", value_parser = humantime::parse_duration)]
    pub metrics_linger: Option<std::time::Duration>,
    /// Send the load to this base URL instead of the scenario's target.
    #[arg(long, value_name = "URL", conflicts_with = "url")]
    pub target: Option<String>,
    #[command(flatten)]
    pub sharding: ShardArgs,
}

/// Distributed runs: this process plays one shard of the plan, started at a shared instant.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sharded runs (one shard of a run on several machines)")]
pub struct ShardArgs {
    /// Play shard I of N (I from 0), or `auto`: the index from JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job) and the count from --shards. Needs a URL target.
    #[arg(long, value_name = "I/N|auto", conflicts_with = "url")]
    pub shard: Option<String>,
    /// The number of shards, for `--shard auto`.
    #[arg(long, value_name = "N", env = "SCHOOLDAY_SHARDS")]
    pub shards: Option<u32>,
    /// Wait for this instant before starting (RFC 3339, e.g. 2026-12-02T09:00:00Z, or epoch
    /// seconds); give every shard the same one.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// How late a shard may reach --start-at and still run (later: exit code 7).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub start_tolerance: Option<std::time::Duration>,
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

/// `--color`: the command line's words for [`ColorChoice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl From<Color> for ColorChoice {
    fn from(color: Color) -> ColorChoice {
        match color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        }
    }
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
    /// `json`: the machine-readable result on stdout, human text on stderr.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Serve the `embedded:` sizing of this scenario (the flags below override it), e.g. to
    /// run the target in its own process and the scenario with `run --target URL`.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<std::path::PathBuf>,
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
