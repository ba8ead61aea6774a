//! What a client presents: login credentials in a body, a session token in headers.
//!
//! Scenarios log in the way real ENT clients do, with a JSON API call or a submitted HTML
//! form, and carry the session either as the cookie a browser would replay or as a bearer
//! token a mobile app would send. Both are accepted; anything malformed is a 400, not a crash.

use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE as COOKIE_HEADER};
use http::HeaderMap;
use serde::Deserialize;

/// Name of the session cookie set by `POST /login`.
pub(crate) const COOKIE: &str = "ENTSESSION";

/// Longest user name accepted, so that a session stays small whatever a client sends.
const MAX_USER_LEN: usize = 128;

/// Why a login body was refused with 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadLogin {
    #[error("the body is neither JSON nor a form")]
    Malformed,
    #[error("missing field `user`")]
    MissingUser,
    #[error("`user` is longer than 128 characters")]
    UserTooLong,
}

/// A login attempt. The demo accepts any password: the cost of checking it is what matters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

#[derive(Deserialize)]
struct JsonLogin {
    user: Option<String>,
    password: Option<String>,
}

impl Credentials {
    /// Reads `user=..&password=..` when the content type says form, JSON otherwise (an API
    /// client that forgets its content type is still understood).
    pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Credentials, BadLogin> {
        let is_form = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let (user, password) = if is_form {
            from_form(body)
        } else {
            let login: JsonLogin = serde_json::from_slice(body).map_err(|_| BadLogin::Malformed)?;
            (login.user, login.password)
        };
        let user = user.filter(|u| !u.trim().is_empty()).ok_or(BadLogin::MissingUser)?;
        if user.chars().count() > MAX_USER_LEN {
            return Err(BadLogin::UserTooLong);
        }
        Ok(Credentials { user, password: password.unwrap_or_default() })
    }
}

fn from_form(body: &[u8]) -> (Option<String>, Option<String>) {
    let (mut user, mut password) = (None, None);
    for (key, value) in url::form_urlencoded::parse(body) {
        match key.as_ref() {
            "user" => user = Some(value.into_owned()),
            "password" => password = Some(value.into_owned()),
            _ => {}
        }
    }
    (user, password)
}

/// The session tokens a request carries: a bearer token first, then `ENTSESSION` cookies.
/// Several are possible (a stale cookie next to a fresh bearer); the caller keeps the first
/// that names a live session.
pub(crate) fn presented_tokens(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    let bearer = headers.get_all(AUTHORIZATION).iter().filter_map(|v| v.to_str().ok()).filter_map(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let cookies =
        headers.get_all(COOKIE_HEADER).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).filter_map(
            |pair| {
                let (name, value) = pair.trim().split_once('=')?;
                (name == COOKIE).then_some(value)
            },
        );
    bearer.chain(cookies).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(http::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn json_and_form_logins() {
        let json = Credentials::parse(&HeaderMap::new(), br#"{"user":"eleve.1","password":"x"}"#);
        assert_eq!(json.map(|c| c.user), Ok("eleve.1".to_owned()));
        let form = headers(&[(CONTENT_TYPE, "application/x-www-form-urlencoded")]);
        let parsed = Credentials::parse(&form, b"user=parent%2E2&password=secret");
        assert_eq!(parsed, Ok(Credentials { user: "parent.2".to_owned(), password: "secret".to_owned() }));
    }

    #[test]
    fn bad_logins_are_refused_not_crashed() {
        let none = HeaderMap::new();
        assert_eq!(Credentials::parse(&none, b"{"), Err(BadLogin::Malformed));
        assert_eq!(Credentials::parse(&none, b""), Err(BadLogin::Malformed));
        assert_eq!(Credentials::parse(&none, br#"{"user":3}"#), Err(BadLogin::Malformed));
        assert_eq!(Credentials::parse(&none, br#"{"password":"x"}"#), Err(BadLogin::MissingUser));
        assert_eq!(Credentials::parse(&none, br#"{"user":" "}"#), Err(BadLogin::MissingUser));
        let long = format!(r#"{{"user":"{}"}}"#, "a".repeat(129));
        assert_eq!(Credentials::parse(&none, long.as_bytes()), Err(BadLogin::UserTooLong));
        let form = headers(&[(CONTENT_TYPE, "application/x-www-form-urlencoded")]);
        assert_eq!(Credentials::parse(&form, b"password=x"), Err(BadLogin::MissingUser));
    }

    #[test]
    fn tokens_from_bearer_then_cookie() {
        let map = headers(&[(COOKIE_HEADER, "lang=fr; ENTSESSION=abc; theme=dark"), (AUTHORIZATION, "Bearer def")]);
        assert_eq!(presented_tokens(&map).collect::<Vec<_>>(), ["def", "abc"]);
        let map = headers(&[(AUTHORIZATION, "Basic Zm9vOmJhcg=="), (COOKIE_HEADER, "ENTSESSION=")]);
        assert_eq!(presented_tokens(&map).count(), 0);
    }
}
