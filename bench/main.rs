//! The benchmark suite's harness (`bench/run` builds and runs it): start `bench-target` on one
//! core, run each case of `suite.rs` in a fresh process pinned to another, and print and write
//! `bench/RESULTS.md` with the machine, the commit and the load average next to the figures.
//!
//! Usage: `bench [--short] [--out FILE]`, or `bench --case 'kind=open rate=20000 duration=5s'`
//! to run one case (keys as in `case.rs`; the URL is filled in) and print what it measured.
//! Every figure comes from the run that prints it.

#[path = "case.rs"]
mod case;
#[path = "suite.rs"]
mod suite;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

fn main() {
    if case::run_from_env() {
        return;
    }
    let mut short = false;
    let mut single: Option<String> = None;
    let mut out = PathBuf::from("bench/RESULTS.md");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--short" => short = true,
            "--out" => out = PathBuf::from(args.next().expect("--out FILE")),
            "--case" => single = Some(args.next().expect("--case 'kind=open rate=500 …'")),
            other => panic!("unknown argument {other}; usage: bench [--short] [--out FILE]"),
        }
    }
    let machine = Machine::read();
    let pinned = machine.cores >= 2 && Command::new("taskset").arg("-V").output().is_ok();
    let pin = |core: u32, program: &std::path::Path| {
        let mut command = if pinned {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(core.to_string()).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.stderr(Stdio::null());
        command
    };
    let me = std::env::current_exe().expect("the harness's own path");
    let target_exe = me.with_file_name("bench-target");
    let (mut target, url) = start_target(pin(1, &target_exe));
    let load_before = load_average();
    eprintln!(
        "schoolday bench: {} · {} cores · {} · target {url}",
        machine.cpu,
        machine.cores,
        if pinned { "generator on core 0, target on core 1" } else { "not pinned" }
    );
    let mut runner = |spec: &case::Spec| {
        eprintln!("  {}", spec.to_text());
        let measured = case::in_child(pin(0, &me), spec);
        eprintln!("    {}", case::format_result(&measured));
        measured
    };
    if let Some(text) = single {
        let spec = case::Spec::parse(&format!("url={url} {text}"));
        let measured = runner(&spec);
        println!("{}", case::format_result(&measured));
        drop(target.stdin.take());
        let _ = target.wait();
        return;
    }
    let size = if short { suite::SHORT } else { suite::FULL };
    let mut rows = suite::run(&url, size, &mut runner);
    let (mut tls_target, tls_line) = start_target_with(pin(1, &target_exe), &["--tls"]);
    let (tls_url, ca) = tls_line.split_once(" ca ").expect("listening ADDR ca FILE");
    let tls_url = tls_url.replace("http://", "https://");
    let mut stalled = |spec_for: &dyn Fn(&str) -> case::Spec| {
        let (mut stall_target, stall_url) =
            start_target_with(pin(1, &target_exe), &["--stall-every", "5s", "--stall-for", "1s"]);
        let spec = spec_for(&stall_url);
        eprintln!("  {}", spec.to_text());
        let mut measured = case::in_child(pin(0, &me), &spec);
        drop(stall_target.stdin.take());
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(stall_target.stdout.as_mut().expect("piped"), &mut rest);
        let _ = stall_target.wait();
        if let Some(p99) = rest.split_whitespace().find_map(|w| w.strip_prefix("p99_us=")) {
            measured.insert("truth_p99_us".into(), p99.parse().unwrap_or(f64::NAN));
        }
        measured
    };
    let targets =
        suite::WireTargets { plain: &url, tls: (&tls_url, ca), stalled: &mut stalled, descriptors: open_files_limit() };
    let plain_us = rows.get(1).map(|r| r.value).unwrap_or(0.0);
    let wire = suite::run_wire(targets, size, plain_us, &mut runner);
    rows.extend(wire);
    drop(tls_target.stdin.take());
    let _ = tls_target.wait();
    let load_after = load_average();
    drop(target.stdin.take());
    let _ = target.wait();

    let report = format!(
        "# schoolday benchmark results\n\n\
         Written by `bench/run`{}; every figure comes from the run that printed it.\n\n\
         - machine: {} × {} ({} cores), Linux {}\n\
         - commit: {}\n\
         - date: {}\n\
         - pinning: {}\n\
         - load average (1 min) before / after the suite: {} / {}\n\
         - target: `bench-target` (one thread, 200 with a 13-byte body at once) on 127.0.0.1\n\n{}",
        if short { " --short" } else { "" },
        machine.cpu,
        machine.cores,
        machine.cores,
        machine.kernel,
        git(&["rev-parse", "--short", "HEAD"]) + &dirty(),
        command_text("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        if pinned {
            "generator pinned to core 0, target to core 1 (taskset)"
        } else {
            "none (fewer than 2 cores or no taskset)"
        },
        load_before,
        load_after,
        suite::table(&rows)
    );
    println!("{report}");
    // Only the table and its header: the analysis below it in RESULTS.md is written by hand
    // and kept.
    let previous = std::fs::read_to_string(&out).unwrap_or_default();
    let analysis =
        previous.split_once(ANALYSIS_MARK).map(|(_, rest)| format!("{ANALYSIS_MARK}{rest}")).unwrap_or_default();
    std::fs::write(&out, format!("{report}{analysis}"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    eprintln!("written to {}", out.display());
}

/// Where the hand-written part of RESULTS.md starts: its first section heading (the generated
/// part has none). A fixed heading text was lost once a section was renamed.
const ANALYSIS_MARK: &str = "\n## ";

fn start_target(command: Command) -> (Child, String) {
    start_target_with(command, &[])
}

/// Start bench-target with `args`; returns it and what follows `listening` (its URL, and
/// ` ca FILE` with `--tls`).
fn start_target_with(mut command: Command, args: &[&str]) -> (Child, String) {
    let mut child = command
        .args(["--max-seconds", "900"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot start bench-target (build it with `cargo build --release --examples`)");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("piped"))
        .read_line(&mut line)
        .expect("bench-target prints its address");
    let rest = line.trim().strip_prefix("listening ").expect("listening ADDR");
    let (addr, ca) = match rest.split_once(' ') {
        Some((addr, ca)) => (addr, format!(" {ca}")),
        None => (rest, String::new()),
    };
    (child, format!("http://{addr}/health{ca}"))
}

struct Machine {
    cpu: String,
    cores: u32,
    kernel: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = cpuinfo.lines().filter(|l| l.starts_with("processor")).count() as u32;
        Machine { cpu, cores, kernel: command_text("uname", &["-r"]) }
    }
}

/// The soft limit on open files (`ulimit -n`): every held connection takes one.
fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn git(args: &[&str]) -> String {
    command_text("git", args)
}

fn dirty() -> String {
    if git(&["status", "--porcelain", "--untracked-files=no"]).is_empty() {
        String::new()
    } else {
        " (with uncommitted changes)".into()
    }
}

fn command_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
