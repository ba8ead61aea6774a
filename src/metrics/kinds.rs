//! The vocabulary of what can happen to a request and to a user.

use serde::{Deserialize, Serialize};

/// Why a request did not succeed. Every failure is counted under exactly one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The TCP (or TLS) connection could not be established: refused, unreachable, DNS.
    Connect,
    /// No complete response within the request timeout.
    Timeout,
    /// The connection was reset or closed in the middle of the exchange.
    Reset,
    /// A 4xx status the step did not accept.
    Status4xx,
    /// A 5xx status the step did not accept.
    Status5xx,
    /// The response arrived but failed the step's check (unexpected status outside 4xx/5xx,
    /// or `body_contains` not found).
    Check,
    /// A capture found nothing to capture (e.g. no `token` in the JSON body).
    Capture,
    /// The response could not be read as HTTP or its body was malformed or truncated.
    Protocol,
    /// Anything else reported by the HTTP client (e.g. a URL the template rendered badly).
    Other,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Status4xx,
        ErrorKind::Status5xx,
        ErrorKind::Check,
        ErrorKind::Capture,
        ErrorKind::Protocol,
        ErrorKind::Other,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Status4xx => "http_4xx",
            ErrorKind::Status5xx => "http_5xx",
            ErrorKind::Check => "check",
            ErrorKind::Capture => "capture",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
        }
    }
}

/// How a virtual user's visit ended. With the users who never started (an interrupted run),
/// these add up to every scheduled user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Reached the persona's goal step (whatever happened after it).
    Completed,
    /// The journey could not continue before the goal (an error, or a journey that ended
    /// without passing through the goal).
    Failed,
    /// Still on its way to the goal when the run ended.
    CutOff,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Completed, Outcome::Failed, Outcome::CutOff];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Per-kind counters, indexed by `ErrorKind::index`.
pub type ErrorCounts = [u64; ErrorKind::COUNT];

/// Serialise `ErrorCounts` as `{ "connect": 0, "timeout": 3, … }`: readable in JSON, and
/// robust to new kinds being added (missing keys read as zero).
pub mod error_counts_as_map {
    use super::{ErrorCounts, ErrorKind};
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde::ser::{SerializeMap, Serializer};

    pub fn serialize<S: Serializer>(
        counts: &ErrorCounts,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(ErrorKind::COUNT))?;
        for kind in ErrorKind::ALL {
            map.serialize_entry(kind.name(), &counts[kind.index()])?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ErrorCounts, D::Error> {
        struct CountsVisitor;
        impl<'de> Visitor<'de> for CountsVisitor {
            type Value = ErrorCounts;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map from error kind to count")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ErrorCounts, A::Error> {
                let mut counts = [0u64; ErrorKind::COUNT];
                while let Some((key, value)) = map.next_entry::<String, u64>()? {
                    if let Some(kind) = ErrorKind::ALL.iter().find(|k| k.name() == key) {
                        counts[kind.index()] = value;
                    }
                }
                Ok(counts)
            }
        }
        deserializer.deserialize_map(CountsVisitor)
    }
}
