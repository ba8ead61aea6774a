//! One access-log line → a [`Record`]: Common and Combined Log Format (Apache, nginx) or a
//! JSON object per line with named fields.
//!
//! Lines are parsed with a regex and timestamps with chrono's format strings
//! (`10/Oct/2000:13:55:36 -0700`, RFC 3339, or epoch seconds in JSON), never by hand. A line
//! that does not parse is counted by the caller and skipped: one garbled line must not stop a
//! 5 GB import.

use chrono::{DateTime, FixedOffset, TimeZone as _};
use regex::Regex;
use serde_json::Value;

/// What an import needs from one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub time: DateTime<FixedOffset>,
    pub address: String,
    /// The authenticated user (CLF's third field), when logged.
    pub user: Option<String>,
    pub method: String,
    /// Path and query as requested.
    pub path: String,
    pub status: u16,
    pub user_agent: Option<String>,
    /// The `--client` field's value, when it names one.
    pub client: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Combined,
    Json,
}

/// A parser for one format, built once per import.
pub struct Parser {
    format: Format,
    clf: Regex,
    /// JSON field naming the client (`--client`); `user` in CLF means the authenticated user.
    client_field: Option<String>,
}

const CLF_TIME: &str = "%d/%b/%Y:%H:%M:%S %z";

impl Parser {
    pub fn new(format: Format, client_field: Option<String>) -> Parser {
        // host ident authuser [time] "request" status bytes ["referer" "user agent"]
        let clf = Regex::new(
            r#"^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+)(?: [^"]*)?" (\d{3}) \S+(?: "(?:[^"\\]|\\.)*" "((?:[^"\\]|\\.)*)")?"#,
        )
        .expect("the CLF pattern is a valid regex");
        Parser { format, clf, client_field }
    }

    /// The format a log is in, from its first non-empty line.
    pub fn guess(line: &str) -> Format {
        if line.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Combined
        }
    }

    pub fn parse(&self, line: &str) -> Option<Record> {
        match self.format {
            Format::Combined => self.combined(line),
            Format::Json => self.json(line),
        }
    }

    fn combined(&self, line: &str) -> Option<Record> {
        let caps = self.clf.captures(line)?;
        let user = Some(caps[2].to_string()).filter(|u| u != "-");
        let time = DateTime::parse_from_str(&caps[3], CLF_TIME).ok()?;
        let user_agent = caps.get(7).map(|m| m.as_str().to_string()).filter(|ua| !ua.is_empty() && ua != "-");
        let client = match self.client_field.as_deref() {
            Some("user") => user.clone(),
            _ => None,
        };
        Some(Record {
            time,
            address: caps[1].to_string(),
            user,
            method: caps[4].to_ascii_uppercase(),
            path: caps[5].to_string(),
            status: caps[6].parse().ok()?,
            user_agent,
            client,
        })
    }

    fn json(&self, line: &str) -> Option<Record> {
        let doc: Value = serde_json::from_str(line).ok()?;
        let text = |names: &[&str]| -> Option<String> {
            names.iter().find_map(|n| match doc.get(*n)? {
                Value::String(s) if !s.is_empty() && s != "-" => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let time = json_time(names_value(&doc, &["time", "timestamp", "@timestamp", "ts", "time_local", "date"])?)?;
        let (mut method, mut path) =
            (text(&["method", "request_method", "verb"]), text(&["path", "uri", "request_uri", "url"]));
        if method.is_none() || path.is_none() {
            // nginx's `$request`: "GET /agenda HTTP/1.1".
            let request = text(&["request"])?;
            let mut parts = request.split_whitespace();
            method = parts.next().map(str::to_string);
            path = parts.next().map(str::to_string);
        }
        let path = path?;
        // A full URL keeps only its path and query.
        let path = match url::Url::parse(&path) {
            Ok(url) if url.has_host() => url[url::Position::BeforePath..].to_string(),
            _ => path,
        };
        let client = self.client_field.as_deref().and_then(|f| text(&[f]));
        Some(Record {
            time,
            address: text(&["remote_addr", "client_ip", "ip", "remote_ip", "client", "host"]).unwrap_or_default(),
            user: text(&["user", "remote_user", "user_id", "userid"]),
            method: method?.to_ascii_uppercase(),
            path,
            status: text(&["status", "status_code", "response"])?.parse().ok()?,
            user_agent: text(&["user_agent", "http_user_agent", "ua", "agent"]),
            client,
        })
    }
}

fn names_value<'a>(doc: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| doc.get(*n))
}

/// RFC 3339, CLF's format, or epoch seconds (a number or a numeric string).
fn json_time(value: &Value) -> Option<DateTime<FixedOffset>> {
    let epoch = |secs: f64| {
        let utc = FixedOffset::east_opt(0)?;
        utc.timestamp_opt(secs.floor() as i64, ((secs.fract()) * 1e9) as u32).single()
    };
    match value {
        Value::Number(n) => epoch(n.as_f64()?),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .or_else(|_| DateTime::parse_from_str(s, CLF_TIME))
            .ok()
            .or_else(|| s.parse::<f64>().ok().and_then(epoch)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_combined_lines() {
        let parser = Parser::new(Format::Combined, None);
        let common = r#"10.1.2.3 - - [07/Sep/2020:07:55:12 +0200] "GET /files/8812 HTTP/1.1" 200 5120"#;
        let r = parser.parse(common).unwrap();
        assert_eq!(
            (r.address.as_str(), r.method.as_str(), r.path.as_str(), r.status),
            ("10.1.2.3", "GET", "/files/8812", 200)
        );
        assert_eq!(r.time.to_rfc3339(), "2020-09-07T07:55:12+02:00");
        assert_eq!((r.user, r.user_agent), (None, None));
        let combined = r#"10.1.2.3 - eleve.1 [07/Sep/2020:07:55:12 +0200] "POST /login HTTP/2.0" 302 - "https://ent/" "Mozilla/5.0 (X11; \"Linux\")""#;
        let r = Parser::new(Format::Combined, Some("user".into())).parse(combined).unwrap();
        assert_eq!(r.user.as_deref(), Some("eleve.1"));
        assert_eq!(r.client.as_deref(), Some("eleve.1"));
        assert_eq!(r.user_agent.as_deref(), Some(r#"Mozilla/5.0 (X11; \"Linux\")"#));
        assert_eq!(parser.parse("garbage"), None);
        assert_eq!(parser.parse(r#"1.2.3.4 - - [31/Foo/2020:07:55:12 +0200] "GET / HTTP/1.1" 200 1"#), None);
    }

    #[test]
    fn json_lines_with_named_fields() {
        let parser = Parser::new(Format::Json, Some("session".into()));
        let line = r#"{"time":"2020-09-07T07:55:12+02:00","remote_addr":"10.0.0.9","request":"GET /agenda?week=36 HTTP/1.1","status":200,"http_user_agent":"Firefox","session":"s-42"}"#;
        let r = parser.parse(line).unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.status), ("GET", "/agenda?week=36", 200));
        assert_eq!((r.client.as_deref(), r.user_agent.as_deref()), (Some("s-42"), Some("Firefox")));
        let epoch = r#"{"ts":1599458112,"ip":"10.0.0.9","method":"get","url":"https://ent.example.org/files/1?x=1","status":"404"}"#;
        let r = parser.parse(epoch).unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.status), ("GET", "/files/1?x=1", 404));
        assert_eq!(r.time.timestamp(), 1_599_458_112);
        assert_eq!(parser.parse(r#"{"time":"yesterday","path":"/"}"#), None);
        assert_eq!(Parser::guess(line), Format::Json);
        assert_eq!(Parser::guess("10.0.0.1 - -"), Format::Combined);
    }
}
