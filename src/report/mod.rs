//! Reports: everything a person reads after (or during) a run. Reports render the analysis's
//! `Summary` and never touch the network.

pub mod charts;
pub mod compare;
pub mod csv;
pub mod escape;
pub mod hlog;
pub mod html;
pub mod junit;
pub mod plan;
pub mod progress;
pub mod rundir;
pub mod style;
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
pub use rundir::RunDir;
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
/// Returns the summary and the files written, like [`write_files`].
pub fn rerender(dir: &Path) -> io::Result<(Summary, Vec<PathBuf>)> {
    let summary = load(dir)?;
    let run = RunDir::existing(dir);
    let files = write_files(&summary, &run)?;
    Ok((summary, files))
}

/// Read a run directory's `summary.json` (or a path to the file itself), filling in the
/// saturation analysis if it is missing.
pub fn load(path: &Path) -> io::Result<Summary> {
    let file = if path.is_dir() { path.join("summary.json") } else { path.to_path_buf() };
    let bytes = std::fs::read(&file).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
    let mut summary: Summary = serde_json::from_slice(&bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", file.display())))?;
    summary.saturation = Some(crate::analysis::analyze(&summary, &Default::default()));
    Ok(summary)
}
