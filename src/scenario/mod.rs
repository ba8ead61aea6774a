//! Scenarios: the YAML language, loading with precise errors, validation, and the validated
//! model the rest of schoolday consumes.
//!
//! `load_file` is the only way in: it reads the file, deserialises it (unknown fields are
//! errors), validates it, compiles journeys and templates, and applies `scale`. Every error
//! names the file, line and column, the YAML path and what was expected, with a "did you mean"
//! when a name is close to a known one.

mod error;
pub mod model;
pub mod template;

pub use error::ScenarioError;
pub use model::*;

use std::path::Path;

/// Load and validate a scenario file.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, e))?;
    load_str(&text, path)
}

/// Load and validate scenario text; `path` is used in messages and to resolve relative files
/// (such as a credentials CSV).
pub fn load_str(_text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    Err(ScenarioError::io(path, std::io::Error::other("scenario loading is not built yet")))
}
