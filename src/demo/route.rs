//! The routes of the demo school workspace, decided once per request.
//!
//! Classifying a request into a small closed set of routes gives one place that knows the
//! route key used in counts ("GET /files" for every file id), the service time of the route,
//! and whether it needs a session or a worker slot. The handler then dispatches on the enum,
//! and counters are plain arrays indexed by it.

use std::time::Duration;

use http::Method;

use crate::scenario::embedded::ServiceTimes;

/// One route of the workspace, or `Other` for anything it does not serve (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Login,
    Agenda,
    Homework,
    Grades,
    Messages,
    Files,
    ExamStart,
    ExamAnswer,
    Logout,
    Health,
    Other,
}

impl Route {
    /// Every route, in counter order (`Route as usize` indexes this array).
    pub(crate) const ALL: [Route; 11] = [
        Route::Login,
        Route::Agenda,
        Route::Homework,
        Route::Grades,
        Route::Messages,
        Route::Files,
        Route::ExamStart,
        Route::ExamAnswer,
        Route::Logout,
        Route::Health,
        Route::Other,
    ];

    /// Classifies by method and path; the query string is ignored. A known path with the
    /// wrong method is `Other` too: the workspace answers 404 rather than 405, and counting
    /// it apart from the real route keeps "requests the harness meant to send" exact.
    pub(crate) fn classify(method: &Method, path: &str) -> Route {
        let get = method == Method::GET;
        let post = method == Method::POST;
        match path {
            "/login" if post => Route::Login,
            "/agenda" if get => Route::Agenda,
            "/homework" if get => Route::Homework,
            "/grades" if get => Route::Grades,
            "/messages" if get => Route::Messages,
            "/exam/start" if post => Route::ExamStart,
            "/exam/answer" if post => Route::ExamAnswer,
            "/logout" if post => Route::Logout,
            "/health" if get => Route::Health,
            _ if get && is_file_path(path) => Route::Files,
            _ => Route::Other,
        }
    }

    /// The key under which the route is counted.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Route::Login => "POST /login",
            Route::Agenda => "GET /agenda",
            Route::Homework => "GET /homework",
            Route::Grades => "GET /grades",
            Route::Messages => "GET /messages",
            Route::Files => "GET /files",
            Route::ExamStart => "POST /exam/start",
            Route::ExamAnswer => "POST /exam/answer",
            Route::Logout => "POST /logout",
            Route::Health => "GET /health",
            Route::Other => "other",
        }
    }

    /// Time the route holds its worker slot, falling back to the default service time.
    pub(crate) fn service_time(self, times: &ServiceTimes) -> Duration {
        let specific = match self {
            Route::Login => times.login,
            Route::Agenda => times.agenda,
            Route::Homework => times.homework,
            Route::Grades => times.grades,
            Route::Messages => times.messages,
            Route::Files => times.files,
            Route::ExamStart => times.exam_start,
            Route::ExamAnswer => times.exam_answer,
            Route::Logout => times.logout,
            // Neither takes a slot, so neither has a service time.
            Route::Health | Route::Other => Some(Duration::ZERO),
        };
        specific.unwrap_or(times.default)
    }

    /// Whether the route queues for a worker slot. `/health` is what a load balancer probes
    /// and must answer even when the workers are saturated; unknown routes are answered by
    /// the router itself, before any application worker is involved.
    pub(crate) fn takes_slot(self) -> bool {
        !matches!(self, Route::Health | Route::Other)
    }
}

/// `/files/{id}` with exactly one non-empty id segment.
fn is_file_path(path: &str) -> bool {
    match path.strip_prefix("/files/") {
        Some(id) => !id.is_empty() && !id.contains('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_id_shares_one_key() {
        for path in ["/files/7", "/files/cours-maths.pdf", "/files/0"] {
            assert_eq!(Route::classify(&Method::GET, path), Route::Files, "{path}");
        }
        for path in ["/files/", "/files", "/files/7/raw"] {
            assert_eq!(Route::classify(&Method::GET, path), Route::Other, "{path}");
        }
    }

    #[test]
    fn wrong_method_is_other() {
        assert_eq!(Route::classify(&Method::GET, "/login"), Route::Other);
        assert_eq!(Route::classify(&Method::POST, "/agenda"), Route::Other);
        assert_eq!(Route::classify(&Method::POST, "/login"), Route::Login);
    }

    #[test]
    fn all_is_in_discriminant_order() {
        for (index, route) in Route::ALL.iter().enumerate() {
            assert_eq!(*route as usize, index);
        }
    }

    #[test]
    fn service_time_falls_back_to_default() {
        let times =
            ServiceTimes { login: Some(Duration::from_millis(30)), ..ServiceTimes::uniform(Duration::from_millis(7)) };
        assert_eq!(Route::Agenda.service_time(&times), Duration::from_millis(7));
        assert_eq!(Route::Login.service_time(&times), Duration::from_millis(30));
        assert_eq!(Route::Health.service_time(&times), Duration::ZERO);
    }
}
