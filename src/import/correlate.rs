//! Correlation: a value the application handed out (a session token in a JSON body, a CSRF
//! field in a form, a homework id, a header) and that the page sent back later becomes a
//! capture on the step that received it and a template where it is sent, instead of a frozen
//! string that would be stale, or another user's, in the rehearsal.
//!
//! Values are matched whole (a path segment, a query value, a JSON string, a header value) or,
//! when long enough to be unambiguous, inside a longer text (`Bearer <token>`). The most
//! recent response that carried a value wins, so a token that rotates is captured each time.
//! Values the client sent before any response carried them (the user's own input echoed back)
//! and very short values (`1`, `true`, `fr`) are not correlated: matching them would turn
//! constants into captures by coincidence.

use std::collections::HashSet;

use serde_json::Value;

use crate::http::html;
use crate::import::har::Exchange;

/// Shortest value matched whole; shorter ones are too likely to match by coincidence.
const MIN_WHOLE: usize = 3;
/// Shortest value matched inside a longer text.
const MIN_INSIDE: usize = 8;

/// Response headers that never carry a value the client sends back.
const PLAIN_HEADERS: [&str; 24] = [
    "date",
    "content-type",
    "content-length",
    "server",
    "cache-control",
    "expires",
    "last-modified",
    "vary",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-encoding",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-headers",
    "access-control-allow-methods",
    "strict-transport-security",
    "x-content-type-options",
    "x-frame-options",
    "alt-svc",
    "age",
    "accept-ranges",
    "referrer-policy",
    "content-security-policy",
];

/// A value a response carried.
struct Known {
    /// Index of the step whose response carried it.
    step: usize,
    /// The capture expression that reads it again (`json.token`, `input.csrf`).
    expr: String,
    value: String,
    /// The capture's name, once something reuses it.
    var: Option<String>,
}

/// The values seen so far and the captures they turned into.
#[derive(Default)]
pub struct Correlator {
    known: Vec<Known>,
    /// Values the client had sent before a response carried them.
    sent: HashSet<String>,
    names: HashSet<String>,
    /// (step, capture name, expression), in the order they were created.
    pub captures: Vec<(usize, String, String)>,
    /// Values never to correlate (the recorded login and password).
    pub secrets: Vec<String>,
}

impl Correlator {
    /// Learns what the response of step `step` carried, best sources first: the body (JSON
    /// fields, form inputs), then headers, then cookies.
    pub fn learn(&mut self, step: usize, exchange: &Exchange) {
        let mut found: Vec<(String, String)> = Vec::new();
        if let Some(body) = &exchange.response_body {
            let kind = exchange.response_type.as_deref().unwrap_or_default();
            if let Ok(doc) = serde_json::from_str::<Value>(body) {
                json_leaves(&doc, "json", &mut found);
            } else if kind.contains("html") || body.trim_start().starts_with('<') {
                for (name, value) in html::inputs(body) {
                    found.push((format!("input.{name}"), value));
                }
            }
        }
        for (name, value) in &exchange.response_headers {
            let lower = name.to_ascii_lowercase();
            if lower == "set-cookie" {
                if let Some((cookie, rest)) = value.split_once('=') {
                    let value = rest.split(';').next().unwrap_or_default().trim();
                    found.push((format!("cookie.{}", cookie.trim()), value.to_string()));
                }
            } else if !PLAIN_HEADERS.contains(&lower.as_str()) && !lower.starts_with(':') {
                found.push((format!("header.{name}"), value.trim().to_string()));
            }
        }
        // Pushed in reverse so that, searching from the end, the best source of the most
        // recent response comes first.
        for (expr, value) in found.into_iter().rev() {
            if value.chars().count() >= MIN_WHOLE && self.correlatable(&value) {
                self.known.push(Known { step, expr, value, var: None });
            }
        }
    }

    fn correlatable(&self, value: &str) -> bool {
        !self.sent.contains(value)
            && !self.secrets.iter().any(|s| s == value)
            && !matches!(value, "true" | "false" | "null")
    }

    /// Marks a value as sent by the client (so that a later echo of it is not a source).
    pub fn sent(&mut self, value: &str) {
        self.sent.insert(value.to_string());
    }

    /// `text` with every correlated value replaced by its template. `whole`: only an exact
    /// match counts (a number in a JSON body, a path segment).
    pub fn template(&mut self, text: &str, whole: bool) -> String {
        if let Some(i) = self.known.iter().rposition(|k| k.value == text) {
            return format!("{{{{ {} }}}}", self.var_of(i));
        }
        if whole || text.len() < MIN_INSIDE {
            self.sent(text);
            return text.to_string();
        }
        let mut out = text.to_string();
        let mut replaced = false;
        for i in (0..self.known.len()).rev() {
            let value = self.known[i].value.clone();
            if value.len() >= MIN_INSIDE && out.contains(&value) {
                let template = format!("{{{{ {} }}}}", self.var_of(i));
                out = out.replace(&value, &template);
                replaced = true;
            }
        }
        if !replaced {
            self.sent(text);
        }
        out
    }

    /// The capture name of known value `i`, creating the capture on its step.
    fn var_of(&mut self, i: usize) -> String {
        if let Some(var) = &self.known[i].var {
            return var.clone();
        }
        // The same expression on the same step is the same capture, whatever its value.
        let same =
            self.captures.iter().find(|(step, _, expr)| *step == self.known[i].step && *expr == self.known[i].expr);
        let var = match same {
            Some((_, var, _)) => var.clone(),
            None => {
                let var = unique(&mut self.names, &name_for(&self.known[i].expr));
                self.captures.push((self.known[i].step, var.clone(), self.known[i].expr.clone()));
                var
            }
        };
        self.known[i].var = Some(var.clone());
        var
    }
}

/// Every string and integer leaf of a JSON document with its capture path.
fn json_leaves(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                // Keys the capture syntax cannot spell are skipped rather than misread.
                if !key.is_empty() && !key.contains(['.', '[', ']', ' ']) {
                    json_leaves(child, &format!("{path}.{key}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate().take(50) {
                let base = if path == "json" { "json.".to_string() } else { path.to_string() };
                json_leaves(child, &format!("{base}[{i}]"), out);
            }
        }
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Number(n) if n.is_i64() || n.is_u64() => out.push((path.to_string(), n.to_string())),
        _ => {}
    }
}

/// A readable capture name from its expression: `json.token` → `token`, `json.items[0].id` →
/// `items_id`, `header.X-CSRF-Token` → `x_csrf_token`.
fn name_for(expr: &str) -> String {
    let (_, rest) = expr.split_once('.').unwrap_or(("", expr));
    let fields: Vec<&str> =
        rest.split(['.', '[', ']']).filter(|s| !s.is_empty() && !s.chars().all(|c| c.is_ascii_digit())).collect();
    let raw = match fields.as_slice() {
        [] => "value".to_string(),
        [.., parent, last] if ["id", "value", "key", "code", "uuid"].contains(&last.to_ascii_lowercase().as_str()) => {
            format!("{parent}_{last}")
        }
        [.., last] => last.to_string(),
    };
    let mut name: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    name = name.trim_matches('_').to_string();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("v_{name}");
    }
    if name == "user" || name == "iteration" {
        name.push_str("_value");
    }
    name
}

fn unique(names: &mut HashSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while names.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    names.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_like_the_field() {
        assert_eq!(name_for("json.token"), "token");
        assert_eq!(name_for("json.items[0].id"), "items_id");
        assert_eq!(name_for("json.[2].id"), "id");
        assert_eq!(name_for("header.X-CSRF-Token"), "x_csrf_token");
        assert_eq!(name_for("input.csrf_token"), "csrf_token");
        assert_eq!(name_for("json.user"), "user_value");
        let mut names = HashSet::new();
        assert_eq!(unique(&mut names, "id"), "id");
        assert_eq!(unique(&mut names, "id"), "id_2");
    }
}
