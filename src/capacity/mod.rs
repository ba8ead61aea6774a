//! Capacity verdicts: does the target hold the load a vendor claims (docs/background.md#capacity-verdict)?
//!
//! `schoolday capacity SCENARIO --claim "exam 8000 concurrent, p95 < 1s, errors < 0.1%"`:
//!
//! 1. **Plan** before any load ([`plan`]): the warm-up the population needs to build up and
//!    the requests each step needs for its bounds, hence a minimum window; a plan that cannot
//!    conclude is refused unless the user insists (`--indicative`).
//! 2. **Convert** the claimed concurrency to an arrival rate, `X = N / (Z + R)`
//!    ([`convert`]), with R measured by a short calibration run at light load.
//! 3. **Ladder**: steps at 0.5, 0.75, 1.0, 1.1, 1.25 × the claim, each a real run of the
//!    claimed persona alone, either at a constant rate (the rate method) or as N users held in
//!    session (`--hold`) ([`step`]).
//! 4. **Judge** each step from its window, and only once its users are in session (NOT TESTED
//!    otherwise): Clopper–Pearson on latency exceedance and errors, batches, user goal
//!    success, generator health ([`step`], [`stats`]).
//! 5. **Bisect** between the last pass and the first fail, **repeat** for every seed, and
//!    state the verdict, the largest load that passed and the first that failed
//!    ([`search`]).
//! 6. **Evidence pack** in the run directory: the scenario and its SHA-256, tool version,
//!    machine, method, every step's run directory, `capacity.json`, and `capacity.html`
//!    ([`evidence`], [`page`]).
//!
//! The module never runs load itself: the caller passes a function that runs one scenario
//! (`app::run_scenario` in the binary), which keeps this module testable and the runtime
//! unaware of capacity searches.

mod chart;
pub mod convert;
pub mod evidence;
pub mod page;
pub mod plan;
pub mod render;
pub mod search;
pub mod sha256;
pub mod stats;
pub mod step;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::analysis::Summary;
use crate::scenario::claim::{Claim, ClaimLoad};
use crate::scenario::Scenario;
use convert::{as_rate, convert, journey_cost, Conversion};
pub use plan::{Method, Plan};
use search::{overall, run_seed, SeedRun, StepRunner};
use step::{judge, step_scenario, StepResult, Timing, Verdict};

/// How to search.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Multiples of the claimed load for the ladder.
    pub fractions: Vec<f64>,
    pub warmup: Duration,
    /// The steady window judged in every step.
    pub window: Duration,
    /// After the window, users still running get this long before being cut off.
    pub grace: Duration,
    /// Seeds: the scenario's seed, +1, +2, …
    pub repeat: u32,
    /// Bisection stops when the bracket is this narrow (a fraction of the claim).
    pub resolution: f64,
    pub max_bisections: u32,
    /// Length of the light-load run that measures R.
    pub calibration: Duration,
    /// How each step puts the load on: arrivals at a rate, or users held in session.
    pub method: Method,
    /// Run a plan that cannot conclude anyway, every line of its report saying so.
    pub indicative: bool,
}

impl Default for Options {
    /// Five steps, 10-minute windows, three seeds (docs/background.md).
    fn default() -> Self {
        Options {
            fractions: vec![0.5, 0.75, 1.0, 1.1, 1.25],
            warmup: Duration::from_secs(120),
            window: Duration::from_secs(600),
            grace: Duration::from_secs(10),
            repeat: 3,
            resolution: 0.05,
            max_bisections: 4,
            calibration: Duration::from_secs(10),
            method: Method::Rate,
            indicative: false,
        }
    }
}

/// A capacity search's outcome: what `capacity.json` holds and the HTML section renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityReport {
    pub schema_version: u32,
    pub evidence: evidence::Evidence,
    pub claim: ClaimInfo,
    pub conversion: Conversion,
    pub settings: Settings,
    /// What each step needed, computed before the search (absent in version 1 files).
    #[serde(default)]
    pub plan: Option<Plan>,
    pub runs: Vec<SeedRun>,
    pub verdict: Verdict,
    /// Smallest over seeds of the largest passing load.
    pub largest_pass: Option<Load>,
    /// Smallest over seeds of the first failing load.
    pub first_fail: Option<Load>,
    /// (in-flight requests, throughput) per step, for a USL fit.
    pub usl_points: Vec<(f64, f64)>,
    /// The Universal Scalability Law fitted to the steps' (concurrency, throughput): a
    /// cross-check, never a capacity claim (see `usl_cross_check`).
    #[serde(default)]
    pub usl: Option<crate::analysis::usl::UslFit>,
    /// Plain-language caveats (short windows, a single seed, …).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimInfo {
    pub text: String,
    pub persona: String,
    pub concurrency: Option<u64>,
    pub quantile: f64,
    pub latency_us: u64,
    pub error_rate: f64,
    pub goal_success: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub fractions: Vec<f64>,
    pub warmup_s: f64,
    pub window_s: f64,
    pub repeat: u32,
    pub seeds: Vec<u64>,
    pub resolution: f64,
    /// How the load was put on (the rate method in version 1 files).
    #[serde(default = "rate_method")]
    pub method: Method,
    /// Run although its plan could not conclude.
    #[serde(default)]
    pub indicative: bool,
}

fn rate_method() -> Method {
    Method::Rate
}

/// A load, in every unit a reader may want.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Load {
    pub fraction: f64,
    /// Sessions per second.
    pub rate: f64,
    /// Requests finished per second, measured.
    pub throughput: f64,
    /// Users in session at once, measured.
    pub concurrency: f64,
    pub seed: u64,
    /// For a failing load: what broke, and in which journey step.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub worst_step: Option<String>,
}

/// Runs one scenario to its summary; returns the summary and its run directory.
pub type RunFn<'a> = dyn FnMut(Arc<Scenario>, &Path) -> anyhow::Result<(Summary, PathBuf)> + 'a;

/// A plan that cannot conclude, refused before (or right after calibrating) rather than run.
#[derive(Debug, thiserror::Error)]
#[error("{}", refusal(.plan, .needed))]
pub struct Refused {
    pub plan: Box<Plan>,
    /// The options that would conclude, and how long the search would take with them.
    pub needed: String,
}

fn refusal(plan: &Plan, needed: &str) -> String {
    let mut text = String::from("this plan cannot conclude:");
    for p in &plan.problems {
        text.push_str("\n  - ");
        text.push_str(p);
    }
    text.push_str(&format!(
        "\na run that can conclude needs {needed};\nor pass --indicative to run this one anyway (every line of its \
         report then says INDICATIVE, and it goes into no procurement file)"
    ));
    text
}

/// What one session of the claimed persona costs, and what the part a held user repeats
/// after logging in costs.
#[derive(Debug, Clone, Copy)]
struct Costs {
    session: convert::JourneyCost,
    held: convert::JourneyCost,
}

fn persona_cost(scenario: &Scenario, claim: &Claim) -> anyhow::Result<Costs> {
    let persona = scenario
        .personas
        .iter()
        .find(|p| p.name == claim.persona)
        .ok_or_else(|| anyhow::anyhow!("the scenario has no persona `{}`", claim.persona))?;
    let split = step::hold_split(&persona.journey, persona.behaviour.login_end);
    Ok(Costs { session: journey_cost(&persona.journey), held: convert::journey_cost_from(&persona.journey, split) })
}

fn planned(claim: &Claim, costs: Costs, conversion: &Conversion, measured: bool, options: &Options) -> Plan {
    let timing = Timing { warmup: options.warmup, window: options.window, grace: options.grace };
    let response = measured.then_some(conversion.response_s);
    match options.method {
        Method::Rate => {
            plan::plan(claim, costs.session, response, conversion.rate, options.method, &options.fractions, timing)
        }
        Method::Hold { .. } => {
            // The same N users, cycling through the repeated part: R scales with its requests.
            let session = costs.session;
            let held = costs.held;
            let n = conversion.rate * (session.think_s + conversion.response_s);
            let r = response.map(|r| r * held.requests / session.requests.max(1.0));
            let cycle = held.think_s + r.unwrap_or(0.0);
            let rate = if cycle > 0.0 { n / cycle } else { f64::INFINITY };
            plan::plan(claim, held, r, rate, options.method, &options.fractions, timing)
        }
    }
}

/// The plan before any load is sent, printed to stderr; a [`Refused`] error if it cannot
/// conclude (unless `options.indicative`). R is not known yet and taken as 0: the session is
/// then as short and the rate as high as they can be, so a plan refused here would be refused
/// after calibrating too. `None` when nothing can be said before calibrating (no think time).
pub fn preflight(scenario: &Scenario, claim: &Claim, options: &Options) -> anyhow::Result<Option<Plan>> {
    let costs = persona_cost(scenario, claim)?;
    let cost = costs.session;
    let (conversion, measured) = match claim.load {
        ClaimLoad::Rate(rate) => (as_rate(rate, cost), true),
        ClaimLoad::Concurrent(n) => (convert(n, cost, 0.0), false),
    };
    let plan = planned(claim, costs, &conversion, measured, options);
    if !conversion.rate.is_finite() || plan.steps.iter().any(|s| !s.requests_per_s.is_finite()) {
        return Ok(None);
    }
    Ok(Some(check(plan, claim, options)?))
}

/// Search the capacity of `scenario`'s claimed persona; writes the evidence pack into `dir`.
/// After calibrating, prints the plan to stderr and refuses (a [`Refused`] error) one that
/// cannot conclude unless `options.indicative`; call [`preflight`] first to refuse before
/// any load is sent.
pub fn search(
    scenario: &Scenario,
    scenario_bytes: &[u8],
    claim: &Claim,
    options: &Options,
    dir: &Path,
    run: &mut RunFn,
) -> anyhow::Result<CapacityReport> {
    let costs = persona_cost(scenario, claim)?;
    let cost = costs.session;
    let pack = evidence::collect(scenario, scenario_bytes);
    let timing = Timing { warmup: options.warmup, window: options.window, grace: options.grace };
    let steps_dir = dir.join("steps");
    let conversion = match claim.load {
        ClaimLoad::Rate(rate) => as_rate(rate, cost),
        ClaimLoad::Concurrent(n) => {
            let response_s = calibrate(scenario, claim, options, cost.requests, &steps_dir, run)?;
            convert(n, cost, response_s)
        }
    };
    anyhow::ensure!(
        conversion.rate.is_finite() && conversion.rate > 0.0,
        "cannot convert the claim into an arrival rate: {}",
        conversion.statement
    );
    let plan = check(planned(claim, costs, &conversion, true, options), claim, options)?;
    let seeds: Vec<u64> = (0..options.repeat.max(1) as u64).map(|i| scenario.seed.wrapping_add(i)).collect();
    let session_s = conversion.think_s + conversion.response_s;
    let mut runner = Runner {
        scenario,
        claim,
        rate: conversion.rate,
        session_s,
        method: options.method,
        indicative: options.indicative,
        timing,
        dir,
        steps_dir: &steps_dir,
        run,
    };
    let mut runs = Vec::new();
    for &seed in &seeds {
        runs.push(run_seed(&mut runner, seed, &options.fractions, options.resolution, options.max_bisections)?);
    }
    let report = assemble(pack, claim, conversion, plan, options, seeds, runs);
    evidence::write(dir, &report, scenario_bytes)?;
    Ok(report)
}

/// Print the plan; refuse it if it cannot conclude and the user did not insist.
fn check(plan: Plan, claim: &Claim, options: &Options) -> Result<Plan, Refused> {
    eprint!("{}", plan::render(&plan, claim));
    if plan.concludes() || options.indicative {
        if !plan.concludes() {
            eprintln!("  INDICATIVE: this plan cannot conclude ({}); running it as asked", plan.problems.len());
        }
        return Ok(plan);
    }
    let needed = plan.needed(options.grace, options.repeat);
    Err(Refused { plan: Box::new(plan), needed })
}

/// The report from the runs: the verdict, the loads that bound it, and the notes.
fn assemble(
    evidence: evidence::Evidence,
    claim: &Claim,
    conversion: Conversion,
    plan: Plan,
    options: &Options,
    seeds: Vec<u64>,
    runs: Vec<SeedRun>,
) -> CapacityReport {
    let verdict = overall(&runs);
    // The largest pass must hold in every seed: if one seed has none, there is none.
    let largest_pass = runs
        .iter()
        .map(|r| r.largest_pass.and_then(|f| r.steps.iter().find(|s| s.fraction == f)))
        .collect::<Option<Vec<_>>>()
        .and_then(|passes| passes.into_iter().min_by(|a, b| a.fraction.total_cmp(&b.fraction)))
        .map(load_of);
    let first_fail = runs
        .iter()
        .filter_map(|r| r.first_fail.and_then(|f| r.steps.iter().find(|s| s.fraction == f)))
        .min_by(|a, b| a.fraction.total_cmp(&b.fraction))
        .map(load_of);
    let usl_points: Vec<(f64, f64)> =
        runs.iter().flat_map(|r| r.steps.iter().map(|s| (s.in_flight, s.throughput))).collect();
    let usl = crate::analysis::usl::fit(&usl_points);
    let mut notes = notes(options, &plan, &runs, largest_pass.as_ref(), first_fail.is_none());
    notes.push(usl_cross_check(usl.as_ref(), largest_pass.as_ref()));
    CapacityReport {
        schema_version: 2,
        evidence,
        claim: ClaimInfo {
            text: claim.text.clone(),
            persona: claim.persona.clone(),
            concurrency: match claim.load {
                ClaimLoad::Concurrent(n) => Some(n),
                ClaimLoad::Rate(_) => None,
            },
            quantile: claim.quantile,
            latency_us: claim.latency.as_micros() as u64,
            error_rate: claim.error_rate,
            goal_success: claim.goal_success,
        },
        conversion,
        settings: Settings {
            fractions: options.fractions.clone(),
            warmup_s: options.warmup.as_secs_f64(),
            window_s: options.window.as_secs_f64(),
            repeat: options.repeat,
            seeds,
            resolution: options.resolution,
            method: options.method,
            indicative: options.indicative,
        },
        plan: Some(plan),
        runs,
        verdict,
        largest_pass,
        first_fail,
        usl_points,
        usl,
        notes,
    }
}

fn notes(options: &Options, plan: &Plan, runs: &[SeedRun], top: Option<&Load>, no_fail: bool) -> Vec<String> {
    let mut notes = Vec::new();
    if options.indicative && !plan.concludes() {
        notes.push(format!(
            "INDICATIVE: run with --indicative although its plan cannot conclude ({}). Not a result to attach to a \
             procurement file.",
            plan.problems.join("; ")
        ));
    }
    if options.repeat < 3 {
        notes.push(format!(
            "{} seed(s): a verdict for a procurement file needs at least 3 independent runs that agree (--repeat 3).",
            options.repeat
        ));
    }
    if runs.iter().any(|r| r.steps.iter().any(|s| !s.generator_healthy)) {
        notes.push("The generator fell behind in at least one step: those steps are INCONCLUSIVE, whatever they measured; use a bigger machine or shards.".into());
    }
    if runs.iter().any(|r| r.steps.iter().any(|s| s.verdict == Verdict::NotTested)) {
        notes.push(
            "NOT TESTED steps never had their users in session (within the tolerance): they say nothing about the \
             claim. A longer warm-up (rate method) or ramp (--hold) gives the population time to build up."
                .into(),
        );
    }
    if no_fail {
        if let Some(top) = top {
            notes.push(format!(
                "No step failed: the capacity is at least {:.2}× the claim ({:.1} sessions/s); it was not measured above that.",
                top.fraction, top.rate
            ));
        }
    }
    notes
}

/// The USL cross-check in one sentence (docs/background.md): what the fit says about the peak,
/// how far to trust it, and that it never raises the measured capacity.
fn usl_cross_check(fit: Option<&crate::analysis::usl::UslFit>, largest_pass: Option<&Load>) -> String {
    let Some(fit) = fit else {
        return "USL cross-check: too few distinct load levels to fit the Universal Scalability Law.".into();
    };
    let peak = match (fit.n_star, fit.peak_throughput) {
        (Some(n), Some(x)) => format!("throughput peaks near {x:.0} req/s at about {n:.0} requests in flight"),
        (None, Some(x)) => format!("throughput levels off near {x:.0} req/s"),
        _ => "no peak within reach".to_string(),
    };
    let trust = if !fit.trustworthy {
        format!("not a trustworthy fit ({})", fit.notes.join("; "))
    } else if fit.extrapolated {
        "the peak lies beyond twice the concurrency measured: speculative".to_string()
    } else {
        format!("R² {:.2} over {} points", fit.r_squared, fit.points)
    };
    let measured = largest_pass
        .map(|p| {
            format!(
                " The verdict rests on the measured steps (largest passing load {:.0} req/s), not on this curve.",
                p.throughput
            )
        })
        .unwrap_or_default();
    format!("USL cross-check: {peak}; {trust}.{measured}")
}

fn load_of(s: &StepResult) -> Load {
    Load {
        fraction: s.fraction,
        rate: s.rate,
        throughput: s.throughput,
        concurrency: s.concurrency,
        seed: s.seed,
        reasons: if s.verdict == Verdict::Fail { s.reasons.clone() } else { Vec::new() },
        worst_step: s.worst_step.clone(),
    }
}

/// R: the response time per session on the unloaded target, from a light run (4 sessions/s).
fn calibrate(
    scenario: &Scenario,
    claim: &Claim,
    options: &Options,
    requests_per_session: f64,
    steps_dir: &Path,
    run: &mut RunFn,
) -> anyhow::Result<f64> {
    const RATE: f64 = 4.0;
    let timing = Timing { warmup: Duration::ZERO, window: options.calibration, grace: options.grace };
    let s = step_scenario(scenario, &claim.persona, RATE, scenario.seed, timing);
    let (summary, _) = run(s, steps_dir)?;
    let (total_us, count) = summary
        .steps
        .iter()
        .fold((0.0, 0u64), |(t, c), st| (t + st.latency.mean_us * st.latency.count as f64, c + st.latency.count));
    anyhow::ensure!(count > 0, "the calibration run finished no request: is the target up?");
    // Mean per request × requests per session: sessions cut off at the end of a short
    // calibration would otherwise bias a per-session average.
    Ok(total_us / count as f64 / 1e6 * requests_per_session)
}

struct Runner<'a, 'r> {
    scenario: &'a Scenario,
    claim: &'a Claim,
    /// Sessions per second at 1.0×, and how long one lasts (Z + R): N = rate × session_s.
    rate: f64,
    session_s: f64,
    method: Method,
    indicative: bool,
    timing: Timing,
    dir: &'a Path,
    steps_dir: &'a Path,
    run: &'a mut RunFn<'r>,
}

impl StepRunner for Runner<'_, '_> {
    fn run(&mut self, fraction: f64, seed: u64) -> anyhow::Result<StepResult> {
        let rate = self.rate * fraction;
        let users = rate * self.session_s;
        let (s, timing) = match self.method {
            Method::Rate => (step_scenario(self.scenario, &self.claim.persona, rate, seed, self.timing), self.timing),
            Method::Hold { ramp_s } => {
                let ramp = Duration::from_secs_f64(ramp_s);
                let held = users.round().max(1.0) as u64;
                let s = step::hold_scenario(self.scenario, &self.claim.persona, held, seed, ramp, self.timing.window);
                (s, Timing { warmup: ramp, ..self.timing })
            }
        };
        let (summary, run_dir) = (self.run)(s, self.steps_dir)?;
        let relative = run_dir.strip_prefix(self.dir).unwrap_or(&run_dir).display().to_string();
        let result = judge(&summary, self.claim, fraction, rate, users, timing, relative);
        eprintln!(
            "capacity: {}{:.3}× ({:.0} users, {:.1} sessions/s, seed {seed}): {}{}",
            if self.indicative { "INDICATIVE " } else { "" },
            fraction,
            users,
            rate,
            result.verdict.label(),
            result.reasons.first().map(|r| format!(" — {r}")).unwrap_or_default()
        );
        Ok(result)
    }
}
