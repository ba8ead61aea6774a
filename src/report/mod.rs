//! Reports: everything a person reads after (or during) a run. Reports render the analysis's
//! `Summary` and never touch the network.

pub mod format;
pub mod junit;
pub mod plan;
pub mod progress;
pub mod rundir;
pub mod style;
pub mod terminal;
pub mod thresholds;

use std::io;
use std::path::PathBuf;

use crate::analysis::Summary;
pub use rundir::RunDir;
pub use style::{ColorChoice, Style};

/// Write the machine-readable outputs of a run into its directory; returns the files written.
pub fn write_files(summary: &Summary, dir: &RunDir) -> io::Result<Vec<PathBuf>> {
    let json = serde_json::to_vec_pretty(summary).map_err(io::Error::other)?;
    let mut files = vec![dir.write("summary.json", &json)?];
    if !summary.thresholds.is_empty() {
        files.push(dir.write("junit.xml", junit::render(summary).as_bytes())?);
    }
    Ok(files)
}
