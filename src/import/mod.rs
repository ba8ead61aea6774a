//! `schoolday import`: scenarios from what teams already have on disk.
//!
//! - `import har`: a browser recording (HAR 1.2) of one person's session → one persona whose
//!   journey is that session: [`har`] reads it, [`filter`] keeps the application's requests,
//!   [`steps`] builds the steps and [`correlate`] turns values handed out by the application
//!   into captures; [`har_scenario`] writes the scenario with [`write`].
//! - `import log`: a web server's access log of a real day → the arrival curve, the route mix
//!   and the think times: [`log_line`] parses each line, [`sessions`] groups requests into
//!   sessions and counts what a scenario needs, [`route`] collapses ids into route patterns,
//!   [`log_scenario`] drives the import and writes the per-minute arrival files, and
//!   [`log_write`] the scenario.
//!
//! Importers sit beside the scenario layer and only produce YAML text: what they write is
//! loaded back through the ordinary validator, so an import can never produce a scenario the
//! loader would refuse without saying so.

pub mod correlate;
pub mod filter;
pub mod har;
pub mod har_scenario;
pub mod log_line;
pub mod log_scenario;
pub mod log_write;
pub mod route;
pub mod sessions;
pub mod steps;
pub mod write;

use std::path::{Path, PathBuf};

/// Why an import failed. Every variant names its file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", file.display())]
    Io { file: PathBuf, source: std::io::Error },
    #[error("{}:{line}:{column}: {message}\n  hint: {hint}", file.display())]
    At { file: PathBuf, line: usize, column: usize, message: String, hint: String },
    #[error("{}: {message}", file.display())]
    Invalid { file: PathBuf, message: String },
    #[error("{message}")]
    Usage { message: String },
}

impl ImportError {
    pub fn io(file: &Path, source: std::io::Error) -> ImportError {
        ImportError::Io { file: file.to_path_buf(), source }
    }
}
