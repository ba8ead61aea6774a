//! The vocabulary of what can happen to a request and to a user.

use serde::{Deserialize, Serialize};

/// Why a request did not succeed. Every failure is counted under exactly one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The TCP connection could not be established: refused, unreachable, no route.
    Connect,
    /// The TLS handshake failed: a certificate refused (expired, wrong host, unknown issuer),
    /// a port that does not speak TLS, a client certificate the server wanted.
    Tls,
    /// No complete response within the request timeout.
    Timeout,
    /// The connection was reset or closed in the middle of the exchange (a body shorter than
    /// its `Content-Length` included).
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
    /// The response could not be read as HTTP, or its framing was malformed (e.g. a bad chunk
    /// size).
    Protocol,
    /// Anything else reported by the HTTP client (e.g. a URL the template rendered badly).
    Other,
    /// The user stopped waiting for this response: a reload after page patience ran out, or
    /// giving up on the goal. The target may still be working on it.
    Abandoned,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Status4xx,
        ErrorKind::Status5xx,
        ErrorKind::Check,
        ErrorKind::Capture,
        ErrorKind::Protocol,
        ErrorKind::Other,
        ErrorKind::Abandoned,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Status4xx => "http_4xx",
            ErrorKind::Status5xx => "http_5xx",
            ErrorKind::Check => "check",
            ErrorKind::Capture => "capture",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Other => "other",
            ErrorKind::Abandoned => "abandoned",
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
    /// Gave up waiting: the goal was not reached within the user's goal patience (and the
    /// user did not come back, or came back and gave up again).
    Abandoned,
    /// Still on its way to the goal when the run ended.
    CutOff,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [Outcome::Completed, Outcome::Failed, Outcome::Abandoned, Outcome::CutOff];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Per-kind counters, indexed by `ErrorKind::index`.
pub type ErrorCounts = [u64; ErrorKind::COUNT];

/// Why an attempt (one HTTP request) was sent. Every retry is visible: nothing is hidden in
/// "the request took longer".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The step's first attempt.
    First,
    /// A retry by the application's retry policy.
    AppRetry,
    /// A person reloading a page that took too long (page patience).
    Reload,
    /// Replaying the login after the session was lost (a 401, or a storm), and re-issuing
    /// the step that found the session gone.
    Relogin,
    /// Polling a waiting room.
    Poll,
}

impl Cause {
    pub const ALL: [Cause; 5] = [Cause::First, Cause::AppRetry, Cause::Reload, Cause::Relogin, Cause::Poll];
    pub const COUNT: usize = Self::ALL.len();

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Cause::First => "first",
            Cause::AppRetry => "app_retry",
            Cause::Reload => "reload",
            Cause::Relogin => "relogin",
            Cause::Poll => "poll",
        }
    }
}

/// Attempts by cause, indexed by `Cause::index`.
pub type CauseCounts = [u64; Cause::COUNT];

/// Serialise `CauseCounts` as `{ "first": 10, "app_retry": 3, … }`.
pub mod cause_counts_as_map {
    use super::{Cause, CauseCounts};
    use serde::de::Deserializer;
    use serde::ser::{SerializeMap, Serializer};
    use serde::Deserialize;
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(counts: &CauseCounts, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(Cause::COUNT))?;
        for cause in Cause::ALL {
            map.serialize_entry(cause.name(), &counts[cause.index()])?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<CauseCounts, D::Error> {
        let map = BTreeMap::<String, u64>::deserialize(deserializer)?;
        let mut counts = [0u64; Cause::COUNT];
        for cause in Cause::ALL {
            counts[cause.index()] = map.get(cause.name()).copied().unwrap_or(0);
        }
        Ok(counts)
    }
}

/// Serialise `ErrorCounts` as `{ "connect": 0, "timeout": 3, … }`: readable in JSON, and
/// robust to new kinds being added (missing keys read as zero).
pub mod error_counts_as_map {
    use super::{ErrorCounts, ErrorKind};
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde::ser::{SerializeMap, Serializer};

    pub fn serialize<S: Serializer>(counts: &ErrorCounts, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(ErrorKind::COUNT))?;
        for kind in ErrorKind::ALL {
            map.serialize_entry(kind.name(), &counts[kind.index()])?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ErrorCounts, D::Error> {
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
