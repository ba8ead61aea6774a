//! The fault matrix: every way a target misbehaves on a bad morning, each against a loopback
//! server made in the test (`misbehaving.rs`) or nothing at all. Each row checks the contract
//! the README documents ("When the target misbehaves"): the run completes, the fault lands in
//! its error class with a count equal to what the server did, every user is accounted for,
//! report.html and summary.json are written, and the exit code is the documented one. The
//! HTTP engine under the runtime may change; these classifications may not.
//!
//! Rows are independent tests (they run concurrently) of at most a few seconds each; the
//! generator's own health is not what they test, so their scenarios allow it a 1 s lag.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::{Shutdown, TcpListener};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schoolday::analysis::verdict::Status;
use schoolday::analysis::Summary;
use schoolday::exit_code::ExitCode;

use super::misbehaving::{each_request, Seen, Server};
use super::{assert_accounting_closes, exclusive, run, temp_dir};

/// `users` pupils arriving evenly over one second, each sending one `GET path` (the goal) to
/// `url`, with `timeout`, and `extra` persona keys (e.g. a retry policy).
fn scenario(url: &str, users: u32, timeout: &str, path: &str, extra: &str) -> String {
    format!(
        r#"
name: fault
target: {url}
http: {{ timeout: {timeout} }}
duration: 1s
grace: 4s
generator: {{ lag_p99_limit: 1s }}
personas:
  pupil:
    population: {users}
    arrival: {{ shape: constant, rate: {users}/s, spacing: even }}
{extra}
    journey:
      - name: page
        get: {path}
        goal: true
"#
    )
}

/// Run `yaml` and check what every row must hold: the errors by class exactly `errors`, the
/// accounting closed, the report written, the exit code `exit`.
fn run_row(name: &str, yaml: &str, errors: &[(&str, u64)], exit: ExitCode) -> Summary {
    let dir = temp_dir(&format!("fault-{name}"));
    let (summary, run_dir) = run(&dir, yaml);
    let expected: BTreeMap<String, u64> = errors.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    assert_eq!(summary.steps[0].errors, expected, "{name}: error classes");
    assert_eq!(summary.requests.errors, expected, "{name}: run-wide error classes");
    assert_accounting_closes(&summary);
    for file in ["summary.json", "report.html", "timeline.csv"] {
        assert!(run_dir.join(file).is_file(), "{name}: {file} written");
    }
    assert_eq!(schoolday::app::exit_code(&summary), exit, "{name}: exit code");
    summary
}

fn get(counter: &std::sync::atomic::AtomicU64) -> u64 {
    Seen::get(counter)
}

#[test]
fn connection_refused_everywhere_is_connect_unreachable_and_exit_4() {
    // Bind then drop: a loopback port with nothing behind it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let yaml = scenario(&format!("http://127.0.0.1:{port}"), 10, "2s", "/", "");
    let s = run_row("refused", &yaml, &[("connect", 10)], ExitCode::TargetUnreachable);
    assert_eq!(s.personas[0].failed, 10);
    let verdict = &s.saturation.as_ref().unwrap().verdict;
    assert_eq!(verdict.status, Status::Unreachable, "{verdict:?}");
    assert!(!verdict.text().contains("saturated"), "{}", verdict.text());
}

#[test]
fn a_name_under_invalid_is_connect_unreachable_without_asking_any_resolver() {
    // RFC 6761: `.invalid` never resolves; the harness answers that itself, at once.
    let yaml = scenario("http://school.invalid:8080", 10, "5s", "/", "");
    let s = run_row("invalid-name", &yaml, &[("connect", 10)], ExitCode::TargetUnreachable);
    assert!(s.steps[0].latency.max_us < 1_000_000, "refused at once, not after a timeout: {:?}", s.steps[0].latency);
    assert_eq!(s.saturation.as_ref().unwrap().verdict.status, Status::Unreachable);
}

#[test]
fn a_reset_before_the_response_is_reset() {
    let server = Server::start(|conn| {
        // Leave the request unread and close: the kernel resets the connection.
        conn.pause(Duration::from_millis(30));
        conn.fault();
    });
    let yaml = scenario(&server.url(), 10, "2s", "/", "");
    run_row("reset-before", &yaml, &[("reset", 10)], ExitCode::Success);
    let seen = server.stop();
    assert_eq!((get(&seen.connections), get(&seen.faults)), (10, 10));
}

#[test]
fn a_reset_in_the_middle_of_the_response_is_reset() {
    let server = Server::start(|conn| {
        conn.pause(Duration::from_millis(20));
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        conn.send(&[b'x'; 100]);
        conn.fault();
        // The request is still unread: closing now resets the connection.
        conn.pause(Duration::from_millis(30));
    });
    let yaml = scenario(&server.url(), 10, "2s", "/", "");
    run_row("reset-middle", &yaml, &[("reset", 10)], ExitCode::Success);
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn garbage_instead_of_http_is_protocol() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.send(b"HELLO THIS IS NOT HTTP\r\n\r\n");
            conn.fault();
            conn.pause(Duration::from_millis(30));
        }
    });
    let yaml = scenario(&server.url(), 10, "2s", "/", "");
    run_row("garbage", &yaml, &[("protocol", 10)], ExitCode::Success);
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn a_body_shorter_than_its_content_length_is_reset() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            conn.send(&[b'x'; 100]);
            conn.fault();
            // A clean close (FIN), 900 bytes short.
            let _ = conn.stream.shutdown(Shutdown::Write);
            conn.pause(Duration::from_millis(50));
        }
    });
    let yaml = scenario(&server.url(), 10, "2s", "/", "");
    run_row("truncated", &yaml, &[("reset", 10)], ExitCode::Success);
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn a_body_dripping_past_the_timeout_is_timeout_at_the_timeout() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.fault();
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
            while conn.pause(Duration::from_millis(100)) && conn.send(b"x") {}
        }
    });
    let yaml = scenario(&server.url(), 10, "500ms", "/", "");
    let s = run_row("drip", &yaml, &[("timeout", 10)], ExitCode::Success);
    let latency = &s.steps[0].latency;
    assert!(latency.min_us >= 500_000, "waited the whole timeout: {latency:?}");
    assert!(latency.max_us < 3_000_000, "and not the whole body: {latency:?}");
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn headers_that_never_end_are_timeout() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.fault();
            conn.send(b"HTTP/1.1 200 OK\r\n");
            while conn.pause(Duration::from_millis(100)) && conn.send(b"X-Still-Coming: 1\r\n") {}
        }
    });
    let yaml = scenario(&server.url(), 10, "500ms", "/", "");
    run_row("endless-headers", &yaml, &[("timeout", 10)], ExitCode::Success);
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn a_stall_longer_than_the_timeout_is_timeout() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.fault();
            conn.pause(Duration::from_secs(3));
        }
    });
    let yaml = scenario(&server.url(), 10, "400ms", "/", "");
    let s = run_row("stall", &yaml, &[("timeout", 10)], ExitCode::Success);
    assert!(s.steps[0].latency.min_us >= 400_000, "{:?}", s.steps[0].latency);
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn a_server_that_accepts_and_never_reads_is_timeout() {
    let server = Server::start(|conn| {
        conn.fault();
        conn.pause(Duration::from_secs(3));
    });
    let yaml = scenario(&server.url(), 10, "400ms", "/", "");
    run_row("never-reads", &yaml, &[("timeout", 10)], ExitCode::Success);
    let seen = server.stop();
    assert_eq!((get(&seen.connections), get(&seen.requests)), (10, 0));
}

#[test]
fn bursts_of_500_502_503_504_are_http_5xx_not_retried_by_default() {
    let served = Arc::new(Mutex::new(Vec::new()));
    let log = served.clone();
    let server = Server::start(move |conn| {
        let log = log.clone();
        each_request(conn, |conn, _| {
            let status = {
                let mut log = log.lock().unwrap();
                let status = [500, 502, 503, 504][log.len() % 4];
                log.push(status);
                status
            };
            conn.fault();
            conn.answer(status, "")
        });
    });
    let yaml = scenario(&server.url(), 20, "2s", "/", "");
    let s = run_row("5xx", &yaml, &[("http_5xx", 20)], ExitCode::Success);
    assert_eq!(s.personas[0].failed, 20);
    let seen = server.stop();
    assert_eq!((get(&seen.requests), get(&seen.faults)), (20, 20));
    let statuses: HashSet<u16> = served.lock().unwrap().iter().copied().collect();
    assert_eq!(statuses, HashSet::from([500, 502, 503, 504]));
}

/// First request of each user: 429 (with `retry_after` as its Retry-After, if any); its retry:
/// 200.
fn too_many_requests(retry_after: Option<u32>) -> Server {
    let first_seen = Arc::new(Mutex::new(HashSet::new()));
    Server::start(move |conn| {
        let first_seen = first_seen.clone();
        each_request(conn, |conn, request| {
            if first_seen.lock().unwrap().insert(request.path) {
                conn.fault();
                let header = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
                conn.answer(429, &header)
            } else {
                conn.answer(200, "")
            }
        });
    })
}

const RETRY_ONCE: &str = "    retry: { policy: fixed, delay: 100ms, max_attempts: 2 }";

#[test]
fn a_429_with_retry_after_is_http_4xx_and_the_retry_waits_as_asked() {
    let server = too_many_requests(Some(2));
    let yaml = scenario(&server.url(), 10, "2s", "/page/{{ user.id }}", RETRY_ONCE);
    let s = run_row("429-retry-after", &yaml, &[("http_4xx", 10)], ExitCode::Success);
    let step = &s.steps[0];
    assert_eq!((step.ok, step.attempts.get("first"), step.attempts.get("app_retry")), (10, Some(&10), Some(&10)));
    assert_eq!(s.personas[0].completed, 10);
    assert!(step.latency.min_us >= 2_000_000, "Retry-After: 2 was honoured: {:?}", step.latency);
    let seen = server.stop();
    assert_eq!((get(&seen.requests), get(&seen.faults)), (20, 10));
}

#[test]
fn a_429_without_retry_after_is_http_4xx_retried_on_the_policy() {
    let server = too_many_requests(None);
    let yaml = scenario(&server.url(), 10, "2s", "/page/{{ user.id }}", RETRY_ONCE);
    let s = run_row("429-plain", &yaml, &[("http_4xx", 10)], ExitCode::Success);
    let step = &s.steps[0];
    assert_eq!((step.ok, step.attempts.get("app_retry")), (10, Some(&10)));
    assert!(step.latency.min_us >= 100_000, "the fixed 100 ms delay: {:?}", step.latency);
    assert!(step.latency.max_us < 2_000_000, "not a Retry-After wait: {:?}", step.latency);
    assert_eq!(get(&server.stop().requests), 20);
}

#[test]
fn redirects_are_answers_counted_not_followed() {
    let server = Server::start(|conn| {
        each_request(conn, |conn, request| {
            let status = if request.path.ends_with('1') { 301 } else { 302 };
            conn.answer(status, "Location: /elsewhere\r\n")
        });
    });
    let yaml = scenario(&server.url(), 10, "2s", "/page/{{ user.index }}", "");
    let s = run_row("redirect", &yaml, &[], ExitCode::Success);
    assert_eq!((s.requests.sent, s.requests.ok), (10, 10));
    let seen = server.stop();
    assert_eq!(get(&seen.requests), 10, "one request per step: the target saw what the harness counted");
    assert!(!seen.paths.lock().unwrap().iter().any(|p| p == "/elsewhere"), "no redirect was followed");
}

#[test]
fn an_http_1_0_body_delimited_by_the_close_is_read_whole() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
            conn.send(&[b'y'; 5000]);
            conn.answered();
            let _ = conn.stream.shutdown(Shutdown::Write);
            conn.pause(Duration::from_millis(50));
        }
    });
    let yaml = scenario(&server.url(), 10, "2s", "/", "");
    let s = run_row("http-1.0", &yaml, &[], ExitCode::Success);
    assert_eq!((s.steps[0].ok, s.steps[0].bytes), (10, 50_000));
    assert_eq!(get(&server.stop().answers), 10);
}

#[test]
fn a_bad_chunk_size_is_protocol() {
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n");
            conn.fault();
            conn.pause(Duration::from_millis(50));
        }
    });
    let yaml = scenario(&server.url(), 10, "2s", "/", "");
    run_row("bad-chunk", &yaml, &[("protocol", 10)], ExitCode::Success);
    assert_eq!(get(&server.stop().faults), 10);
}

#[test]
fn a_target_that_dies_and_comes_back_shows_the_outage_and_the_recovery() {
    // Its 12 s must not overlap the overloaded-generator test, which uses up this process's
    // descriptors: connecting would fail for want of one, not because the target is gone.
    let _machine = exclusive();
    let serve = Arc::new(|conn: &mut super::misbehaving::Conn| each_request(conn, |conn, _| conn.answer(200, "")));
    let seen: Arc<Seen> = Arc::default();
    let first = Server::start_on(0, serve.clone(), seen.clone());
    let port = first.port;
    let url = first.url();
    // Dies 3 s into the run, comes back 5 s later, on the same port.
    let lifecycle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        first.stop();
        std::thread::sleep(Duration::from_secs(5));
        Server::start_on(port, serve, seen)
    });
    let yaml = format!(
        r#"
name: dies and comes back
target: {url}
http: {{ timeout: 2s }}
duration: 12s
grace: 3s
generator: {{ lag_p99_limit: 1s }}
personas:
  pupil:
    arrival: {{ shape: constant, rate: 10/s, spacing: even }}
    journey:
      - name: page
        get: /
        goal: true
"#
    );
    let dir = temp_dir("fault-outage");
    let (s, run_dir) = run(&dir, &yaml);
    let second = lifecycle.join().unwrap();
    let seen = second.stop();
    assert_accounting_closes(&s);
    assert!(run_dir.join("report.html").is_file() && run_dir.join("summary.json").is_file());
    // Every request is either one the target answered or one that found it gone.
    let failed: u64 = s.requests.errors.values().sum();
    assert_eq!(s.requests.ok, get(&seen.answers), "{:?}", s.requests);
    let gone =
        s.requests.errors.get("connect").copied().unwrap_or(0) + s.requests.errors.get("reset").copied().unwrap_or(0);
    assert_eq!(gone, failed, "only connect and reset errors: {:?}", s.requests.errors);
    assert_eq!(s.requests.ok + failed, s.requests.sent);
    assert!(gone >= 30, "about 5 s at 10/s found it gone: {:?}", s.requests);
    // The timeline shows the gap…
    assert!(
        s.timeline.iter().filter(|t| t.ok == 0 && t.errors_of(schoolday::metrics::ErrorKind::Connect) > 0).count() >= 3
    );
    // …and the outage, and the recovery.
    assert_eq!(s.outages.len(), 1, "{:?}", s.outages);
    let o = &s.outages[0];
    assert!((2.0..=4.0).contains(&o.from_s) && (7.0..=9.0).contains(&o.to_s), "{o:?}");
    assert!(o.recovered_after_s.is_some_and(|r| r <= 3.0), "{o:?}");
    let verdict = &s.saturation.as_ref().unwrap().verdict;
    assert_eq!(verdict.status, Status::Outage, "{verdict:?}");
    assert!(verdict.headline.contains("outage from ") && verdict.headline.contains("recovered in"), "{verdict:?}");
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap();
    assert!(html.contains(&o.text()), "the page says it");
    assert_ne!(schoolday::app::exit_code(&s), ExitCode::TargetUnreachable);
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn a_1_gib_body_is_counted_as_it_streams_never_held() {
    const GIB: u64 = 1 << 30;
    let server = Server::start(|conn| {
        if conn.request().is_some() {
            conn.send(format!("HTTP/1.1 200 OK\r\nContent-Length: {GIB}\r\n\r\n").as_bytes());
            let block = vec![0u8; 256 * 1024];
            let mut sent = 0;
            while sent < GIB && conn.alive() && conn.send(&block) {
                sent += block.len() as u64;
            }
            conn.answered();
        }
    });
    // A child process, so that its memory is the harness's alone.
    let dir = temp_dir("fault-1gib");
    let reports = dir.join("reports");
    let mut child = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["run", "--url", &format!("{}/big", server.url()), "--rate", "1/s", "--duration", "1s"])
        .args(["--timeout", "120s", "--lag-limit", "1s", "--out", reports.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<_>>());
    // The baseline: once the request has reached the server, the harness is fully set up.
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&server.seen.requests) == 0 {
        assert!(Instant::now() < deadline && child.try_wait().unwrap().is_none(), "the request never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let baseline = rss_kib(child.id()).expect("/proc/<pid>/status");
    let mut peak = baseline;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline + Duration::from_secs(60), "1 GiB took more than two minutes");
        peak = peak.max(rss_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(10));
    }
    let code = child.wait().unwrap().code();
    let stderr = lines.join().unwrap().join("\n");
    assert_eq!(code, Some(0), "{stderr}");
    eprintln!("1 GiB body: RSS {baseline} KiB before, peak {peak} KiB");
    assert!(peak - baseline < 64 * 1024, "RSS grew by {} KiB reading 1 GiB (from {baseline} KiB)", peak - baseline);
    let run_dir = std::fs::read_dir(&reports).unwrap().next().unwrap().unwrap().path();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"][0]["ok"], 1);
    assert_eq!(summary["steps"][0]["bytes"], GIB, "every byte counted");
    assert_eq!(get(&server.stop().answers), 1);
}
