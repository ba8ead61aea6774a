//! One escaper for everything schoolday writes as markup: report.html, compare.html,
//! capacity.html and junit.xml. It escapes the five characters HTML and XML reserve (`'` as
//! `&#39;`, which both read) and drops the control characters XML 1.0 forbids, so a scenario
//! name or an error message can never break a page or a CI parser.

/// `text` made safe inside an HTML or XML element or a quoted attribute.
pub fn markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::markup;

    #[test]
    fn escapes_what_html_and_xml_reserve() {
        assert_eq!(markup(r#"p95 < 2s & "x" > 'y'"#), "p95 &lt; 2s &amp; &quot;x&quot; &gt; &#39;y&#39;");
    }

    #[test]
    fn drops_control_characters_xml_forbids_but_keeps_whitespace() {
        assert_eq!(markup("a\u{1}b\tc\nd"), "ab\tc\nd");
    }
}
