//! The five cases of the benchmark suite, as data: what each runs, how its figure is derived
//! from the measurements, and the goal and peers it is compared with. `bench/main.rs` runs the
//! full version against `bench-target` on pinned cores; `tests/it/bench.rs` runs the short
//! version against the embedded target so that the suite cannot rot.

use std::collections::BTreeMap;
use std::time::Duration;

use super::case::Spec;
use schoolday::scenario::ConnectionMode;

/// Runs one case in its own process and returns what it measured.
pub type Runner<'a> = &'a mut dyn FnMut(&Spec) -> BTreeMap<String, f64>;

/// How big a suite to run.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Measured length of the CPU cases (1, 2).
    pub cpu_run: Duration,
    /// Concurrent idle users for case 3.
    pub idle_users: &'static [u64],
    /// Per-user-connection idle users for the extra row of case 3 (0: skipped).
    pub idle_per_user: u64,
    /// Arrival rate and length of case 4.
    pub lag_rate: f64,
    pub lag_run: Duration,
    /// Case 5: first rate tried, length of each probe, and how many probes at most.
    pub search_from: f64,
    pub search_run: Duration,
    pub search_probes: u32,
    /// Case 3b: idle users each holding its own connection (capped by the descriptor limit).
    pub held_users: u64,
    /// Cases 6 and 7: length of the measured run.
    pub tls_run: Duration,
    /// Case 8: arrival rate and length against the stalling target.
    pub stall_rate: f64,
    pub stall_run: Duration,
}

/// What `bench/run` runs: about three minutes.
#[allow(dead_code)] // not by the tests, which include this file too
pub const FULL: Size = Size {
    cpu_run: Duration::from_secs(10),
    idle_users: &[10_000, 50_000, 100_000],
    idle_per_user: 10_000,
    lag_rate: 20_000.0,
    lag_run: Duration::from_secs(30),
    search_from: 5_000.0,
    search_run: Duration::from_secs(5),
    search_probes: 7,
    held_users: 100_000,
    tls_run: Duration::from_secs(10),
    stall_rate: 20_000.0,
    stall_run: Duration::from_secs(10),
};

/// What the tests run: about ten seconds, in a debug build.
pub const SHORT: Size = Size {
    cpu_run: Duration::from_secs(1),
    idle_users: &[2_000],
    idle_per_user: 0,
    lag_rate: 500.0,
    lag_run: Duration::from_secs(1),
    search_from: 500.0,
    search_run: Duration::from_secs(1),
    search_probes: 2,
    held_users: 1_000,
    tls_run: Duration::from_secs(1),
    stall_rate: 500.0,
    stall_run: Duration::from_secs(6),
};

/// Arrivals per second while idle users ramp up in case 3: fast, but kept to a rate the
/// generator holds easily so that the figure is memory, not backlog.
const IDLE_ARRIVALS_PER_S: f64 = 20_000.0;

/// Users of the closed loop in case 1: enough to keep one generator core saturated.
const CLOSED_USERS: u64 = 64;

/// Requests per user in case 2.
const PER_USER: u32 = 10;

/// One row of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    pub case: String,
    /// The figure as a number, for the tests to check.
    #[allow(dead_code)]
    pub value: f64,
    /// The figure, formatted with its unit.
    pub figure: String,
    pub goal: String,
    /// What else the run measured, for the reader who doubts the figure.
    pub detail: String,
}

/// Run the suite against `url` (a route answering 200 at once), case by case.
pub fn run(url: &str, size: Size, runner: Runner) -> Vec<Row> {
    let base = |kind: &str| Spec { kind: kind.to_string(), url: url.to_string(), ..Spec::parse("") };
    let mut rows = Vec::new();

    // 1. CPU per request at saturation, shared keep-alive connections.
    let closed = runner(&Spec { users: CLOSED_USERS, duration: size.cpu_run, ..base("closed") });
    let us = micros_per_request(&closed);
    rows.push(Row {
        case: "1. CPU per request, shared keep-alive".into(),
        value: us,
        figure: format!("{us:.1} µs/req"),
        goal: "≤ 6.9 (oha), aim 5.7 (wrk)".into(),
        detail: format!(
            "{} users closed loop, {:.0} req/s, generator CPU {:.0}%, {} errors",
            CLOSED_USERS,
            closed["requests"] / closed["run_s"],
            100.0 * closed["cpu_s"] / closed["wall_s"],
            closed["errors"]
        ),
    });

    // 2. The same with a new user (and connection) every 10 requests. Users arrive open, so
    // calibrate: a short probe measures CPU per request, then the measured run offers ~90%
    // of what one core can do.
    let rate0 = (closed["requests"] / closed["run_s"] / PER_USER as f64 / 4.0).max(10.0);
    let session = |rate: f64, duration: Duration| Spec {
        rate,
        per_user: PER_USER,
        connections: ConnectionMode::PerUser,
        duration,
        ..base("sessions")
    };
    let probe = runner(&session(rate0, size.cpu_run.min(Duration::from_secs(2))));
    let capacity_rps = 1e6 / micros_per_request(&probe);
    let rate = (0.9 * capacity_rps / PER_USER as f64).max(10.0);
    let sessions = runner(&session(rate, size.cpu_run));
    let us = micros_per_request(&sessions);
    rows.push(Row {
        case: "2. CPU per request, per-user connections, new user every 10 requests".into(),
        value: us,
        figure: format!("{us:.1} µs/req"),
        goal: "(wrk/oha reconnect: no published figure)".into(),
        detail: format!(
            "{:.0} users/s, {:.0} req/s, generator CPU {:.0}%, lag p99 {}, {} errors",
            rate,
            sessions["requests"] / sessions["run_s"],
            100.0 * sessions["cpu_s"] / sessions["wall_s"],
            micros_text(sessions["lag_p99_us"]),
            sessions["errors"]
        ),
    });

    // 3. Resident memory per idle user, minus an empty run's.
    let idle = |users: u64, connections: ConnectionMode| {
        let ramp_up = Duration::from_secs_f64(users as f64 / IDLE_ARRIVALS_PER_S);
        Spec {
            users,
            connections,
            ramp_up,
            duration: ramp_up + super::case::SETTLE + Duration::from_millis(500),
            ..base("idle")
        }
    };
    let baseline = runner(&idle(1, ConnectionMode::Shared));
    let per_user_kib =
        |m: &BTreeMap<String, f64>, users: u64| (m["rss_kib"] - baseline["rss_kib"]) / (users - 1) as f64;
    let mut idle_rows = |users: u64, connections: ConnectionMode, label: &str| {
        let m = runner(&idle(users, connections));
        let kib = per_user_kib(&m, users);
        rows.push(Row {
            case: format!("3. Memory per idle user, {} users{label}", count(users)),
            value: kib,
            figure: format!("{kib:.1} KiB/user"),
            goal: "≤ 8 KiB".into(),
            detail: format!(
                "RSS {:.0} MiB vs empty run {:.0} MiB, {} arrived, {} answered{}",
                m["rss_kib"] / 1024.0,
                baseline["rss_kib"] / 1024.0,
                m["arrived"],
                m["requests"],
                if m["requests"] < users as f64 {
                    " (NOT all thinking at the sample: the generator fell behind)"
                } else {
                    ""
                }
            ),
        });
    };
    for &users in size.idle_users {
        idle_rows(users, ConnectionMode::Shared, ", shared pool");
    }
    if size.idle_per_user > 1 {
        let label = ", per-user connections (each holds its client and socket)";
        idle_rows(size.idle_per_user, ConnectionMode::PerUser, label);
    }

    // 4. Schedule lag at a steady arrival rate.
    let open = |rate: f64, duration: Duration| Spec { rate, duration, ..base("open") };
    let lag = runner(&open(size.lag_rate, size.lag_run));
    rows.push(Row {
        case: format!("4. Schedule lag, {} arrivals/s for {}s", count(size.lag_rate as u64), size.lag_run.as_secs()),
        value: lag["lag_p99_us"],
        figure: format!("p99 {} · max {}", micros_text(lag["lag_p99_us"]), micros_text(lag["lag_max_us"])),
        goal: "p99 < 1 ms".into(),
        detail: format!(
            "{} requests, generator CPU {:.0}%, latency p99 {}",
            lag["requests"],
            100.0 * lag["cpu_s"] / lag["wall_s"],
            micros_text(lag["latency_p99_us"])
        ),
    });

    // 5. The largest arrival rate with lag p99 under 1 ms: double until it breaks, then
    // bisect between the last good and the first bad rate.
    let sustained = |m: &BTreeMap<String, f64>| m["lag_p99_us"] < 1000.0 && m["errors"] == 0.0;
    let (mut good, mut bad) = (0.0f64, f64::INFINITY);
    let mut rate = size.search_from;
    let mut tried = Vec::new();
    for _ in 0..size.search_probes {
        let m = runner(&open(rate, size.search_run));
        tried.push(format!("{}/s → p99 {}", count(rate as u64), micros_text(m["lag_p99_us"])));
        if sustained(&m) {
            good = rate;
        } else {
            bad = rate;
        }
        rate = if bad.is_finite() { (good + bad) / 2.0 } else { rate * 2.0 };
    }
    rows.push(Row {
        case: "5. Largest arrival rate with lag p99 < 1 ms".into(),
        value: good,
        figure: format!("{} arrivals/s", count(good as u64)),
        goal: "(k6, Goose: not published)".into(),
        detail: format!("one request each, shared pool; probes: {}", tried.join(", ")),
    });
    rows
}

/// Runs a case built for a given URL against a fresh stalling target.
#[allow(dead_code)]
pub type Stalled<'a> = dyn FnMut(&dyn Fn(&str) -> Spec) -> BTreeMap<String, f64> + 'a;

/// The targets cases 3b, 6, 7 and 8 need besides the plain one.
#[allow(dead_code)] // only bench/main.rs runs these cases
pub struct WireTargets<'a> {
    /// The plain target's URL (case 3b).
    pub plain: &'a str,
    /// An https URL and the PEM file of its certificate (cases 6, 7).
    pub tls: (&'a str, &'a str),
    /// Starts a target that stalls 1 s every 5 s, runs the case against its URL, stops it and
    /// returns the case's measurements with the target's truth (`truth_p99_us`).
    pub stalled: &'a mut Stalled<'a>,
    /// Open files this process may hold: each held connection is one.
    pub descriptors: u64,
}

/// Cases 3b, 6, 7 and 8: per-user connections held, per-user HTTPS and HTTP/2, a stalling
/// target. `plain_us` is case 2's CPU per request, to which case 6 adds handshakes.
#[allow(dead_code)]
pub fn run_wire(targets: WireTargets, size: Size, plain_us: f64, runner: Runner) -> Vec<Row> {
    let mut rows = Vec::new();
    let base = |kind: &str, url: &str| Spec { kind: kind.to_string(), url: url.to_string(), ..Spec::parse("") };

    // 3b. Idle users, each holding its own open keep-alive connection, spread over 127.0.0.0/24.
    let users = size.held_users.min(targets.descriptors.saturating_sub(2_000)).max(2);
    let ramp_up = Duration::from_secs_f64(users as f64 / IDLE_ARRIVALS_PER_S);
    let idle = |users: u64| Spec {
        users,
        connections: ConnectionMode::PerUser,
        local: "127.0.0.0/24".into(),
        ramp_up,
        duration: ramp_up + super::case::SETTLE + Duration::from_millis(500),
        ..base("idle", targets.plain)
    };
    let empty = runner(&idle(1));
    let held = runner(&idle(users));
    let kib = (held["rss_kib"] - empty["rss_kib"]) / (users - 1) as f64;
    rows.push(Row {
        case: format!("3b. Memory per user holding its own connection, {} users", count(users)),
        value: kib,
        figure: format!("{kib:.1} KiB/user"),
        goal: "≤ 1.5× wrk's 4.5 KiB per connection".into(),
        detail: format!(
            "127.0.0.0/24 source addresses, {} answered, {} errors{}",
            held["requests"],
            held["errors"],
            if users < size.held_users {
                format!(
                    " (capped from {}: this process may open {} files)",
                    count(size.held_users),
                    targets.descriptors
                )
            } else {
                String::new()
            }
        ),
    });

    // 6 and 7. Per-user HTTPS, a new user (and a full TLS 1.3 handshake) every 10 requests.
    let (url, ca) = targets.tls;
    for (case, version) in [
        ("6. CPU per request, per-user HTTPS (HTTP/1.1)", "http1"),
        ("7. CPU per request, per-user HTTP/2 over TLS", "auto"),
    ] {
        let spec = Spec {
            rate: 1_000.0,
            per_user: PER_USER,
            connections: ConnectionMode::PerUser,
            version: version.into(),
            ca: ca.into(),
            duration: size.tls_run,
            ..base("sessions", url)
        };
        let m = runner(&spec);
        let us = micros_per_request(&m);
        let handshake_us = (us - plain_us) * PER_USER as f64;
        rows.push(Row {
            case: case.into(),
            value: us,
            figure: format!("{us:.1} µs/req"),
            goal: "(h2load -n/-c: same run only)".into(),
            detail: format!(
                "{:.0} users/s, {:.0} req/s, ≈ {handshake_us:.0} µs per handshake over case 2, HTTP/2 {}, lag p99 {}, {} errors",
                spec.rate,
                m["requests"] / m["run_s"],
                if m["h2"] > 0.0 { "yes" } else { "no" },
                micros_text(m["lag_p99_us"]),
                m["errors"]
            ),
        });
    }

    // 8. An open model against a target that stalls 1 s every 5 s, in both connection modes.
    for (label, connections, pool) in
        [("per-user", ConnectionMode::PerUser, 0), ("shared: 64", ConnectionMode::Shared, 64)]
    {
        // Per user, every arrival of a stall holds its own connection until the stall ends (and
        // so does the target): at 20,000/s that is more descriptors than a process may have here.
        let fits = (targets.descriptors.saturating_sub(2_000) as f64 / 1.5).max(1.0);
        let rate = if pool == 0 { size.stall_rate.min(fits) } else { size.stall_rate };
        let duration = size.stall_run;
        // Each per-user arrival is a new connection: over one source address the kernel's search
        // for a free port among the closed ones waiting out TIME_WAIT took most of the core.
        let local = if pool == 0 { "127.0.0.0/24" } else { "" };
        let m = (targets.stalled)(&|url: &str| Spec {
            rate,
            connections,
            pool,
            duration,
            local: local.into(),
            ..base("open", url)
        });
        let reported = m["latency_p99_us"];
        let truth = m.get("truth_p99_us").copied().unwrap_or(f64::NAN);
        rows.push(Row {
            case: format!("8. Stalling target, {} arrivals/s, {label}", count(rate as u64)),
            value: m["lag_p99_us"],
            figure: format!(
                "lag p99 {} · p99 {} vs server {}",
                micros_text(m["lag_p99_us"]),
                micros_text(reported),
                micros_text(truth)
            ),
            goal: "lag p99 < 1 ms, p99 within 2% of the server's".into(),
            detail: format!(
                "{} requests, {} errors, generator CPU {:.0}%{}",
                m["requests"],
                m["errors"],
                100.0 * m["cpu_s"] / m["wall_s"],
                if pool > 0 {
                    "; the pool queues on the client, so the server sees less than users wait".to_string()
                } else {
                    let capped = if rate < size.stall_rate {
                        format!(
                            " (capped from {}/s: a stall holds a connection per arrival, and this process may \
                             open {} files)",
                            count(size.stall_rate as u64),
                            targets.descriptors
                        )
                    } else {
                        String::new()
                    };
                    format!("; 127.0.0.0/24 source addresses{capped}")
                }
            ),
        });
    }
    rows
}

fn micros_per_request(m: &BTreeMap<String, f64>) -> f64 {
    1e6 * m["cpu_s"] / m["requests"].max(1.0)
}

fn micros_text(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn count(n: u64) -> String {
    let text = n.to_string();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && (text.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The results table, in Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| case | result | goal / peers | measured in the same run |\n");
    out.push_str("|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!("| {} | **{}** | {} | {} |\n", r.case, r.figure, r.goal, r.detail));
    }
    out
}
