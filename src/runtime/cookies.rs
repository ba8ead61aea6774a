//! A virtual user's cookie jar, as small as a browser's is for one site.
//!
//! A run talks to one target, so cookies are keyed by name only: domain and path scoping would
//! cost memory in every user and change nothing. Expiry is honoured in the one form that
//! matters for sessions: a `Max-Age` of zero or less, or an `Expires` in the past (used to
//! delete a cookie on logout), in any of HTTP's three date forms or the Netscape cookie form
//! with dashes (`Thu, 01-Jan-1970 00:00:01 GMT`, what PHP sends).

use std::time::SystemTime;

#[derive(Debug, Default, Clone)]
pub struct CookieJar {
    cookies: Vec<(Box<str>, Box<str>)>,
}

impl CookieJar {
    /// Apply one `Set-Cookie` header value.
    pub fn store(&mut self, set_cookie: &str) {
        let mut attrs = set_cookie.split(';');
        let Some((name, value)) = attrs.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        if name.is_empty() {
            return;
        }
        let expired = attrs.any(|attr| {
            let (key, val) = attr.split_once('=').unwrap_or((attr, ""));
            let (key, val) = (key.trim(), val.trim());
            if key.eq_ignore_ascii_case("max-age") {
                val.parse::<i64>().map(|secs| secs <= 0).unwrap_or(false)
            } else if key.eq_ignore_ascii_case("expires") {
                httpdate_in_past(val)
            } else {
                false
            }
        });
        self.cookies.retain(|(n, _)| &**n != name);
        if !expired {
            self.cookies.push((name.into(), value.into()));
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find(|(n, _)| &**n == name).map(|(_, v)| &**v)
    }

    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The `Cookie` request header value (`a=1; b=2`).
    pub fn header_value(&self, out: &mut String) {
        for (i, (name, value)) in self.cookies.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
    }

    /// Forget every cookie (a dropped session).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }
}

fn httpdate_in_past(value: &str) -> bool {
    let parsed = crate::http::parse_http_date(value)
        // The Netscape form is IMF-fixdate with dashes in the date.
        .or_else(|| crate::http::parse_http_date(&value.replacen('-', " ", 2)))
        .or_else(|| humantime::parse_rfc3339_weak(value).ok());
    match parsed {
        Some(when) => when <= SystemTime::now(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_replaces_and_renders() {
        let mut jar = CookieJar::default();
        jar.store("ENTSESSION=abc; Path=/; HttpOnly");
        jar.store("lang=fr");
        jar.store("ENTSESSION=def; Path=/");
        assert_eq!(jar.get("ENTSESSION"), Some("def"));
        let mut out = String::new();
        jar.header_value(&mut out);
        assert_eq!(out, "lang=fr; ENTSESSION=def");
    }

    #[test]
    fn expiry_deletes() {
        let mut jar = CookieJar::default();
        jar.store("ENTSESSION=abc");
        jar.store("ENTSESSION=; Max-Age=0");
        assert_eq!(jar.get("ENTSESSION"), None);
        jar.store("a=1");
        jar.store("a=deleted; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        assert!(jar.is_empty());
        jar.store("b=2; Expires=Fri, 01 Jan 2100 00:00:00 GMT");
        assert_eq!(jar.get("b"), Some("2"));
        // The two obsolete HTTP-date forms servers still send: RFC 850 (dashes) and asctime.
        jar.store("b=; Expires=Thursday, 01-Jan-70 00:00:01 GMT");
        assert_eq!(jar.get("b"), None, "a dashed Expires in the past deletes the cookie");
        jar.store("c=3");
        jar.store("c=; Expires=Thu Jan  1 00:00:01 1970");
        assert_eq!(jar.get("c"), None, "an asctime Expires in the past deletes the cookie");
        jar.store("d=4");
        jar.store("d=deleted; Expires=Thu, 01-Jan-1970 00:00:01 GMT");
        assert_eq!(jar.get("d"), None, "the Netscape form with dashes (PHP's) deletes the cookie");
        jar.store("e=5; Expires=Fri, 01-Jan-2100 00:00:00 GMT");
        assert_eq!(jar.get("e"), Some("5"), "a dashed date in the future keeps it");
    }

    #[test]
    fn garbage_is_ignored() {
        let mut jar = CookieJar::default();
        jar.store("no equals sign");
        jar.store("=value");
        jar.store("");
        assert!(jar.is_empty());
    }
}
