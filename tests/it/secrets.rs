//! Secrets stay out of the outputs: a journey that logs in (a password from a users file, the
//! session token captured from the answer and sent back as a bearer token, the session cookie
//! sent back in a `Cookie` header) must leave no password, token, cookie value or
//! Authorization header in anything schoolday writes or prints: summary.json, report.html,
//! timeline.csv, the .hlog files, the charts, junit.xml, the terminal, and the capacity
//! evidence pack (except the scenario file itself, which the pack copies as written).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use schoolday::demo::{EmbeddedConfig, EmbeddedTarget};

use super::{exclusive, temp_dir};

const PASSWORD: &str = "Pw-Secret-k7Q2x";

const SCENARIO: &str = r#"
name: secrets
target: embedded
embedded: { workers: 8, service_time: { default: 1ms, login: 2ms }, login_cpu: 0s }
duration: 3s
grace: 3s
http: { timeout: 5s }
personas:
  pupil:
    users: { csv: users.csv }
    arrival: { shape: constant, rate: 4/s, spacing: even }
    journey:
      - name: login
        post: /login
        json: { user: "{{ user.id }}", password: "{{ user.password }}" }
        capture: { token: json.token, session: cookie.ENTSESSION }
        check: { status: 200 }
      - name: agenda
        get: /agenda
        bearer: "{{ token }}"
      - name: homework
        get: /homework
        headers: { Cookie: "ENTSESSION={{ session }}", X-Echo: "{{ token }}" }
        goal: true
      - name: grades
        get: /grades
        headers: { Authorization: "Bearer {{ token }}" }
        # Fails on purpose: a failed check must not quote the response (or the request).
        check: { body_contains: "no such text {{ token }}" }
thresholds:
  - error_rate < 50%
claim: "pupil 2 concurrent, p95 < 2s, errors < 50%"
"#;

fn schoolday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().expect("run schoolday")
}

/// Every secret-looking thing in `bytes`: the password, and any run of exactly 32 lowercase
/// hex digits (the embedded target's session tokens, which are also its cookie values; a
/// SHA-256 is 64 and does not count).
fn leaks(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    if bytes.windows(PASSWORD.len()).any(|w| w == PASSWORD.as_bytes()) {
        found.push(format!("the password {PASSWORD}"));
    }
    let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    let mut run = 0;
    for (i, b) in bytes.iter().chain(std::iter::once(&b' ')).enumerate() {
        if hex(b) {
            run += 1;
            continue;
        }
        if run == 32 {
            found.push(format!("a token {}", String::from_utf8_lossy(&bytes[i - 32..i])));
        }
        run = 0;
    }
    for needle in ["ENTSESSION=", "Bearer ", "authorization: bearer"] {
        let lower: Vec<u8> = bytes.to_ascii_lowercase();
        let needle_lower = needle.to_ascii_lowercase();
        for (at, _) in lower.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle_lower.as_bytes()) {
            // The template as written (`{{ session }}`) is fine; a value after it is not.
            let after = &bytes[at + needle.len()..];
            if !after.starts_with(b"{{") {
                found.push(format!(
                    "`{needle}` followed by {:?}",
                    String::from_utf8_lossy(&after[..after.len().min(40)])
                ));
            }
        }
    }
    found
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let found = leaks(bytes);
    assert!(found.is_empty(), "{what} leaks {found:?}");
}

#[test]
fn the_detector_recognises_a_real_session() {
    // If the demo's tokens changed shape, the grep below would find nothing and prove nothing.
    let target = EmbeddedTarget::start(&EmbeddedConfig::default()).expect("embedded target");
    let mut stream = TcpStream::connect(target.addr()).unwrap();
    let body = format!(r#"{{"user":"alice","password":"{PASSWORD}"}}"#);
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let found = leaks(&answer);
    assert!(found.iter().any(|f| f.starts_with("a token ")), "{found:?} in {}", String::from_utf8_lossy(&answer));
    assert!(found.iter().any(|f| f.starts_with("`ENTSESSION=`")), "{found:?}");
    assert!(leaks(format!("sha256 {}", "ab12".repeat(16)).as_bytes()).is_empty(), "a SHA-256 is not a token");
    assert!(!leaks(format!("Authorization: Bearer {}", "0".repeat(32)).as_bytes()).is_empty());
    target.shutdown();
}

#[test]
fn no_output_of_a_run_that_logs_in_holds_a_secret() {
    let _machine = exclusive();
    let dir = temp_dir("secrets-run");
    std::fs::write(dir.join("users.csv"), format!("id,password\nalice,{PASSWORD}\nbob,{PASSWORD}\n")).unwrap();
    // Two rows: two users arrive, each logs in once.
    let yaml = SCENARIO;
    let scenario = dir.join("secrets.yaml");
    std::fs::write(&scenario, yaml).unwrap();
    let reports = dir.join("reports");
    let junit = dir.join("junit.xml");
    let out = schoolday(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        reports.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_clean("the terminal (stdout)", &out.stdout);
    assert_clean("the terminal (stderr)", &out.stderr);
    assert_clean("junit.xml", &std::fs::read(&junit).expect("junit written"));
    let written = files(&reports);
    assert!(written.iter().any(|p| p.ends_with("summary.json")), "{written:?}");
    assert!(written.iter().any(|p| p.ends_with("report.html")), "{written:?}");
    for file in &written {
        assert_clean(&file.display().to_string(), &std::fs::read(file).unwrap());
    }
    // The journey really logged in and used its session: there was something to leak.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(written.iter().find(|p| p.ends_with("summary.json")).unwrap()).unwrap())
            .unwrap();
    let ok = |step: &str| {
        summary["steps"].as_array().unwrap().iter().find(|s| s["name"] == step).map(|s| s["ok"].as_u64().unwrap())
    };
    assert_eq!(ok("login"), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(ok("agenda"), Some(2), "the bearer token was accepted");
    assert_eq!(ok("homework"), Some(2), "the session cookie was accepted");
    assert_eq!(ok("grades"), Some(0), "the failing check failed");
}

#[test]
fn the_capacity_evidence_pack_holds_no_secret_but_the_scenario_as_written() {
    let _machine = exclusive();
    let dir = temp_dir("secrets-capacity");
    std::fs::write(dir.join("users.csv"), format!("id,password\nalice,{PASSWORD}\nbob,{PASSWORD}\n")).unwrap();
    // The scenario carries a secret of its own: the pack copies the file as written.
    let yaml =
        SCENARIO.replace("http: { timeout: 5s }", "http: { timeout: 5s, headers: { X-Note: \"Pw-Secret-k7Q2x\" } }");
    let scenario = dir.join("secrets.yaml");
    std::fs::write(&scenario, &yaml).unwrap();
    let reports = dir.join("reports");
    let out = schoolday(&[
        "capacity",
        scenario.to_str().unwrap(),
        "--warmup",
        "1s",
        "--step-duration",
        "2s",
        "--repeat",
        "1",
        "--fractions",
        "0.5,1.0",
        "--out",
        reports.to_str().unwrap(),
    ]);
    assert_clean("the terminal (stdout)", &out.stdout);
    // stderr echoes nothing of the scenario either (progress lines, the verdict).
    assert_clean("the terminal (stderr)", &out.stderr);
    let written = files(&reports);
    assert!(
        written.iter().any(|p| p.ends_with("capacity.json")),
        "{written:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut copies = 0;
    for file in &written {
        let bytes = std::fs::read(file).unwrap();
        if bytes == yaml.as_bytes() {
            copies += 1;
            continue;
        }
        assert_clean(&file.display().to_string(), &bytes);
    }
    assert!(copies >= 1, "the pack holds the scenario as written: {written:?}");
}
