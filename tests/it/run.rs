//! Whole runs against the embedded target: accounting closes, and the harness's request counts
//! equal what the target received, per route.

use std::collections::BTreeMap;

use super::{assert_accounting_closes, run, temp_dir};

const QUIET_MORNING: &str = r#"
name: quiet morning
target: embedded
embedded: { workers: 8, queue: 64, service_time: { default: 1ms, login: 2ms }, login_cpu: 50us, file_size: 10KiB }
duration: 3s
grace: 5s
seed: 7
personas:
  pupil:
    population: 60
    arrival: { shape: constant, rate: 20/s, spacing: even }
    think: 10ms..50ms
    journey:
      - name: login
        post: /login
        json: { user: "{{ user.id }}", password: "x" }
        capture: { token: json.token }
      - name: agenda
        get: /agenda
      - repeat: 2
        steps:
          - name: file
            get: /files/{{ iteration }}
            bearer: "{{ token }}"
      - name: homework
        get: /homework
        goal: true
  parent:
    population: 20
    arrival: { shape: peak, at: 1500ms, spread: 500ms }
    journey:
      - name: login
        post: /login
        form: { user: "{{ user.id }}", password: "x" }
      - choose:
          - weight: 1
            steps: [ { name: grades, get: /grades, goal: true } ]
          - weight: 1
            steps: [ { name: messages, get: /messages } ]
"#;

#[test]
fn every_user_is_accounted_for_and_counts_match_the_target() {
    let dir = temp_dir("quiet");
    let (summary, run_dir) = run(&dir, QUIET_MORNING);
    assert_accounting_closes(&summary);
    let pupil = &summary.personas[0];
    assert_eq!(pupil.scheduled, 60);
    assert_eq!(pupil.completed, 60, "an unsaturated target serves every pupil: {pupil:?}");
    let parent = &summary.personas[1];
    assert_eq!(parent.scheduled, 20);
    // Parents who took the `messages` branch never pass the goal: they end as failed.
    assert_eq!(parent.completed + parent.failed, 20);
    assert!(parent.completed > 0 && parent.failed > 0, "both branches are taken with seed 7: {parent:?}");

    // Per route, what the harness sent equals what the target received.
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    for step in &summary.steps {
        let first_segment = step.path.split('/').nth(1).unwrap_or("");
        *sent.entry(format!("{} /{first_segment}", step.method)).or_default() += step.sent;
    }
    let counts = summary.target_counts.as_ref().expect("embedded target counts");
    let received: BTreeMap<String, u64> = serde_json::from_value(counts["received"].clone()).unwrap();
    assert_eq!(sent, received);
    assert_eq!(summary.requests.sent, 60 * 5 + 20 * 2);
    assert_eq!(summary.requests.ok, summary.requests.sent);
    assert_eq!(summary.requests.cut_off, 0);

    // The latency histogram of every step holds every request.
    for step in &summary.steps {
        assert_eq!(step.latency.count, step.sent, "{}", step.name);
        assert!(step.latency.p50_us > 0 && step.latency.p50_us <= step.latency.max_us);
    }
    // The timeline adds up to the totals.
    let ok_in_timeline: u64 = summary.timeline.iter().map(|s| s.ok).sum();
    assert_eq!(ok_in_timeline, summary.requests.ok);
    let arrivals: u64 = summary.timeline.iter().map(|s| s.arrivals).sum();
    assert_eq!(arrivals, 80);

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).expect("summary.json written")).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["personas"][0]["completed"], 60);
}

#[test]
fn same_seed_same_choices() {
    let dir = temp_dir("seeded");
    let (a, _) = run(&dir, QUIET_MORNING);
    let (b, _) = run(&dir, QUIET_MORNING);
    let counts =
        |s: &schoolday::analysis::Summary| s.steps.iter().map(|st| (st.name.clone(), st.sent)).collect::<Vec<_>>();
    assert_eq!(counts(&a), counts(&b), "the weighted choice follows the seed");
}

#[test]
fn an_overloaded_target_sheds_and_every_error_is_counted() {
    let dir = temp_dir("overload");
    let yaml = r#"
name: overload
target: embedded
embedded: { workers: 1, queue: 4, service_time: { default: 20ms }, login_cpu: 0s }
duration: 2s
grace: 5s
personas:
  pupil:
    population: 120
    arrival: { shape: burst, at: 0s, spread: 500ms }
    journey:
      - name: homework
        get: /health
      - name: login
        post: /login
        json: { user: "{{ user.id }}" }
        goal: true
"#;
    let (summary, _) = run(&dir, yaml);
    assert_accounting_closes(&summary);
    let login = summary.steps.iter().find(|s| s.name == "login").unwrap();
    let shed = login.errors.get("http_5xx").copied().unwrap_or(0);
    assert!(shed > 50, "1 worker at 20 ms cannot take 120 logins in 0.5 s: {login:?}");
    assert_eq!(login.ok + shed, login.sent);
    let counts = summary.target_counts.as_ref().unwrap();
    assert_eq!(counts["shed"].as_u64().unwrap(), shed, "every 503 the target sent was counted by the harness");
    assert_eq!(summary.personas[0].failed, shed);
    assert_eq!(summary.personas[0].completed, login.ok);
}

#[test]
fn hdr_interval_logs_hold_one_interval_per_second_that_add_up_to_the_totals() {
    let dir = temp_dir("hlog");
    let (summary, run_dir) = run(&dir, QUIET_MORNING);
    for step in &summary.steps {
        let file = run_dir.join("hlog").join(schoolday::report::hlog::step_file(&step.persona, &step.name));
        let intervals = schoolday::report::hlog::read(&std::fs::read(&file).unwrap()).unwrap();
        assert!(intervals.len() >= 3, "{}: {} intervals over a 3 s arrival window", file.display(), intervals.len());
        let mut merged = schoolday::metrics::new_histogram();
        for h in &intervals {
            merged.add(h).unwrap();
        }
        let whole = schoolday::analysis::decode_histogram(&step.latency.histogram).unwrap();
        assert_eq!(merged, whole, "{}: the seconds add up to the run exactly", step.name);
    }
    let lag = schoolday::report::hlog::read(&std::fs::read(run_dir.join("hlog/generator-lag.hlog")).unwrap()).unwrap();
    assert!(lag.len() >= 3);
}
