//! Reading the shard directories and refusing any set that is not the shards of one run:
//! the same scenario (by SHA-256), seed and shard count, every index exactly once.
//!
//! A merge of shards from two different runs would produce plausible-looking numbers that
//! describe no rehearsal at all, so every mismatch is an error that names the directories.

use std::path::{Path, PathBuf};

use crate::analysis::shards::ShardRun;
use crate::analysis::{Summary, SCHEMA_VERSION};

use super::MergeError;

/// One shard's run directory, read.
#[derive(Debug, Clone)]
pub struct ShardDir {
    pub path: PathBuf,
    pub summary: Summary,
    pub shard: ShardRun,
}

/// Read `summary.json` of a saved run, checking its schema version.
///
/// Kept to this one function so that it can be switched to the shared loader of
/// `report::rundir` (version check and migration) without touching the merge.
pub fn read_summary(dir: &Path) -> Result<Summary, MergeError> {
    let file = if dir.is_dir() { dir.join("summary.json") } else { dir.to_path_buf() };
    let bytes = std::fs::read(&file).map_err(|e| MergeError::Read { path: file.clone(), why: e.to_string() })?;
    let summary: Summary =
        serde_json::from_slice(&bytes).map_err(|e| MergeError::Read { path: file.clone(), why: e.to_string() })?;
    if summary.schema_version != SCHEMA_VERSION {
        return Err(MergeError::Read {
            path: file,
            why: format!(
                "schema version {} (this schoolday reads version {SCHEMA_VERSION}): merge shards with the version that ran them",
                summary.schema_version
            ),
        });
    }
    Ok(summary)
}

/// Read every shard directory and check they form one complete run; sorted by index.
pub fn shards(dirs: &[PathBuf]) -> Result<Vec<ShardDir>, MergeError> {
    let mut shards = Vec::with_capacity(dirs.len());
    for given in dirs {
        // A shard may be named by its directory or by its summary.json.
        let dir = match given.file_name() {
            Some(f) if f == "summary.json" && given.is_file() => {
                given.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
            }
            _ => given.clone(),
        };
        let dir = &dir;
        let summary = read_summary(dir)?;
        let shard = match summary.shards.as_slice() {
            [one] if one.count >= 1 => one.clone(),
            [] => return Err(MergeError::NotAShard { path: dir.clone(), why: "it was not run with --shard".into() }),
            many => {
                return Err(MergeError::NotAShard {
                    path: dir.clone(),
                    why: format!("it is already a merge of {} shards", many.len()),
                })
            }
        };
        shards.push(ShardDir { path: dir.clone(), summary, shard });
    }
    check(&mut shards)?;
    Ok(shards)
}

/// The shards agree on what they ran, and each index is there exactly once.
fn check(shards: &mut [ShardDir]) -> Result<(), MergeError> {
    let Some(first) = shards.first() else { return Err(MergeError::NoShards) };
    let (first_path, first_shard) = (first.path.clone(), first.shard.clone());
    for s in shards.iter().skip(1) {
        let differs = |what: &str, a: String, b: String| MergeError::Mismatch {
            what: what.into(),
            first: (first_path.clone(), a),
            other: (s.path.clone(), b),
        };
        if s.shard.scenario_sha256 != first_shard.scenario_sha256 {
            return Err(differs(
                "scenario (SHA-256 of the file)",
                first_shard.scenario_sha256.clone(),
                s.shard.scenario_sha256.clone(),
            ));
        }
        if s.shard.seed != first_shard.seed {
            return Err(differs("seed", first_shard.seed.to_string(), s.shard.seed.to_string()));
        }
        if s.shard.count != first_shard.count {
            return Err(differs("shard count", first_shard.count.to_string(), s.shard.count.to_string()));
        }
        if s.shard.start_at != first_shard.start_at {
            let show = |a: &Option<String>| a.clone().unwrap_or_else(|| "none".into());
            return Err(differs("start barrier (--start-at)", show(&first_shard.start_at), show(&s.shard.start_at)));
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    for pair in shards.windows(2) {
        if pair[0].shard.index == pair[1].shard.index {
            return Err(MergeError::Duplicate {
                index: pair[0].shard.index,
                count: first_shard.count,
                paths: (pair[0].path.clone(), pair[1].path.clone()),
            });
        }
    }
    let missing: Vec<u32> = (0..first_shard.count).filter(|i| !shards.iter().any(|s| s.shard.index == *i)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count: first_shard.count });
    }
    Ok(())
}
