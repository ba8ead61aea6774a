//! `{{ ... }}` templates, compiled once at load time and rendered per request.
//!
//! A template is a list of parts resolved to indices when the scenario is validated, so
//! rendering is a walk over a slice that appends to a reusable buffer: no parsing, no name
//! lookups and no allocation beyond the buffer on the per-request path.

use std::fmt::Write as _;

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Box<[Part]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Lit(Box<str>),
    /// `{{ user.id }}`
    UserId,
    /// `{{ user.index }}`: the user's 1-based index within its persona.
    UserIndex,
    /// `{{ user.<column> }}` from a credentials CSV.
    UserColumn(usize),
    /// `{{ name }}`: a value captured earlier in the journey (index into `Journey::vars`).
    Var(usize),
    /// `{{ iteration }}`: the 1-based iteration of the innermost loop (1 outside loops).
    Iteration,
}

/// What a template can read while rendering: one virtual user's identity and captures.
pub trait Context {
    fn write_user_id(&self, out: &mut String);
    fn user_index(&self) -> u64;
    fn column(&self, index: usize) -> &str;
    fn var(&self, index: usize) -> Option<&str>;
    fn iteration(&self) -> u32;
}

/// Rendering needed a captured value that this user has not captured (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingVar(pub usize);

/// How names inside `{{ }}` resolve, supplied by the validator.
pub trait Resolver {
    /// Resolve a name (already trimmed, e.g. `user.id`, `token`) to a part, or explain why not.
    fn resolve(&self, name: &str) -> Result<Part, String>;
}

/// A template string could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset in the template string where the problem starts.
    pub offset: usize,
    pub message: String,
}

impl Template {
    /// A template with no placeholders.
    pub fn literal(text: &str) -> Self {
        let parts: Vec<Part> = if text.is_empty() { Vec::new() } else { vec![Part::Lit(text.into())] };
        Template { parts: parts.into() }
    }

    /// Compile `text`, resolving every `{{ name }}` through `resolver`.
    pub fn parse(text: &str, resolver: &dyn Resolver) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].into()));
            }
            let after_open = &rest[open + 2..];
            let close = after_open.find("}}").ok_or_else(|| TemplateError {
                offset: offset + open,
                message: "`{{` is not closed by `}}`".to_string(),
            })?;
            let name = after_open[..close].trim();
            if name.is_empty() {
                return Err(TemplateError { offset: offset + open, message: "empty `{{ }}`".to_string() });
            }
            let part = resolver.resolve(name).map_err(|message| TemplateError { offset: offset + open, message })?;
            parts.push(part);
            let consumed = open + 2 + close + 2;
            rest = &rest[consumed..];
            offset += consumed;
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.into()));
        }
        Ok(Template { parts: parts.into() })
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The text, when the template has no placeholders.
    pub fn as_literal(&self) -> Option<&str> {
        match &*self.parts {
            [] => Some(""),
            [Part::Lit(text)] => Some(text),
            _ => None,
        }
    }

    /// Captured variables this template reads.
    pub fn vars(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(*v),
            _ => None,
        })
    }

    /// Append the rendered text to `out`.
    pub fn render(&self, ctx: &dyn Context, out: &mut String) -> Result<(), MissingVar> {
        for part in self.parts.iter() {
            render_part(part, ctx, out)?;
        }
        Ok(())
    }

    /// Append the rendered text to `out` as the inside of a JSON string (escaped, no quotes).
    fn render_json_escaped(&self, ctx: &dyn Context, out: &mut String, scratch: &mut String) -> Result<(), MissingVar> {
        for part in self.parts.iter() {
            match part {
                Part::Lit(text) => escape_json_into(text, out),
                other => {
                    scratch.clear();
                    render_part(other, ctx, scratch)?;
                    escape_json_into(scratch, out);
                }
            }
        }
        Ok(())
    }
}

fn render_part(part: &Part, ctx: &dyn Context, out: &mut String) -> Result<(), MissingVar> {
    match part {
        Part::Lit(text) => out.push_str(text),
        Part::UserId => ctx.write_user_id(out),
        Part::UserIndex => {
            let _ = write!(out, "{}", ctx.user_index());
        }
        Part::UserColumn(c) => out.push_str(ctx.column(*c)),
        Part::Var(v) => out.push_str(ctx.var(*v).ok_or(MissingVar(*v))?),
        Part::Iteration => {
            let _ = write!(out, "{}", ctx.iteration());
        }
    }
    Ok(())
}

/// A JSON body whose strings are templates.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// Append the rendered JSON text to `out`. `scratch` is a reusable buffer.
    pub fn render(&self, ctx: &dyn Context, out: &mut String, scratch: &mut String) -> Result<(), MissingVar> {
        match self {
            JsonTemplate::Null => out.push_str("null"),
            JsonTemplate::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JsonTemplate::Number(n) => {
                let _ = write!(out, "{n}");
            }
            JsonTemplate::String(t) => {
                out.push('"');
                t.render_json_escaped(ctx, out, scratch)?;
                out.push('"');
            }
            JsonTemplate::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render(ctx, out, scratch)?;
                }
                out.push(']');
            }
            JsonTemplate::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('"');
                    escape_json_into(key, out);
                    out.push_str("\":");
                    value.render(ctx, out, scratch)?;
                }
                out.push('}');
            }
        }
        Ok(())
    }

    /// Captured variables this body reads.
    pub fn vars(&self, into: &mut Vec<usize>) {
        match self {
            JsonTemplate::String(t) => into.extend(t.vars()),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.vars(into)),
            JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| v.vars(into)),
            _ => {}
        }
    }
}

fn escape_json_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names;
    impl Resolver for Names {
        fn resolve(&self, name: &str) -> Result<Part, String> {
            match name {
                "user.id" => Ok(Part::UserId),
                "user.index" => Ok(Part::UserIndex),
                "user.password" => Ok(Part::UserColumn(0)),
                "token" => Ok(Part::Var(0)),
                "iteration" => Ok(Part::Iteration),
                other => Err(format!("unknown name `{other}`")),
            }
        }
    }

    struct User {
        token: Option<String>,
    }
    impl Context for User {
        fn write_user_id(&self, out: &mut String) {
            out.push_str("pupil-000042");
        }
        fn user_index(&self) -> u64 {
            42
        }
        fn column(&self, _: usize) -> &str {
            "s3cr\"et"
        }
        fn var(&self, _: usize) -> Option<&str> {
            self.token.as_deref()
        }
        fn iteration(&self) -> u32 {
            3
        }
    }

    fn render(text: &str, user: &User) -> Result<String, MissingVar> {
        let t = Template::parse(text, &Names).unwrap();
        let mut out = String::new();
        t.render(user, &mut out).map(|_| out)
    }

    #[test]
    fn renders_literals_and_placeholders() {
        let user = User { token: Some("abc".into()) };
        assert_eq!(render("/users/{{user.id}}/items/{{ iteration }}", &user).unwrap(), "/users/pupil-000042/items/3");
        assert_eq!(render("{{ token }}", &user).unwrap(), "abc");
        assert_eq!(render("no placeholders", &user).unwrap(), "no placeholders");
        assert_eq!(render("", &user).unwrap(), "");
        assert_eq!(render("{{user.index}}{{user.index}}", &user).unwrap(), "4242");
    }

    #[test]
    fn missing_capture_is_reported_not_rendered_empty() {
        let user = User { token: None };
        assert_eq!(render("Bearer {{ token }}", &user), Err(MissingVar(0)));
    }

    #[test]
    fn parse_errors_point_at_the_placeholder() {
        let err = Template::parse("/a/{{ nope }}", &Names).unwrap_err();
        assert_eq!(err.offset, 3);
        assert!(err.message.contains("nope"));
        let err = Template::parse("/a/{{ user.id", &Names).unwrap_err();
        assert_eq!(err.offset, 3);
        assert!(err.message.contains("not closed"));
        assert!(Template::parse("{{   }}", &Names).is_err());
    }

    #[test]
    fn literal_detection() {
        assert_eq!(Template::parse("/agenda", &Names).unwrap().as_literal(), Some("/agenda"));
        assert_eq!(Template::parse("/a/{{token}}", &Names).unwrap().as_literal(), None);
        assert_eq!(Template::literal("").as_literal(), Some(""));
    }

    #[test]
    fn json_body_escapes_rendered_values() {
        let body = JsonTemplate::Object(vec![
            ("user".into(), JsonTemplate::String(Template::parse("{{user.id}}", &Names).unwrap())),
            ("password".into(), JsonTemplate::String(Template::parse("{{user.password}}", &Names).unwrap())),
            ("n".into(), JsonTemplate::Number(7.into())),
            ("tags".into(), JsonTemplate::Array(vec![JsonTemplate::Bool(true), JsonTemplate::Null])),
        ]);
        let user = User { token: None };
        let (mut out, mut scratch) = (String::new(), String::new());
        body.render(&user, &mut out, &mut scratch).unwrap();
        assert_eq!(out, r#"{"user":"pupil-000042","password":"s3cr\"et","n":7,"tags":[true,null]}"#);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["password"], "s3cr\"et");
    }
}
