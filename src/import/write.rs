//! Writing an imported scenario as commented YAML text.
//!
//! Written by hand rather than serialised, because the comments are half the value: where each
//! number came from, what was left out, what to check before the run. Every string is written
//! double-quoted with JSON escapes (a JSON string is a valid YAML double-quoted scalar), so no
//! recorded value can change the document's structure.

use std::fmt::Write as _;
use std::time::Duration;

use crate::import::steps::{Body, Step};
use crate::scenario::units::format_duration;

/// A YAML double-quoted scalar.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A duration as the scenario language writes it, to the millisecond.
pub fn duration(d: Duration) -> String {
    format_duration(Duration::from_millis(d.as_millis() as u64))
}

/// The think step between two user actions: the range of every recorded pause, with this
/// pause's recorded value as a comment.
pub fn think_step(out: &mut String, indent: &str, recorded: Duration, range: (Duration, Duration)) {
    let (lo, hi) = range;
    let think = if lo == hi { duration(lo) } else { format!("{}..{}", duration(lo), duration(hi)) };
    let _ = writeln!(out, "{indent}- think: {think}   # recorded here: {}", duration(recorded));
}

/// One request step, at `indent` (the `- ` goes there).
pub fn request_step(out: &mut String, indent: &str, step: &Step, goal: bool) {
    let more = format!("{indent}  ");
    let _ = writeln!(out, "{indent}- name: {}", quote(&step.name));
    let _ = writeln!(out, "{more}{}: {}   # recorded status {}", step.method, quote(&step.path), step.status);
    if let Some(bearer) = &step.bearer {
        let _ = writeln!(out, "{more}bearer: {}", quote(bearer));
    }
    if !step.headers.is_empty() {
        let _ = writeln!(out, "{more}headers:");
        for (name, value) in &step.headers {
            let _ = writeln!(out, "{more}  {}: {}", quote(name), quote(value));
        }
    }
    match &step.body {
        Body::None => {}
        // JSON is YAML: the recorded body, templated, as one flow mapping.
        Body::Json(doc) => {
            let _ = writeln!(out, "{more}json: {}", serde_json::to_string(doc).unwrap_or_default());
        }
        Body::Form(fields) => {
            let _ = writeln!(out, "{more}form:");
            for (name, value) in fields {
                let _ = writeln!(out, "{more}  {}: {}", quote(name), quote(value));
            }
        }
        Body::Raw { content_type, text } => {
            let _ = writeln!(out, "{more}body: {}", quote(text));
            if !content_type.is_empty() {
                let _ = writeln!(out, "{more}content_type: {}", quote(content_type));
            }
        }
    }
    if !step.captures.is_empty() {
        let _ = writeln!(out, "{more}capture:   # sent again by a later step");
        for (name, expr) in &step.captures {
            let _ = writeln!(out, "{more}  {name}: {}", quote(expr));
        }
    }
    if step.login {
        let _ = writeln!(out, "{more}login: true");
    }
    if goal {
        let _ = writeln!(
            out,
            "{more}goal: true   # the last step of the recording; move it to the step that means success"
        );
    }
}
