//! A scenario error that a platform engineer can act on: where, what, and how to fix it.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// YAML path such as `personas.pupil.journey[2].get`.
    pub yaml_path: Option<String>,
    pub message: String,
    /// A suggested fix, e.g. "did you mean `population`?".
    pub hint: Option<String>,
}

impl ScenarioError {
    pub fn io(path: &Path, err: std::io::Error) -> Self {
        ScenarioError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            yaml_path: None,
            message: format!("cannot read the scenario: {err}"),
            hint: None,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": ")?;
        if let Some(path) = &self.yaml_path {
            write!(f, "{path}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}
