//! The named `<input>` fields of an HTML page: what a browser would submit with a form.
//!
//! A CSRF token usually reaches the browser as `<input type="hidden" name="csrf" value="…">`
//! and goes back in the form post; the `input.<name>` capture and `schoolday import har`'s
//! correlation both read it from here. The page is parsed by `tl` (tolerant of the broken
//! markup real pages have), and the five entities HTML escapes attribute values with are
//! decoded, so the value is what the browser would send.

/// Every `<input name=… value=…>` of `html` in page order, `(name, value)`; an input without a
/// `value` has the empty value, as a browser submits it.
pub fn inputs(html: &str) -> Vec<(String, String)> {
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for node in dom.nodes() {
        let Some(tag) = node.as_tag() else { continue };
        if !tag.name().as_bytes().eq_ignore_ascii_case(b"input") {
            continue;
        }
        // Attribute names are case-insensitive in HTML.
        let text = |key: &str| {
            tag.attributes()
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .and_then(|(_, v)| v)
                .map(|v| unescape(&v))
        };
        if let Some(name) = text("name").filter(|n| !n.is_empty()) {
            out.push((name, text("value").unwrap_or_default()));
        }
    }
    out
}

/// The value of the first input named `name`, if the page has one.
pub fn input(html: &str, name: &str) -> Option<String> {
    inputs(html).into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;` / `&#x27;`; other text is kept as is.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>'), ("&quot;", '"'), ("&#39;", '\''), ("&#x27;", '\'')]
            .into_iter()
            .find(|(e, _)| rest.starts_with(e));
        match entity {
            Some((e, c)) => {
                out.push(c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hidden_fields_in_real_looking_markup() {
        let page = r#"<!DOCTYPE html><html><body><form method=post action="/homework/submit">
            <input type="hidden" name="csrf_token" value="a1B2&amp;c3">
            <INPUT NAME=title value='Devoir 4'><input name="empty"><input value="no name">
            <p>unclosed <b>markup</form></body>"#;
        assert_eq!(
            inputs(page),
            [
                ("csrf_token".into(), "a1B2&c3".into()),
                ("title".into(), "Devoir 4".into()),
                ("empty".into(), String::new())
            ]
        );
        assert_eq!(input(page, "csrf_token").as_deref(), Some("a1B2&c3"));
        assert_eq!(input(page, "missing"), None);
        assert_eq!(input("not html at all", "x"), None);
    }
}
