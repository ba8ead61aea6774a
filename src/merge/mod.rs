//! `schoolday merge`: the shards of a distributed run, put back together into the run
//! directory one process would have written.
//!
//! Exactness is the point. Counters are summed; HdrHistograms are added (so the merged p99 is
//! the p99 of every request of every shard); timelines are aligned on wall-clock seconds and
//! their per-second quantiles recomputed from the shards' per-second interval logs; the
//! thresholds are judged again on the merged data, from the scenario each shard kept a copy
//! of. The merged run is invalid if any shard's generator fell behind, whatever the others
//! did. Shards that are not of one run (another scenario, seed, shard count or barrier), a
//! duplicate or a missing index are refused with the directories named.
//!
//! `load.rs` reads and checks the shards, `combine.rs` adds the totals, `timeline.rs` the
//! seconds and the interval logs.

pub mod combine;
pub mod load;
pub mod timeline;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::analysis::shards::{sha256_hex, ShardRun};
use crate::analysis::{RunInfo, Summary};
use crate::report::rundir::SCENARIO_COPY;
use crate::report::RunDir;
use crate::scenario::Scenario;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no shard directories to merge")]
    NoShards,
    #[error("{}: {why}", path.display())]
    Read { path: PathBuf, why: String },
    #[error("{} is not a shard: {why}", path.display())]
    NotAShard { path: PathBuf, why: String },
    #[error(
        "these are not shards of the same run: the {what} differs — {} has {}, {} has {}",
        first.0.display(), first.1, other.0.display(), other.1
    )]
    Mismatch { what: String, first: (PathBuf, String), other: (PathBuf, String) },
    #[error("shard {index} of {count} is given twice: {} and {}", paths.0.display(), paths.1.display())]
    Duplicate { index: u32, count: u32, paths: (PathBuf, PathBuf) },
    #[error(
        "{} of {count} shards missing: {} (indices from 0); a merge without them would under-count the run",
        missing.len(),
        missing.iter().map(|i| format!("shard {i}/{count}")).collect::<Vec<_>>().join(", ")
    )]
    Missing { missing: Vec<u32>, count: u32 },
    #[error("the shards disagree on {what}, although their scenario is the same file: were they run by different schoolday versions?")]
    Layout { what: String },
    #[error("cannot merge the histogram of {what}: it is missing or unreadable in a shard's summary.json")]
    Histogram { what: String },
    #[error("{}: {why}", path.display())]
    Scenario { path: PathBuf, why: String },
    #[error("cannot write the merged run to {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// A merged run, written.
pub struct Merged {
    pub summary: Summary,
    pub dir: RunDir,
    pub files: Vec<PathBuf>,
    /// Things the merge could not do exactly (printed, not fatal).
    pub warnings: Vec<String>,
}

/// Merge the shard directories `dirs` into the run directory `out` (created if needed).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, MergeError> {
    let shards = load::shards(dirs)?;
    let (scenario, scenario_bytes) = scenario(&shards[0])?;
    let summaries: Vec<&Summary> = shards.iter().map(|s| &s.summary).collect();
    let starts: Vec<SystemTime> = shards
        .iter()
        .map(|s| {
            humantime::parse_rfc3339(&s.shard.started_at).map_err(|e| MergeError::Read {
                path: s.path.join("summary.json"),
                why: format!("shards[0].started_at {:?}: {e}", s.shard.started_at),
            })
        })
        .collect::<Result<_, _>>()?;
    let origin = *starts.iter().min().expect("at least one shard");
    let end = shards
        .iter()
        .zip(&starts)
        .map(|(s, start)| *start + std::time::Duration::from_secs_f64(s.summary.run.elapsed_s.max(0.0)))
        .max()
        .unwrap_or(origin);
    let seconds = timeline::merge(&shards, origin);
    let first = summaries[0];
    let mut summary = Summary {
        schema_version: first.schema_version,
        tool: first.tool.clone(),
        scenario: first.scenario.clone(),
        target: first.target.clone(),
        run: RunInfo {
            started_at: humantime::format_rfc3339_seconds(origin).to_string(),
            elapsed_s: end.duration_since(origin).unwrap_or_default().as_secs_f64(),
            interrupted: summaries.iter().any(|s| s.run.interrupted),
            aborted: aborted(&shards),
        },
        generator: combine::generator(&summaries)?,
        requests: combine::requests(&summaries),
        steps: combine::steps(&summaries)?,
        personas: combine::personas(&summaries)?,
        thresholds: Vec::new(),
        target_counts: None,
        timeline: seconds.timeline,
        saturation: None,
        recovery: Vec::new(),
        outages: Vec::new(),
        shards: shards.iter().map(|s| s.shard.clone()).collect::<Vec<ShardRun>>(),
        http: combine::http(&summaries),
    };
    summary.recovery = crate::analysis::recoveries(&scenario, &summary.timeline);
    summary.outages = crate::analysis::outages(&summary.timeline);
    summary.saturation = Some(crate::analysis::analyze(&summary, &Default::default()));
    summary.thresholds = crate::analysis::thresholds::evaluate(&scenario.gates.thresholds, &summary);

    let write_error = |source: std::io::Error| MergeError::Write { path: out.to_path_buf(), source };
    std::fs::create_dir_all(out).map_err(write_error)?;
    let dir = RunDir::existing(out);
    // The merged per-second logs go first: `write_files` keeps logs it finds.
    timeline::write_logs(&dir, &summary, origin, &seconds.logs).map_err(write_error)?;
    dir.write(SCENARIO_COPY, &scenario_bytes).map_err(write_error)?;
    let files = crate::report::write_files(&summary, &dir).map_err(write_error)?;
    Ok(Merged { summary, dir, files, warnings: seconds.warnings })
}

/// The scenario the shards ran, from the copy shard 0 kept, checked against the SHA-256 every
/// shard recorded. Relative files it names (a users CSV) are looked up beside the original.
fn scenario(shard: &load::ShardDir) -> Result<(Scenario, Vec<u8>), MergeError> {
    let copy = shard.path.join(SCENARIO_COPY);
    let bytes = std::fs::read(&copy).map_err(|e| MergeError::Scenario { path: copy.clone(), why: e.to_string() })?;
    if sha256_hex(&bytes) != shard.shard.scenario_sha256 {
        return Err(MergeError::Scenario {
            path: copy,
            why: "this copy of the scenario is not the file the shard ran (its SHA-256 differs)".into(),
        });
    }
    let text = String::from_utf8_lossy(&bytes);
    let original = PathBuf::from(&shard.summary.scenario.file);
    let scenario = match crate::scenario::load_str(&text, &original) {
        Ok(s) => s,
        Err(_) => crate::scenario::load_str(&text, &copy)
            .map_err(|e| MergeError::Scenario { path: copy.clone(), why: e.to_string() })?,
    };
    Ok((scenario, bytes))
}

/// Which shards `abort_on_fail` stopped, and why.
fn aborted(shards: &[load::ShardDir]) -> Option<String> {
    let reasons: Vec<String> = shards
        .iter()
        .filter_map(|s| s.summary.run.aborted.as_ref().map(|why| format!("shard {}: {why}", s.shard.index)))
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}
