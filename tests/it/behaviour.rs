//! School-day behaviour against real servers: Retry-After honoured, storms, waiting rooms,
//! patience. Every retry must be visible in the attempt counts.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{assert_accounting_closes, run, temp_dir};

type Seen = Arc<Mutex<Vec<(String, Instant)>>>;

/// A keep-alive HTTP server on 127.0.0.1 that answers each user's first request with
/// `503 Retry-After: 1` and the next with 200, recording when each request arrived.
fn retry_after_server(users: usize) -> (u16, Seen, std::thread::JoinHandle<()>) {
    failing_server(1, Some(1), users)
}

/// Like `retry_after_server`, but failing the first `failures` requests of each request line
/// (with `Retry-After: <secs>` when given). It accepts `connections` connections (one per
/// user), then serves them until they close.
fn failing_server(
    failures: usize,
    retry_after: Option<u32>,
    connections: usize,
) -> (u16, Seen, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let log = seen.clone();
    let server = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut handlers = Vec::new();
        while Instant::now() < deadline && handlers.len() < connections {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let log = log.clone();
                    stream.set_nonblocking(false).unwrap();
                    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    handlers.push(std::thread::spawn(move || {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 4096];
                        loop {
                            let Ok(n) = stream.read(&mut chunk) else { return };
                            if n == 0 {
                                return;
                            }
                            buf.extend_from_slice(&chunk[..n]);
                            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                                buf.drain(..end + 4);
                                let user = head.lines().next().unwrap_or("").to_string();
                                let mut log = log.lock().unwrap();
                                let before = log.iter().filter(|(u, _)| *u == user).count();
                                log.push((user, Instant::now()));
                                drop(log);
                                let reply = if before < failures {
                                    let header =
                                        retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
                                    format!("HTTP/1.1 503 Service Unavailable\r\n{header}content-length: 0\r\n\r\n")
                                } else {
                                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_string()
                                };
                                if stream.write_all(reply.as_bytes()).is_err() {
                                    return;
                                }
                            }
                        }
                    }));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        for h in handlers {
            let _ = h.join();
        }
    });
    (port, seen, server)
}

#[test]
fn retry_after_is_honoured_and_every_retry_is_counted() {
    let (port, seen, server) = retry_after_server(4);
    let dir = temp_dir("retry-after");
    let yaml = format!(
        r#"
name: retry after
target: http://127.0.0.1:{port}
duration: 1s
grace: 10s
personas:
  pupil:
    population: 4
    arrival: {{ shape: constant, rate: 4/s, spacing: even }}
    retry: {{ policy: exponential, base: 50ms, cap: 100ms, jitter: full, max_attempts: 3, retry_after: honour }}
    journey:
      - name: page
        get: /page/{{{{ user.index }}}}
        goal: true
"#
    );
    let (summary, _) = run(&dir, &yaml);
    server.join().unwrap();
    assert_accounting_closes(&summary);
    let p = &summary.personas[0];
    assert_eq!(p.completed, 4, "{p:?}");
    let step = &summary.steps[0];
    assert_eq!(step.sent, 8, "one 503 and one success per user");
    assert_eq!(step.attempts.get("first"), Some(&4));
    assert_eq!(step.attempts.get("app_retry"), Some(&4));
    assert_eq!(step.errors.get("http_5xx"), Some(&4));
    assert_eq!(p.amplification, Some(2.0));
    let log = seen.lock().unwrap();
    for user in 1..=4 {
        let times: Vec<Instant> =
            log.iter().filter(|(u, _)| u.contains(&format!("/page/{user} "))).map(|(_, t)| *t).collect();
        assert_eq!(times.len(), 2, "user {user}: {log:?}");
        let gap = times[1] - times[0];
        assert!(gap >= Duration::from_millis(990), "user {user} retried after {gap:?}, before Retry-After: 1");
        assert!(gap < Duration::from_millis(1500), "user {user} waited {gap:?}: far more than asked");
    }
}

#[test]
fn a_storm_makes_every_active_user_log_in_again_exactly_once() {
    let dir = temp_dir("storm");
    let yaml = r#"
name: storm
target: embedded
embedded: { workers: 8, service_time: { default: 1ms, login: 2ms } }
duration: 3s
grace: 10s
events:
  - at: 2s
    storm: { personas: [pupil] }
personas:
  pupil:
    population: 20
    arrival: { shape: constant, rate: 20/s, from: 0s, to: 1s, spacing: even }
    journey:
      - name: login
        post: /login
        json: { user: "{{ user.id }}" }
        capture: { token: json.token }
      - name: homework
        get: /homework
        bearer: "{{ token }}"
        goal: true
      - think: 3s
      - name: messages
        get: /messages
        bearer: "{{ token }}"
"#;
    let (summary, _) = run(&dir, yaml);
    assert_accounting_closes(&summary);
    let p = &summary.personas[0];
    assert_eq!(p.completed, 20);
    assert_eq!(p.relogins, 20, "every user was in its think time at 2 s: {p:?}");
    let login = summary.steps.iter().find(|s| s.name == "login").unwrap();
    assert_eq!(login.attempts.get("relogin"), Some(&20));
    assert_eq!(login.sent, 40);
    let messages = summary.steps.iter().find(|s| s.name == "messages").unwrap();
    assert_eq!(messages.ok, 20, "the new session works: {messages:?}");
    let counts = summary.target_counts.as_ref().unwrap();
    assert_eq!(counts["sessions_created"], 40);
    assert_eq!(counts["unauthorized"], 0, "users logged in again before using the dropped session");
}

#[test]
fn a_waiting_room_queues_polls_and_admits_everyone() {
    let dir = temp_dir("waiting-room");
    let yaml = r#"
name: waiting room
target: embedded
embedded: { workers: 8, overload: waiting_room, admit: 20/s, retry_after: 1s, service_time: { default: 1ms } }
duration: 2s
grace: 15s
personas:
  pupil:
    population: 60
    arrival: { shape: burst, at: 0s }
    waiting_room: { status: [503], json_field: queued, poll: 5s }
"#
    .to_owned()
        + super::LOGIN_THEN_HOMEWORK;
    let (summary, _) = run(&dir, &yaml);
    assert_accounting_closes(&summary);
    let p = &summary.personas[0];
    assert_eq!(p.completed, 60, "everyone is admitted in time: {p:?}");
    assert!(p.queued >= 30, "60 at once against 20/s: most wait ({p:?})");
    let queue = p.time_in_queue.as_ref().unwrap();
    assert!(queue.max_us >= 1_000_000, "the last ones waited over a second: {queue:?}");
    let login = summary.steps.iter().find(|s| s.name == "login").unwrap();
    let polls = login.attempts.get("poll").copied().unwrap_or(0);
    assert!(polls >= p.queued, "each queued user polled at least once: {login:?}");
    assert_eq!(login.sent, 60 + polls);
    let counts = summary.target_counts.as_ref().unwrap();
    // Every login attempt that did not get in was a queued answer, and the target agrees.
    assert_eq!(counts["waiting_room"]["queued"].as_u64().unwrap(), login.sent - 60);
}

#[test]
fn impatient_users_reload_then_abandon() {
    let dir = temp_dir("patience");
    let yaml = r#"
name: patience
target: embedded
embedded: { workers: 1, queue: 100, service_time: { default: 400ms, login: 1ms } }
duration: 1s
grace: 10s
personas:
  pupil:
    population: 5
    arrival: { shape: burst, at: 0s }
    patience: { page: 300ms, goal: 2s, goal_sigma: 0 }
"#
    .to_owned()
        + super::LOGIN_THEN_HOMEWORK;
    let (summary, _) = run(&dir, &yaml);
    assert_accounting_closes(&summary);
    let p = &summary.personas[0];
    assert!(p.abandoned >= 3, "one slow worker cannot serve 5 impatient pupils: {p:?}");
    let homework = summary.steps.iter().find(|s| s.name == "homework").unwrap();
    assert!(homework.attempts.get("reload").copied().unwrap_or(0) >= 3, "{homework:?}");
    assert!(homework.errors.get("abandoned").copied().unwrap_or(0) >= 3, "{homework:?}");
}

/// A small metastable target (2 workers, 80 logins/s) about 40% busy, and a storm 12 s in
/// that sends ~120 users back to the login at once; only the retry policy differs.
fn storm_scenario(retry: &str) -> String {
    format!(
        r#"
name: storm pair
target: embedded
embedded: {{ workers: 2, queue: 100000, overload: metastable, login_cpu: 0s, service_time: {{ default: 5ms, login: 25ms }} }}
duration: 35s
grace: 1s
seed: 3
events:
  - at: 12s
    storm: {{ personas: [pupil] }}
personas:
  pupil:
    arrival: {{ shape: constant, rate: 10/s }}
    retry: {retry}
    journey:
      - name: login
        post: /login
        json: {{ user: "{{{{ user.id }}}}" }}
        capture: {{ token: json.token }}
      - name: homework
        get: /homework
        bearer: "{{{{ token }}}}"
        goal: true
      - repeat: 10
        steps:
          - think: 1s
          - name: messages
            get: /messages
            bearer: "{{{{ token }}}}"
"#
    )
}

#[test]
fn immediate_retries_stay_metastable_where_backoff_recovers() {
    let _machine = super::exclusive();
    let immediate = std::thread::spawn(|| {
        let dir = temp_dir("storm-immediate");
        run(&dir, &storm_scenario("{ policy: immediate, max_attempts: 100, timeout: 300ms }")).0
    });
    let dir = temp_dir("storm-backoff");
    let (backoff, _) = run(
        &dir,
        &storm_scenario(
            "{ policy: exponential, base: 1s, cap: 10s, jitter: full, max_attempts: 6, timeout: 300ms, budget: { tokens: 2, cost: 1, refund: 0.1 } }",
        ),
    );
    let immediate = immediate.join().unwrap();
    for s in [&immediate, &backoff] {
        assert_accounting_closes(s);
        assert_eq!(s.recovery.len(), 1);
    }
    let (i, b) = (&immediate.recovery[0], &backoff.recovery[0]);
    assert!(i.recovered_after_s.is_none() && i.ended_degraded, "immediate retries must not recover: {i:?}");
    assert!(b.recovered_after_s.is_some() && !b.ended_degraded, "backoff with a budget must recover: {b:?}");
    let amplification = |s: &schoolday::analysis::Summary| {
        let p = &s.personas[0];
        let attempts: u64 = p.attempts.values().sum();
        attempts as f64 / p.completed.max(1) as f64
    };
    assert!(
        amplification(&immediate) > 3.0 * amplification(&backoff),
        "immediate {:.1} vs backoff {:.1} requests per goal",
        amplification(&immediate),
        amplification(&backoff)
    );
}

/// The gaps between one user's attempts, as the server saw them.
fn gaps(seen: &Seen, path: &str) -> Vec<Duration> {
    let times: Vec<Instant> =
        seen.lock().unwrap().iter().filter(|(u, _)| u.contains(&format!("{path} "))).map(|(_, t)| *t).collect();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn the_runtime_waits_the_backoff_sequence_between_attempts() {
    let (port, seen, server) = failing_server(3, None, 3);
    let dir = temp_dir("backoff-sequence");
    let yaml = format!(
        r#"
name: backoff sequence
target: http://127.0.0.1:{port}
duration: 1s
grace: 10s
personas:
  fixed:
    population: 1
    arrival: {{ shape: burst, at: 0s }}
    retry: {{ policy: fixed, delay: 300ms, max_attempts: 4 }}
    journey: [ {{ name: page, get: /fixed, goal: true }} ]
  expo:
    population: 1
    arrival: {{ shape: burst, at: 0s }}
    retry: {{ policy: exponential, base: 100ms, factor: 2, cap: 250ms, jitter: none, max_attempts: 4 }}
    journey: [ {{ name: page, get: /expo, goal: true }} ]
  capped:
    population: 1
    arrival: {{ shape: burst, at: 0s }}
    retry: {{ policy: immediate, max_attempts: 3 }}
    journey: [ {{ name: page, get: /capped, goal: true }} ]
"#
    );
    let (summary, _) = run(&dir, &yaml);
    server.join().unwrap();
    assert_accounting_closes(&summary);
    let slack = Duration::from_millis(120);
    let within = |gap: Duration, want: Duration| gap >= want && gap < want + slack;
    let fixed = gaps(&seen, "/fixed");
    assert_eq!(fixed.len(), 3, "{fixed:?}");
    assert!(fixed.iter().all(|g| within(*g, Duration::from_millis(300))), "fixed 300 ms: {fixed:?}");
    // min(cap, base · 2^k): 100 ms, 200 ms, then capped at 250 ms.
    let expo = gaps(&seen, "/expo");
    let want = [100, 200, 250].map(Duration::from_millis);
    assert!(expo.len() == 3 && expo.iter().zip(want).all(|(g, w)| within(*g, w)), "exponential: {expo:?}");
    // Three attempts allowed, three failures: the user fails, and no fourth request is sent.
    let capped = gaps(&seen, "/capped");
    assert_eq!(capped.len(), 2, "{capped:?}");
    assert!(capped.iter().all(|g| *g < slack), "immediate: {capped:?}");
    let by_name = |p: &str| summary.personas.iter().find(|x| x.name == p).unwrap().clone();
    assert_eq!((by_name("fixed").completed, by_name("expo").completed, by_name("capped").failed), (1, 1, 1));
}

#[test]
fn reloading_a_login_form_starts_the_login_over() {
    let dir = temp_dir("form-reload");
    let yaml = r#"
name: form reload
target: embedded
embedded: { workers: 8, service_time: { default: 1ms, login: 300ms }, login_cpu: 0s }
duration: 1s
grace: 10s
personas:
  pupil:
    population: 4
    arrival: { shape: burst, at: 0s }
    patience: { page: 150ms, goal: 1500ms, goal_sigma: 0 }
    journey:
      - name: form page
        get: /health
      - name: login
        post: /login
        form: { user: "{{ user.id }}" }
        login: true
      - name: homework
        get: /homework
        goal: true
"#;
    let (summary, _) = run(&dir, yaml);
    assert_accounting_closes(&summary);
    let step = |name: &str| summary.steps.iter().find(|s| s.name == name).unwrap();
    let form_reloads = step("form page").attempts.get("reload").copied().unwrap_or(0);
    let login_reloads = step("login").attempts.get("reload").copied().unwrap_or(0);
    assert!(login_reloads >= 4, "every pupil reloaded the slow login: {:?}", step("login"));
    assert_eq!(form_reloads, login_reloads, "each reload of the form's answer went back to the form page first");
    assert_eq!(summary.personas[0].abandoned, 4, "{:?}", summary.personas[0]);
}
