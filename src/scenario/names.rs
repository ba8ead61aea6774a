//! Which names a `{{ … }}` template may use, and compiling templates with positioned errors.
//!
//! Inside a persona: `user.id`, `user.index`, `user.<csv column>`, `iteration`, and every
//! capture name of that persona's journey (captured anywhere in it: a step may read a value
//! captured later in a loop's previous iteration; if it is missing at run time the request
//! fails visibly rather than sending an empty string). In the scenario-wide `http.headers`
//! only the names every persona has are allowed.

use std::cell::RefCell;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::suggest;
use crate::scenario::template::{Part, Resolver, Template, TemplateError};

/// The names visible to one template.
pub struct Names<'a> {
    /// CSV columns (`None` for generated users, or in scenario-wide settings).
    pub columns: Option<&'a [String]>,
    /// Capture names of the journey (index = `Journey::vars` index).
    pub vars: &'a [String],
    /// `true` for `http.headers`, which are shared by all personas.
    pub scenario_wide: bool,
    /// Hint for the last failed resolution (`Resolver` only returns a message).
    hint: RefCell<Option<String>>,
}

impl<'a> Names<'a> {
    pub fn persona(columns: Option<&'a [String]>, vars: &'a [String]) -> Self {
        Names { columns, vars, scenario_wide: false, hint: RefCell::new(None) }
    }

    pub fn scenario_wide() -> Self {
        Names { columns: None, vars: &[], scenario_wide: true, hint: RefCell::new(None) }
    }

    /// Every name that resolves, for suggestions and for listing in messages.
    fn known(&self) -> Vec<String> {
        let mut known = vec!["user.id".to_string(), "user.index".to_string()];
        if let Some(columns) = self.columns {
            known.extend(columns.iter().filter(|c| *c != "id" && *c != "index").map(|c| format!("user.{c}")));
        }
        known.push("iteration".to_string());
        known.extend(self.vars.iter().cloned());
        known
    }
}

impl Resolver for Names<'_> {
    fn resolve(&self, name: &str) -> Result<Part, String> {
        match name {
            "user.id" => return Ok(Part::UserId),
            "user.index" => return Ok(Part::UserIndex),
            "iteration" => return Ok(Part::Iteration),
            _ => {}
        }
        if let Some(column) = name.strip_prefix("user.") {
            if let Some(i) = self.columns.and_then(|cols| cols.iter().position(|c| c == column)) {
                return Ok(Part::UserColumn(i));
            }
        } else if let Some(i) = self.vars.iter().position(|v| v == name) {
            return Ok(Part::Var(i));
        }
        let known = self.known();
        *self.hint.borrow_mut() = suggest::did_you_mean(name, known.iter().map(String::as_str));
        let listed: Vec<&str> = known.iter().map(String::as_str).collect();
        let available = suggest::all_of(&listed);
        Err(if self.scenario_wide && !name.starts_with("user.") {
            format!(
                "`{name}` cannot be used in `http.headers`, which every persona shares: only {available} are available there (set headers that need captures on the steps)"
            )
        } else if name.starts_with("user.") && self.columns.is_none() && !self.scenario_wide {
            format!(
                "unknown template variable `{name}`: generated users only have `user.id` and `user.index` (add `users: {{ csv: file.csv }}` for more columns)"
            )
        } else if let (Some(column), Some(_)) = (name.strip_prefix("user."), self.columns) {
            format!("unknown template variable `{name}`: the users file has no column `{column}`; available here: {available}")
        } else {
            format!("unknown template variable `{name}`: available here: {available}")
        })
    }
}

/// Compile `text` found at `path`; errors point at the `{{` inside the value when possible.
pub fn compile(src: &Source, path: &str, text: &str, names: &Names) -> Result<Template, ScenarioError> {
    Template::parse(text, names).map_err(|err| {
        let hint = names.hint.borrow_mut().take();
        let mut error = template_error(src, path, text, &err).with_hint_opt(hint);
        if err.message.contains("not closed") {
            error.hint = Some("write placeholders as `{{ name }}`".to_string());
        }
        error
    })
}

fn template_error(src: &Source, path: &str, text: &str, err: &TemplateError) -> ScenarioError {
    let mut error = src.error(path, At::Value, &err.message);
    // Move the caret from the start of the value to the `{{`, when the value sits on one line
    // as written (plain or quoted, not a block scalar or an escaped string).
    if let (Some(line), Some(column)) = (&error.source_line, error.column) {
        let chars: Vec<char> = line.chars().collect();
        let quoted = matches!(chars.get(column.saturating_sub(1)), Some('"' | '\''));
        let start = column.saturating_sub(1) + usize::from(quoted);
        let before = &text[..err.offset.min(text.len())];
        let written: String = chars.iter().skip(start).take(before.chars().count()).collect();
        if !before.contains('\n') && written == before {
            error.column = Some(start + before.chars().count() + 1);
        }
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_and_suggests() {
        let columns = vec!["id".to_string(), "password".to_string()];
        let vars = vec!["token".to_string()];
        let names = Names::persona(Some(&columns), &vars);
        assert_eq!(names.resolve("user.password"), Ok(Part::UserColumn(1)));
        assert_eq!(names.resolve("token"), Ok(Part::Var(0)));
        assert_eq!(names.resolve("iteration"), Ok(Part::Iteration));
        let err = names.resolve("tokn").unwrap_err();
        assert!(err.contains("`tokn`"), "{err}");
        assert_eq!(names.hint.borrow().as_deref(), Some("did you mean `token`?"));
        assert!(names.resolve("user.pasword").is_err());
        assert_eq!(names.hint.borrow().as_deref(), Some("did you mean `user.password`?"));
    }

    #[test]
    fn scenario_wide_names_exclude_captures() {
        let names = Names::scenario_wide();
        assert!(names.resolve("token").unwrap_err().contains("http.headers"));
        assert_eq!(names.resolve("user.id"), Ok(Part::UserId));
    }

    #[test]
    fn caret_moves_to_the_placeholder() {
        let text = "get: \"/a/{{ nope }}\"\n";
        let src = Source::new(std::path::Path::new("t.yaml"), text);
        let names = Names::scenario_wide();
        let err = compile(&src, "get", "/a/{{ nope }}", &names).unwrap_err();
        assert_eq!((err.line, err.column), (Some(1), Some(10)));
    }
}
