//! Scenarios: the YAML language, loading with precise errors, validation, and the validated
//! model the rest of schoolday consumes.
//!
//! `load_file` is the only way in: it reads the file, deserialises it (unknown fields are
//! errors), validates it, compiles journeys and templates, and applies `scale`. Every error
//! names the file, line and column, the YAML path and what was expected, with a "did you mean"
//! when a name is close to a known one.
//!
//! The pipeline, one file per step:
//! `raw.rs` (serde structs) → `validate.rs` (top level, target, http) → `persona.rs`
//! (`users.rs`, `arrival.rs`) → `compile.rs` (journey flattening, `request.rs`, `names.rs`).
//! `locate.rs` maps YAML paths back to line:column, `yaml_error.rs` rewrites serde's errors,
//! `suggest.rs` finds "did you mean", `units.rs` parses durations, rates and sizes. `limits.rs` bounds what a file may ask (its size,
//! depth, values and arrivals) before the work those cost.

// Errors are built once, on the cold path, and carry what the user needs to read (the source
// line, the path, the hint); boxing them would only add noise to every signature.
#![allow(clippy::result_large_err)]

mod arrival;
mod arrival_csv;
mod behaviour;
pub mod claim;
pub mod client;
mod compile;
pub mod embedded;
mod error;
pub mod limits;
mod locate;
pub mod model;
mod names;
mod persona;
mod raw;
mod request;
pub mod schema;
mod suggest;
pub mod template;
pub mod thresholds;
pub mod units;
mod users;
mod validate;
mod yaml_error;

#[cfg(test)]
mod tests;

pub use client::{ClientSettings, HttpVersion, Identity, Timeouts, TlsSettings};
pub use error::ScenarioError;
pub use model::*;
pub use thresholds::Threshold;

use std::path::Path;

use error::Source;

/// Load and validate a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    // The size first: a 100 MB file is refused without being read.
    let bytes = std::fs::metadata(path).map_err(|e| ScenarioError::io(path, e))?.len();
    limits::check_file_size(path, bytes)?;
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
    load_str(&text, path)
}

/// Load and validate scenario text; `path` is used in messages and to resolve relative files
/// (such as a credentials CSV).
pub fn load_str(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    limits::check_file_size(path, text.len() as u64)?;
    limits::check_shape(path, text)?;
    let src = Source::new(path, text);
    let blank = text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---");
    if blank {
        return Err(ScenarioError::new(path, "the scenario is empty").with_hint(
            "start with `name:`, `target:`, `duration:` and `personas:`; see docs/scenario.md for a complete example",
        ));
    }
    if let Some((yaml_path, first, second)) = src.locator.first_duplicate() {
        let key = yaml_path.rsplit('.').next().unwrap_or(yaml_path);
        let message = format!("`{key}` is written twice in the same mapping (first on line {})", first.line);
        return Err(src
            .error_at_pos(yaml_path, Some(*second), message)
            .with_hint("YAML keeps only one of them: remove or rename the other"));
    }
    let raw: raw::RawScenario = serde_yaml::from_str(text).map_err(|e| yaml_error::convert(&src, &e))?;
    validate::scenario(&src, raw)
}
