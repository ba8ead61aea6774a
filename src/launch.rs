//! How this process takes part in a run: alone, or as shard I of N, started with the other
//! shards at a shared barrier (`run --shard`, `--start-at`).
//!
//! A [`Launch`] is resolved once from the command line's plain values (the core never sees
//! clap) and handed to `app::run_scenario_as`, which deals the shard its part of the plan,
//! waits at the barrier and records the shard in the summary ([`record`]).

use std::time::{Duration, SystemTime};

use crate::analysis::shards::{host_name, sha256_hex, ShardRun};
use crate::analysis::Summary;
use crate::load::Shard;
use crate::runtime::RunOutput;
use crate::scenario::{Scenario, Target};

pub use crate::report::rundir::SCENARIO_COPY;

#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub shard: Option<Shard>,
    /// Wait for this instant before starting the schedule.
    pub start_at: Option<SystemTime>,
    pub tolerance: Duration,
    /// The scenario file as read (for its SHA-256 and the copy a shard keeps).
    pub scenario_bytes: Vec<u8>,
}

/// What the command line said, before resolution.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub shard: Option<&'a str>,
    pub shards: Option<u32>,
    pub start_at: Option<&'a str>,
    pub tolerance: Option<Duration>,
    /// `JOB_COMPLETION_INDEX`, as the environment had it.
    pub index_env: Option<&'a str>,
}

impl Launch {
    /// Check and resolve the sharding options against the scenario. The error is a sentence
    /// saying what to change (exit code 2).
    pub fn resolve(request: &Request, scenario: &Scenario, scenario_bytes: Vec<u8>) -> Result<Launch, String> {
        let shard = request.shard.map(|s| Shard::parse(s, request.shards, request.index_env)).transpose()?;
        if shard.is_none() && request.shards.is_some() {
            return Err("--shards needs --shard (I/N or auto)".into());
        }
        if shard.is_some() && matches!(scenario.target, Target::Embedded(_)) {
            return Err(format!(
                "{}: a sharded run needs a real target URL: each shard would otherwise start its own embedded \
                 workspace, and N small servers are not the one server under test. Set `target: https://…` in \
                 the scenario, or pass --target URL (e.g. the URL of `schoolday target`)",
                scenario.source.display()
            ));
        }
        let start_at =
            request.start_at.map(crate::start::parse_instant).transpose().map_err(|e| format!("--start-at {e}"))?;
        Ok(Launch {
            shard,
            start_at,
            tolerance: request.tolerance.unwrap_or(crate::start::DEFAULT_TOLERANCE),
            scenario_bytes,
        })
    }

    /// The run directory's name: the scenario's, with the shard appended so that N shards
    /// writing to one volume never collide (the scenario part is shortened to keep it).
    pub fn dir_name(&self, scenario: &Scenario) -> String {
        match self.shard {
            Some(s) => {
                let short: String = crate::report::rundir::slug(&scenario.name).chars().take(40).collect();
                format!("{short}-shard-{}-of-{}", s.index, s.count)
            }
            None => scenario.name.clone(),
        }
    }
}

/// A shard's exit code. Its thresholds are shown, but judged on 1/N of the run they do not
/// decide: `merge` judges them on the whole. A shard that ran properly exits 0 even if they
/// failed, so that an orchestrator does not count it as a failed shard; every other code
/// (the generator fell behind, the target unreachable, interrupted) still counts.
pub fn exit_code(launch: &Launch, code: crate::exit_code::ExitCode) -> crate::exit_code::ExitCode {
    use crate::exit_code::ExitCode;
    match (launch.shard, code) {
        (Some(shard), ExitCode::ThresholdsFailed) => {
            eprintln!(
                "note: shard {shard}: thresholds are judged on the merged run (`schoolday merge`), not on one shard"
            );
            ExitCode::Success
        }
        _ => code,
    }
}

/// `--target URL`: a base URL in place of the scenario's target.
pub fn target_override(text: &str) -> Result<Target, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("--target {text:?} is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("--target {text:?}: the target must be http:// or https://"));
    }
    Ok(Target::Url(url))
}

/// Record the shard in its summary: its part, its actual start against the barrier, its
/// machine and its generator's health.
pub fn record(summary: &mut Summary, launch: &Launch, scenario: &Scenario, output: &RunOutput) {
    let Some(shard) = launch.shard else { return };
    let skew_us = launch.start_at.map(|at| match output.started_at.duration_since(at) {
        Ok(late) => late.as_micros() as i64,
        Err(early) => -(early.duration().as_micros() as i64),
    });
    summary.shards = vec![ShardRun {
        index: shard.index,
        count: shard.count,
        scenario_sha256: sha256_hex(&launch.scenario_bytes),
        seed: scenario.seed,
        start_at: launch.start_at.map(|at| humantime::format_rfc3339_millis(at).to_string()),
        started_at: humantime::format_rfc3339_micros(output.started_at).to_string(),
        skew_us,
        machine: host_name(),
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        scheduled: output.scheduled.iter().sum(),
        sent: summary.requests.sent,
        lag_p99_us: summary.generator.lag.p99_us,
        healthy: summary.generator.healthy,
    }];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(target: &str) -> Scenario {
        let yaml = format!(
            "name: t\ntarget: {target}\nduration: 10s\npersonas:\n  pupil:\n    population: 10\n    arrival: {{ shape: constant, rate: 1/s }}\n    journey:\n      - get: /health\n        goal: true\n"
        );
        crate::scenario::load_str(&yaml, std::path::Path::new("t.yaml")).expect("loads")
    }

    #[test]
    fn a_sharded_run_against_the_embedded_target_is_refused_with_the_fix() {
        let request = Request { shard: Some("0/2"), ..Default::default() };
        let err = Launch::resolve(&request, &scenario("embedded"), Vec::new()).unwrap_err();
        assert!(err.contains("needs a real target URL") && err.contains("--target URL"), "{err}");
        let ok = Launch::resolve(&request, &scenario("http://127.0.0.1:9"), Vec::new()).unwrap();
        assert_eq!(ok.shard, Some(Shard { index: 0, count: 2 }));
        // Alone, the embedded target is fine; --shards alone is a usage error.
        assert!(Launch::resolve(&Request::default(), &scenario("embedded"), Vec::new()).is_ok());
        let lone = Request { shards: Some(3), ..Default::default() };
        assert!(Launch::resolve(&lone, &scenario("embedded"), Vec::new()).unwrap_err().contains("needs --shard"));
    }

    #[test]
    fn shard_directories_are_named_after_the_scenario_and_the_shard() {
        let launch = Launch { shard: Some(Shard { index: 2, count: 5 }), ..Default::default() };
        assert_eq!(launch.dir_name(&scenario("http://127.0.0.1:9")), "t-shard-2-of-5");
    }

    #[test]
    fn target_overrides_must_be_http_urls() {
        assert!(target_override("http://127.0.0.1:8080").is_ok());
        assert!(target_override("ftp://x").unwrap_err().contains("http://"));
        assert!(target_override("nope").is_err());
    }
}
