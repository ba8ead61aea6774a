//! Sizing and behaviour of the embedded demo workspace: scenario data (the `embedded:` block),
//! which `crate::demo` reads when it serves.

use std::time::Duration;

/// How the embedded school workspace is sized. Defaults give a small but honest server:
/// capacity ≈ `workers / service time` requests per second.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedConfig {
    /// Requests served at once (worker slots).
    pub workers: usize,
    /// Requests allowed to wait for a slot; beyond this the target answers 503 at once.
    /// Ignored by `Overload::Queue`, whose queue never fills.
    pub queue: usize,
    /// Time a request holds its worker slot, per route.
    pub service_time: ServiceTimes,
    /// CPU burnt per login, like password hashing, while holding the slot.
    pub login_cpu: Duration,
    /// Size of the body served by `GET /files/{id}`.
    pub file_size: u64,
    /// OS threads of the target's own tokio runtime.
    pub threads: usize,
    /// What the target does when more requests arrive than it can serve.
    pub overload: Overload,
    /// Sessions unused for this long expire (the next request gets 401). `None`: never.
    pub session_idle: Option<Duration>,
    /// Users refused at login during a window (the "parents blocked 7:30–17:30" mitigation).
    pub blocks: Vec<Block>,
}

/// Overload behaviour, as the real platforms showed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Overload {
    /// Answer 503 at once beyond `queue` waiting requests (the default).
    Shed,
    /// Queue without bound: latency grows without bound, nothing is refused.
    Queue,
    /// Like `Shed`, but work for a request whose client has gone (timed out, reloaded) is
    /// still done, holding its worker: retries then keep the server overloaded after the
    /// spike has passed.
    Metastable,
    /// Admit new sessions (logins) at a fixed rate, first come first served; others get
    /// `503` with `Retry-After` and a JSON body `{ "queued": true, "position": n,
    /// "eta_seconds": s }` and a queue cookie that keeps their place.
    WaitingRoom { admit_per_second: f64, retry_after: Duration },
}

/// Logins of users whose id starts with `user_prefix` are refused (403) between `from` and
/// `to` after the target started.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub user_prefix: String,
    pub from: Duration,
    pub to: Duration,
}

/// Service time per route; `None` falls back to `default`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTimes {
    pub default: Duration,
    pub login: Option<Duration>,
    pub agenda: Option<Duration>,
    pub homework: Option<Duration>,
    pub grades: Option<Duration>,
    pub messages: Option<Duration>,
    pub files: Option<Duration>,
    pub exam_start: Option<Duration>,
    pub exam_answer: Option<Duration>,
    pub logout: Option<Duration>,
}

impl ServiceTimes {
    /// The same service time for every route.
    pub fn uniform(time: Duration) -> ServiceTimes {
        ServiceTimes {
            default: time,
            login: None,
            agenda: None,
            homework: None,
            grades: None,
            messages: None,
            files: None,
            exam_start: None,
            exam_answer: None,
            logout: None,
        }
    }
}

impl Default for ServiceTimes {
    fn default() -> Self {
        ServiceTimes {
            default: Duration::from_millis(5),
            login: Some(Duration::from_millis(20)),
            agenda: None,
            homework: None,
            grades: None,
            messages: None,
            files: Some(Duration::from_millis(10)),
            exam_start: Some(Duration::from_millis(10)),
            exam_answer: Some(Duration::from_millis(10)),
            logout: Some(Duration::from_millis(1)),
        }
    }
}

impl Default for EmbeddedConfig {
    fn default() -> Self {
        EmbeddedConfig {
            workers: 16,
            queue: 512,
            service_time: ServiceTimes::default(),
            login_cpu: Duration::from_micros(200),
            file_size: 64 * 1024,
            threads: 1,
            overload: Overload::Shed,
            session_idle: None,
            blocks: Vec::new(),
        }
    }
}
