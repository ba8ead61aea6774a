//! What the HTTP client says about a run, in sentences both the terminal and the HTML
//! summary print: certificates left unchecked, the HTTP versions the steps used, and why
//! requests failed in words (the error table only counts kinds).

use crate::analysis::Summary;
use crate::format::count;

/// The warning when `tls.insecure` was on.
pub fn insecure_warning(s: &Summary) -> Option<&'static str> {
    s.http.tls_insecure.then_some(
        "TLS certificates were NOT checked (tls.insecure: true): the handshakes were real, the trust was not",
    )
}

/// `HTTP versions: HTTP/2` when every step agrees, else each step's.
pub fn versions(s: &Summary) -> Option<String> {
    let used: Vec<(String, String)> = s
        .steps
        .iter()
        .filter(|st| !st.http_versions.is_empty())
        .map(|st| (format!("{}/{}", st.persona, st.name), st.http_versions.join(" + ")))
        .collect();
    let first = &used.first()?.1;
    if used.iter().all(|(_, v)| v == first) {
        return Some(format!("HTTP versions: {first} (every step)"));
    }
    let each: Vec<String> = used.iter().map(|(step, v)| format!("{step} {v}")).collect();
    Some(format!("HTTP versions: {}", each.join(", ")))
}

/// One line per distinct failure reason: `tls ×60: 127.0.0.1:8080 does not speak TLS…`.
pub fn failures(s: &Summary) -> Vec<String> {
    let mut lines: Vec<String> =
        s.http.failures.iter().map(|n| format!("{} ×{}: {}", n.kind.name(), count(n.count), n.message)).collect();
    if s.http.other_failures > 0 {
        lines.push(format!("and {} failures for other reasons", count(s.http.other_failures)));
    }
    lines
}
