//! `users: { csv: pupils.csv }`: real identities for a persona, read once at load time.
//!
//! The file is read eagerly so that a missing file or a ragged row fails before the run, not
//! at 8:00 in the middle of it. The path is relative to the scenario file, so a scenario and
//! its CSV can be moved together.

use std::path::Path;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::model::UserSource;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Read the CSV named at `path` (a YAML path) by `file` (relative to the scenario).
pub fn load_csv(src: &Source, path: &str, file: &str) -> Result<UserSource> {
    let resolved = src.file.parent().unwrap_or(Path::new("")).join(file);
    let fail = |why: String| src.error(path, At::Value, format!("users file `{}`: {why}", resolved.display()));
    let text = std::fs::read(&resolved).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_slice());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| fail(format!("cannot read its header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if columns.iter().all(String::is_empty) {
        return Err(fail("the first line must name the columns, e.g. `id,password`".into()));
    }
    for (i, column) in columns.iter().enumerate() {
        if column.is_empty() {
            return Err(fail(format!("column {} has no name in the header row", i + 1)));
        }
        // Invisible in every message that lists the columns, and not what anyone meant: a
        // file saved in another encoding, or binary data.
        if let Some(c) = column.chars().find(|c| c.is_control()) {
            return Err(fail(format!(
                "column {} of the header row holds a control character ({}): is it a text CSV file?",
                i + 1,
                c.escape_unicode()
            )));
        }
        if columns[..i].contains(column) {
            return Err(fail(format!("column `{column}` appears twice in the header row")));
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| fail(csv_message(&e)))?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    if rows.is_empty() {
        return Err(fail("it has a header row but no users".into()));
    }
    Ok(UserSource::Csv { path: resolved, columns, rows })
}

/// The csv crate's messages mention byte offsets and records; say line and field counts.
fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
            let line = pos.as_ref().map(|p| format!("line {}", p.line())).unwrap_or_else(|| "a row".into());
            format!("{line} has {len} fields, but the header row has {expected_len}")
        }
        csv::ErrorKind::Utf8 { pos, .. } => {
            let line = pos.as_ref().map(|p| format!("line {}", p.line())).unwrap_or_else(|| "a row".into());
            format!("{line} is not valid UTF-8")
        }
        _ => error.to_string(),
    }
}
