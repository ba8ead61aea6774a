//! Sharded runs end to end, on loopback: `schoolday target` in its own process, three shard
//! processes started together by one `--start-at`, then `schoolday merge`. The merged run must
//! account for exactly the single-process plan, match what the target itself counted per
//! route, and have the percentiles of the union of the shards' own interval logs.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schoolday::analysis::Summary;

use super::temp_dir;

fn schoolday(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().expect("run schoolday")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `schoolday target` on a free port: the process and its base URL.
fn start_target() -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_schoolday"))
        .args(["target", "--port", "0", "--workers", "16", "--queue", "1000", "--service-time", "2ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start schoolday target");
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://127.0.0.1:")).expect(&line);
    (child, url.trim_end_matches('/').to_string())
}

/// Ctrl-C the target and read what it saw.
fn stop_target(child: Child) -> serde_json::Value {
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the target's counts on stdout")
}

const SCENARIO: &str = "name: Sharded morning
target: TARGET
duration: 4s
grace: 4s
seed: 2026
http:
  timeout: 5s
personas:
  pupil:
    population: 150
    arrival: { shape: constant, rate: 40/s }
    blocked: [ { from: 3s, to: 3500ms } ]
    think: 50ms..200ms
    journey:
      - name: login
        post: /login
        json: { user: \"{{ user.id }}\", password: \"demo\" }
        capture: { token: json.token }
      - name: homework
        get: /homework
        bearer: \"{{ token }}\"
        goal: true
  exam:
    population: 61
    arrival: { shape: burst, at: 1s, spread: 500ms }
    journey:
      - name: login
        post: /login
        json: { user: \"{{ user.id }}\", password: \"demo\" }
        capture: { token: json.token }
      - name: start
        post: /exam/start
        bearer: \"{{ token }}\"
        json: { exam: \"mock\" }
        goal: true
thresholds:
  - pupil.homework p95 < 5s
  - requests >= 100
";

fn read_summary(dir: &Path) -> Summary {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).expect("summary.json")).expect("a summary")
}

fn shard_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    dirs
}

/// Every interval of a shard's log for one step, added up.
fn union_of_logs(dirs: &[PathBuf], file: &str) -> hdrhistogram::Histogram<u64> {
    let mut all = schoolday::metrics::new_histogram();
    for dir in dirs {
        let text = std::fs::read(dir.join("hlog").join(file)).expect("a per-second log");
        for h in schoolday::report::hlog::read(&text).unwrap() {
            all.add(&h).unwrap();
        }
    }
    all
}

#[test]
fn three_shards_started_together_merge_into_the_single_process_run() {
    let _machine = super::exclusive();
    let dir = temp_dir("shard-e2e");
    let (target, url) = start_target();
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, SCENARIO.replace("TARGET", &url)).unwrap();
    let scenario = schoolday::scenario::load_file(&path).expect("the scenario loads");
    let shards_root = dir.join("shards");

    // One barrier for all three, a little ahead so that every process is waiting at it.
    let start_at = (SystemTime::now() + Duration::from_secs(3)).duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let start_at = format!("{start_at:.3}");
    let children: Vec<Child> = (0..3)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_schoolday"))
                .args(["run", path.to_str().unwrap(), "--shard", &format!("{i}/3"), "--start-at", &start_at])
                .args(["--out", shards_root.to_str().unwrap(), "--lag-limit", "1s", "--start-tolerance", "5s"])
                .env("NO_COLOR", "1")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "a shard failed:\n{}\n{}", text(&out.stdout), text(&out.stderr));
    }
    let counts = stop_target(target);
    let shards = shard_dirs(&shards_root);
    assert_eq!(shards.len(), 3, "{shards:?}");

    let merged_dir = dir.join("merged");
    let junit = dir.join("junit.xml");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), merged_dir.display().to_string(), "--junit".into(), junit.display().to_string()]);
    let out = schoolday(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Merged from 3 shards"), "{stdout}");
    let merged = read_summary(&merged_dir);

    // Every user of the single-process plan, each on exactly one shard.
    let plan = schoolday::load::plan(&scenario);
    for (p, planned) in merged.personas.iter().zip(&plan.personas) {
        assert_eq!(p.scheduled, planned.users, "{}", p.name);
        assert_eq!(p.blocked, planned.blocked, "{}", p.name);
        assert!(p.accounting_closes, "{p:?}");
    }
    assert!(merged.personas[0].blocked > 0, "the blocked window held users back");
    let per_shard: Vec<u64> = merged.shards.iter().map(|s| s.scheduled).collect();
    assert_eq!(per_shard.iter().sum::<u64>(), plan.arrivals.len() as u64);
    assert!(per_shard.iter().all(|&n| n.abs_diff(plan.arrivals.len() as u64 / 3) <= 1), "{per_shard:?}");

    // The harness's requests are exactly what the target received, route by route.
    let mut sent = std::collections::BTreeMap::<String, u64>::new();
    for step in &merged.steps {
        *sent.entry(format!("{} {}", step.method, step.path)).or_default() += step.sent;
    }
    let received: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(counts["received"].clone()).expect("received per route");
    assert_eq!(sent, received, "sent per route vs the target's own counts");
    assert_eq!(merged.requests.sent, received.values().sum::<u64>());

    // Merged percentiles are those of every interval the shards logged, added up.
    for step in &merged.steps {
        let file = schoolday::report::hlog::step_file(&step.persona, &step.name);
        let union = union_of_logs(&shards, &file);
        assert_eq!(union.len(), step.latency.count, "{file}");
        for (q, merged_value) in [(0.5, step.latency.p50_us), (0.95, step.latency.p95_us), (0.99, step.latency.p99_us)]
        {
            assert_eq!(union.value_at_quantile(q), merged_value, "{file} p{q}");
        }
        assert_eq!(union.max(), step.latency.max_us, "{file}");
        // The merged run's own per-second log holds the same requests.
        assert_eq!(union_of_logs(std::slice::from_ref(&merged_dir), &file), union, "{file}");
    }
    // The timeline adds up to the totals, second by second aligned on the wall clock.
    let timeline_started: u64 = merged.timeline.iter().map(|s| s.started).sum();
    assert_eq!(timeline_started, merged.requests.sent);
    let arrivals: u64 = merged.timeline.iter().map(|s| s.arrivals).sum();
    assert_eq!(arrivals, merged.personas.iter().map(|p| p.arrived).sum::<u64>());

    // Each shard says who it was, when it started against the barrier, and on what.
    assert_eq!(merged.shards.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 1, 2]);
    for s in &merged.shards {
        let skew = s.skew_us.expect("a barrier was set");
        assert!(skew.abs() < 5_000_000, "shard {} started {skew} µs off the barrier", s.index);
        assert!(!s.machine.is_empty() && s.cores >= 1);
    }
    assert_eq!(merged.thresholds.len(), 2);
    assert!(merged.thresholds.iter().all(|t| t.pass), "{:?}", merged.thresholds);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("requests &gt;= 100") || xml.contains("requests >= 100"), "{xml}");
    for file in ["report.html", "timeline.csv", "charts", "hlog/generator-lag.hlog", "scenario.yaml"] {
        assert!(merged_dir.join(file).exists(), "{file} in the merged run directory");
    }
    let html = std::fs::read_to_string(merged_dir.join("report.html")).unwrap();
    assert!(html.contains("Merged from 3 shards") && html.contains("start skew"), "the report shows the shards");

    refusals(&dir, &shards);
}

/// The merge refuses a missing shard, a shard of another run and a duplicate, naming them.
fn refusals(dir: &Path, shards: &[PathBuf]) {
    let out_dir = dir.join("refused");
    let out_arg = out_dir.display().to_string();
    let paths: Vec<String> = shards.iter().map(|p| p.display().to_string()).collect();
    let merge = |dirs: &[&str]| {
        let mut args = vec!["merge"];
        args.extend(dirs);
        args.extend(["--out", &out_arg]);
        schoolday(&args)
    };
    let missing = merge(&[&paths[0], &paths[2]]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("1 of 3 shards missing: shard 1/3"), "{}", text(&missing.stderr));

    let duplicate = merge(&[&paths[0], &paths[1], &paths[1]]);
    assert_eq!(duplicate.status.code(), Some(2));
    assert!(text(&duplicate.stderr).contains("shard 1 of 3 is given twice"), "{}", text(&duplicate.stderr));

    // The same shard, but of a run with another seed.
    let other = dir.join("other-seed");
    std::fs::create_dir_all(&other).unwrap();
    let mut summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shards[1].join("summary.json")).unwrap()).unwrap();
    summary["shards"][0]["seed"] = 7.into();
    std::fs::write(other.join("summary.json"), serde_json::to_vec(&summary).unwrap()).unwrap();
    let other = other.display().to_string();
    let mixed = merge(&[&paths[0], &other, &paths[2]]);
    assert_eq!(mixed.status.code(), Some(2));
    let stderr = text(&mixed.stderr);
    assert!(
        stderr.contains("not shards of the same run: the seed differs") && stderr.contains("other-seed"),
        "{stderr}"
    );
    assert!(!out_dir.join("summary.json").exists(), "nothing written for a refused merge");
}

#[test]
fn a_shard_late_for_its_barrier_exits_7_and_leaves_no_run_directory() {
    let dir = temp_dir("shard-late");
    let path = dir.join("scenario.yaml");
    std::fs::write(&path, SCENARIO.replace("TARGET", "http://127.0.0.1:9")).unwrap();
    let past = (SystemTime::now() - Duration::from_secs(60)).duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let out_root = dir.join("out");
    let out = schoolday(&[
        "run",
        path.to_str().unwrap(),
        "--shard",
        "0/2",
        "--start-at",
        &past,
        "--out",
        out_root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("beyond the tolerance"), "{}", text(&out.stderr));
    assert!(!out_root.exists() || shard_dirs(&out_root).is_empty(), "no run directory for a shard that did not run");
}

#[test]
fn a_sharded_run_needs_a_real_target_url() {
    let out = schoolday(&["run", "scenarios/smoke.yaml", "--shard", "0/2"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("a sharded run needs a real target URL") && stderr.contains("--target URL"), "{stderr}");
    let out = schoolday(&["run", "scenarios/smoke.yaml", "--shard", "auto", "--shards", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("JOB_COMPLETION_INDEX"), "{}", text(&out.stderr));
}
