//! The application, readable top to bottom: load → plan → run → analyse → report.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;

mod commands;
use commands::{capacity, compare, import, kube, merge, rerender, serve_target};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::analysis::{self, Summary};
use crate::cli::{Cli, Command, Connections, OutputFormat, QuickArgs, RunArgs, SchemaArgs, SchemaKind, ValidateArgs};
use crate::demo::EmbeddedTarget;
use crate::exit_code::ExitCode;
use crate::http::Clients;
use crate::load;
use crate::quick;
use crate::report::{self, RunDir, Style};
use crate::runtime::{self, Progress};
use crate::scenario::{self, ConnectionMode, Scenario, Target};

pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    let style = Style { quiet: cli.quiet, ..Style::detect(cli.color.into()) };
    // Both ends of a large morning hold a descriptor per connection (the run and `target`).
    crate::http::descriptors::raise_limit();
    match cli.command {
        Command::Run(args) => run(*args, style),
        Command::Validate(args) => validate(args, style),
        Command::Target(args) => serve_target(args),
        Command::Report(args) => rerender(args, style),
        Command::Compare(args) => compare(args, style),
        Command::Capacity(args) => capacity(args, style),
        Command::Merge(args) => merge(args, style),
        Command::Kube(args) => kube(args),
        Command::Import(command) => import(command),
        Command::Schema(args) => schema(args),
        Command::Completions(args) => {
            crate::cli::completions(args.shell, &mut std::io::stdout().lock());
            Ok(ExitCode::Success)
        }
        Command::Man => {
            crate::cli::man(&mut std::io::stdout().lock())?;
            Ok(ExitCode::Success)
        }
    }
}

/// Where a command's human text goes: stdout, or stderr when stdout carries `--output json`.
fn human(output: OutputFormat) -> Box<dyn Write> {
    match output {
        OutputFormat::Human => Box::new(std::io::stdout().lock()),
        OutputFormat::Json => Box::new(std::io::stderr().lock()),
    }
}

/// Print one JSON document on stdout (`--output json`).
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    Ok(())
}

/// `schoolday schema [scenario|summary]`.
fn schema(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let text = match args.which {
        SchemaKind::Scenario => scenario::schema::scenario_json(),
        SchemaKind::Summary => scenario::schema::SUMMARY_JSON.to_string(),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::Success)
}

/// Load a scenario, or print why not.
fn load_scenario(path: &std::path::Path) -> Result<Scenario, ExitCode> {
    scenario::load_file(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::Invalid
    })
}

fn validate(args: ValidateArgs, style: Style) -> anyhow::Result<ExitCode> {
    let scenario = match scenario::load_file(&args.scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            if args.output == OutputFormat::Json {
                print_json(&report::machine::invalid(&args.scenario, &e.to_string()))?;
            }
            return Ok(ExitCode::Invalid);
        }
    };
    let plan = load::plan(&scenario);
    if args.output == OutputFormat::Json {
        print_json(&report::machine::plan(&scenario, &plan))?;
    }
    let mut stdout = human(args.output);
    report::plan::render(&scenario, &plan, &style, &mut stdout)?;
    if !scenario.gates.thresholds.is_empty() {
        writeln!(stdout, "\nthresholds, judged at the end of the run:")?;
        for t in &scenario.gates.thresholds {
            writeln!(stdout, "  {}", t.text)?;
        }
    }
    if let Some(claim) = &scenario.gates.claim {
        writeln!(stdout, "\nclaim, for `schoolday capacity`: {}", claim.text)?;
    }
    Ok(ExitCode::Success)
}

fn run(args: RunArgs, style: Style) -> anyhow::Result<ExitCode> {
    let loaded = match &args.scenario {
        Some(path) => load_scenario(path),
        None => quick_scenario(&args.quick),
    };
    let mut scenario = match loaded {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(limit) = args.lag_limit {
        scenario.gates.lag_limit = Some(limit);
    }
    let launch = match launch(&args, &mut scenario) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::Invalid);
        }
    };
    // Opened before the run, so that a bad path fails before any load is sent.
    let junit = match args.junit.as_deref().map(open_export).transpose() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::Invalid);
        }
    };
    let live = match args.metrics_listen.map(crate::live::Endpoint::bind).transpose() {
        Ok(endpoint) => endpoint,
        Err(e) => {
            eprintln!("error: --metrics-listen: {e:#}");
            return Ok(ExitCode::Invalid);
        }
    };
    if let Some(endpoint) = &live {
        eprintln!("live metrics: http://{}/metrics", endpoint.local_addr());
    }
    let finished = match run_scenario_as(Arc::new(scenario), &args.out, style, &launch, live.as_ref()) {
        Err(e) if e.downcast_ref::<crate::start::Late>().is_some() => {
            eprintln!("error: {e}");
            return Ok(ExitCode::LateStart);
        }
        other => other?,
    };
    if let Some(export) = junit {
        finish_export(export, &report::junit::render(&finished.summary))?;
    }
    let mut out = human(args.output);
    report::terminal::render(&finished.summary, &style, &mut out)?;
    writeln!(out)?;
    report::verdict::render(&finished.summary, &style, &mut out)?;
    writeln!(out)?;
    report::shards::terminal(&finished.summary, &style, &mut out)?;
    writeln!(out, "Run directory: {}", finished.dir.path().display())?;
    for file in &finished.files {
        writeln!(out, "  {}", file.display())?;
    }
    drop(out);
    let code = crate::launch::exit_code(&launch, exit_code(&finished.summary));
    if args.output == OutputFormat::Json {
        let value = report::machine::run(&finished.summary, finished.dir.path(), &finished.files, code as i32);
        print_json(&value)?;
    }
    if let (Some(_), Some(linger)) = (&live, args.metrics_linger) {
        std::thread::sleep(linger);
    }
    Ok(code)
}

/// `--target`, `--shard`, `--shards`, `--start-at`: how this process takes part in the run.
fn launch(args: &RunArgs, scenario: &mut Scenario) -> Result<crate::launch::Launch, String> {
    if let Some(url) = &args.target {
        scenario.target = crate::launch::target_override(url)?;
    }
    let bytes = match &args.scenario {
        Some(path) => std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => Vec::new(),
    };
    let index_env = std::env::var(crate::load::INDEX_ENV).ok();
    let request = crate::launch::Request {
        shard: args.sharding.shard.as_deref(),
        shards: args.sharding.shards,
        start_at: args.sharding.start_at.as_deref(),
        tolerance: args.sharding.start_tolerance,
        index_env: index_env.as_deref(),
    };
    crate::launch::Launch::resolve(&request, scenario, bytes)
}

/// Build a quick-mode scenario from `--url` and its flags, or print why not.
fn quick_scenario(args: &QuickArgs) -> Result<Scenario, ExitCode> {
    let load = match (args.users, args.rate) {
        (Some(users), _) => quick::Load::Closed { users, think: args.think, ramp_up: args.ramp_up },
        (None, Some(rate)) => quick::Load::Open { rate },
        // clap requires one of them with --url, and --url without a scenario.
        (None, None) => return Err(ExitCode::Invalid),
    };
    let url = args.url.as_deref().unwrap_or_default();
    let mut options = quick::Options::new(url, load);
    if let Some(duration) = args.duration {
        options.duration = duration;
    }
    if let Some(connections) = args.connections {
        options.connections = match connections {
            Connections::PerUser => ConnectionMode::PerUser,
            Connections::Shared => ConnectionMode::Shared,
        };
    }
    if let Some(pool) = args.pool {
        options.connections = ConnectionMode::Shared;
        options.client.pool = Some(pool);
    }
    options.client.tls.insecure = args.insecure;
    if let Some(method) = &args.method {
        options.method = method.clone();
    }
    options.headers = args.header.clone();
    options.body = args.body.clone();
    if let Some(timeout) = args.timeout {
        options.timeout = timeout;
    }
    quick::scenario(&options).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::Invalid
    })
}

/// A run that has ended and written its files.
pub struct Finished {
    pub summary: Summary,
    pub dir: RunDir,
    pub files: Vec<std::path::PathBuf>,
}

/// Plan, run and report one scenario: the whole pipeline without the command line. Progress
/// goes to stderr; the summary is returned and written under `out`.
pub fn run_scenario(scenario: Arc<Scenario>, out: &std::path::Path, style: Style) -> anyhow::Result<Finished> {
    run_scenario_as(scenario, out, style, &crate::launch::Launch::default(), None)
}

/// [`run_scenario`] as one shard of a run, or after a start barrier: `launch` says which part
/// of the plan to play and when to start. A shard too late for its barrier returns a
/// [`crate::start::Late`] error, leaving no run directory behind. `live` serves live metrics
/// while the run goes (`--metrics-listen`).
pub fn run_scenario_as(
    scenario: Arc<Scenario>,
    out: &std::path::Path,
    style: Style,
    launch: &crate::launch::Launch,
    live: Option<&crate::live::Endpoint>,
) -> anyhow::Result<Finished> {
    if let Some(at) = launch.start_at {
        crate::start::check_not_late(at, launch.tolerance)?;
    }
    let whole = load::plan(&scenario);
    let plan = Arc::new(match launch.shard {
        Some(s) => whole.shard(s.index, s.count),
        None => whole,
    });
    // Created before any load is sent, so a bad output path fails first.
    let dir = RunDir::create(out, &launch.dir_name(&scenario), SystemTime::now())
        .with_context(|| format!("cannot create the run directory under {}", out.display()))?;
    let generator = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("schoolday-user")
        .build()
        .context("cannot start the generator runtime")?;
    // Listening before anything else is set up: a Ctrl-C from now on ends in a partial report.
    let interrupts = {
        let _entered = generator.enter();
        runtime::interrupt::Interrupts::listen().context("cannot listen for Ctrl-C")?
    };
    if launch.shard.is_some() {
        dir.write(crate::launch::SCENARIO_COPY, &launch.scenario_bytes)?;
    }

    let target = match &scenario.target {
        Target::Embedded(config) => {
            Some(Arc::new(EmbeddedTarget::start(config).context("cannot start the embedded target on 127.0.0.1")?))
        }
        Target::Url(_) => None,
    };
    let base_url = match (&target, &scenario.target) {
        (Some(t), _) => t.base_url().to_string(),
        (None, Target::Url(url)) => url.to_string(),
        (None, Target::Embedded(_)) => unreachable!("an embedded target was started above"),
    };
    let clients = Clients::new(&base_url, &scenario.http).context("cannot set up the HTTP client")?;

    if !style.quiet {
        eprintln!(
            "{} {} — {} users, {} + {} grace, against {}",
            style.bold("running"),
            scenario.name,
            crate::format::count(plan.arrivals.len() as u64),
            crate::format::clock(scenario.duration),
            crate::format::clock(scenario.grace),
            base_url
        );
    }
    if let Some(at) = launch.start_at {
        eprintln!("waiting for the start barrier at {}", humantime::format_rfc3339_millis(at));
        if let Err(late) = crate::start::wait_until(at, launch.tolerance) {
            let _ = std::fs::remove_dir_all(dir.path());
            return Err(late.into());
        }
    }
    let output = generator.block_on(async {
        let stop = CancellationToken::new();
        tokio::spawn(on_interrupts(interrupts, stop.clone()));
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        let display = tokio::spawn(report::progress::show(
            progress_rx,
            report::progress::Planned { duration: scenario.duration, grace: scenario.grace },
            style,
        ));
        let on_storm: Option<runtime::StormHook> = target.clone().map(|t| {
            let hook: runtime::StormHook = Arc::new(move || {
                t.drop_sessions();
            });
            hook
        });
        let live = live.map(|endpoint| LiveFigures {
            page: endpoint.page(),
            labels: report::prometheus::RunLabels {
                run: dir.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                scenario: scenario.name.clone(),
                shard: launch.shard.map(|s| format!("{}/{}", s.index, s.count)),
            },
            scheduled: plan_scheduled(&scenario, &plan),
        });
        let (every_second, aborted) = every_second(&scenario, &plan, &base_url, &stop, &dir, live);
        let hooks = runtime::Hooks { on_storm, every_second: Some(every_second) };
        let mut output =
            runtime::run(scenario.clone(), plan.clone(), &base_url, clients, stop, progress_tx, hooks).await;
        let _ = display.await;
        let aborted = aborted.and_then(|r| r.lock().unwrap_or_else(|p| p.into_inner()).take());
        if aborted.is_some() {
            // Stopped by a failed threshold, not by a person: not an interruption.
            output.interrupted = false;
        }
        (output, aborted)
    });
    let (output, aborted) = output;

    let target_counts = target.map(|t| {
        let counts = serde_json::to_value(t.counts()).unwrap_or_default();
        // The storm hook held the other reference; it is gone with the run.
        if let Ok(t) = Arc::try_unwrap(t) {
            t.shutdown();
        }
        counts
    });
    let mut summary = analysis::summarize(
        &scenario,
        analysis::Measured::of(&output),
        &analysis::Due::per_persona(&plan),
        &analysis::validity::due_by_second(&plan),
        &base_url,
        target_counts,
    );
    summary.thresholds = analysis::thresholds::evaluate(&scenario.gates.thresholds, &summary);
    summary.run.aborted = aborted;
    crate::launch::record(&mut summary, launch, &scenario, &output);
    let writing = report::progress::Writing::start(style);
    let files = report::write_files(&summary, &dir)?;
    drop(writing);
    // Only now: while the report is written, a second Ctrl-C still exits at once.
    generator.shutdown_timeout(Duration::from_secs(2));
    Ok(Finished { summary, dir, files })
}

/// The first Ctrl-C stops the run (the partial report is written); a second exits at once.
async fn on_interrupts(mut interrupts: runtime::interrupt::Interrupts, stop: CancellationToken) {
    interrupts.next().await;
    eprintln!(
        "\ninterrupted: stopping arrivals, cutting off active users, writing the partial report… (Ctrl-C again to exit now)"
    );
    stop.cancel();
    interrupts.next().await;
    eprintln!(
        "interrupted again: exiting now; every file written so far is whole, and `schoolday report` on the \
         run directory writes the rest (or rebuilds what the HDR logs hold)"
    );
    std::process::exit(ExitCode::Interrupted.code());
}

/// What runs after each second of a run: the per-second HDR interval logs, and the
/// `abort_on_fail` judge when the scenario asks for it (with the slot where it says why it
/// stopped the run).
fn every_second(
    scenario: &Arc<Scenario>,
    plan: &load::Plan,
    base_url: &str,
    stop: &CancellationToken,
    dir: &RunDir,
    live: Option<LiveFigures>,
) -> (runtime::SecondHook, Option<crate::abort::Reason>) {
    let (mut judge, reason) = match scenario.gates.abort_on_fail {
        Some(after) if !scenario.gates.thresholds.is_empty() => {
            let (hook, reason) = crate::abort::hook(scenario.clone(), plan, base_url.to_string(), stop.clone(), after);
            (Some(hook), Some(reason))
        }
        _ => (None, None),
    };
    // Opened before the first arrival: a run that uses up the process's descriptors in its
    // first second (a surge of connections) must not leave it unable to open its logs.
    let mut logs = match report::hlog::LiveLogs::create(dir, &runtime::layout(scenario), SystemTime::now()) {
        Ok(logs) => Some(logs),
        Err(e) => {
            // The report rebuilds whole-run logs from the summary instead.
            eprintln!("warning: cannot write the per-second HDR logs: {e}");
            None
        }
    };
    let hook: runtime::SecondHook = Box::new(move |collector, t, last| {
        if let Some(judge) = judge.as_mut() {
            judge(collector, t, last);
        }
        if let Some(live) = &live {
            let state = report::prometheus::RunState { elapsed_s: t, finished: last };
            live.page.publish(report::prometheus::render(collector, &live.scheduled, &live.labels, state));
        }
        if let Some(logs) = logs.as_mut() {
            logs.append(collector.last_second(), t);
        }
        if last {
            // Every line is already on disk; dropping the logs closes the files.
            logs = None;
        }
    });
    (hook, reason)
}

/// What `--metrics-listen` needs each second: where to publish, and the run's labels.
struct LiveFigures {
    page: crate::live::Page,
    labels: report::prometheus::RunLabels,
    scheduled: Vec<u64>,
}

/// Users scheduled per persona, in scenario order.
fn plan_scheduled(scenario: &Scenario, plan: &load::Plan) -> Vec<u64> {
    let mut scheduled = vec![0u64; scenario.personas.len()];
    for arrival in &plan.arrivals {
        scheduled[arrival.persona as usize] += 1;
    }
    scheduled
}

/// What the run means for a script waiting on it. Precedence, first match wins (see
/// `exit_code.rs` for why): interrupted, target unreachable, generator bottleneck,
/// thresholds failed, success.
pub fn exit_code(summary: &Summary) -> ExitCode {
    let failed = summary.thresholds.iter().filter(|t| !t.pass).count();
    if summary.run.interrupted {
        ExitCode::Interrupted
    } else if analysis::verdict::unreachable(summary) {
        eprintln!("error: the target is unreachable: every request failed to connect ({})", summary.target.url);
        ExitCode::TargetUnreachable
    } else if !summary.generator.healthy {
        eprintln!(
            "error: run invalid: the generator fell behind its schedule: {}{}",
            summary.generator.why_invalid(),
            if summary.thresholds.is_empty() {
                String::new()
            } else {
                format!("; {failed} threshold(s) failed, but on a run that does not count")
            }
        );
        ExitCode::GeneratorBottleneck
    } else if failed > 0 || summary.run.aborted.is_some() {
        eprintln!("error: {failed} of {} thresholds failed", summary.thresholds.len());
        if let Some(why) = &summary.run.aborted {
            eprintln!("the run was stopped early: {why}");
        }
        ExitCode::ThresholdsFailed
    } else {
        ExitCode::Success
    }
}

/// Open an export file's temporary name now (so a bad path fails before the run), naming the
/// file in the error; the run renames it into place once written.
fn open_export(path: &std::path::Path) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the directory of {}", path.display()))?;
    }
    let tmp = report::rundir::temporary(path);
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write to {}", path.display()))?;
    Ok((path.to_path_buf(), file))
}

/// Write an export opened by [`open_export`] and rename it into place: written under a
/// temporary name first, so a run stopped now leaves the previous report, never half of one.
fn finish_export((path, mut file): (std::path::PathBuf, std::fs::File), text: &str) -> anyhow::Result<()> {
    let tmp = report::rundir::temporary(&path);
    file.write_all(text.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
}
