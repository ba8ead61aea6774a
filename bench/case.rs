//! One benchmark case, run in a process of its own so that its CPU time and resident memory
//! are its own: the suite (`bench/main.rs`) and the tests (`tests/it/bench.rs`) start a child
//! with `SCHOOLDAY_BENCH_CASE` set, and the child runs [`run`] and prints one `RESULT` line.
//!
//! A case is a quick-mode scenario (see `schoolday::quick`) run through the same pipeline as
//! `schoolday run`, measured from `/proc/self`: user + system CPU time around the run, and the
//! resident set size sampled by a side thread once every user has arrived.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use schoolday::quick::{self, Load, Options};
use schoolday::report::Style;
use schoolday::scenario::{ConnectionMode, Op};

/// The environment variable that turns a process into a benchmark case.
pub const ENV: &str = "SCHOOLDAY_BENCH_CASE";

/// Clock ticks per second of `/proc/self/stat` (`sysconf(_SC_CLK_TCK)`): 100 on every Linux
/// target schoolday runs on; reading it would need libc.
const CLOCK_TICKS: f64 = 100.0;

/// How long after the last arrival the resident set size is sampled: every user has had its
/// response and is thinking.
pub const SETTLE: Duration = Duration::from_millis(1000);

/// What a case does, parsed from `key=value` words.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `closed` (N users looping), `sessions` (users arriving at `rate`/s, `per_user`
    /// requests each), `idle` (N users that each send one request, then think for an hour) or
    /// `open` (`rate` one-request arrivals per second).
    pub kind: String,
    pub url: String,
    pub users: u64,
    pub rate: f64,
    pub per_user: u32,
    pub connections: ConnectionMode,
    /// `shared: N` (0: a connection per concurrent request).
    pub pool: u32,
    /// Source addresses, a CIDR (`127.0.0.0/24`; empty: the system's choice).
    pub local: String,
    /// `http.version`: auto, http1 or http2.
    pub version: String,
    /// A PEM file to trust for an https target (bench-target's certificate, made at start).
    pub ca: String,
    pub duration: Duration,
    pub ramp_up: Duration,
    pub out: PathBuf,
}

impl Spec {
    pub fn parse(text: &str) -> Spec {
        let mut spec = Spec {
            kind: String::new(),
            url: String::new(),
            users: 1,
            rate: 1.0,
            per_user: 10,
            connections: ConnectionMode::Shared,
            pool: 0,
            local: String::new(),
            version: "auto".into(),
            ca: String::new(),
            duration: Duration::from_secs(5),
            ramp_up: Duration::ZERO,
            out: std::env::temp_dir().join("schoolday-bench"),
        };
        for word in text.split_whitespace() {
            let (key, value) = word.split_once('=').expect("key=value");
            let duration = || humantime::parse_duration(value).expect("a duration");
            match key {
                "kind" => spec.kind = value.to_string(),
                "url" => spec.url = value.to_string(),
                "users" => spec.users = value.parse().expect("users"),
                "rate" => spec.rate = value.parse().expect("rate"),
                "per_user" => spec.per_user = value.parse().expect("per_user"),
                "connections" if value == "per-user" => spec.connections = ConnectionMode::PerUser,
                "connections" => spec.connections = ConnectionMode::Shared,
                "pool" => spec.pool = value.parse().expect("pool"),
                "local" => spec.local = value.to_string(),
                "version" => spec.version = value.to_string(),
                "ca" => spec.ca = value.to_string(),
                "duration" => spec.duration = duration(),
                "ramp_up" => spec.ramp_up = duration(),
                "out" => spec.out = PathBuf::from(value),
                other => panic!("unknown case key {other}"),
            }
        }
        spec
    }

    pub fn to_text(&self) -> String {
        format!(
            "kind={} url={} users={} rate={} per_user={} connections={} pool={} local={} version={} ca={} duration={}ms \
             ramp_up={}ms out={}",
            self.kind,
            self.url,
            self.users,
            self.rate,
            self.per_user,
            match self.connections {
                ConnectionMode::PerUser => "per-user",
                ConnectionMode::Shared => "shared",
            },
            self.pool,
            self.local,
            self.version,
            self.ca,
            self.duration.as_millis(),
            self.ramp_up.as_millis(),
            self.out.display()
        )
    }
}

/// Run the case in this process and return what was measured, by name.
pub fn run(spec: &Spec) -> BTreeMap<String, f64> {
    let load = match spec.kind.as_str() {
        "closed" => Load::Closed { users: spec.users, think: None, ramp_up: Some(spec.ramp_up) },
        "idle" => {
            Load::Closed { users: spec.users, think: Some(Duration::from_secs(3600)), ramp_up: Some(spec.ramp_up) }
        }
        "open" | "sessions" => Load::Open { rate: spec.rate },
        other => panic!("unknown case kind {other}"),
    };
    let mut options = Options::new(&spec.url, load);
    options.duration = spec.duration;
    options.connections = spec.connections;
    wire(spec, &mut options.client);
    let mut scenario = quick::scenario(&options).expect("a valid quick scenario");
    // Open arrivals keep quick mode's grace (the run ends as soon as the last user does);
    // closed-loop and idle users never end, so their run ends at `duration`.
    if spec.kind == "sessions" {
        // Users arrive open and each sends `per_user` requests back to back, then leaves (and
        // closes its connection): a new user, and a new handshake, every `per_user` requests.
        let journey = &mut scenario.personas[0].journey;
        journey.ops = vec![Op::LoopStart { count: spec.per_user, end: 2 }, Op::Request(0), Op::LoopEnd { start: 0 }];
    }

    // Sample RSS once everybody has arrived and settled into think time.
    let rss_at = spec.ramp_up + SETTLE;
    let rss_kib = Arc::new(AtomicU64::new(0));
    let sampler = {
        let rss_kib = rss_kib.clone();
        std::thread::spawn(move || {
            std::thread::sleep(rss_at);
            rss_kib.store(rss_kib_now(), Ordering::Relaxed);
        })
    };
    let cpu_before = cpu_seconds();
    let wall = Instant::now();
    let finished = schoolday::app::run_scenario(Arc::new(scenario), &spec.out, Style::plain()).expect("the case runs");
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let _ = sampler.join();
    let _ = std::fs::remove_dir_all(finished.dir.path());

    let s = &finished.summary;
    let errors: u64 = s.requests.errors.values().sum();
    let mut out = BTreeMap::new();
    out.insert("requests".into(), (s.requests.ok + errors) as f64);
    out.insert("errors".into(), errors as f64);
    out.insert("sent".into(), s.requests.sent as f64);
    out.insert("cpu_s".into(), cpu);
    out.insert("wall_s".into(), wall);
    out.insert("run_s".into(), s.run.elapsed_s);
    out.insert("rss_kib".into(), rss_kib.load(Ordering::Relaxed) as f64);
    out.insert("max_rss_kib".into(), max_rss_kib() as f64);
    out.insert("arrived".into(), s.personas[0].arrived as f64);
    out.insert("lag_p99_us".into(), s.generator.lag.p99_us as f64);
    out.insert("lag_max_us".into(), s.generator.lag.max_us as f64);
    out.insert("latency_p99_us".into(), s.steps[0].latency.p99_us as f64);
    out.insert("users_arrived".into(), s.personas[0].arrived as f64);
    out.insert("h2".into(), f64::from(u8::from(s.steps[0].http_versions.iter().any(|v| v == "HTTP/2"))));
    out
}

/// The connection settings of `spec`: pool size, source addresses, version, trusted CA.
fn wire(spec: &Spec, client: &mut schoolday::scenario::ClientSettings) {
    client.pool = (spec.pool > 0).then_some(spec.pool);
    if !spec.local.is_empty() {
        client.local_addresses = vec![spec.local.parse().expect("local=CIDR")];
    }
    client.version = match spec.version.as_str() {
        "http1" => schoolday::scenario::HttpVersion::Http1,
        "http2" => schoolday::scenario::HttpVersion::Http2,
        _ => schoolday::scenario::HttpVersion::Auto,
    };
    if !spec.ca.is_empty() {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(&spec.ca).expect("ca=FILE");
        client.tls.ca = certs.collect::<Result<_, _>>().expect("a PEM certificate");
    }
}

/// Run the case named by `SCHOOLDAY_BENCH_CASE` if it is set, print its `RESULT` line, and
/// say so (the caller then exits).
pub fn run_from_env() -> bool {
    let Ok(text) = std::env::var(ENV) else {
        return false;
    };
    let measured = run(&Spec::parse(&text));
    println!("{}", format_result(&measured));
    true
}

pub fn format_result(measured: &BTreeMap<String, f64>) -> String {
    let words: Vec<String> = measured.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("RESULT {}", words.join(" "))
}

/// The `RESULT` line of a child's output.
pub fn parse_result(stdout: &str) -> Option<BTreeMap<String, f64>> {
    // The test harness may print `test … ` on the same line first.
    let line = stdout.lines().find_map(|l| l.split_once("RESULT ").map(|(_, r)| r))?;
    line.split_whitespace()
        .map(|w| {
            let (k, v) = w.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// User + system CPU time of this process so far.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / CLOCK_TICKS
}

fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub fn rss_kib_now() -> u64 {
    status_kib("VmRSS:")
}

pub fn max_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Run `spec` in the child process `command` (this program, or the test binary filtered to
/// its child test), and return its measurements. Panics with the child's output if it fails.
pub fn in_child(mut command: std::process::Command, spec: &Spec) -> BTreeMap<String, f64> {
    let output = command
        .env(ENV, spec.to_text())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cannot start the benchmark case process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    match parse_result(&stdout) {
        Some(measured) if output.status.success() => measured,
        _ => panic!(
            "benchmark case `{}` failed ({}):\n{stdout}\n{}",
            spec.to_text(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}
