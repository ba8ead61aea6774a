//! `--output json`: each command's result as one JSON document on stdout, for scripts.
//!
//! A script should not have to scrape the terminal table. With `--output json` the human text
//! goes to stderr and stdout holds exactly one JSON value: for `run`, the summary (the same
//! document as `summary.json`, so `docs/summary.schema.json` describes it) with the run
//! directory beside it; for `validate`, the plan or the error; for `compare`, the rows with
//! each run's number and verdict (`capacity` prints its own, `capacity::render::json`).

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::compare::{Better, Comparison};
use crate::analysis::Summary;
use crate::load::Plan;
use crate::scenario::Scenario;

/// `schoolday run --output json`.
pub fn run(summary: &Summary, dir: &Path, files: &[PathBuf], exit_code: i32) -> Value {
    json!({
        "run_dir": dir,
        "files": files,
        "exit_code": exit_code,
        "summary": summary,
    })
}

/// `schoolday validate --output json` for a valid scenario.
pub fn plan(scenario: &Scenario, plan: &Plan) -> Value {
    let personas: Vec<Value> = scenario
        .personas
        .iter()
        .zip(&plan.personas)
        .map(|(persona, p)| {
            let per_user = super::plan::expected_requests(&persona.journey);
            json!({
                "name": persona.name,
                "users": p.users,
                "blocked": p.blocked,
                "peak_rate_per_s": p.peak_rate.is_finite().then_some(p.peak_rate),
                "peak_at_s": p.peak_at.as_secs_f64(),
                "first_arrival_s": p.first_arrival.map(|d| d.as_secs_f64()),
                "last_arrival_s": p.last_arrival.map(|d| d.as_secs_f64()),
                "requests_per_user": per_user,
                "steps": persona.journey.requests.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "valid": true,
        "scenario": scenario.name,
        "file": scenario.source,
        "duration_s": scenario.duration.as_secs_f64(),
        "grace_s": scenario.grace.as_secs_f64(),
        "seed": scenario.seed,
        "users": plan.arrivals.len(),
        "personas": personas,
        "thresholds": scenario.gates.thresholds.iter().map(|t| t.text.clone()).collect::<Vec<_>>(),
        "claim": scenario.gates.claim.as_ref().map(|c| c.text.clone()),
    })
}

/// `schoolday validate --output json` for a scenario the loader refused.
pub fn invalid(file: &Path, error: &str) -> Value {
    json!({ "valid": false, "file": file, "error": error })
}

/// `schoolday compare --output json`.
pub fn compare(comparison: &Comparison, page: &Path) -> Value {
    let rows: Vec<Value> = comparison
        .rows
        .iter()
        .map(|row| {
            let better = match row.better {
                Better::Higher => "higher",
                Better::Lower => "lower",
                Better::Neither => "neither",
            };
            let values: Vec<Value> = row
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    json!({
                        "text": v.text(),
                        "number": v.number().filter(|n| n.is_finite()),
                        "verdict": match row.verdict(i) { 1 => "better", -1 => "worse", _ => "same" },
                    })
                })
                .collect();
            json!({ "group": row.group, "label": row.label, "better": better, "values": values })
        })
        .collect();
    json!({
        "baseline": comparison.runs.first().map(|r| r.0.clone()),
        "runs": comparison.runs.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        "rows": rows,
        "page": page,
    })
}
