//! "Did you mean `population`?": the nearest known name to a misspelt one.
//!
//! Used for fields, variants (shapes, spacing, connection modes), template variables and CSV
//! columns. A suggestion that is wrong is worse than none, so the bar is tight: an edit
//! distance of at most 2 (1 for short names), or the typed text being a clear prefix.

/// The known name closest to `typed`, if it is close enough to be a likely typo.
pub fn closest<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let typed_lower = typed.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in known {
        let lower = candidate.to_lowercase();
        let distance = edit_distance(&typed_lower, &lower);
        let limit = if lower.chars().count() <= 4 { 1 } else { 2 };
        let is_prefix = typed_lower.chars().count() >= 3 && lower.starts_with(&typed_lower);
        let score = if distance <= limit {
            distance
        } else if is_prefix {
            // Ranked after real typos: `pop` is more likely `population` than nothing, but a
            // one-letter slip elsewhere is the better guess.
            limit + 1
        } else {
            continue;
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, name)| name)
}

/// "did you mean `x`?" when a close name exists.
pub fn did_you_mean<'a>(typed: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(typed, known).map(|name| format!("did you mean `{name}`?"))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Quote alternatives for a message: "`a`, `b` or `c`".
pub fn one_of(names: &[&str]) -> String {
    listed(names, "or")
}

/// Quote a set for a message: "`a`, `b` and `c`".
pub fn all_of(names: &[&str]) -> String {
    listed(names, "and")
}

fn listed(names: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["population", "users", "arrival", "think", "journey"];

    #[test]
    fn typos_and_prefixes() {
        assert_eq!(closest("populaton", FIELDS.iter().copied()), Some("population"));
        assert_eq!(closest("Population", FIELDS.iter().copied()), Some("population"));
        assert_eq!(closest("journy", FIELDS.iter().copied()), Some("journey"));
        assert_eq!(closest("pop", FIELDS.iter().copied()), Some("population"));
        assert_eq!(closest("arrivals", FIELDS.iter().copied()), Some("arrival"));
        assert_eq!(closest("user", FIELDS.iter().copied()), Some("users"));
    }

    #[test]
    fn nothing_when_far() {
        assert_eq!(closest("retry", FIELDS.iter().copied()), None);
        assert_eq!(closest("", FIELDS.iter().copied()), None);
        assert_eq!(closest("xy", ["ab"]), None);
        assert_eq!(closest("anything", std::iter::empty()), None);
    }

    #[test]
    fn lists() {
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(all_of(&["a", "b"]), "`a` and `b`");
    }
}
