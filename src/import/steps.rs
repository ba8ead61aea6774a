//! A recording's kept exchanges → journey steps: method and path, the headers worth sending,
//! the body, the think time before each user action, the recorded credentials replaced by the
//! user's, and every correlated value turned into a capture and a template.
//!
//! Headers the browser or the HTTP client manages (`Cookie`, `Content-Length`, `Host`, HTTP/2
//! pseudo-headers, `User-Agent`, `Accept-*`, `Sec-*`, `Referer`, …) are dropped: cookies are
//! replayed from each user's jar, and the rest would pin the recording's browser and host.

use std::time::Duration;

use serde_json::Value;

use crate::import::correlate::Correlator;
use crate::import::har::Exchange;
use crate::import::route;

/// A gap shorter than this between two requests is the same page load, not a person pausing.
pub const PAGE_LOAD_GAP: Duration = Duration::from_millis(100);

const DROPPED_HEADERS: [&str; 21] = [
    "cookie",
    "content-length",
    "host",
    "connection",
    "keep-alive",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "referer",
    "origin",
    "upgrade-insecure-requests",
    "pragma",
    "cache-control",
    "priority",
    "te",
    "dnt",
    "if-none-match",
    "if-modified-since",
    "content-type",
    "transfer-encoding",
];

/// One request step of the imported journey.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    /// `get`, `post`, …
    pub method: String,
    /// Path and query, templated.
    pub path: String,
    pub bearer: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// (capture name, expression), filled in when a later step reuses a value.
    pub captures: Vec<(String, String)>,
    /// The recorded pause before this step, when it starts a new user action.
    pub think_before: Option<Duration>,
    pub status: u16,
    /// Carries the recorded credentials (the end of the login sub-journey).
    pub login: bool,
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Raw { content_type: String, text: String },
}

/// The recorded credentials, found in a login request's body.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub user: Option<String>,
    pub password: Option<String>,
}

const USER_FIELDS: [&str; 7] = ["user", "username", "login", "email", "identifiant", "userid", "user_id"];
const PASSWORD_FIELDS: [&str; 5] = ["password", "passwd", "pwd", "pass", "motdepasse"];

fn is_field(name: &str, fields: &[&str]) -> bool {
    let name: String = name.to_ascii_lowercase().chars().filter(|c| *c != '-' && *c != '_').collect();
    fields.iter().any(|f| f.replace('_', "") == name)
}

/// The user name and password of the first request whose body has both.
pub fn credentials(exchanges: &[&Exchange]) -> Credentials {
    for exchange in exchanges {
        let fields = body_fields(exchange);
        let user = fields.iter().find(|(k, _)| is_field(k, &USER_FIELDS)).map(|(_, v)| v.clone());
        let password = fields.iter().find(|(k, _)| is_field(k, &PASSWORD_FIELDS)).map(|(_, v)| v.clone());
        if user.is_some() && password.is_some() {
            return Credentials { user, password };
        }
    }
    Credentials::default()
}

/// Top-level string fields of a JSON or form body.
fn body_fields(exchange: &Exchange) -> Vec<(String, String)> {
    let Some((mime, text)) = &exchange.body else { return Vec::new() };
    if mime.contains("x-www-form-urlencoded") {
        return url::form_urlencoded::parse(text.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            map.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect()
        }
        _ => Vec::new(),
    }
}

/// Builds the steps of `kept` (indices into `all`, in order). Think times come from `all`,
/// static assets included: a page load ends when its last asset has arrived.
pub fn build(all: &[Exchange], kept: &[usize], credentials: &Credentials) -> Vec<Step> {
    let mut correlator = Correlator::default();
    correlator.secrets = [&credentials.user, &credentials.password].into_iter().flatten().cloned().collect();
    let mut steps: Vec<Step> = Vec::with_capacity(kept.len());
    for (n, &i) in kept.iter().enumerate() {
        let exchange = &all[i];
        let think_before = if n == 0 { None } else { pause_before(all, i) };
        let mut step = request_step(exchange, credentials, &mut correlator);
        step.think_before = think_before;
        steps.push(step);
        correlator.learn(n, exchange);
    }
    for (step, name, expr) in correlator.captures.drain(..) {
        steps[step].captures.push((name, expr));
    }
    name_steps(&mut steps);
    steps
}

/// The idle time before `all[i]` started: since the end of everything that started before it.
fn pause_before(all: &[Exchange], i: usize) -> Option<Duration> {
    let started = all[i].started;
    let busy_until = all[..i].iter().map(Exchange::ended).max()?;
    let gap = (started - busy_until).to_std().ok()?;
    (gap >= PAGE_LOAD_GAP).then_some(gap)
}

fn request_step(exchange: &Exchange, credentials: &Credentials, correlator: &mut Correlator) -> Step {
    let mut template = |text: &str, whole: bool| -> String {
        if credentials.user.as_deref() == Some(text) {
            return "{{ user.id }}".into();
        }
        if credentials.password.as_deref() == Some(text) {
            return "{{ user.password }}".into();
        }
        correlator.template(text, whole)
    };
    let url = &exchange.url;
    let mut path: String = url.path().split('/').map(|seg| template(seg, true)).collect::<Vec<_>>().join("/");
    if let Some(query) = url.query().filter(|q| !q.is_empty()) {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => format!("{k}={}", template(v, false)),
                None => pair.to_string(),
            })
            .collect();
        path = format!("{path}?{}", pairs.join("&"));
    }
    let mut bearer = None;
    let mut headers = Vec::new();
    for (name, value) in &exchange.request_headers {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with(':') || lower.starts_with("sec-") || DROPPED_HEADERS.contains(&lower.as_str()) {
            continue;
        }
        match value.strip_prefix("Bearer ").filter(|_| lower == "authorization") {
            Some(token) => bearer = Some(template(token.trim(), false)),
            None => headers.push((name.clone(), template(value, false))),
        }
    }
    let has_credentials =
        credentials.user.is_some() && body_fields(exchange).iter().any(|(_, v)| Some(v) == credentials.user.as_ref());
    let body = match &exchange.body {
        None => Body::None,
        Some((mime, text)) if mime.contains("x-www-form-urlencoded") => Body::Form(
            url::form_urlencoded::parse(text.as_bytes()).map(|(k, v)| (k.into_owned(), template(&v, false))).collect(),
        ),
        Some((mime, text)) => match serde_json::from_str::<Value>(text) {
            Ok(doc) if mime.contains("json") || text.trim_start().starts_with(['{', '[']) => {
                Body::Json(template_json(doc, &mut template))
            }
            _ => Body::Raw { content_type: mime.clone(), text: template(text, false) },
        },
    };
    Step {
        name: String::new(),
        method: exchange.method.to_ascii_lowercase(),
        path,
        bearer,
        headers,
        body,
        captures: Vec::new(),
        think_before: None,
        status: exchange.status,
        login: has_credentials,
    }
}

/// Strings become templates where correlated; an integer that was correlated becomes its
/// template as a string (the scenario language sends templates as JSON strings).
fn template_json(value: Value, template: &mut impl FnMut(&str, bool) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(template(&s, false)),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            let text = n.to_string();
            let out = template(&text, true);
            if out == text {
                Value::Number(n)
            } else {
                Value::String(out)
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| template_json(v, template)).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, template_json(v, template))).collect()),
        other => other,
    }
}

/// `login` for the credentials step, else `METHOD /route/{id}`; repeats get ` (2)`, ` (3)`.
fn name_steps(steps: &mut [Step]) {
    let mut seen: Vec<String> = Vec::new();
    for step in steps.iter_mut() {
        let base = if step.login && !seen.iter().any(|s| s == "login") {
            "login".to_string()
        } else {
            let recorded = step.path.split('?').next().unwrap_or_default();
            // Templates in the path read as `{id}` in the name, like a route.
            let readable = recorded.replace("{{ ", "{").replace(" }}", "}");
            format!("{} {}", step.method.to_ascii_uppercase(), route::pattern(&readable))
        };
        let mut name = base.clone();
        let mut n = 2;
        while seen.contains(&name) {
            name = format!("{base} ({n})");
            n += 1;
        }
        seen.push(name.clone());
        step.name = name;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A recorded exchange at `t0 + index` seconds (set `started` to move it).
    pub(crate) fn exchange(
        method: &str,
        url: &str,
        body: Option<(&str, &str)>,
        status: u16,
        response_headers: &[(&str, &str)],
        response_body: &str,
    ) -> Exchange {
        Exchange {
            started: chrono::DateTime::parse_from_rfc3339("2026-09-07T07:55:00+02:00").unwrap(),
            elapsed_ms: 20.0,
            method: method.into(),
            url: url::Url::parse(url).unwrap(),
            request_headers: Vec::new(),
            body: body.map(|(m, t)| (m.into(), t.into())),
            status,
            response_headers: response_headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            response_body: Some(response_body.into()).filter(|b: &String| !b.is_empty()),
            response_type: Some("application/json".into()),
            resource_type: Some("xhr".into()),
        }
    }

    fn at(mut e: Exchange, ms: i64) -> Exchange {
        e.started += chrono::Duration::milliseconds(ms);
        e
    }

    fn header(mut e: Exchange, name: &str, value: &str) -> Exchange {
        e.request_headers.push((name.into(), value.into()));
        e
    }

    #[test]
    fn rotating_values_echoes_and_short_values() {
        let html = |csrf: &str| format!(r#"<form><input type="hidden" name="csrf" value="{csrf}"></form>"#);
        let mut page1 = exchange("GET", "https://ent/messages/new", None, 200, &[], &html("aaaa1111bbbb"));
        page1.response_type = Some("text/html".into());
        let mut page2 = exchange("GET", "https://ent/messages/new", None, 200, &[], &html("cccc2222dddd"));
        page2.response_type = Some("text/html".into());
        let all = vec![
            // The search term is the client's: echoed back, it must stay a literal.
            at(
                exchange(
                    "GET",
                    "https://ent/search?q=photosynthese",
                    None,
                    200,
                    &[],
                    r#"{"q":"photosynthese","page":1}"#,
                ),
                0,
            ),
            at(page1, 1000),
            at(
                exchange(
                    "POST",
                    "https://ent/messages",
                    Some(("application/x-www-form-urlencoded", "csrf=aaaa1111bbbb&to=12&q=photosynthese")),
                    302,
                    &[],
                    "",
                ),
                2000,
            ),
            at(page2, 3000),
            at(
                header(
                    exchange(
                        "POST",
                        "https://ent/messages",
                        Some(("application/json", r#"{"csrf":"cccc2222dddd","page":1}"#)),
                        302,
                        &[("X-Next", "n-77")],
                        "",
                    ),
                    "X-Csrf",
                    "cccc2222dddd",
                ),
                4000,
            ),
        ];
        let steps = build(&all, &[0, 1, 2, 3, 4], &Credentials::default());
        assert_eq!(steps[1].captures, [("csrf".to_string(), "input.csrf".to_string())]);
        assert_eq!(
            steps[3].captures,
            [("csrf_2".to_string(), "input.csrf".to_string())],
            "a rotated token is captured again"
        );
        let Body::Form(form) = &steps[2].body else { panic!("{:?}", steps[2].body) };
        assert_eq!(
            form,
            &[("csrf".into(), "{{ csrf }}".into()), ("to".into(), "12".into()), ("q".into(), "photosynthese".into())]
        );
        let Body::Json(json) = &steps[4].body else { panic!() };
        assert_eq!(json, &serde_json::json!({ "csrf": "{{ csrf_2 }}", "page": 1 }), "`1` is too short to correlate");
        assert_eq!(steps[4].headers, [("X-Csrf".to_string(), "{{ csrf_2 }}".to_string())]);
        assert!(steps[0].captures.is_empty(), "an echo of the client's own value is not a capture");
        // Pauses: every step here starts more than 100 ms after the previous one ended.
        assert_eq!(steps[1].think_before, Some(Duration::from_millis(980)));
    }

    #[test]
    fn credentials_and_browser_headers() {
        let login = header(
            header(
                exchange(
                    "POST",
                    "https://ent/api/login",
                    Some(("application/json", r#"{"login":"eleve.1","pwd":"s3cret!"}"#)),
                    200,
                    &[],
                    r#"{"token":"t0k3n-abcdefgh","user":"eleve.1"}"#,
                ),
                "Cookie",
                "lang=fr",
            ),
            ":authority",
            "ent",
        );
        let next = [
            ("Authorization", "Bearer t0k3n-abcdefgh"),
            ("User-Agent", "Mozilla"),
            ("Sec-Fetch-Mode", "cors"),
            ("X-Client", "web"),
        ]
        .iter()
        .fold(at(exchange("GET", "https://ent/users/eleve.1/agenda", None, 200, &[], ""), 50), |e, (k, v)| {
            header(e, k, v)
        });
        let all = vec![login, next];
        let refs: Vec<&Exchange> = all.iter().collect();
        let credentials = credentials(&refs);
        assert_eq!((credentials.user.as_deref(), credentials.password.as_deref()), (Some("eleve.1"), Some("s3cret!")));
        let steps = build(&all, &[0, 1], &credentials);
        let Body::Json(json) = &steps[0].body else { panic!() };
        assert_eq!(json, &serde_json::json!({ "login": "{{ user.id }}", "pwd": "{{ user.password }}" }));
        assert!(steps[0].login && steps[0].name == "login" && steps[0].headers.is_empty());
        assert_eq!(
            steps[0].captures,
            [("token".to_string(), "json.token".to_string())],
            "the echoed user is not a capture"
        );
        assert_eq!(steps[1].path, "/users/{{ user.id }}/agenda");
        assert_eq!(steps[1].bearer.as_deref(), Some("{{ token }}"));
        assert_eq!(steps[1].headers, [("X-Client".to_string(), "web".to_string())]);
        assert_eq!(steps[1].think_before, None, "30 ms after the login ended: the same page load");
        assert_eq!(steps[1].name, "GET /users/{user.id}/agenda");
    }
}
