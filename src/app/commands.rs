//! The commands around a run: capacity, the demo target, report, compare, merge, kube and
//! import. Each parses nothing (clap stays in `cli.rs`): it takes its resolved arguments, calls
//! the module that does the work and maps the outcome to an exit code.

use std::io::Write;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context as _;

use crate::analysis::Summary;
use crate::cli::{CapacityArgs, CompareArgs, ImportCommand, KubeArgs, MergeArgs, OutputFormat, ReportArgs, TargetArgs};
use crate::demo::{EmbeddedConfig, EmbeddedTarget};
use crate::exit_code::ExitCode;
use crate::report::{self, RunDir, Style};
use crate::scenario::{self, Scenario};

use super::{exit_code, finish_export, human, load_scenario, open_export, print_json, run_scenario};

/// `schoolday capacity`: a claim, load steps around it, a verdict and its evidence pack.
pub(super) fn capacity(args: CapacityArgs, style: Style) -> anyhow::Result<ExitCode> {
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
        method: if args.hold {
            crate::capacity::Method::Hold { ramp_s: args.ramp.as_secs_f64() }
        } else {
            crate::capacity::Method::Rate
        },
        indicative: args.indicative,
        ..Default::default()
    };
    // Refused before any load is sent or any directory created.
    if let Err(e) = crate::capacity::preflight(&scenario, &claim, &options) {
        return refused(e);
    }
    let dir = RunDir::create(&args.out, &format!("{}-capacity", scenario.name), SystemTime::now())
        .with_context(|| format!("cannot create the capacity directory under {}", args.out.display()))?;
    let mut run = |s: Arc<Scenario>, out: &std::path::Path| -> anyhow::Result<(Summary, std::path::PathBuf)> {
        let finished = run_scenario(s, out, style)?;
        Ok((finished.summary, finished.dir.path().to_path_buf()))
    };
    let report = match crate::capacity::search(&scenario, &bytes, &claim, &options, dir.path(), &mut run) {
        Ok(report) => report,
        Err(e) => return refused(e),
    };
    let mut out = human(args.output);
    crate::capacity::render::terminal(&report, &style, &mut out)?;
    writeln!(out, "\nEvidence pack: {}", dir.path().display())?;
    drop(out);
    if args.output == OutputFormat::Json {
        print_json(&crate::capacity::render::json(&report, dir.path()))?;
    }
    Ok(match report.verdict {
        crate::capacity::step::Verdict::Pass => ExitCode::Success,
        crate::capacity::step::Verdict::Fail => ExitCode::ThresholdsFailed,
        crate::capacity::step::Verdict::Inconclusive | crate::capacity::step::Verdict::NotTested => {
            ExitCode::Inconclusive
        }
    })
}

/// A capacity plan that cannot conclude is a usage error (exit code 2); anything else stays
/// an error.
fn refused(e: anyhow::Error) -> anyhow::Result<ExitCode> {
    match e.downcast_ref::<crate::capacity::Refused>() {
        Some(refused) => {
            eprintln!("error: {refused}");
            Ok(ExitCode::Invalid)
        }
        None => Err(e),
    }
}

pub(super) fn serve_target(args: TargetArgs) -> anyhow::Result<ExitCode> {
    let mut config = match &args.scenario {
        None => EmbeddedConfig::default(),
        Some(path) => match super::load_scenario(path) {
            Ok(scenario) => match scenario.target {
                crate::scenario::Target::Embedded(config) => config,
                crate::scenario::Target::Url(url) => {
                    eprintln!(
                        "error: {} targets {url}, not the embedded workspace: there is no sizing to serve",
                        path.display()
                    );
                    return Ok(ExitCode::Invalid);
                }
            },
            Err(code) => return Ok(code),
        },
    };
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

pub(super) fn rerender(args: ReportArgs, style: Style) -> anyhow::Result<ExitCode> {
    if let Some(wanted) = &args.histogram {
        let saved = report::load(&args.run).with_context(|| format!("cannot read {}", args.run.display()))?;
        return match report::histogram::find(&saved.summary, wanted) {
            Ok(step) => {
                let ceiling = crate::analysis::thresholds::step_ceiling(&saved.summary, &step.persona, &step.name);
                report::histogram::render(step, ceiling, &mut std::io::stdout().lock())?;
                Ok(ExitCode::Success)
            }
            Err(e) => {
                eprintln!("error: --histogram: {e}");
                Ok(ExitCode::Invalid)
            }
        };
    }
    let (saved, files) = match report::rerender(&args.run) {
        Ok(done) => done,
        Err(report::Error::Load(report::LoadError::Missing { .. })) if report::recovered::possible(&args.run) => {
            return recovered(&args.run, &style);
        }
        Err(report::Error::Load(e)) => {
            eprintln!("error: cannot re-render {}: {e}", args.run.display());
            return Ok(ExitCode::Invalid);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot re-render {}", args.run.display())),
    };
    for warning in &saved.warnings {
        eprintln!("warning: {warning}");
    }
    let mut stdout = std::io::stdout().lock();
    report::verdict::render(&saved.summary, &style, &mut stdout)?;
    writeln!(stdout)?;
    for file in files {
        writeln!(stdout, "  {}", file.display())?;
    }
    Ok(ExitCode::Success)
}

/// `schoolday report` on a run that never wrote its summary (killed): what its interval logs
/// still hold, and what is lost.
fn recovered(dir: &std::path::Path, style: &Style) -> anyhow::Result<ExitCode> {
    let rebuilt = report::recovered::rebuild(dir)?;
    eprintln!(
        "warning: {} has no summary.json (the run was stopped before writing its report); rebuilt what its HDR logs hold",
        dir.display()
    );
    let file = report::RunDir::existing(dir).write("recovered.txt", rebuilt.text(&Style::plain()).as_bytes())?;
    let mut stdout = std::io::stdout().lock();
    write!(stdout, "{}", rebuilt.text(style))?;
    writeln!(stdout, "\n  {}", file.display())?;
    Ok(ExitCode::Success)
}

pub(super) fn compare(args: CompareArgs, style: Style) -> anyhow::Result<ExitCode> {
    let (comparison, page, warnings) = match report::compare(&args.runs, &args.out) {
        Ok(done) => done,
        Err(report::Error::Load(e)) => {
            eprintln!("error: cannot compare the runs: {e}");
            return Ok(ExitCode::Invalid);
        }
        Err(e) => return Err(e).context("cannot compare the runs"),
    };
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let mut out = human(args.output);
    comparison.terminal(&style, &mut out)?;
    writeln!(out)?;
    writeln!(out, "Comparison page: {}", page.display())?;
    drop(out);
    if args.output == OutputFormat::Json {
        print_json(&report::machine::compare(&comparison, &page))?;
    }
    Ok(ExitCode::Success)
}

/// `schoolday merge`: the shards of a run, merged exactly into one run directory; the exit
/// code is the one a single process would have given.
pub(super) fn merge(args: MergeArgs, style: Style) -> anyhow::Result<ExitCode> {
    let junit = match args.junit.as_deref().map(open_export).transpose() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::Invalid);
        }
    };
    let merged = match crate::merge::merge(&args.shards, &args.out) {
        Ok(m) => m,
        Err(e @ crate::merge::MergeError::Write { .. }) => return Err(e.into()),
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::Invalid);
        }
    };
    for warning in &merged.warnings {
        eprintln!("warning: {warning}");
    }
    if let Some(export) = junit {
        finish_export(export, &report::junit::render(&merged.summary))?;
    }
    let mut stdout = std::io::stdout().lock();
    report::terminal::render(&merged.summary, &style, &mut stdout)?;
    writeln!(stdout)?;
    report::shards::terminal(&merged.summary, &style, &mut stdout)?;
    writeln!(stdout)?;
    report::verdict::render(&merged.summary, &style, &mut stdout)?;
    writeln!(stdout, "\nMerged run directory: {}", merged.dir.path().display())?;
    for file in &merged.files {
        writeln!(stdout, "  {}", file.display())?;
    }
    drop(stdout);
    Ok(exit_code(&merged.summary))
}

/// `schoolday kube`: print the manifests that run the scenario as N shards and merge them.
pub(super) fn kube(args: KubeArgs) -> anyhow::Result<ExitCode> {
    let scenario = match load_scenario(&args.scenario) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let text =
        std::fs::read_to_string(&args.scenario).with_context(|| format!("cannot read {}", args.scenario.display()))?;
    let now = SystemTime::now();
    let start_at = match args.start_at.as_deref().map(crate::start::parse_instant).transpose() {
        Ok(at) => at.unwrap_or(now + args.start_in),
        Err(e) => {
            eprintln!("error: --start-at {e}");
            return Ok(ExitCode::Invalid);
        }
    };
    let options = crate::kube::Options {
        shards: args.shards,
        image: args.image,
        target: args.target,
        start_at,
        name: args.name,
        namespace: args.namespace,
        storage_class: args.storage_class,
        storage: args.storage,
        cpu: args.cpu,
        memory: args.memory,
    };
    match crate::kube::manifests(&scenario, &text, &options, now) {
        Ok(yaml) => {
            std::io::stdout().lock().write_all(yaml.as_bytes())?;
            Ok(ExitCode::Success)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::Invalid)
        }
    }
}

/// `schoolday import har|log`: write the scenario, print what was found, and load what was
/// written through the validator (an import the loader refuses is reported, not hidden).
pub(super) fn import(command: ImportCommand) -> anyhow::Result<ExitCode> {
    use crate::import::{filter::Filter, har_scenario, log_scenario};
    let regexes = |list: &[String]| -> anyhow::Result<Vec<regex::Regex>> {
        list.iter().map(|r| regex::Regex::new(r).with_context(|| format!("`{r}` is not a regex"))).collect()
    };
    let (text, written) = match command {
        ImportCommand::Har(args) => {
            let filter =
                Filter { origin: args.origin, include: regexes(&args.include)?, exclude: regexes(&args.exclude)? };
            let options = har_scenario::HarOptions {
                file: args.file,
                persona: args.persona,
                out: args.out.clone(),
                target: args.target,
                filter,
            };
            let imported = match har_scenario::import(&options) {
                Ok(imported) => imported,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::Invalid);
                }
            };
            eprint!("{}", imported.summary());
            if args.out.is_none() {
                print!("{}", imported.scenario);
            }
            (imported.scenario, args.out.unwrap_or_else(|| "scenario.yaml".into()))
        }
        ImportCommand::Log(args) => {
            let checked =
                match log_scenario::CheckedFlags::check(args.from.as_deref(), args.to.as_deref(), &args.personas) {
                    Ok(checked) => checked,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(ExitCode::Invalid);
                    }
                };
            let options = log_scenario::LogOptions {
                file: args.file,
                from: checked.from,
                to: checked.to,
                format: args.format.map(|f| match f {
                    crate::cli::LogFormat::Combined => crate::import::log_line::Format::Combined,
                    crate::cli::LogFormat::Json => crate::import::log_line::Format::Json,
                }),
                gap: args.gap,
                client: args.client,
                rules: checked.rules,
                out: args.out,
                target: args.target,
                clock: args.clock,
                scale: args.scale,
            };
            match log_scenario::import(&options) {
                Ok(imported) => {
                    print!("{}", imported.summary());
                    (imported.scenario, options.out)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::Invalid);
                }
            }
        }
    };
    if let Err(e) = scenario::load_str(&text, &written) {
        eprintln!("error: the imported scenario does not validate (please report it): {e}");
        return Ok(ExitCode::Invalid);
    }
    Ok(ExitCode::Success)
}
