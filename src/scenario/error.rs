//! A scenario error that a platform engineer can act on: where, what, and how to fix it.
//!
//! Shape of the message (the CLI prints it after `error: `):
//!
//! ```text
//! scenarios/bad.yaml:7:5: personas.pupil: unknown field `populaton`
//!    7 |     populaton: 20000
//!      |     ^
//!   hint: did you mean `population`?
//! ```
//!
//! [`Source`] is how validation builds these: it knows the file, its text and where every
//! YAML path is, so a check only has to name the path and say what is wrong.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::scenario::locate::{Locator, Pos};

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
    /// The text of the line the error points at, shown with a caret under the column.
    pub source_line: Option<String>,
}

impl ScenarioError {
    pub fn io(path: &Path, err: std::io::Error) -> Self {
        ScenarioError::new(path, format!("cannot read the scenario: {err}"))
    }

    /// An error about the file as a whole, with no position.
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        ScenarioError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            yaml_path: None,
            message: message.into(),
            hint: None,
            source_line: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Add a hint when there is one (typically a "did you mean").
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
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
        if let Some(path) = self.yaml_path.as_deref().filter(|p| !p.is_empty()) {
            write!(f, "{path}: ")?;
        }
        write!(f, "{}", shorten(&self.message))?;
        if let (Some(line), Some(text)) = (self.line, &self.source_line) {
            // Tabs are shown as one space so that the caret stays under the right character.
            let shown: String = text.chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
            let (shown, caret) = excerpt(shown.trim_end(), self.column.unwrap_or(1));
            let width = line.to_string().len().max(4);
            write!(f, "\n{line:>width$} | {shown}")?;
            if self.column.is_some() {
                write!(f, "\n{:width$} | {:pad$}^", "", "", pad = caret.saturating_sub(1))?;
            }
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", shorten(hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// How much of a source line an error shows: a 200 KB line (a runaway `[[[…`) is shown as
/// the stretch around the column, not printed whole.
const EXCERPT_CHARS: usize = 100;

/// The part of `line` shown under the message, and the caret's column within it: the whole
/// line when short, else [`EXCERPT_CHARS`] around `column` with `…` where it was cut.
fn excerpt(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= EXCERPT_CHARS {
        return (line.to_string(), column);
    }
    let at = column.saturating_sub(1).min(chars.len());
    let from = at.saturating_sub(EXCERPT_CHARS / 2);
    let to = (from + EXCERPT_CHARS).min(chars.len());
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    shown.extend(&chars[from..to]);
    if to < chars.len() {
        shown.push('…');
    }
    (shown, at - from + 1 + usize::from(from > 0))
}

/// Messages quote what was written (`` `5x` is not a duration ``); a quote of a huge value is
/// cut in the middle so that the message stays readable.
fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 400;
    if text.chars().count() <= MAX {
        return text.into();
    }
    let head: String = text.chars().take(MAX - 100).collect();
    let tail: String = text.chars().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{head} … {tail}").into()
}

/// Whether an error should point at a mapping entry's key or at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// `populaton: 20000` → under `populaton`: the key is what is wrong.
    Key,
    /// `duration: 5x` → under `5x`: the value is what is wrong.
    Value,
}

/// The scenario file being validated: builds positioned errors from YAML paths.
pub struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub locator: Locator,
}

impl<'a> Source<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Source { file, text, locator: Locator::new(text) }
    }

    /// An error at `path` (or its nearest ancestor present in the file).
    pub fn error(&self, path: &str, at: At, message: impl Into<String>) -> ScenarioError {
        let pos = self.locator.find(path).map(|spot| match at {
            At::Key => spot.key.unwrap_or(spot.value),
            At::Value => spot.value,
        });
        self.error_at_pos(path, pos, message)
    }

    /// An error at a position known some other way (serde's).
    pub fn error_at_pos(&self, path: &str, pos: Option<Pos>, message: impl Into<String>) -> ScenarioError {
        let mut error = ScenarioError::new(self.file, message);
        error.yaml_path = Some(path.to_string()).filter(|p| !p.is_empty());
        if let Some(pos) = pos {
            error.line = Some(pos.line);
            error.column = Some(pos.column);
            error.source_line = self.line_text(pos.line);
        }
        error
    }

    /// The text of line `n` (1-based), if the file has it.
    pub fn line_text(&self, n: usize) -> Option<String> {
        self.text.lines().nth(n.checked_sub(1)?).map(str::to_string)
    }

    /// The line where `path` is, for messages that name two places.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        self.locator.find(path).map(|spot| spot.key.unwrap_or(spot.value).line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_caret_and_hint() {
        let text = "name: x\npersonas:\n  pupil:\n    populaton: 20000\n";
        let source = Source::new(Path::new("bad.yaml"), text);
        let err = source
            .error("personas.pupil.populaton", At::Key, "unknown field `populaton`")
            .with_hint("did you mean `population`?");
        let mut err = err;
        err.yaml_path = Some("personas.pupil".into());
        assert_eq!(
            err.to_string(),
            "bad.yaml:4:5: personas.pupil: unknown field `populaton`\n   4 |     populaton: 20000\n     |     ^\n  hint: did you mean `population`?"
        );
    }

    #[test]
    fn long_lines_are_shown_as_an_excerpt_around_the_column() {
        let text = format!("name: {}x{}\n", "[".repeat(5_000), "]".repeat(5_000));
        let source = Source::new(Path::new("deep.yaml"), &text);
        let mut err = source.error_at_pos("name", Some(Pos { line: 1, column: 5_007 }), "the x is wrong");
        err.hint = Some("y".repeat(10_000));
        let shown = err.to_string();
        assert!(shown.len() < 1_000, "{} bytes shown", shown.len());
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('x'), "the caret is under the x: {shown}");
        assert!(lines[1].contains('…'));
        assert!(lines[3].contains(" … "), "the hint is cut too");
    }

    #[test]
    fn display_without_position() {
        let err = ScenarioError::new(Path::new("x.yaml"), "cannot read the scenario: gone");
        assert_eq!(err.to_string(), "x.yaml: cannot read the scenario: gone");
    }
}
