//! Fixture-driven tests: every valid scenario compiles to the expected model, every invalid
//! one fails with exactly the expected message (`invalid.rs`), and no input makes the loader
//! panic.

mod invalid;

use std::path::Path;
use std::time::Duration;

use super::template::{JsonTemplate, Part};
use super::*;

const VALID: &str = "tests/fixtures/scenarios/valid";

fn load_valid(name: &str) -> Scenario {
    let path = Path::new(VALID).join(name);
    load_file(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn lit(text: &str) -> Vec<Part> {
    vec![Part::Lit(text.into())]
}

#[test]
fn full_fixture_top_level() {
    let s = load_valid("full.yaml");
    assert_eq!(s.name, "Everything at once");
    assert_eq!(s.description.as_deref(), Some("A fixture that exercises the whole journey language."));
    assert!(matches!(&s.target, Target::Url(u) if u.as_str() == "https://ent.example.org/base"));
    assert_eq!(s.duration, secs(600));
    assert_eq!(s.grace, secs(20));
    assert_eq!(s.seed, 2021);
    assert_eq!(s.scale, 0.1);
    assert_eq!(s.http.timeout, secs(10));
    assert_eq!(s.http.connections, ConnectionMode::Shared);
    let headers: Vec<(&str, &[Part])> = s.http.headers.iter().map(|(k, v)| (k.as_str(), v.parts())).collect();
    assert_eq!(headers, [("user-agent", &lit("schoolday/0.1")[..]), ("x-user", &[Part::UserId][..])]);
    let names: Vec<&str> = s.personas.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["pupil", "parent", "teacher"], "persona order is kept");
}

#[test]
fn full_fixture_scale_and_users() {
    let s = load_valid("full.yaml");
    let (pupil, parent, teacher) = (&s.personas[0], &s.personas[1], &s.personas[2]);
    // 3 CSV rows × 0.1 = 0.3: rounds to 0 but a persona never vanishes.
    assert_eq!(pupil.population, Some(1));
    assert_eq!(parent.population, Some(3), "25 × 0.1 = 2.5 rounds to 3");
    assert_eq!(teacher.population, None);
    match &pupil.users {
        UserSource::Csv { path, columns, rows } => {
            assert!(path.ends_with("valid/pupils.csv"));
            assert_eq!(columns, &["id", "password", "class"]);
            assert_eq!(rows[1], ["bob", "p,w2", "3eA"]);
            assert_eq!(rows.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(parent.users, UserSource::Generated));
    assert_eq!(parent.arrival.shape, Shape::Constant { rate: 2.0, from: secs(60), to: secs(120) }, "rates are scaled");
    assert_eq!(pupil.arrival.spacing, Spacing::Even);
    assert_eq!(pupil.arrival.shape, Shape::Peak { at: secs(240), spread: secs(60), from: secs(0), to: secs(600) });
    let Shape::Ramp { from_rate, to_rate, from, to } = teacher.arrival.shape.clone() else { panic!() };
    assert!((from_rate - 2.0).abs() < 1e-9, "1200/min × 0.1 = 2/s, got {from_rate}");
    assert_eq!((to_rate, from, to), (0.0, secs(0), secs(600)));
}

#[test]
fn full_fixture_ops_and_think_insertion() {
    let s = load_valid("full.yaml");
    let j = &s.personas[0].journey;
    let t = Op::Think(super::Think::Uniform(secs(2), secs(15)));
    use Op::*;
    let expected = vec![
        Request(0), // login
        t.clone(),
        Request(1),                          // GET /agenda; explicit think follows: none inserted
        Think(super::Think::Fixed(secs(5))), // explicit
        LoopStart { count: 3, end: 7 },
        Request(2), // GET /files/{{ iteration }}
        t.clone(),  // kept inside a loop: it separates iterations
        LoopEnd { start: 4 },
        Choose { branches: vec![(3, 9), (1, 12), (1, 15)] },
        Request(3), // GET /messages
        t.clone(),
        Jump(16),
        Request(4), // GET /grades, then an explicit think
        Think(super::Think::Fixed(secs(1))),
        Jump(16),
        Jump(16),   // the empty branch
        Request(5), // homework
        t.clone(),
        Request(6), // logout
        t,
        Request(7), // last step of the journey: no think after it
    ];
    assert_eq!(j.ops, expected);
    assert_eq!(j.vars, ["token", "session", "etag"]);
    assert_eq!(j.goal, 5);
    let names: Vec<&str> = j.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "login",
            "GET /agenda",
            "GET /files/{{ iteration }}",
            "GET /messages",
            "GET /grades",
            "homework",
            "logout",
            "PUT /draft"
        ]
    );
    let methods: Vec<&str> = j.requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "GET", "GET", "GET", "GET", "GET", "DELETE", "PUT"]);
    assert!(j.requests[5].goal && j.requests.iter().filter(|r| r.goal).count() == 1);
}

#[test]
fn full_fixture_requests() {
    let s = load_valid("full.yaml");
    let r = &s.personas[0].journey.requests;
    // login: JSON body with templates, numbers, booleans and a list; two captures; a check.
    let Body::Json(JsonTemplate::Object(fields)) = &r[0].body else { panic!("{:?}", r[0].body) };
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["user", "password", "remember", "tries", "tags"]);
    assert!(matches!(&fields[0].1, JsonTemplate::String(t) if t.parts() == [Part::UserId]));
    assert!(matches!(&fields[1].1, JsonTemplate::String(t) if t.parts() == [Part::UserColumn(1)]));
    assert_eq!(fields[2].1, JsonTemplate::Bool(true));
    assert_eq!(fields[3].1, JsonTemplate::Number(1.into()));
    let JsonTemplate::Array(tags) = &fields[4].1 else { panic!() };
    assert!(matches!(&tags[1], JsonTemplate::String(t) if t.parts() == [Part::UserIndex]));
    let sources: Vec<(usize, &CaptureSource)> = r[0].captures.iter().map(|c| (c.var, &c.source)).collect();
    assert_eq!(
        sources,
        [
            (0, &CaptureSource::Json(vec![JsonKey::Field("token".into())])),
            (1, &CaptureSource::Cookie("ENTSESSION".into()))
        ]
    );
    assert_eq!(
        r[0].check,
        Check {
            status: Some(vec![StatusRange { low: 200, high: 200 }, StatusRange { low: 300, high: 399 }]),
            body_contains: Some("token".into())
        }
    );
    assert!(r[0].needs_body());
    // agenda: bearer, headers, query, timeout; default check.
    assert_eq!(r[1].bearer.as_ref().unwrap().parts(), [Part::Var(0)]);
    assert_eq!(r[1].headers[0].0.as_str(), "accept");
    let query: Vec<(&str, &[Part])> = r[1].query.iter().map(|(k, v)| (k.as_str(), v.parts())).collect();
    assert_eq!(query, [("week", &[Part::Iteration][..]), ("class", &[Part::UserColumn(2)][..])]);
    assert_eq!(r[1].timeout, Some(secs(5)));
    assert_eq!(r[1].check, Check { status: None, body_contains: None });
    assert!(r[1].check.status_ok(302) && !r[1].check.status_ok(404));
    // files: path template and a header capture.
    assert_eq!(r[2].path.parts(), [Part::Lit("/files/".into()), Part::Iteration]);
    assert_eq!(r[2].captures[0].var, 2);
    assert!(matches!(&r[2].captures[0].source, CaptureSource::Header(h) if h.as_str() == "etag"));
    // logout: a form; draft: a raw body with its content type.
    assert!(matches!(&r[6].body, Body::Form(f) if f[0].0 == "token" && f[0].1.parts() == [Part::Var(0)]));
    let Body::Raw { content_type, template } = &r[7].body else { panic!() };
    assert_eq!(content_type.as_deref(), Some("text/plain"));
    assert_eq!(template.parts(), [Part::Lit("hello ".into()), Part::UserId]);
}

/// The teacher's think applies, but both branches end the journey: no pause before leaving.
#[test]
fn a_journey_ending_in_a_choice_has_no_trailing_think() {
    let s = load_valid("full.yaml");
    let teacher = &s.personas[2].journey;
    assert_eq!(
        teacher.ops,
        [Op::Choose { branches: vec![(1, 1), (1, 3)] }, Op::Request(0), Op::Jump(5), Op::Request(1), Op::Jump(5)]
    );
    assert_eq!(teacher.goal, 1);
}

#[test]
fn shapes_fixture() {
    let s = load_valid("shapes.yaml");
    let Target::Embedded(config) = &s.target else { panic!() };
    assert_eq!((config.workers, config.queue, config.threads), (8, 100, 2));
    assert_eq!(config.login_cpu, Duration::from_millis(1));
    assert_eq!(config.file_size, 2 * 1024 * 1024);
    assert_eq!(config.service_time.default, Duration::from_millis(2));
    assert_eq!(config.service_time.login, Some(Duration::from_millis(30)));
    assert_eq!(config.service_time.agenda, Some(Duration::from_millis(3)));
    assert_eq!(config.service_time.files, Some(Duration::from_millis(10)), "unset routes keep their default");
    assert_eq!(config.service_time.homework, None);
    assert_eq!(s.grace, secs(10));
    assert_eq!(s.seed, 1);
    assert_eq!(s.http.timeout, secs(30));
    assert_eq!(s.http.connections, ConnectionMode::PerUser);
    let shapes: Vec<(&str, Option<u64>, &Shape)> =
        s.personas.iter().map(|p| (p.name.as_str(), p.population, &p.arrival.shape)).collect();
    let expected = [
        ("constant", None, Shape::Constant { rate: 5.0, from: secs(0), to: secs(600) }),
        ("ramp", None, Shape::Ramp { from_rate: 0.0, to_rate: 50.0, from: secs(60), to: secs(300) }),
        ("steps", None, Shape::Steps { from: secs(30), stages: vec![(10.0, secs(60)), (10.0, secs(90))] }),
        (
            "points",
            None,
            Shape::Points { points: vec![(secs(0), 0.0), (secs(60), 30.0), (secs(180), 30.0), (secs(240), 0.0)] },
        ),
        ("peak", Some(20000), Shape::Peak { at: secs(240), spread: secs(60), from: secs(120), to: secs(480) }),
        ("exam", Some(8279), Shape::Burst { at: secs(300), spread: secs(10), decay: None }),
        ("exam-decay", Some(100), Shape::Burst { at: secs(300), spread: secs(0), decay: Some(secs(5)) }),
        ("homework-due", None, Shape::Deadline { at: secs(540), rise: secs(60), from: secs(300), rate: 20.0 }),
        (
            "last-monday",
            None,
            Shape::Csv {
                file: Path::new(VALID).join("arrivals.csv"),
                from: secs(60),
                // Counts per minute become rates; the last row lasts a minute like the one before.
                stages: vec![(1.0, secs(60)), (2.0, secs(60)), (0.5, secs(60))],
            },
        ),
    ];
    for ((name, population, shape), (e_name, e_population, e_shape)) in shapes.iter().zip(&expected) {
        assert_eq!((*name, *population, *shape), (*e_name, *e_population, e_shape));
    }
    assert_eq!(shapes.len(), expected.len());
    assert!(s.personas.iter().all(|p| p.arrival.spacing == Spacing::Poisson));
    // No persona think: no Think ops are inserted.
    assert_eq!(s.personas[0].journey.ops, [Op::Request(0)]);
}

#[test]
fn shipped_scenarios_load() {
    let monday = load_valid("monday-8am.yaml");
    assert_eq!(monday.personas.len(), 3);
    assert_eq!(monday.personas[0].population, Some(6000));
    let smoke = load_valid("smoke.yaml");
    assert_eq!(smoke.personas[0].arrival.spacing, Spacing::Even);
}

#[test]
fn relative_csv_paths_follow_the_scenario_file() {
    let text = std::fs::read_to_string(Path::new(VALID).join("full.yaml")).unwrap();
    let elsewhere = Path::new("somewhere/else.yaml");
    let err = load_str(&text, elsewhere).unwrap_err();
    assert!(err.to_string().contains("users file `somewhere/pupils.csv`"), "{err}");
}

/// Inputs that once were (or could be) panics: none may panic, all must be errors.
#[test]
fn odd_inputs_are_errors_not_panics() {
    let inputs = [
        "",
        "\n\n",
        "---",
        "~",
        "42",
        "[1, 2",
        "- a\n- b",
        "name: x\n\ttarget: embedded",
        "name: [x",
        "name: x\nseed: 123456789012345678901234567890",
        "name: x\nscale: .nan",
        "name: x\nscale: -.inf",
        "name: x\ntarget: embedded\nduration: 99999999999999h",
        "name: x\ntarget: http://\nduration: 1m",
        "name: x\ntarget: 'http://[::1'\nduration: 1m",
        "&a [*a]",
        "a: &x 1\nb: *y",
        "name: x\ntarget: embedded\nduration: 1m\npersonas: { p: { population: 18446744073709551615, arrival: { shape: peak, at: 1s, spread: 1s }, journey: [ { get: /x, goal: true } ] } }\nscale: 1e300",
        "name: x\ntarget: embedded\nduration: 1m\npersonas: { p: { arrival: { shape: points, points: [] }, journey: [] } }",
        "name: x\ntarget: embedded\nduration: 1m\npersonas: { p: { arrival: { shape: constant, rate: 1 }, journey: [ { get: /x, goal: true, capture: { t: 'json.' } } ] } }",
        "name: x\ntarget: embedded\nduration: 1m\npersonas: { p: { arrival: { shape: constant, rate: 1 }, journey: [ { get: \"\u{e9}{{\", goal: true } ] } }",
        "name: x\ntarget: embedded\nduration: 1m\npersonas: { p: { arrival: { shape: constant, rate: 1 }, journey: [ { repeat: 99999999999, steps: [ { get: /x } ] } ] } }",
        "\u{feff}name: x",
        "\0\u{1}",
    ];
    for input in inputs {
        let result = load_str(input, Path::new("odd.yaml"));
        assert!(result.is_err(), "{input:?} loaded");
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Cutting a random slice out of a valid scenario never panics.
        #[test]
        fn mutilated_scenarios_never_panic(start in 0usize..3000, len in 0usize..40) {
            let text = std::fs::read_to_string(Path::new(VALID).join("full.yaml")).unwrap();
            let start = start.min(text.len());
            let end = (start + len).min(text.len());
            if text.is_char_boundary(start) && text.is_char_boundary(end) {
                let cut = format!("{}{}", &text[..start], &text[end..]);
                let _ = load_str(&cut, &Path::new(VALID).join("cut.yaml"));
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = load_str(&text, Path::new("any.yaml"));
        }
    }
}

#[test]
fn deadline_and_csv_mistakes_say_what_to_fix() {
    let dir = std::env::temp_dir().join(format!("schoolday-arrival-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = |arrival: &str| {
        format!("name: t\ntarget: embedded\nduration: 5m\npersonas:\n  p:\n    arrival: {arrival}\n    journey: [ {{ get: /a, goal: true }} ]\n")
    };
    let error = |arrival: &str| match load_str(&scenario(arrival), &dir.join("s.yaml")) {
        Ok(_) => panic!("`{arrival}` loaded"),
        Err(e) => e.to_string(),
    };
    let e = error("{ shape: deadline, at: 4m, rise: 0s, rate: 5/s }");
    assert!(e.contains("s.yaml:6:") && e.contains("a deadline needs a `rise` above 0s"), "{e}");
    let e = error("{ shape: deadline, at: 4m, rise: 1m, from: 4m, rate: 5/s }");
    assert!(e.contains("`from` (4m) must be before the deadline `at` (4m)"), "{e}");
    let e = error("{ shape: deadline, at: 4m, rise: 1m, rate: 5/s, spread: 1m }");
    assert!(e.contains("`spread` does not apply to `shape: deadline`"), "{e}");
    let csv = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    csv("no-count.csv", "start,users\n0s,1\n1m,2\n");
    let e = error("{ shape: csv, file: no-count.csv }");
    assert!(e.contains("unknown column `users`"), "{e}");
    csv("order.csv", "start,rate\n0s,1/s\n2m,2/s\n1m,1/s\n");
    let e = error("{ shape: csv, file: order.csv }");
    assert!(e.contains("line 4: rows must be in time order: 1m comes after 2m"), "{e}");
    csv("long.csv", "start,count\n0s,1\n4m,2\n");
    let e = error("{ shape: csv, file: long.csv }");
    assert!(e.contains("its intervals run until 8m, after the end of the run"), "{e}");
    let e = error("{ shape: csv, file: missing.csv }");
    assert!(e.contains("missing.csv`: cannot read it"), "{e}");
    csv("rates.csv", "start,rate,clock\n0s,120/min,07:00\n1m,0.5,07:01\n");
    let loaded = load_str(&scenario("{ shape: csv, file: rates.csv }"), &dir.join("s.yaml")).unwrap();
    let Shape::Csv { stages, .. } = &loaded.personas[0].arrival.shape else { panic!() };
    assert_eq!(stages, &[(2.0, secs(60)), (0.5, secs(60))]);
}

/// Found by the long fuzz (`bench/fuzz`): a header that is not text, and a column the journey
/// names that the file does not have, are both the users file's mistakes and say so.
#[test]
fn a_users_file_without_the_named_column_or_with_binary_header_says_so() {
    let dir = std::env::temp_dir().join(format!("schoolday-users-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = "name: csv\ntarget: embedded\nduration: 10s\npersonas:\n  pupil:\n    users: { csv: users.csv }\n    arrival: { shape: constant, rate: 1/s }\n    journey:\n      - { post: /login, json: { password: \"{{ user.password }}\" }, goal: true }\n";
    let path = dir.join("scenario.yaml");
    std::fs::write(dir.join("users.csv"), b"\x0e\n\x00\n").unwrap();
    let err = load_str(scenario, &path).unwrap_err().to_string();
    assert!(err.contains("users file") && err.contains("control character (\\u{e})"), "{err}");
    std::fs::write(dir.join("users.csv"), "id,class\nalice,6b\n").unwrap();
    let err = load_str(scenario, &path).unwrap_err().to_string();
    assert!(err.contains("the users file has no column `password`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
