//! The evidence pack: what someone auditing a capacity verdict needs to trust or redo it.
//!
//! In the capacity run directory: `scenario.yaml` (the file exactly as run) with its SHA-256
//! in `capacity.json`, the tool version, the machine that generated the load, every step's
//! own run directory under `steps/` (summary.json each), `capacity.json` (the verdict and
//! every figure behind it) and `capacity.html` (the page that goes into the file).

use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::{page, sha256, CapacityReport};
use crate::scenario::Scenario;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub tool: String,
    pub version: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub target: String,
    pub machine: Machine,
    /// RFC 3339, UTC, when the search started.
    pub started_at: String,
}

/// The load generator's machine: a verdict can be no better than the machine that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: Option<String>,
    pub memory_kib: Option<u64>,
    pub os: String,
    pub arch: String,
}

pub fn collect(scenario: &Scenario, bytes: &[u8]) -> Evidence {
    Evidence {
        tool: "schoolday".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        scenario_file: scenario.source.display().to_string(),
        scenario_sha256: sha256::hex(bytes),
        target: match &scenario.target {
            crate::scenario::Target::Embedded(_) => "embedded".into(),
            crate::scenario::Target::Url(url) => url.to_string(),
        },
        machine: machine(),
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    }
}

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        cpu_model: field(&cpuinfo, "model name").map(str::to_string),
        memory_kib: field(&meminfo, "MemTotal").and_then(|v| v.trim_end_matches("kB").trim().parse().ok()),
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
    }
}

/// The value of `key: value` in a /proc file.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

/// Write `scenario.yaml`, `capacity.json` and `capacity.html` into `dir`.
pub fn write(dir: &Path, report: &CapacityReport, scenario_bytes: &[u8]) -> anyhow::Result<()> {
    let put = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    put("scenario.yaml", scenario_bytes)?;
    put("capacity.json", &serde_json::to_vec_pretty(report)?)?;
    put("capacity.html", page::html(report)?.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields() {
        let text = "processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\nMemTotal:       16318480 kB\n";
        assert_eq!(field(text, "model name"), Some("Some CPU @ 2.0GHz"));
        assert_eq!(field(text, "MemTotal"), Some("16318480 kB"));
        assert_eq!(field(text, "nothing"), None);
        let m = machine();
        assert!(m.cores >= 1);
    }
}
