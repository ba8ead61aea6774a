//! Capacity and behaviour settings of the embedded target.

use std::time::Duration;

/// How the embedded school workspace is sized. Defaults give a small but honest server:
/// capacity ≈ `workers / service time` requests per second.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedConfig {
    /// Requests served at once (worker slots).
    pub workers: usize,
    /// Requests allowed to wait for a slot; beyond this the target answers 503 at once.
    pub queue: usize,
    /// Time a request holds its worker slot, per route.
    pub service_time: ServiceTimes,
    /// CPU burnt per login, like password hashing, while holding the slot.
    pub login_cpu: Duration,
    /// Size of the body served by `GET /files/{id}`.
    pub file_size: u64,
    /// OS threads of the target's own tokio runtime.
    pub threads: usize,
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
        }
    }
}
