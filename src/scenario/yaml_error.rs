//! Turning serde/YAML errors into [`ScenarioError`]s that read like the others.
//!
//! serde_yaml gives us a position and a message of the form `path: message at line L column C`.
//! We split the path off, drop the position from the text (it goes in front, `file:L:C`), turn
//! Rust type names into words (`u64` → "a whole number"), and replace serde's long "expected
//! one of …" list by a "did you mean" when one name is close to the typo.

use crate::scenario::error::{ScenarioError, Source};
use crate::scenario::locate::Pos;
use crate::scenario::suggest;

/// Convert a deserialisation error.
pub fn convert(source: &Source, err: &serde_yaml::Error) -> ScenarioError {
    if err.to_string().contains("more than one document") {
        if let Some(error) = second_document(source) {
            return error;
        }
    }
    let pos = err.location().map(|l| Pos { line: l.line(), column: l.column() });
    let full = strip_positions(&err.to_string());
    let (path, message) = split_path(&full);
    let (message, hint) = explain(&message);
    let mut error = source.error_at_pos(path, pos, message).with_hint_opt(hint);
    if error.hint.is_none() && is_syntax_error(err) {
        let tab = error.source_line.as_deref().is_some_and(|l| l.contains('\t'));
        error.hint = Some(if tab {
            "YAML indentation must use spaces, not tabs".to_string()
        } else {
            "this is a YAML syntax error: check indentation and that each `key: value` is on its own line".to_string()
        });
    }
    error
}

/// "More than one document" is what the YAML parser makes of a first line indented further
/// than the next ones (the mapping ends, and what follows is a new document): say which lines
/// disagree. A real second document (`---` after content) is named as such.
fn second_document(source: &Source) -> Option<ScenarioError> {
    let content = |l: &&str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    let mut lines = source.text.lines().enumerate().filter(|(_, l)| content(l));
    let (first_at, first) = lines.next()?;
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let first_indent = indent(first);
    for (n, line) in lines {
        let marker = ["---", "..."].into_iter().find(|m| line.trim_end() == *m || line.starts_with(&format!("{m} ")));
        if let Some(marker) = marker {
            let message = format!("a second YAML document starts after `{marker}` on line {}", n + 1);
            return Some(
                source
                    .error_at_pos("", Some(Pos { line: n + 1, column: 1 }), message)
                    .with_hint("a scenario is one document: remove the `---` line, or split the file in two"),
            );
        }
        if line.starts_with('%') {
            let message = format!("the directive `{}` on line {} starts a second YAML document", line.trim(), n + 1);
            return Some(
                source
                    .error_at_pos("", Some(Pos { line: n + 1, column: 1 }), message)
                    .with_hint("directives such as `%YAML` only belong at the very top of a file; remove it"),
            );
        }
        if first_indent > 0 && indent(line) < first_indent {
            let message = format!(
                "line {} is indented by {first_indent} spaces but line {} by {}: the top-level keys must start in the same column",
                first_at + 1,
                n + 1,
                indent(line)
            );
            return Some(
                source
                    .error_at_pos("", Some(Pos { line: first_at + 1, column: 1 }), message)
                    .with_hint(format!("remove the spaces before `{}`", first.trim())),
            );
        }
    }
    // Where the parser itself sees the second document start; else the top of the file.
    let second = saphyr_parser::Parser::new_from_str(source.text)
        .map_while(Result::ok)
        .filter(|(event, _)| matches!(event, saphyr_parser::Event::DocumentStart(_)))
        .nth(1);
    let (pos, message) = match second {
        Some((_, span)) => {
            (Pos { line: span.start.line(), column: span.start.col() + 1 }, "a second YAML document starts here")
        }
        None => (Pos { line: first_at + 1, column: 1 }, "the file holds more than one YAML document"),
    };
    Some(
        source
            .error_at_pos("", Some(pos), message)
            .with_hint("a scenario is one document: check the indentation of this line and the ones around it"),
    )
}

/// Syntax errors come from the YAML parser itself and carry no path.
fn is_syntax_error(err: &serde_yaml::Error) -> bool {
    let text = err.to_string();
    ["while parsing", "while scanning", "found character", "did not find expected", "mapping values are not allowed"]
        .iter()
        .any(|needle| text.contains(needle))
}

/// Remove every ` at line L column C` and ` at position N`: the position is shown in front.
fn strip_positions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(" at ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 4..];
        let skipped = skip_position(after);
        if skipped.len() == after.len() {
            out.push_str(" at ");
        }
        rest = skipped;
    }
    out.push_str(rest);
    out
}

/// If `text` starts with `line L column C` or `position N`, the text after it.
fn skip_position(text: &str) -> &str {
    fn number(t: &str) -> Option<&str> {
        let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        (end > 0).then(|| &t[end..])
    }
    let parsed = if let Some(t) = text.strip_prefix("line ") {
        number(t).and_then(|t| t.strip_prefix(" column ")).and_then(number)
    } else {
        text.strip_prefix("position ").and_then(number)
    };
    parsed.unwrap_or(text)
}

/// serde_yaml prefixes the YAML path (`personas.pupil: unknown field …`) when not at the root.
/// Its own messages start with words (`invalid type: …`), so a head without spaces or quotes
/// is the path.
fn split_path(text: &str) -> (&str, String) {
    if let Some((head, tail)) = text.split_once(": ") {
        if !head.is_empty() && !head.contains([' ', '`', '"']) {
            return (head, tail.to_string());
        }
    }
    ("", text.to_string())
}

/// Reword a serde message and derive a hint from it.
fn explain(message: &str) -> (String, Option<String>) {
    for kind in ["unknown field", "unknown variant"] {
        if let Some(rest) = message.strip_prefix(kind) {
            let typed = backticked(rest).into_iter().next().unwrap_or_default();
            let expected_part = rest.split_once(", expected").map(|(_, e)| e).unwrap_or("");
            let known = backticked(expected_part);
            let what = format!("{kind} `{typed}`");
            let hint = suggest::did_you_mean(&typed, known.iter().map(String::as_str)).or_else(|| {
                let refs: Vec<&str> = known.iter().map(String::as_str).collect();
                (!refs.is_empty()).then(|| format!("expected {}", suggest::one_of(&refs)))
            });
            return (what, hint);
        }
    }
    if let Some(number) = message.strip_prefix("invalid type: integer ").and_then(|m| m.split_once(" as u128")) {
        return (format!("{} is too large a number", number.0), None);
    }
    if let Some(field) = message.strip_prefix("missing field ") {
        return (format!("missing {field}"), None);
    }
    (friendly_types(message), None)
}

/// Every `` `quoted` `` name in `text`.
fn backticked(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// Replace Rust type names in serde's messages by words.
fn friendly_types(message: &str) -> String {
    let mut out = message.to_string();
    for (rust, words) in [
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected usize", "expected a whole number (0 or more)"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected `true` or `false`"),
        ("expected a sequence", "expected a list"),
        ("expected a string", "expected text"),
        ("expected a map", "expected a mapping"),
        ("invalid type: map", "invalid type: a mapping"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: unit value", "invalid type: an empty value"),
    ] {
        out = out.replace(rust, words);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_removed_from_the_text() {
        assert_eq!(strip_positions("x: bad at line 3 column 4"), "x: bad");
        assert_eq!(
            strip_positions(
                "did not find expected key at line 3 column 1, while parsing a block mapping at line 1 column 1"
            ),
            "did not find expected key, while parsing a block mapping"
        );
        assert_eq!(strip_positions("look at me"), "look at me");
        assert_eq!(strip_positions("at line 3"), "at line 3");
    }

    #[test]
    fn unknown_names_become_hints() {
        let (m, h) = explain("unknown field `populaton`, expected one of `population`, `users`");
        assert_eq!(m, "unknown field `populaton`");
        assert_eq!(h.as_deref(), Some("did you mean `population`?"));
        let (m, h) = explain("unknown variant `fast`, expected `per-user` or `shared`");
        assert_eq!(m, "unknown variant `fast`");
        assert_eq!(h.as_deref(), Some("expected `per-user` or `shared`"));
        let (_, h) = explain("unknown field `x`, there are no fields");
        assert_eq!(h, None);
    }

    #[test]
    fn an_indented_first_line_is_not_called_a_second_document() {
        let text = "  name: x\ntarget: embedded\nduration: 1m\n";
        let error = crate::scenario::load_str(text, std::path::Path::new("x.yaml")).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "x.yaml:1:1: line 1 is indented by 2 spaces but line 2 by 0: the top-level keys must start in the same column"
            ),
            "{error}"
        );
        assert!(error.contains("hint: remove the spaces before `name: x`"), "{error}");
        let end = "name: x\n...\ntarget: embedded\n";
        let error = crate::scenario::load_str(end, std::path::Path::new("x.yaml")).unwrap_err().to_string();
        assert!(error.starts_with("x.yaml:2:1: a second YAML document starts after `...` on line 2"), "{error}");
        let two = "name: x\ntarget: embedded\n---\nduration: 1m\n";
        let error = crate::scenario::load_str(two, std::path::Path::new("x.yaml")).unwrap_err().to_string();
        assert!(error.starts_with("x.yaml:3:1: a second YAML document starts after `---` on line 3"), "{error}");
    }

    #[test]
    fn rust_types_become_words() {
        assert_eq!(
            explain("invalid type: string \"many\", expected u64").0,
            "invalid type: string \"many\", expected a whole number (0 or more)"
        );
    }
}
