//! The conventions of other tools, checked with those tools' own parsers: the scenario and
//! summary JSON Schemas with a real validator (the `jsonschema` crate), the live endpoint with
//! a Prometheus text parser, the Grafana dashboard against the metrics served, and the
//! shell's completions, man page, `--output json` (run, validate, compare) and the text bars.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use schoolday::report::prometheus::METRICS;
use schoolday::report::Style;

use super::{assert_accounting_closes, scenario_in, temp_dir};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn scenario_validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&schoolday::scenario::schema::scenario_json()).unwrap();
    jsonschema::draft7::new(&schema).expect("the generated schema is valid draft-07")
}

/// The file as the editor sees it: YAML read into JSON. `None` if it is not YAML at all.
fn as_json(path: &Path) -> Option<Value> {
    serde_yaml::from_str::<Value>(&std::fs::read_to_string(path).unwrap()).ok()
}

fn schema_errors(validator: &jsonschema::Validator, path: &Path) -> Vec<String> {
    match as_json(path) {
        Some(value) => validator.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect(),
        None => vec!["not YAML".into()],
    }
}

#[test]
fn the_committed_scenario_schema_is_the_generated_one() {
    let committed = std::fs::read_to_string(repo("docs/scenario.schema.json")).unwrap();
    assert!(
        committed == schoolday::scenario::schema::scenario_json(),
        "docs/scenario.schema.json is stale: run `cargo run -- schema > docs/scenario.schema.json`"
    );
}

#[test]
fn shipped_scenarios_and_valid_fixtures_pass_the_schema() {
    let validator = scenario_validator();
    let mut files = yaml_files("scenarios");
    assert!(files.len() >= 5, "the shipped scenarios are found");
    for file in &files {
        let first = std::fs::read_to_string(file).unwrap().lines().next().unwrap_or_default().to_string();
        assert_eq!(
            first,
            "# yaml-language-server: $schema=../docs/scenario.schema.json",
            "{} does not point editors at the schema",
            file.display()
        );
    }
    files.extend(yaml_files("tests/fixtures/scenarios/valid"));
    for file in &files {
        assert!(schoolday::scenario::load_file(file).is_ok(), "{} loads", file.display());
        let errors = schema_errors(&validator, file);
        assert!(errors.is_empty(), "{} is refused by the schema: {errors:#?}", file.display());
    }
}

/// Mistakes only the loader can see: they need the rest of the scenario (names, times, files)
/// or arithmetic on values. The schema lets these through; every other invalid fixture is a
/// type or key mistake and must be refused by the editor already. (Keys that exclude each
/// other — two methods, two bodies, think mixed with a request — and a key written twice are
/// left to the loader too: its message says which to keep.)
const SEMANTIC: [&str; 31] = [
    // What a CSV arrival file holds is read by the loader, not described by the schema.
    "arrival-csv-bad-row",
    "at-beyond-duration",
    "bad-capture-name",
    "bad-header",
    "choose-no-branch",
    "choose-zero-weight",
    "claim-unknown-persona",
    // Which keys a shape needs depends on the shape: the loader says so, with the fix.
    "deadline-without-rate",
    "csv-missing",
    "csv-too-few-rows",
    "csv-unknown-column",
    "duplicate-persona",
    "duplicate-step-name",
    "embedded-with-url",
    "key-not-for-shape",
    "no-goal",
    "no-method",
    "peak-without-population",
    "scale-zero",
    "think-mixed",
    "threshold-amplification",
    "threshold-bare-rate",
    "threshold-goal-per-step",
    "threshold-no-unit",
    "threshold-unknown-persona",
    "threshold-unknown-step",
    "two-bodies",
    "two-goals",
    "two-methods",
    "unclosed-template",
    "unknown-variable",
];

#[test]
fn invalid_fixtures_with_a_type_or_key_mistake_are_refused_by_the_schema() {
    let validator = scenario_validator();
    let files = yaml_files("tests/fixtures/scenarios/invalid");
    let mut wrong = Vec::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(schoolday::scenario::load_file(file).is_err(), "{name} is refused by the loader");
        let refused = !schema_errors(&validator, file).is_empty();
        let semantic = SEMANTIC.contains(&name.as_str());
        if refused == semantic {
            wrong.push(format!("{name}: schema {}", if refused { "refuses it" } else { "accepts it" }));
        }
    }
    for name in SEMANTIC {
        assert!(files.iter().any(|f| f.file_stem().unwrap() == name), "{name} is still a fixture");
    }
    assert!(wrong.is_empty(), "fixtures on the wrong side of the schema: {wrong:#?}");
}

#[test]
fn the_schema_explains_and_completes() {
    let schema: Value = serde_json::from_str(&schoolday::scenario::schema::scenario_json()).unwrap();
    let printed = Command::new(env!("CARGO_BIN_EXE_schoolday")).arg("schema").output().unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&printed.stdout).unwrap(), schema, "`schoolday schema` prints it");
    let text = schema.to_string();
    for closed in ["\"waiting_room\"", "\"decorrelated\"", "\"poisson\"", "\"burst\"", "\"per-user\""] {
        assert!(text.contains(closed), "{closed} is offered");
    }
    let validator = scenario_validator();
    let base = "name: x\ntarget: embedded\npersonas: { p: { arrival: { shape: constant, rate: 1/s }, journey: [ { get: /, goal: true } ] } }\n";
    for (duration, ok) in
        [("30s", true), ("1m 30s", true), ("0", true), ("1.5s", true), ("5", false), ("5 minutes", false)]
    {
        let value: Value = serde_yaml::from_str(&format!("{base}duration: {duration}\n")).unwrap();
        assert_eq!(validator.is_valid(&value), ok, "duration {duration}");
    }
}

#[test]
fn summaries_match_the_summary_schema_with_a_real_validator() {
    let schema: Value = serde_json::from_str(schoolday::scenario::schema::SUMMARY_JSON).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    // A run: it must not overlap the tests that need the generator on schedule.
    let _serial = super::exclusive();
    let dir = temp_dir("tooling-summary");
    let (summary, run_dir) = super::run(&dir, SCRAPED);
    let bars = schoolday(&["report", run_dir.to_str().unwrap(), "--histogram", "pupil.agenda"]);
    assert_eq!(bars.status.code(), Some(0), "{}", String::from_utf8_lossy(&bars.stderr));
    let text = String::from_utf8(bars.stdout).unwrap();
    let counted: u64 = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(2).unwrap().replace(',', "").parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, summary.steps[1].latency.count, "the bars count every step once:\n{text}");
    assert!(text.contains("p50") && text.contains("p99"), "{text}");
    let mut value = serde_json::to_value(&summary).unwrap();
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Drift is noticed: a wrong type, a missing key, an unknown key.
    value["requests"]["sent"] = Value::String("many".into());
    value["run"].as_object_mut().unwrap().remove("elapsed_s");
    value["extra"] = Value::Bool(true);
    assert!(validator.iter_errors(&value).count() >= 3);
}

const SCRAPED: &str = r#"
name: scraped morning
target: embedded
embedded: { workers: 8, queue: 64, service_time: { default: 1ms, login: 2ms }, login_cpu: 50us }
duration: 3s
grace: 5s
seed: 3
personas:
  pupil:
    population: 40
    arrival: { shape: constant, rate: 15/s, spacing: even }
    think: 50ms..150ms
    journey:
      - { name: login, post: /login, json: { user: "{{ user.id }}", password: x } }
      - { name: agenda, get: /agenda }
      - { name: missing, get: /nowhere, check: { status: 200 } }
      - { name: homework, get: /homework, goal: true }
"#;

/// One plain HTTP/1.1 GET, as a scraper sends it.
fn scrape(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
    Some(body.to_string())
}

fn parse(page: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(page.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text parses")
}

fn counter(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) => v,
            ref other => panic!("{metric} is not a counter: {other:?}"),
        })
        .sum()
}

#[test]
fn the_live_endpoint_serves_prometheus_text_whose_final_counters_equal_the_summary() {
    let _serial = super::exclusive();
    let dir = temp_dir("tooling-live");
    let scenario = scenario_in(&dir, "scenario.yaml", SCRAPED);
    let endpoint = schoolday::live::Endpoint::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = endpoint.local_addr();
    let reports = dir.join("reports");
    let finished = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            schoolday::app::run_scenario_as(scenario, &reports, Style::plain(), &Default::default(), Some(&endpoint))
        });
        // Scrape while the run goes: at least one page with users on their way.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut during = None;
        while !run.is_finished() && Instant::now() < deadline {
            if let Some(page) = scrape(addr).filter(|p| p.contains("schoolday_run_finished{")) {
                let parsed = parse(&page);
                if counter(&parsed, "schoolday_run_finished", &[]) == 0.0
                    && counter(&parsed, "schoolday_arrivals_total", &[]) > 0.0
                {
                    during = Some(parsed);
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(during.is_some(), "no scrape saw the run in progress");
        run.join().unwrap().expect("the run completes")
    });
    let summary = &finished.summary;
    assert_accounting_closes(summary);
    let last = parse(&scrape(addr).expect("the endpoint still serves the final figures"));
    assert_eq!(counter(&last, "schoolday_run_finished", &[]), 1.0);

    let run_label = finished.dir.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(last.samples.iter().all(|s| s.labels.get("run") == Some(run_label.as_str())), "every series names the run");
    assert!(last.samples.iter().all(|s| s.labels.get("scenario") == Some("scraped morning")));
    let p = &summary.personas[0];
    assert_eq!(counter(&last, "schoolday_arrivals_total", &[("persona", "pupil")]), p.arrived as f64);
    assert_eq!(counter(&last, "schoolday_users_scheduled", &[("persona", "pupil")]), p.scheduled as f64);
    assert_eq!(counter(&last, "schoolday_goals_total", &[("persona", "pupil")]), p.time_to_goal.count as f64);
    for (outcome, n) in
        [("completed", p.completed), ("failed", p.failed), ("abandoned", p.abandoned), ("cut_off", p.cut_off)]
    {
        assert_eq!(counter(&last, "schoolday_users_ended_total", &[("outcome", outcome)]), n as f64, "{outcome}");
    }
    assert_eq!(counter(&last, "schoolday_attempts_total", &[]), summary.requests.sent as f64);
    for step in &summary.steps {
        let at = [("persona", step.persona.as_str()), ("step", step.name.as_str())];
        assert_eq!(counter(&last, "schoolday_attempts_total", &at), step.sent as f64, "{}", step.name);
        assert_eq!(counter(&last, "schoolday_attempts_ok_total", &at), step.ok as f64, "{}", step.name);
        for (class, n) in &step.errors {
            let at = [at[0], at[1], ("class", class.as_str())];
            assert_eq!(counter(&last, "schoolday_attempt_errors_total", &at), *n as f64, "{} {class}", step.name);
        }
        let hist = last
            .samples
            .iter()
            .find(|s| {
                s.metric == "schoolday_step_latency_seconds"
                    && s.labels.get("step") == Some(step.name.as_str())
                    && matches!(s.value, prometheus_parse::Value::Histogram(_))
            })
            .unwrap_or_else(|| panic!("no latency histogram for {}", step.name));
        let prometheus_parse::Value::Histogram(buckets) = &hist.value else { unreachable!() };
        assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count), "cumulative buckets");
        assert_eq!(buckets.last().unwrap().count, step.latency.count as f64, "+Inf bucket of {}", step.name);
    }
    let missing = summary.steps.iter().find(|s| s.name == "missing").unwrap();
    assert!(missing.errors.get("http_4xx").copied().unwrap_or(0) > 0, "the 404s are counted: {missing:?}");
    // Every metric the docs and the dashboard name is served.
    for metric in METRICS {
        assert!(last.docs.contains_key(metric), "{metric} is served");
    }
}

/// Metric names in a PromQL expression (`schoolday_…`), without histogram suffixes.
fn metrics_in(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("schoolday_") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(name);
        names.push(base.to_string());
        rest = &tail[end..];
    }
    names
}

#[test]
fn the_grafana_dashboard_queries_only_metrics_the_endpoint_serves() {
    let text = std::fs::read_to_string(repo("examples/grafana/schoolday.json")).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert!(dashboard["schemaVersion"].as_u64().is_some_and(|v| v >= 30), "schemaVersion is set");
    assert!(dashboard["title"].as_str().is_some_and(|t| !t.is_empty()));
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 4);
    let mut titles = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or_default().to_string();
        let targets = panel["targets"].as_array().unwrap_or_else(|| panic!("{title} has no queries"));
        assert!(!targets.is_empty(), "{title} has no queries");
        for target in targets {
            let expr = target["expr"].as_str().unwrap_or_else(|| panic!("{title}: a query without expr"));
            let names = metrics_in(expr);
            assert!(!names.is_empty(), "{title}: `{expr}` names no schoolday metric");
            for name in names {
                assert!(METRICS.contains(&name.as_str()), "{title}: `{name}` is not served");
            }
        }
        titles.push(title.to_lowercase());
    }
    for wanted in ["offered", "goodput", "p95", "p99", "lag"] {
        assert!(titles.iter().any(|t| t.contains(wanted)), "a panel shows {wanted}: {titles:?}");
    }
    let scrape: String = std::fs::read_to_string(repo("examples/prometheus.yml")).unwrap();
    assert!(scrape.contains("127.0.0.1:9464") && scrape.contains("/metrics"), "{scrape}");
}

fn schoolday(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_schoolday")).args(args).env("NO_COLOR", "1").output().unwrap()
}

#[test]
fn completions_and_the_man_page_are_generated() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef schoolday"),
        ("fish", "complete -c schoolday"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = schoolday(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{shell}: {marker} missing");
        assert!(
            text.contains("capacity") && text.contains("metrics-listen"),
            "{shell} completes the subcommands and flags"
        );
    }
    let man = schoolday(&["man"]);
    let text = String::from_utf8(man.stdout).unwrap();
    assert!(text.starts_with(".ie") || text.contains(".TH schoolday"), "{}", &text[..text.len().min(200)]);
    assert!(text.contains("capacity"));
}

#[test]
fn output_json_puts_one_document_on_stdout_and_the_text_on_stderr() {
    let ok = schoolday(&["validate", "scenarios/smoke.yaml", "--output", "json"]);
    assert_eq!(ok.status.code(), Some(0));
    let plan: Value = serde_json::from_slice(&ok.stdout).expect("stdout is JSON");
    assert_eq!(plan["valid"], true);
    assert!(plan["users"].as_u64().is_some_and(|n| n > 0));
    assert!(String::from_utf8_lossy(&ok.stderr).contains("scenario OK"));

    let bad = schoolday(&["validate", "tests/fixtures/scenarios/invalid/unknown-field.yaml", "--output", "json"]);
    assert_eq!(bad.status.code(), Some(2));
    let refused: Value = serde_json::from_slice(&bad.stdout).expect("stdout is JSON");
    assert_eq!(refused["valid"], false);
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("unknown-field.yaml:")));
}

/// A short run of logins on the embedded target answering each in `service`.
fn login_run(name: &str, service: &str) -> (schoolday::analysis::Summary, PathBuf) {
    let yaml = format!(
        r#"
name: {name}
target: embedded
embedded: {{ service_time: {{ login: {service} }}, login_cpu: 0s }}
duration: 1s
grace: 2s
generator: {{ lag_p99_limit: 1s }}
personas:
  pupil:
    population: 10
    arrival: {{ shape: constant, rate: 10/s }}
    journey:
      - {{ name: login, post: /login, json: {{ user: "{{{{ user.id }}}}", password: demo }}, goal: true }}
thresholds: [ "pupil.login p95 < 5s", "pupil p99 < 10s" ]
"#
    );
    super::run(&temp_dir(&format!("json-compare-{name}")), &yaml)
}

#[test]
fn compare_output_json_holds_each_runs_figures_and_verdicts() {
    let _machine = super::exclusive();
    let (fast, a) = login_run("fast", "2ms");
    let (slow, b) = login_run("slow", "60ms");
    let page = temp_dir("json-compare-page").join("ab.html");
    let out = schoolday(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        page.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("Runs compared") && stderr.contains("Comparison page:"),
        "the table goes to stderr: {stderr}"
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let label = |dir: &Path| dir.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(json["runs"], serde_json::json!([label(&a), label(&b)]));
    assert_eq!(json["baseline"], label(&a).as_str());
    assert_eq!(json["page"], page.to_str().unwrap());
    let row = |name: &str| {
        json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == name)
            .unwrap_or_else(|| panic!("no row {name}: {json}"))
    };
    let p95 = row("pupil/login p95");
    assert_eq!((p95["group"].as_str(), p95["better"].as_str()), (Some("latency"), Some("lower")));
    for (i, run) in [&fast, &slow].into_iter().enumerate() {
        let measured = run.steps[0].latency.p95_us;
        assert_eq!(p95["values"][i]["number"].as_f64(), Some(measured as f64), "run {i}: {p95}");
        assert_eq!(p95["values"][i]["text"], schoolday::format::micros(measured));
    }
    assert!(slow.steps[0].latency.p95_us >= 60_000, "{:?}", slow.steps[0].latency);
    assert_eq!(p95["values"][0]["verdict"], "same", "the baseline against itself");
    assert_eq!(p95["values"][1]["verdict"], "worse", "{p95}");
    for run in [&fast, &slow] {
        assert_eq!((run.steps[0].ok, run.steps[0].errors.len()), (10, 0), "{:?}", run.steps[0]);
    }
    let failed = row("requests failed");
    assert_eq!(failed["values"][1]["number"].as_f64(), Some(0.0));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"chart-histogram-pupil-login\""), "the page overlays the step's histograms");
}

#[test]
fn report_histogram_marks_the_steps_tightest_threshold() {
    // A run: it must not overlap the tests that need the generator on schedule.
    let _machine = super::exclusive();
    let (summary, dir) = login_run("bars", "2ms");
    let out = schoolday(&["report", dir.to_str().unwrap(), "--histogram", "login"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let measured = schoolday::format::micros(summary.steps[0].latency.p95_us);
    assert!(text.contains(&format!("threshold `pupil.login p95 < 5s`: measured {measured}, pass")), "{text}");
    // The bars reach up to the limit, in whose bucket it is marked.
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("  ≤    5.00s") && last.ends_with(" threshold < 5s"), "{text}");
    assert_eq!(text.matches("threshold <").count(), 1, "the tighter rule only: {text}");
}
