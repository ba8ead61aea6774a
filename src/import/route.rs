//! Route patterns: `/files/8812` and `/files/8813` are one route, `/files/{id}`.
//!
//! Access logs and recordings name resources by id; a rehearsal's journeys and route mix are
//! about routes. A path segment is collapsed when it is a number (`{id}`), a UUID (`{uuid}`),
//! a hexadecimal hash of 8 or more digits (`{hash}`), or a long mix of letters and digits
//! (`{token}`: session ids, signed names). Words stay, so `/homework/today` is kept apart
//! from `/homework/{id}`. The query string is dropped.

/// The pattern of `path` (a path, optionally with a query).
pub fn pattern(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    if path.is_empty() {
        return "/".into();
    }
    let segments: Vec<&str> = path.split('/').map(collapse).collect();
    segments.join("/")
}

fn collapse(segment: &str) -> &str {
    if segment.is_empty() {
        return segment;
    }
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    let alnum = segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if segment.chars().all(|c| c.is_ascii_digit()) {
        "{id}"
    } else if is_uuid(segment) {
        "{uuid}"
    } else if segment.len() >= 8 && digits > 0 && segment.chars().all(|c| c.is_ascii_hexdigit()) {
        "{hash}"
    } else if segment.len() >= 16 && alnum && digits >= 2 {
        "{token}"
    } else {
        segment
    }
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_hashes_collapse_words_stay() {
        let cases = [
            ("/files/8812", "/files/{id}"),
            ("/files/8812?download=1", "/files/{id}"),
            ("/homework/today", "/homework/today"),
            ("/classes/4e2/homework/4101", "/classes/4e2/homework/{id}"),
            ("/doc/3f2a9c1d0b7e", "/doc/{hash}"),
            ("/s/123e4567-e89b-12d3-a456-426614174000/view", "/s/{uuid}/view"),
            ("/dl/aZ3kQ9xLmN2pR7tVw", "/dl/{token}"),
            ("/static/app.min.js", "/static/app.min.js"),
            ("/", "/"),
            ("", "/"),
            ("/deadbeef", "/deadbeef"),
        ];
        for (path, expected) in cases {
            assert_eq!(pattern(path), expected, "{path}");
        }
    }
}
