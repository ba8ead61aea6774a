//! One request step (`- post: /login …`) → a [`RequestSpec`]: method and path, body, headers,
//! captures and checks, with every template compiled against the persona's names.

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::{Body, Capture, CaptureSource, Check, JsonKey, RequestSpec, StatusRange};
use crate::scenario::names::{compile, Names};
use crate::scenario::raw::{RawCheck, RawStep, Scalar};
use crate::scenario::suggest;
use crate::scenario::template::{JsonTemplate, Template};
use crate::scenario::validate::{duration_at, header_name};

type Result<T> = std::result::Result<T, ScenarioError>;

/// Build the request of a step that has exactly one method key (checked by the caller).
pub fn request(
    src: &Source,
    path: &str,
    step: &RawStep,
    method: &'static str,
    target: &str,
    names: &Names,
) -> Result<RequestSpec> {
    let method_path = join(path, method);
    if !(target.starts_with('/') || target.starts_with("{{")) {
        return Err(src
            .error(&method_path, At::Value, format!("`{target}` is not a path: request paths start with `/`"))
            .with_hint(format!(
                "write `{method}: /{}`; the target's base URL is added in front",
                target.trim_start_matches('/')
            )));
    }
    let http_method = match method {
        "get" => http::Method::GET,
        "post" => http::Method::POST,
        "put" => http::Method::PUT,
        "patch" => http::Method::PATCH,
        "delete" => http::Method::DELETE,
        _ => http::Method::HEAD,
    };
    let name = match step.name.as_ref().map(|n| n.as_str().trim()) {
        Some("") => return Err(src.error(&join(path, "name"), At::Value, "a step name cannot be empty")),
        Some(name) => name.to_string(),
        None => format!("{http_method} {target}"),
    };
    let query = pairs(src, &join(path, "query"), step.query.as_ref(), names)?;
    let mut headers = Vec::new();
    for (key, value) in step.headers.iter().flatten() {
        let key_path = join(&join(path, "headers"), key);
        headers.push((header_name(src, &key_path, key)?, compile(src, &key_path, value.as_str(), names)?));
    }
    let bearer = match &step.bearer {
        Some(text) => Some(compile(src, &join(path, "bearer"), text, names)?),
        None => None,
    };
    let timeout = match &step.timeout {
        Some(text) => {
            let t = duration_at(src, &join(path, "timeout"), text)?;
            if t.is_zero() {
                return Err(src.error(&join(path, "timeout"), At::Value, "a timeout must be more than 0s"));
            }
            Some(t)
        }
        None => None,
    };
    Ok(RequestSpec {
        name,
        method: http_method,
        path: compile(src, &method_path, target, names)?,
        query,
        headers,
        bearer,
        body: body(src, path, step, names)?,
        captures: captures(src, path, step, names)?,
        check: check(src, &join(path, "check"), step.check.as_ref())?,
        goal: step.goal.unwrap_or(false),
        timeout,
        retry: match &step.retry {
            Some(raw) => Some(crate::scenario::behaviour::retry_policy(src, &join(path, "retry"), raw)?),
            None => None,
        },
        login: step.login.unwrap_or(false),
    })
}

fn pairs(
    src: &Source,
    path: &str,
    map: Option<&indexmap::IndexMap<String, Scalar>>,
    names: &Names,
) -> Result<Vec<(String, Template)>> {
    map.into_iter().flatten().map(|(k, v)| Ok((k.clone(), compile(src, &join(path, k), v.as_str(), names)?))).collect()
}

fn body(src: &Source, path: &str, step: &RawStep, names: &Names) -> Result<Body> {
    let given: Vec<&str> =
        [("json", step.json.is_some()), ("form", step.form.is_some()), ("body", step.body.is_some())]
            .iter()
            .filter(|(_, set)| *set)
            .map(|(k, _)| *k)
            .collect();
    if given.len() > 1 {
        return Err(src
            .error(
                &join(path, given[1]),
                At::Key,
                format!("a request has one body, but this one has `{}` and `{}`", given[0], given[1]),
            )
            .with_hint("keep one of `json`, `form` or `body`"));
    }
    if step.content_type.is_some() && step.body.is_none() {
        return Err(src
            .error(&join(path, "content_type"), At::Key, "`content_type` goes with `body:`")
            .with_hint("`json:` and `form:` set their own content type"));
    }
    Ok(if let Some(value) = &step.json {
        Body::Json(json(src, &join(path, "json"), value, names)?)
    } else if let Some(form) = &step.form {
        Body::Form(pairs(src, &join(path, "form"), Some(form), names)?)
    } else if let Some(text) = &step.body {
        Body::Raw { content_type: step.content_type.clone(), template: compile(src, &join(path, "body"), text, names)? }
    } else {
        Body::None
    })
}

/// A YAML value → a JSON body whose strings are templates; numbers and booleans are kept.
fn json(src: &Source, path: &str, value: &serde_yaml::Value, names: &Names) -> Result<JsonTemplate> {
    use serde_yaml::Value;
    Ok(match value {
        Value::Null => JsonTemplate::Null,
        Value::Bool(b) => JsonTemplate::Bool(*b),
        Value::Number(n) => {
            let number = if let Some(u) = n.as_u64() {
                Some(u.into())
            } else if let Some(i) = n.as_i64() {
                Some(i.into())
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64)
            };
            JsonTemplate::Number(
                number.ok_or_else(|| src.error(path, At::Value, format!("`{n}` cannot be written in JSON")))?,
            )
        }
        Value::String(text) => JsonTemplate::String(compile(src, path, text, names)?),
        Value::Sequence(items) => JsonTemplate::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| json(src, &format!("{path}[{i}]"), item, names))
                .collect::<Result<_>>()?,
        ),
        Value::Mapping(map) => {
            let mut fields = Vec::with_capacity(map.len());
            for (key, item) in map {
                let key = match key {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(src.error(path, At::Value, "JSON object keys must be text")),
                };
                let item = json(src, &join(path, &key), item, names)?;
                fields.push((key, item));
            }
            JsonTemplate::Object(fields)
        }
        Value::Tagged(tagged) => {
            return Err(src.error(
                path,
                At::Value,
                format!("YAML tags such as `{}` cannot be sent as JSON", tagged.tag),
            ))
        }
    })
}

/// Whether `name` may be used as a capture name.
pub fn valid_capture_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "user"
        && name != "iteration"
}

fn captures(src: &Source, path: &str, step: &RawStep, names: &Names) -> Result<Vec<Capture>> {
    let mut out = Vec::new();
    for (name, from) in step.capture.iter().flatten() {
        let at = join(&join(path, "capture"), name);
        // Every capture name was collected into `vars` before any step was compiled.
        if let Some(var) = names.vars.iter().position(|v| v == name) {
            out.push(Capture { var, source: capture_source(src, &at, from)? });
        }
    }
    Ok(out)
}

const CAPTURE_FORMS: &str =
    "`json.<path>` (e.g. `json.data.items[0].id`), `header.<Name>`, `cookie.<name>` or `input.<name>`";

fn capture_source(src: &Source, path: &str, text: &str) -> Result<CaptureSource> {
    let bad = |why: String| src.error(path, At::Value, why).with_hint(format!("a capture reads {CAPTURE_FORMS}"));
    let (kind, rest) = text.split_once('.').unwrap_or((text, ""));
    match kind {
        "json" => json_path(rest).map(CaptureSource::Json).map_err(|why| bad(format!("`{text}`: {why}"))),
        "header" => {
            let header = http::HeaderName::from_bytes(rest.as_bytes())
                .map_err(|_| bad(format!("`{text}`: `{rest}` is not a header name")))?;
            Ok(CaptureSource::Header(header))
        }
        "cookie" if !rest.is_empty() && !rest.contains([';', '=', ' ']) => Ok(CaptureSource::Cookie(rest.to_string())),
        "cookie" => Err(bad(format!("`{text}`: `{rest}` is not a cookie name"))),
        "input" if !rest.is_empty() && !rest.contains(['"', '\'', ' ', '<', '>']) => {
            Ok(CaptureSource::Input(rest.to_string()))
        }
        "input" => Err(bad(format!("`{text}`: `{rest}` is not a form field name"))),
        other => {
            let hint = suggest::did_you_mean(other, ["json", "header", "cookie", "input"]);
            Err(src
                .error(path, At::Value, format!("cannot capture from `{text}`: expected {CAPTURE_FORMS}"))
                .with_hint_opt(hint))
        }
    }
}

/// `data.items[0].id` → [Field(data), Field(items), Index(0), Field(id)].
fn json_path(text: &str) -> std::result::Result<Vec<JsonKey>, String> {
    if text.is_empty() {
        return Err("name the value to capture after `json.`".into());
    }
    let mut keys = Vec::new();
    for segment in text.split('.') {
        let (field, mut indices) = segment.split_once('[').map_or((segment, ""), |(f, i)| (f, i));
        if field.is_empty() && keys.is_empty() && !indices.is_empty() {
            // `json.[0]`: the body itself is an array.
        } else if field.is_empty() {
            return Err("empty field name in the JSON path".into());
        } else {
            keys.push(JsonKey::Field(field.to_string()));
        }
        while !indices.is_empty() {
            let (index, after) = indices.split_once(']').ok_or("`[` without a closing `]`")?;
            let index: usize = index.trim().parse().map_err(|_| format!("`[{index}]` is not a list index"))?;
            keys.push(JsonKey::Index(index));
            indices = match after {
                "" => "",
                more => more.strip_prefix('[').ok_or(format!("unexpected `{more}` after `]`"))?,
            };
        }
    }
    Ok(keys)
}

fn check(src: &Source, path: &str, raw: Option<&RawCheck>) -> Result<Check> {
    let Some(raw) = raw else {
        return Ok(Check { status: None, body_contains: None });
    };
    let status = match &raw.status {
        None => None,
        Some(serde_yaml::Value::Sequence(items)) => {
            if items.is_empty() {
                return Err(src.error(&join(path, "status"), At::Value, "the list of accepted statuses is empty"));
            }
            let ranges = items.iter().enumerate().map(|(i, v)| status_range(src, &format!("{path}.status[{i}]"), v));
            Some(ranges.collect::<Result<Vec<_>>>()?)
        }
        Some(value) => Some(vec![status_range(src, &join(path, "status"), value)?]),
    };
    Ok(Check { status, body_contains: raw.body_contains.clone() })
}

const STATUS_FORMS: &str = "a status from 100 to 599 (`200`), a class (`\"2xx\"`) or a list (`[200, \"3xx\"]`)";

fn status_range(src: &Source, path: &str, value: &serde_yaml::Value) -> Result<StatusRange> {
    let text = match value {
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::String(s) => s.trim().to_string(),
        _ => return Err(src.error(path, At::Value, format!("expected {STATUS_FORMS}"))),
    };
    let bad = || src.error(path, At::Value, format!("`{text}` is not a status: expected {STATUS_FORMS}"));
    if let Some(class) = text.strip_suffix("xx").or_else(|| text.strip_suffix("XX")) {
        let digit: u16 = class.parse().map_err(|_| bad())?;
        return if (1..=5).contains(&digit) {
            Ok(StatusRange { low: digit * 100, high: digit * 100 + 99 })
        } else {
            Err(bad())
        };
    }
    let code: u16 = text.parse().map_err(|_| bad())?;
    if (100..=599).contains(&code) {
        Ok(StatusRange { low: code, high: code })
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        use JsonKey::*;
        assert_eq!(json_path("token"), Ok(vec![Field("token".into())]));
        assert_eq!(
            json_path("data.items[0][2].id"),
            Ok(vec![Field("data".into()), Field("items".into()), Index(0), Index(2), Field("id".into())])
        );
        assert_eq!(json_path("[3]"), Ok(vec![Index(3)]));
        assert!(json_path("").is_err());
        assert!(json_path("a..b").is_err());
        assert!(json_path("a[x]").is_err());
        assert!(json_path("a[1").is_err());
        assert!(json_path("a[1]b").is_err());
    }

    #[test]
    fn capture_names() {
        assert!(valid_capture_name("token"));
        assert!(valid_capture_name("_x1"));
        assert!(!valid_capture_name("user"));
        assert!(!valid_capture_name("iteration"));
        assert!(!valid_capture_name("1x"));
        assert!(!valid_capture_name("a.b"));
        assert!(!valid_capture_name(""));
    }
}
