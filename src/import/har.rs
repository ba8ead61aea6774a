//! Reading a HAR 1.2 file (what a browser's developer tools export) into [`Exchange`]s: one
//! request and its response each, in the order the page made them, with times and decoded
//! bodies.
//!
//! Only the fields an import needs are read; HAR files carry many more (timings, caches,
//! initiators) and every browser adds its own `_`-prefixed ones, so unknown fields are
//! ignored here (unlike a scenario, where an unknown key is a typo). A file that is not JSON
//! or lacks a required field is reported with its line and column.

use std::path::Path;

use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use crate::import::ImportError;

#[derive(Deserialize)]
struct Har {
    log: Log,
}

#[derive(Deserialize)]
struct Log {
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    started_date_time: String,
    /// Total elapsed time of the request in milliseconds (-1 or absent when unknown).
    #[serde(default)]
    time: f64,
    request: Request,
    response: Response,
    /// Chrome's classification: document, xhr, fetch, script, stylesheet, image, font, …
    #[serde(rename = "_resourceType")]
    resource_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<NameValue>,
    post_data: Option<PostData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostData {
    #[serde(default)]
    mime_type: String,
    text: Option<String>,
    #[serde(default)]
    params: Vec<NameValue>,
}

#[derive(Deserialize)]
struct Response {
    status: u16,
    #[serde(default)]
    headers: Vec<NameValue>,
    content: Option<Content>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    mime_type: Option<String>,
    text: Option<String>,
    encoding: Option<String>,
}

#[derive(Deserialize, Clone)]
struct NameValue {
    name: String,
    value: String,
}

/// One request the page made and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// When the request started.
    pub started: DateTime<FixedOffset>,
    /// Milliseconds from start to the end of the response (0 when the HAR does not say).
    pub elapsed_ms: f64,
    pub method: String,
    pub url: url::Url,
    pub request_headers: Vec<(String, String)>,
    /// The request body and its content type.
    pub body: Option<(String, String)>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    /// The response body as text (base64 bodies decoded; binary ones left out).
    pub response_body: Option<String>,
    pub response_type: Option<String>,
    pub resource_type: Option<String>,
}

impl Exchange {
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// When the response ended.
    pub fn ended(&self) -> DateTime<FixedOffset> {
        self.started + chrono::Duration::microseconds((self.elapsed_ms.max(0.0) * 1000.0) as i64)
    }
}

/// Reads `path` into its exchanges, sorted by start time (HAR files are usually in order,
/// but the format does not promise it).
pub fn read(path: &Path) -> Result<Vec<Exchange>, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<Vec<Exchange>, ImportError> {
    let har: Har = serde_json::from_str(text).map_err(|e| ImportError::At {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: format!("not a HAR file: {e}"),
        hint: "export it from the browser's developer tools: Network tab, “Save all as HAR with content”".into(),
    })?;
    let mut out = Vec::with_capacity(har.log.entries.len());
    for (i, entry) in har.log.entries.into_iter().enumerate() {
        let bad = |what: String| ImportError::Invalid {
            file: path.to_path_buf(),
            message: format!("log.entries[{i}]: {what}"),
        };
        let started = DateTime::parse_from_rfc3339(&entry.started_date_time).map_err(|e| {
            bad(format!("`startedDateTime` `{}` is not an ISO 8601 time: {e}", entry.started_date_time))
        })?;
        let url = url::Url::parse(&entry.request.url)
            .map_err(|e| bad(format!("`request.url` `{}` is not a URL: {e}", entry.request.url)))?;
        let body = entry.request.post_data.map(|post| {
            let text = post.text.unwrap_or_else(|| {
                // Some exporters give a form's fields only as `params`.
                post.params.iter().map(|p| format!("{}={}", p.name, p.value)).collect::<Vec<_>>().join("&")
            });
            (post.mime_type, text)
        });
        let (response_body, response_type) = match entry.response.content {
            Some(content) => (decode(content.text, content.encoding.as_deref()), content.mime_type),
            None => (None, None),
        };
        let pairs = |headers: Vec<NameValue>| headers.into_iter().map(|h| (h.name, h.value)).collect();
        out.push(Exchange {
            started,
            elapsed_ms: entry.time,
            method: entry.request.method.to_ascii_uppercase(),
            url,
            request_headers: pairs(entry.request.headers),
            body: body.filter(|(_, text)| !text.is_empty()),
            status: entry.response.status,
            response_headers: pairs(entry.response.headers),
            response_body,
            response_type,
            resource_type: entry.resource_type.map(|t| t.to_ascii_lowercase()),
        });
    }
    // A stable sort keeps the recorded order of requests that started in the same instant.
    out.sort_by_key(|e| e.started);
    Ok(out)
}

fn decode(text: Option<String>, encoding: Option<&str>) -> Option<String> {
    let text = text?;
    match encoding {
        Some("base64") => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
            String::from_utf8(bytes).ok()
        }
        _ => Some(text),
    }
}
