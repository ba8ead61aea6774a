//! What a summary records about the shards of a distributed run (`run --shard I/N`, and
//! `merge`): which part of the plan each one played, when it actually started against the
//! shared start barrier, on which machine, and whether its generator kept up.
//!
//! A shard's summary holds one entry (itself); a merged summary holds one per shard, in index
//! order, so the report can show the start skew and each generator's health: a merged run is
//! only as valid as its worst shard.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRun {
    /// 0-based, as Kubernetes numbers the pods of an Indexed Job.
    pub index: u32,
    pub count: u32,
    /// SHA-256 of the scenario file as run (64 hex digits): shards of one run share it.
    pub scenario_sha256: String,
    pub seed: u64,
    /// The start barrier (`--start-at`), RFC 3339 UTC, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// When this shard's schedule actually started, RFC 3339 UTC to the microsecond.
    pub started_at: String,
    /// `started_at` minus `start_at`, in microseconds (negative: early); absent without a barrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew_us: Option<i64>,
    /// The generating machine's host name (the pod's name on Kubernetes) and its cores.
    pub machine: String,
    pub cores: usize,
    /// Users of the whole plan dealt to this shard.
    pub scheduled: u64,
    /// Requests this shard sent.
    pub sent: u64,
    pub lag_p99_us: u64,
    /// Whether this shard's generator kept to its schedule.
    pub healthy: bool,
}

/// The host name, as the kernel knows it (on Kubernetes: the pod's name), else `$HOSTNAME`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// The SHA-256 of a scenario file's bytes, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The largest difference between two shards' actual starts, in microseconds.
pub fn start_spread_us(shards: &[ShardRun]) -> Option<u64> {
    let starts: Vec<std::time::SystemTime> =
        shards.iter().filter_map(|s| humantime::parse_rfc3339(&s.started_at).ok()).collect();
    let (first, last) = (starts.iter().min()?, starts.iter().max()?);
    Some(last.duration_since(*first).unwrap_or_default().as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_test_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn host_name_is_never_empty() {
        assert!(!host_name().is_empty());
    }
}
