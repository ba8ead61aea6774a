//! From a YAML path (`personas.pupil.journey[2].get`) back to a line and column.
//!
//! Serde tells us where *its* errors are, but most mistakes are found after deserialisation
//! (a goal missing, a duration that does not parse), when positions are gone. So we read the
//! same text a second time with `saphyr-parser`, which reports a position for every event,
//! and record where each path's key and value start. Paths use serde_yaml's spelling so that
//! both kinds of error read the same.
//!
//! If the text does not parse here (the two parsers disagree on a corner of YAML), the index
//! is simply incomplete: errors then lose their position, never their message.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// Where a path's key (for mapping entries) and value start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spot {
    pub key: Option<Pos>,
    pub value: Pos,
}

/// Index of every path in a document.
#[derive(Debug, Default)]
pub struct Locator {
    spots: HashMap<String, Spot>,
    /// Mapping keys written twice: (path, first key, second key). YAML forbids them, but
    /// deserialising into a map keeps the last one silently, which would drop a persona.
    duplicates: Vec<(String, Pos, Pos)>,
}

/// What a container on the walk's stack is waiting for.
enum Frame {
    /// A sequence; `next` is the index of its next item.
    Seq { path: String, next: usize },
    /// A mapping: either expecting a key, or holding the key whose value comes next.
    Map { path: String, pending_key: Option<(String, Pos)> },
}

impl Locator {
    pub fn new(text: &str) -> Self {
        let mut locator = Locator::default();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let pos = Pos { line: span.start.line(), column: span.start.col() + 1 };
            match event {
                Event::Scalar(value, ..) => {
                    // A scalar is either a mapping key or a value at the current path.
                    if let Some(Frame::Map { pending_key: pending @ None, .. }) = stack.last_mut() {
                        *pending = Some((value.into_owned(), pos));
                    } else {
                        locator.enter(&mut stack, pos);
                    }
                }
                Event::Alias(_) => {
                    locator.enter(&mut stack, pos);
                }
                Event::SequenceStart(..) => {
                    let path = locator.enter(&mut stack, pos).unwrap_or_default();
                    stack.push(Frame::Seq { path, next: 0 });
                }
                Event::MappingStart(..) => {
                    // A mapping used as a key (`? {a: 1}: x`) is valid YAML that no scenario
                    // needs; its inside is indexed under an unreachable path.
                    let path = locator.enter(&mut stack, pos).unwrap_or_else(|| "?".to_string());
                    stack.push(Frame::Map { path, pending_key: None });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        locator
    }

    /// Record a value starting at `pos` under the current container and return its path.
    fn enter(&mut self, stack: &mut [Frame], pos: Pos) -> Option<String> {
        let (path, key) = match stack.last_mut() {
            None => (String::new(), None),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                (p, None)
            }
            Some(Frame::Map { path, pending_key }) => {
                let (key, key_pos) = pending_key.take()?;
                let path = join(path, &key);
                if let Some(Spot { key: Some(first), .. }) = self.spots.get(&path) {
                    self.duplicates.push((path.clone(), *first, key_pos));
                }
                (path, Some(key_pos))
            }
        };
        self.spots.insert(path.clone(), Spot { key, value: pos });
        Some(path)
    }

    /// The spot of `path`, or of its nearest ancestor that exists (a missing field is reported
    /// where its mapping is).
    pub fn find(&self, path: &str) -> Option<Spot> {
        let mut path = path;
        loop {
            if let Some(spot) = self.spots.get(path) {
                return Some(*spot);
            }
            path = parent(path)?;
        }
    }

    /// The first key written twice in one mapping, if any.
    pub fn first_duplicate(&self) -> Option<&(String, Pos, Pos)> {
        self.duplicates.first()
    }

    /// Whether `path` itself is in the document.
    #[cfg(test)]
    pub fn contains(&self, path: &str) -> bool {
        self.spots.contains_key(path)
    }
}

/// `parent.key`, or `key` at the root.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → the root (``).
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name: x\npersonas:\n  pupil:\n    journey:\n      - get: /a\n      - { post: /b, json: { k: [1, 2] } }\n";

    fn at(locator: &Locator, path: &str) -> (Option<(usize, usize)>, (usize, usize)) {
        let spot = locator.find(path).unwrap();
        (spot.key.map(|k| (k.line, k.column)), (spot.value.line, spot.value.column))
    }

    #[test]
    fn keys_values_and_items() {
        let l = Locator::new(DOC);
        assert_eq!(at(&l, "name"), (Some((1, 1)), (1, 7)));
        assert_eq!(at(&l, "personas.pupil"), (Some((3, 3)), (4, 5)));
        assert_eq!(at(&l, "personas.pupil.journey[0]"), (None, (5, 9)));
        assert_eq!(at(&l, "personas.pupil.journey[0].get"), (Some((5, 9)), (5, 14)));
        assert_eq!(at(&l, "personas.pupil.journey[1].post"), (Some((6, 11)), (6, 17)));
        assert_eq!(at(&l, "personas.pupil.journey[1].json.k[1]"), (None, (6, 36)));
    }

    #[test]
    fn missing_paths_fall_back_to_the_nearest_ancestor() {
        let l = Locator::new(DOC);
        assert_eq!(at(&l, "personas.pupil.arrival"), (Some((3, 3)), (4, 5)));
        assert!(!l.contains("personas.pupil.arrival"));
        assert_eq!(parent("a.b[2]"), Some("a.b"));
        assert_eq!(parent("a"), Some(""));
    }

    #[test]
    fn duplicate_keys_are_noticed() {
        let l = Locator::new("personas:\n  pupil: 1\n  parent: 2\n  pupil: 3\n");
        let (path, first, second) = l.first_duplicate().unwrap();
        assert_eq!((path.as_str(), first.line, second.line), ("personas.pupil", 2, 4));
        assert!(Locator::new(DOC).first_duplicate().is_none());
    }

    #[test]
    fn broken_yaml_gives_a_partial_index_not_a_panic() {
        let l = Locator::new("a: 1\nb: [\n");
        assert!(l.contains("a"));
        let _ = Locator::new("\t- x");
        let _ = Locator::new("");
        let _ = Locator::new("- - - [");
    }
}
