//! Turning a request step into an HTTP request for one user, and a response back into
//! stored cookies, captured values and a verdict (the step's check).

use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, SET_COOKIE};

use super::user::User;
use crate::http::{Body as RequestBody, Outgoing, Received};
use crate::metrics::ErrorKind;
use crate::scenario::template::{Context, MissingVar};
use crate::scenario::{Body, CaptureSource, JsonKey, RequestSpec, UserSource};

impl User<'_> {
    /// Build the HTTP request for `spec`. `timeout` is the attempt's timeout.
    pub(super) fn build(
        &self,
        r: usize,
        spec: &RequestSpec,
        timeout: std::time::Duration,
    ) -> Result<Outgoing, ErrorKind> {
        let missing = |_: MissingVar| ErrorKind::Capture;
        let url = match self.ctx.literal_url(self.persona_index, r) {
            Some(url) => url.clone(),
            None => self.url(spec)?,
        };
        let mut request = http::Request::new(RequestBody::default());
        *request.method_mut() = spec.method.clone();
        *request.uri_mut() = url;
        let mut value = String::new();
        let headers = request.headers_mut();
        for (name, template) in self.ctx.scenario.http.headers.iter().chain(&spec.headers) {
            value.clear();
            template.render(self, &mut value).map_err(missing)?;
            headers.insert(name.clone(), header_value(&value)?);
        }
        if let Some(bearer) = &spec.bearer {
            value.clear();
            value.push_str("Bearer ");
            bearer.render(self, &mut value).map_err(missing)?;
            headers.insert(AUTHORIZATION, header_value(&value)?);
        }
        if !self.cookies.is_empty() {
            value.clear();
            self.cookies.header_value(&mut value);
            headers.insert(COOKIE, header_value(&value)?);
        }
        let body = match &spec.body {
            Body::None => None,
            Body::Json(json) => {
                let (mut out, mut scratch) = (String::new(), String::new());
                json.render(self, &mut out, &mut scratch).map_err(missing)?;
                headers.entry(CONTENT_TYPE).or_insert(HeaderValue::from_static("application/json"));
                Some(out)
            }
            Body::Form(fields) => {
                let mut out = String::new();
                for (i, (key, template)) in fields.iter().enumerate() {
                    value.clear();
                    template.render(self, &mut value).map_err(missing)?;
                    if i > 0 {
                        out.push('&');
                    }
                    out.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
                    out.push('=');
                    out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
                }
                headers.entry(CONTENT_TYPE).or_insert(HeaderValue::from_static("application/x-www-form-urlencoded"));
                Some(out)
            }
            Body::Raw { content_type, template } => {
                let mut out = String::new();
                template.render(self, &mut out).map_err(missing)?;
                if let Some(content_type) = content_type {
                    headers.insert(CONTENT_TYPE, header_value(content_type)?);
                }
                Some(out)
            }
        };
        if let Some(body) = body {
            *request.body_mut() = RequestBody::from(body);
        }
        Ok(Outgoing { request, timeout })
    }

    /// The URL of `spec` for this user: rendered and parsed for paths with placeholders or a
    /// query (literal ones are parsed once per run, see `RunContext::literal_url`).
    fn url(&self, spec: &RequestSpec) -> Result<http::Uri, ErrorKind> {
        let missing = |_: MissingVar| ErrorKind::Capture;
        let mut text = String::with_capacity(64);
        text.push_str(&self.ctx.base_url);
        spec.path.render(self, &mut text).map_err(missing)?;
        let mut separator = if text.contains('?') { '&' } else { '?' };
        let mut value = String::new();
        for (key, template) in &spec.query {
            value.clear();
            template.render(self, &mut value).map_err(missing)?;
            text.push(separator);
            separator = '&';
            text.extend(url::form_urlencoded::byte_serialize(key.as_bytes()));
            text.push('=');
            text.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
        to_uri(&text)
    }

    /// Keep the cookies a response sets, whatever its status (a waiting room's ticket comes
    /// with a 503).
    pub(super) fn store_cookies(&mut self, received: &Received) {
        for set_cookie in received.headers.get_all(SET_COOKIE) {
            if let Ok(text) = set_cookie.to_str() {
                self.cookies.store(text);
            }
        }
    }

    /// Run the check and the captures. The first failure decides the kind.
    pub(super) fn accept(
        &mut self,
        spec: &RequestSpec,
        received: &Received,
        body: Option<&[u8]>,
    ) -> Result<(), ErrorKind> {
        let status = received.status;
        if !spec.check.status_ok(status) {
            return Err(match status {
                400..=499 => ErrorKind::Status4xx,
                500..=599 => ErrorKind::Status5xx,
                _ => ErrorKind::Check,
            });
        }
        if let Some(needle) = &spec.check.body_contains {
            let found = body.is_some_and(|b| contains(b, needle.as_bytes()));
            if !found {
                return Err(ErrorKind::Check);
            }
        }
        let mut json: Option<serde_json::Value> = None;
        for capture in &spec.captures {
            let value: Option<Box<str>> = match &capture.source {
                CaptureSource::Header(name) => received.headers.get(name).and_then(|v| v.to_str().ok()).map(Into::into),
                CaptureSource::Cookie(name) => self.cookies.get(name).map(Into::into),
                CaptureSource::Input(name) => body
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .and_then(|html| crate::http::html::input(html, name))
                    .map(Into::into),
                CaptureSource::Json(path) => {
                    if json.is_none() {
                        json = body.and_then(|b| serde_json::from_slice(b).ok());
                    }
                    json.as_ref().and_then(|doc| json_at(doc, path)).map(|v| match v {
                        serde_json::Value::String(s) => s.as_str().into(),
                        other => other.to_string().into(),
                    })
                }
            };
            match value {
                Some(value) => self.vars[capture.var] = Some(value),
                None => return Err(ErrorKind::Capture),
            }
        }
        Ok(())
    }
}

impl Context for User<'_> {
    fn write_user_id(&self, out: &mut String) {
        if let UserSource::Csv { columns, rows, .. } = &self.persona.users {
            if let Some(id) = columns.iter().position(|c| c == "id") {
                if let Some(row) = rows.get(self.index as usize) {
                    out.push_str(&row[id]);
                    return;
                }
            }
        }
        use std::fmt::Write as _;
        let _ = write!(out, "{}-{:06}", self.persona.name, self.index as u64 + 1);
    }

    fn user_index(&self) -> u64 {
        self.index as u64 + 1
    }

    fn column(&self, index: usize) -> &str {
        match &self.persona.users {
            UserSource::Csv { rows, .. } => rows
                .get(self.index as usize % rows.len().max(1))
                .and_then(|row| row.get(index))
                .map(String::as_str)
                .unwrap_or(""),
            UserSource::Generated => "",
        }
    }

    fn var(&self, index: usize) -> Option<&str> {
        self.vars.get(index).and_then(|v| v.as_deref())
    }

    fn iteration(&self) -> u32 {
        self.loops.last().map(|(_, _, i)| *i).unwrap_or(1)
    }
}

/// Parse as a browser would (percent-encoding what a rendered path may hold, such as spaces),
/// then hand hyper its URI type.
pub(super) fn to_uri(text: &str) -> Result<http::Uri, ErrorKind> {
    let url = url::Url::parse(text).map_err(|_| ErrorKind::Other)?;
    http::Uri::try_from(url.as_str()).map_err(|_| ErrorKind::Other)
}

fn header_value(text: &str) -> Result<HeaderValue, ErrorKind> {
    HeaderValue::from_str(text).map_err(|_| ErrorKind::Other)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn json_at<'v>(doc: &'v serde_json::Value, path: &[JsonKey]) -> Option<&'v serde_json::Value> {
    path.iter().try_fold(doc, |v, key| match key {
        JsonKey::Field(name) => v.get(name.as_str()),
        JsonKey::Index(i) => v.get(*i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_walk_objects_and_arrays() {
        let doc: serde_json::Value = serde_json::json!({"data": {"items": [{"id": 7}, {"id": "x"}]}, "token": "t"});
        let path = [
            JsonKey::Field("data".into()),
            JsonKey::Field("items".into()),
            JsonKey::Index(1),
            JsonKey::Field("id".into()),
        ];
        assert_eq!(json_at(&doc, &path), Some(&serde_json::json!("x")));
        assert_eq!(json_at(&doc, &[JsonKey::Field("nope".into())]), None);
        assert!(contains(b"hello token world", b"token"));
        assert!(!contains(b"hello", b"token"));
    }
}
