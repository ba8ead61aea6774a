//! The application, readable top to bottom: load → plan → run → analyse → report.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::analysis::{self, Summary};
use crate::cli::{
    CapacityArgs, Cli, Command, CompareArgs, Connections, QuickArgs, ReportArgs, RunArgs, TargetArgs, ValidateArgs,
};
use crate::demo::{EmbeddedConfig, EmbeddedTarget};
use crate::exit_code::ExitCode;
use crate::http::Clients;
use crate::load;
use crate::quick;
use crate::report::{self, RunDir, Style};
use crate::runtime::{self, Progress};
use crate::scenario::{self, ConnectionMode, Scenario, Target};

pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    let style = Style::detect(cli.color);
    match cli.command {
        Command::Run(args) => run(*args, style),
        Command::Validate(args) => validate(args, style),
        Command::Target(args) => serve_target(args),
        Command::Report(args) => rerender(args, style),
        Command::Compare(args) => compare(args, style),
        Command::Capacity(args) => capacity(args, style),
    }
}

/// Load a scenario, or print why not.
fn load_scenario(path: &std::path::Path) -> Result<Scenario, ExitCode> {
    scenario::load_file(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::Invalid
    })
}

fn validate(args: ValidateArgs, style: Style) -> anyhow::Result<ExitCode> {
    let scenario = match load_scenario(&args.scenario) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let plan = load::plan(&scenario);
    let mut stdout = std::io::stdout().lock();
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
    // Opened before the run, so that a bad path fails before any load is sent.
    let junit = match args.junit.as_deref().map(open_export).transpose() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::Invalid);
        }
    };
    let finished = run_scenario(Arc::new(scenario), &args.out, style)?;
    if let Some((path, mut file)) = junit {
        file.write_all(report::junit::render(&finished.summary).as_bytes())
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))?;
    }
    report::terminal::render(&finished.summary, &style, &mut std::io::stdout().lock())?;
    writeln!(std::io::stdout().lock())?;
    report::verdict::render(&finished.summary, &style, &mut std::io::stdout().lock())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout)?;
    writeln!(stdout, "Run directory: {}", finished.dir.path().display())?;
    for file in &finished.files {
        writeln!(stdout, "  {}", file.display())?;
    }
    Ok(exit_code(&finished.summary))
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
    let plan = load::plan(&scenario);
    // Created before any load is sent, so a bad output path fails first.
    let dir = RunDir::create(out, &scenario.name, SystemTime::now())
        .with_context(|| format!("cannot create the run directory under {}", out.display()))?;

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

    eprintln!(
        "{} {} — {} users, {} + {} grace, against {}",
        style.bold("running"),
        scenario.name,
        crate::format::count(plan.arrivals.len() as u64),
        crate::format::clock(scenario.duration),
        crate::format::clock(scenario.grace),
        base_url
    );
    let generator = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("schoolday-user")
        .build()
        .context("cannot start the generator runtime")?;
    let output = generator.block_on(async {
        let stop = CancellationToken::new();
        let on_ctrl_c = stop.clone();
        // Install the Ctrl-C handler now (polling the future once does it), not whenever the
        // task first runs, so that an early Ctrl-C still ends in a partial report.
        let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
        let early = tokio::select! {
            biased;
            result = &mut ctrl_c => result.is_ok(),
            _ = std::future::ready(()) => false,
        };
        tokio::spawn(async move {
            if early || ctrl_c.await.is_ok() {
                eprintln!("\ninterrupted: stopping arrivals, cutting off active users, writing the partial report…");
                on_ctrl_c.cancel();
            }
        });
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        let display = tokio::spawn(report::progress::show(progress_rx, scenario.duration + scenario.grace, style));
        let on_storm: Option<runtime::StormHook> = target.clone().map(|t| {
            let hook: runtime::StormHook = Arc::new(move || {
                t.drop_sessions();
            });
            hook
        });
        let (every_second, aborted) = every_second(&scenario, &plan, &base_url, &stop, &dir);
        let hooks = runtime::Hooks { on_storm, every_second: Some(every_second) };
        let mut output = runtime::run(scenario.clone(), &plan, &base_url, clients, stop, progress_tx, hooks).await;
        let _ = display.await;
        let aborted = aborted.and_then(|r| r.lock().unwrap_or_else(|p| p.into_inner()).take());
        if aborted.is_some() {
            // Stopped by a failed threshold, not by a person: not an interruption.
            output.interrupted = false;
        }
        (output, aborted)
    });
    let (output, aborted) = output;
    generator.shutdown_timeout(Duration::from_secs(2));

    let target_counts = target.map(|t| {
        let counts = serde_json::to_value(t.counts()).unwrap_or_default();
        // The storm hook held the other reference; it is gone with the runtime.
        if let Ok(t) = Arc::try_unwrap(t) {
            t.shutdown();
        }
        counts
    });
    let mut summary = analysis::summarize(&scenario, &plan, &output, &base_url, target_counts);
    summary.thresholds = analysis::thresholds::evaluate(&scenario.gates.thresholds, &summary);
    summary.run.aborted = aborted;
    let files = report::write_files(&summary, &dir)?;
    Ok(Finished { summary, dir, files })
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
) -> (runtime::SecondHook, Option<crate::abort::Reason>) {
    let (mut judge, reason) = match scenario.gates.abort_on_fail {
        Some(after) if !scenario.gates.thresholds.is_empty() => {
            let (hook, reason) = crate::abort::hook(scenario.clone(), plan, base_url.to_string(), stop.clone(), after);
            (Some(hook), Some(reason))
        }
        _ => (None, None),
    };
    let (dir, started_at) = (dir.clone(), SystemTime::now());
    let mut logs: Option<report::hlog::LiveLogs> = None;
    let mut logs_failed = false;
    let hook: runtime::SecondHook = Box::new(move |collector, t, last| {
        if let Some(judge) = judge.as_mut() {
            judge(collector, t, last);
        }
        if logs.is_none() && !logs_failed {
            match report::hlog::LiveLogs::create(&dir, collector.layout(), started_at) {
                Ok(created) => logs = Some(created),
                Err(e) => {
                    // The report rebuilds whole-run logs from the summary instead.
                    eprintln!("warning: cannot write the per-second HDR logs: {e}");
                    logs_failed = true;
                }
            }
        }
        if let Some(logs) = logs.as_mut() {
            logs.append(collector.last_second(), t);
        }
        if last {
            if let Some(logs) = logs.take() {
                logs.finish();
            }
        }
    });
    (hook, reason)
}

/// What the run means for a script waiting on it. Precedence, first match wins (see
/// `exit_code.rs` for why): interrupted, target unreachable, generator bottleneck,
/// thresholds failed, success.
pub fn exit_code(summary: &Summary) -> ExitCode {
    let connect_errors = summary.requests.errors.get("connect").copied().unwrap_or(0);
    let failed = summary.thresholds.iter().filter(|t| !t.pass).count();
    if summary.run.interrupted {
        ExitCode::Interrupted
    } else if summary.requests.sent > 0 && connect_errors == summary.requests.sent {
        eprintln!("error: the target is unreachable: every request failed to connect ({})", summary.target.url);
        ExitCode::TargetUnreachable
    } else if !summary.generator.healthy {
        eprintln!(
            "error: run invalid: the generator fell behind its schedule (lag p99 {} > {}), so the target \
             received less load than planned{}",
            crate::format::micros(summary.generator.lag.p99_us),
            crate::format::micros(summary.generator.lag_p99_limit_us),
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

/// Create (truncate) an export file now, naming it in the error.
fn open_export(path: &std::path::Path) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the directory of {}", path.display()))?;
    }
    let file = std::fs::File::create(path).with_context(|| format!("cannot write to {}", path.display()))?;
    Ok((path.to_path_buf(), file))
}

/// `schoolday capacity`: a claim, load steps around it, a verdict and its evidence pack.
fn capacity(args: CapacityArgs, style: Style) -> anyhow::Result<ExitCode> {
    let mut scenario = match load_scenario(&args.scenario) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let claim = match (&args.claim, &scenario.gates.claim) {
        (Some(text), _) => {
            let names = crate::scenario::thresholds::Names {
                personas: scenario
                    .personas
                    .iter()
                    .map(|p| (p.name.clone(), p.journey.requests.iter().map(|r| r.name.clone()).collect()))
                    .collect(),
            };
            match crate::scenario::claim::parse_claim(text, &names) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: --claim: {e}\n  {text}\n  {:>width$}", "^", width = e.offset + 1);
                    if let Some(hint) = e.hint {
                        eprintln!("  hint: {hint}");
                    }
                    return Ok(ExitCode::Invalid);
                }
            }
        }
        (None, Some(c)) => c.clone(),
        (None, None) => {
            eprintln!("error: no claim: pass --claim \"<persona> <N> concurrent, p95 < 1s, errors < 0.1%\" or add `claim:` to the scenario");
            return Ok(ExitCode::Invalid);
        }
    };
    if args.fractions.is_empty() || args.fractions.iter().any(|f| !f.is_finite() || *f <= 0.0) {
        eprintln!("error: --fractions must be positive multiples of the claim, e.g. 0.5,0.75,1,1.1,1.25");
        return Ok(ExitCode::Invalid);
    }
    let bytes = std::fs::read(&args.scenario).with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let options = crate::capacity::Options {
        fractions: args.fractions,
        warmup: args.warmup,
        window: args.step_duration,
        repeat: args.repeat.max(1),
        resolution: args.resolution,
        ..Default::default()
    };
    let dir = RunDir::create(&args.out, &format!("{}-capacity", scenario.name), SystemTime::now())
        .with_context(|| format!("cannot create the capacity directory under {}", args.out.display()))?;
    let mut run = |s: Arc<Scenario>, out: &std::path::Path| -> anyhow::Result<(Summary, std::path::PathBuf)> {
        let finished = run_scenario(s, out, style)?;
        Ok((finished.summary, finished.dir.path().to_path_buf()))
    };
    let report = crate::capacity::search(&scenario, &bytes, &claim, &options, dir.path(), &mut run)?;
    let mut stdout = std::io::stdout().lock();
    crate::capacity::render::terminal(&report, &style, &mut stdout)?;
    writeln!(stdout, "\nEvidence pack: {}", dir.path().display())?;
    Ok(match report.verdict {
        crate::capacity::step::Verdict::Pass => ExitCode::Success,
        crate::capacity::step::Verdict::Fail => ExitCode::ThresholdsFailed,
        crate::capacity::step::Verdict::Inconclusive => ExitCode::Inconclusive,
    })
}

fn serve_target(args: TargetArgs) -> anyhow::Result<ExitCode> {
    let mut config = EmbeddedConfig::default();
    if let Some(workers) = args.workers {
        config.workers = workers;
    }
    if let Some(queue) = args.queue {
        config.queue = queue;
    }
    if let Some(service_time) = args.service_time {
        config.service_time.default = service_time;
    }
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let target = EmbeddedTarget::start_on(&config, addr).with_context(|| format!("cannot serve on {addr}"))?;
    let waiter = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    waiter.block_on(async {
        // Listen for Ctrl-C before saying we are ready, so that one sent right after the
        // message is not lost: polling the future once installs the handler.
        let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
        tokio::select! {
            biased;
            result = &mut ctrl_c => return result,
            _ = std::future::ready(()) => {}
        }
        eprintln!(
            "embedded school workspace listening on {} ({} workers, queue {}); Ctrl-C to stop",
            target.base_url(),
            config.workers,
            config.queue
        );
        ctrl_c.await
    })?;
    let counts = target.counts();
    target.shutdown();
    println!("{}", serde_json::to_string_pretty(&counts)?);
    Ok(ExitCode::Success)
}

fn rerender(args: ReportArgs, style: Style) -> anyhow::Result<ExitCode> {
    let (summary, files) =
        report::rerender(&args.run).with_context(|| format!("cannot re-render {}", args.run.display()))?;
    let mut stdout = std::io::stdout().lock();
    report::verdict::render(&summary, &style, &mut stdout)?;
    writeln!(stdout)?;
    for file in files {
        writeln!(stdout, "  {}", file.display())?;
    }
    Ok(ExitCode::Success)
}

fn compare(args: CompareArgs, style: Style) -> anyhow::Result<ExitCode> {
    let (comparison, page) = report::compare(&args.runs, &args.out).context("cannot compare the runs")?;
    let mut stdout = std::io::stdout().lock();
    comparison.terminal(&style, &mut stdout)?;
    writeln!(stdout)?;
    writeln!(stdout, "Comparison page: {}", page.display())?;
    Ok(ExitCode::Success)
}
