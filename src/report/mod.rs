//! Reports: everything a person reads after (or during) a run. Reports render the analysis's
//! `Summary` and never touch the network.

pub mod charts;
pub mod compare;
pub mod csv;
pub mod escape;
pub mod histogram;
pub mod hlog;
pub mod html;
pub mod junit;
pub mod machine;
pub mod plan;
pub mod progress;
pub mod prometheus;
pub mod recovered;
pub mod rundir;
pub mod shards;
pub mod style;
pub mod tables;
pub mod terminal;
pub mod thresholds;
pub mod verdict;
pub mod wire;
#[cfg(test)]
mod write_tests;

use std::io;
use std::path::{Path, PathBuf};

use crate::analysis::Summary;
pub use compare::{compare, Comparison};
pub use rundir::{load_summary, LoadError, RunDir, Saved};
pub use style::{ColorChoice, Style};

/// Write every output of a run into its directory: `summary.json`, `report.html`,
/// `timeline.csv`, `hlog/*.hlog` and `charts/*.svg|png`. Returns the top-level files and the
/// two subdirectories (not every chart: the terminal lists these).
///
/// The summary is written first, so a failure in a later renderer still leaves the data from
/// which `rerender` can rebuild everything.
pub fn write_files(summary: &Summary, dir: &RunDir) -> io::Result<Vec<PathBuf>> {
    let json = serde_json::to_vec_pretty(summary).map_err(io::Error::other)?;
    let mut files = vec![dir.write("summary.json", &json)?];
    files.push(dir.write("timeline.csv", &csv::timeline(summary)?)?);
    files.push(hlog::write_all(summary, dir)?);
    let (rendered, _) = charts::write_all(summary, dir)?;
    files.insert(0, dir.write("report.html", html::render(summary, &rendered).as_bytes())?);
    files.push(dir.file("charts"));
    if !summary.thresholds.is_empty() {
        files.push(dir.write("junit.xml", junit::render(summary).as_bytes())?);
    }
    Ok(files)
}

/// Re-render every output of a saved run from its `summary.json` (no re-run): reads it, runs
/// the saturation analysis again (so runs saved before it existed, or before it improved,
/// get the current verdict), rewrites `summary.json` with it and writes every other file.
/// Returns the saved run (with any warnings about it) and the files written, like
/// [`write_files`].
pub fn rerender(dir: &Path) -> Result<(Saved, Vec<PathBuf>), Error> {
    let saved = load(dir)?;
    let run = RunDir::existing(dir);
    let files = write_files(&saved.summary, &run)?;
    Ok((saved, files))
}

/// Why a saved run could not be re-rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Write(#[from] io::Error),
}

/// Read a saved run ([`rundir::load_summary`]: a run directory or a `summary.json`) and run
/// the analysis again on it, so runs saved before the analysis existed, or improved, get the
/// current one.
pub fn load(path: &Path) -> Result<Saved, LoadError> {
    let mut saved = load_summary(path)?;
    let summary = &mut saved.summary;
    summary.outages = crate::analysis::outages(&summary.timeline);
    summary.saturation = Some(crate::analysis::analyze(summary, &Default::default()));
    Ok(saved)
}
