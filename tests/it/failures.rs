//! Targets that fail: nobody listening, a connection reset, garbage instead of HTTP, a server
//! too slow for the timeout. Each failure is counted under its kind, the run still ends with
//! its report, and the exit code says what happened.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use schoolday::exit_code::ExitCode;

use super::{assert_accounting_closes, run, temp_dir};

/// A loopback server that treats every connection with `behave`, for at most 20 s.
struct BadServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl BadServer {
    fn start(behave: fn(TcpStream)) -> BadServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut accepted = 0;
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted += 1;
                        stream.set_nonblocking(false).unwrap();
                        behave(stream);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            accepted
        });
        BadServer { port, stop, thread: Some(thread) }
    }

    /// Stop and return how many connections were accepted.
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

fn scenario(port: u16, timeout: &str) -> String {
    format!(
        r#"
name: failing target
target: http://127.0.0.1:{port}
http: {{ timeout: {timeout} }}
duration: 1s
grace: 3s
personas:
  pupil:
    population: 10
    arrival: {{ shape: constant, rate: 10/s, spacing: even }}
    journey:
      - name: login
        post: /login
        json: {{ user: "{{{{ user.id }}}}" }}
        goal: true
"#
    )
}

fn only_error(summary: &schoolday::analysis::Summary) -> (String, u64) {
    let errors = &summary.steps[0].errors;
    assert_eq!(errors.len(), 1, "exactly one kind of error expected: {errors:?}");
    errors.iter().next().map(|(k, n)| (k.clone(), *n)).unwrap()
}

#[test]
fn nobody_listening_is_a_connect_error_and_exit_code_4() {
    // Bind then drop to find a loopback port with nothing behind it.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = temp_dir("unreachable");
    let (summary, run_dir) = run(&dir, &scenario(port, "2s"));
    assert_eq!(only_error(&summary), ("connect".to_string(), 10));
    assert_accounting_closes(&summary);
    assert_eq!(summary.personas[0].failed, 10);
    assert!(run_dir.join("summary.json").exists(), "the report is written even when nothing connects");
    assert_eq!(schoolday::app::exit_code(&summary), ExitCode::TargetUnreachable);
}

#[test]
fn a_reset_connection_is_counted_as_reset() {
    let server = BadServer::start(|stream| {
        // Let the request arrive, then close without reading it: the kernel answers with RST.
        std::thread::sleep(Duration::from_millis(20));
        drop(stream);
    });
    let dir = temp_dir("reset");
    let (summary, _) = run(&dir, &scenario(server.port, "2s"));
    let accepted = server.finish();
    assert_eq!(only_error(&summary), ("reset".to_string(), 10));
    assert_eq!(accepted, 10, "one connection per user");
    assert_accounting_closes(&summary);
    // Resets are the target's failures, not unreachability (the generator's health, which
    // this busy test machine may spoil, is not what this test is about).
    assert_ne!(schoolday::app::exit_code(&summary), ExitCode::TargetUnreachable);
}

#[test]
fn garbage_instead_of_http_is_a_protocol_error() {
    let server = BadServer::start(|mut stream| {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(b"HELLO THIS IS NOT HTTP\r\n\r\n");
        std::thread::sleep(Duration::from_millis(20));
    });
    let dir = temp_dir("garbage");
    let (summary, _) = run(&dir, &scenario(server.port, "2s"));
    server.finish();
    assert_eq!(only_error(&summary), ("protocol".to_string(), 10));
    assert_accounting_closes(&summary);
}

#[test]
fn a_server_slower_than_the_timeout_is_a_timeout_measured_at_the_timeout() {
    let server = BadServer::start(|stream| {
        // Hold the connection open without answering, on a thread of its own.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            drop(stream);
        });
    });
    let dir = temp_dir("timeout");
    let (summary, _) = run(&dir, &scenario(server.port, "300ms"));
    server.finish();
    assert_eq!(only_error(&summary), ("timeout".to_string(), 10));
    let latency = &summary.steps[0].latency;
    assert!(latency.min_us >= 300_000, "a timed-out request waited the whole timeout: {latency:?}");
    assert!(latency.max_us < 1_000_000, "and not much more: {latency:?}");
}
