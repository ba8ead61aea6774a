//! Fixture-driven tests: every valid scenario compiles to the expected model, every invalid
//! one fails with exactly the expected message, and no input makes the loader panic.
//!
//! The invalid fixtures live in `tests/fixtures/scenarios/invalid/`, one mistake each, with a
//! comment on top saying what is wrong. The table below is what a user sees after `error: `.

use std::path::Path;
use std::time::Duration;

use super::template::{JsonTemplate, Part};
use super::*;

const INVALID: &str = "tests/fixtures/scenarios/invalid";
const VALID: &str = "tests/fixtures/scenarios/valid";

/// (fixture name, exact error message).
const CASES: &[(&str, &str)] = &[
    (
        "at-beyond-duration",
        r#"tests/fixtures/scenarios/invalid/at-beyond-duration.yaml:8:33: personas.pupil.arrival.at: 7m is after the end of the run (`duration: 5m`)
   8 |     arrival: { shape: peak, at: 7m, spread: 1m }
     |                                 ^
  hint: times are measured from the start of the run"#,
    ),
    (
        "bad-capture",
        r#"tests/fixtures/scenarios/invalid/bad-capture.yaml:11:27: personas.pupil.journey[0].capture.token: cannot capture from `jsn.token`: expected `json.<path>` (e.g. `json.data.items[0].id`), `header.<Name>` or `cookie.<name>`
  11 |         capture: { token: jsn.token }
     |                           ^
  hint: did you mean `json`?"#,
    ),
    (
        "bad-capture-name",
        r#"tests/fixtures/scenarios/invalid/bad-capture-name.yaml:11:20: personas.pupil.journey[0].capture.user: `user` cannot be a capture name
  11 |         capture: { user: json.user }
     |                    ^
  hint: use letters, digits and `_` (not starting with a digit); `user` and `iteration` are taken"#,
    ),
    (
        "bad-connections",
        r#"tests/fixtures/scenarios/invalid/bad-connections.yaml:5:16: http.connections: unknown variant `shard`
   5 |   connections: shard
     |                ^
  hint: did you mean `shared`?"#,
    ),
    (
        "bad-duration",
        r#"tests/fixtures/scenarios/invalid/bad-duration.yaml:4:11: duration: `minutes` is not a time unit in `5 minutes`: expected a number and a unit (us, ms, s, m, h), e.g. `500ms`, `30s`, `1m30s`, `2h`
   4 | duration: 5 minutes
     |           ^"#,
    ),
    (
        "bad-header",
        r#"tests/fixtures/scenarios/invalid/bad-header.yaml:11:20: personas.pupil.journey[0].headers.Accept Language: `Accept Language` is not a valid header name
  11 |         headers: { Accept Language: fr }
     |                    ^
  hint: header names are letters, digits and `-`, e.g. `X-Request-Id`"#,
    ),
    (
        "bad-persona-name",
        r#"tests/fixtures/scenarios/invalid/bad-persona-name.yaml:6:3: personas.Pupils 6e: `Pupils 6e` is not a valid persona name
   6 |   Pupils 6e:
     |   ^
  hint: persona names use lowercase letters, digits, `_` and `-` (they appear in reports and metric names), e.g. `pupils_6e`"#,
    ),
    (
        "bad-size",
        r#"tests/fixtures/scenarios/invalid/bad-size.yaml:5:14: embedded.file_size: `64 KiloBytes` is not a size: expected bytes, or a number and a unit (KB, KiB, MB, MiB, GB, GiB), e.g. `512`, `64KiB`, `2MB`
   5 |   file_size: 64 KiloBytes
     |              ^"#,
    ),
    (
        "bad-status-class",
        r#"tests/fixtures/scenarios/invalid/bad-status-class.yaml:11:32: personas.pupil.journey[0].check.status[1]: `6xx` is not a status: expected a status from 100 to 599 (`200`), a class (`"2xx"`) or a list (`[200, "3xx"]`)
  11 |         check: { status: [200, "6xx"] }
     |                                ^"#,
    ),
    (
        "bad-status-code",
        r#"tests/fixtures/scenarios/invalid/bad-status-code.yaml:11:26: personas.pupil.journey[0].check.status: `99` is not a status: expected a status from 100 to 599 (`200`), a class (`"2xx"`) or a list (`[200, "3xx"]`)
  11 |         check: { status: 99 }
     |                          ^"#,
    ),
    (
        "bad-think",
        r#"tests/fixtures/scenarios/invalid/bad-think.yaml:9:12: personas.pupil.think: `2s-15s` is not a duration: expected a number and a unit (us, ms, s, m, h), e.g. `500ms`, `30s`, `1m30s`, `2h`
   9 |     think: 2s-15s
     |            ^
  hint: a think time is `3s` (fixed), `2s..15s` (uniform) or `{ median: 10s, p90: 40s }` (log-normal)"#,
    ),
    (
        "choose-no-branch",
        r#"tests/fixtures/scenarios/invalid/choose-no-branch.yaml:12:9: personas.pupil.journey[1].choose: `choose` has no branch
  12 |       - choose: []
     |         ^
  hint: e.g. `choose: [ { weight: 3, steps: [ { get: /messages } ] }, { weight: 1, steps: [ { get: /grades } ] } ]`"#,
    ),
    (
        "choose-zero-weight",
        r#"tests/fixtures/scenarios/invalid/choose-zero-weight.yaml:12:9: personas.pupil.journey[1].choose: every branch of this `choose` has weight 0, so none can be chosen
  12 |       - choose:
     |         ^
  hint: give at least one branch a positive `weight` (the default is 1)"#,
    ),
    (
        "csv-missing",
        r#"tests/fixtures/scenarios/invalid/csv-missing.yaml:7:19: personas.pupil.users.csv: users file `tests/fixtures/scenarios/invalid/no-such-file.csv`: cannot read it: No such file or directory (os error 2)
   7 |     users: { csv: no-such-file.csv }
     |                   ^"#,
    ),
    (
        "csv-too-few-rows",
        r#"tests/fixtures/scenarios/invalid/csv-too-few-rows.yaml:7:17: personas.pupil.population: population 50 is more than the 3 users in the CSV file
   7 |     population: 50
     |                 ^
  hint: add rows to the file, lower `population`, or remove it to use every row"#,
    ),
    (
        "csv-unknown-column",
        r#"tests/fixtures/scenarios/invalid/csv-unknown-column.yaml:11:51: personas.pupil.journey[0].json.password: unknown template variable `user.pasword`: available here: `user.id`, `user.index`, `user.password`, `user.class` and `iteration`
  11 |         json: { user: "{{ user.id }}", password: "{{ user.pasword }}" }
     |                                                   ^
  hint: did you mean `user.password`?"#,
    ),
    (
        "duplicate-persona",
        r#"tests/fixtures/scenarios/invalid/duplicate-persona.yaml:12:3: personas.pupil: `pupil` is written twice in the same mapping (first on line 6)
  12 |   pupil:
     |   ^
  hint: YAML keeps only one of them: remove or rename the other"#,
    ),
    (
        "duplicate-step-name",
        r#"tests/fixtures/scenarios/invalid/duplicate-step-name.yaml:13:14: personas.pupil.journey[2].get: step name `GET /agenda` is already used (line 10)
  13 |       - get: /agenda
     |              ^
  hint: give one of them a `name:` so that reports can tell the steps apart"#,
    ),
    (
        "embedded-with-url",
        r#"tests/fixtures/scenarios/invalid/embedded-with-url.yaml:4:1: embedded: `embedded:` settings only apply with `target: embedded`
   4 | embedded:
     | ^
  hint: remove the `embedded:` section, or set `target: embedded`"#,
    ),
    (
        "empty",
        r#"tests/fixtures/scenarios/invalid/empty.yaml: the scenario is empty
  hint: start with `name:`, `target:`, `duration:` and `personas:`; see docs/scenario.md for a complete example"#,
    ),
    (
        "empty-journey",
        r#"tests/fixtures/scenarios/invalid/empty-journey.yaml:9:5: personas.pupil.journey: the journey is empty
   9 |     journey: []
     |     ^
  hint: list what each user does, e.g. `- get: /agenda`"#,
    ),
    (
        "ftp-target",
        r#"tests/fixtures/scenarios/invalid/ftp-target.yaml:3:9: target: `ftp` URLs are not supported: the target must be http:// or https://
   3 | target: ftp://files.example.org
     |         ^"#,
    ),
    (
        "key-not-for-shape",
        r#"tests/fixtures/scenarios/invalid/key-not-for-shape.yaml:8:49: personas.pupil.arrival.rate: `rate` does not apply to `shape: peak`
   8 |     arrival: { shape: peak, at: 2m, spread: 1m, rate: 5/s }
     |                                                 ^
  hint: `peak` takes `at`, `spread`, `from` and `to`"#,
    ),
    (
        "missing-duration",
        r#"tests/fixtures/scenarios/invalid/missing-duration.yaml:2:1: missing `duration`
   2 | name: No duration
     | ^
  hint: say how long arrivals go on, e.g. `duration: 5m`"#,
    ),
    (
        "no-goal",
        r#"tests/fixtures/scenarios/invalid/no-goal.yaml:9:5: personas.pupil.journey: no step is marked as the goal
   9 |     journey:
     |     ^
  hint: add `goal: true` to the step that means success for this user (e.g. homework fetched)"#,
    ),
    (
        "no-method",
        r#"tests/fixtures/scenarios/invalid/no-method.yaml:10:9: personas.pupil.journey[0]: this step has `json` but no method
  10 |       - json: { user: "{{ user.id }}" }
     |         ^
  hint: a request needs one of `get`, `post`, `put`, `patch`, `delete` or `head`"#,
    ),
    (
        "no-personas",
        r#"tests/fixtures/scenarios/invalid/no-personas.yaml:5:1: personas: there are no personas
   5 | personas: {}
     | ^
  hint: add at least one, e.g. `personas: { pupil: { population: 100, arrival: { shape: constant }, journey: [ { get: /agenda, goal: true } ] } }`"#,
    ),
    (
        "peak-without-population",
        r#"tests/fixtures/scenarios/invalid/peak-without-population.yaml:7:23: personas.pupil.arrival.shape: `shape: peak` spreads a number of users over time, so the persona needs a `population`
   7 |     arrival: { shape: peak, at: 2m, spread: 1m }
     |                       ^
  hint: add `population: <users>` to the persona (or `users: { csv: … }`), or use a rate shape such as `constant`"#,
    ),
    (
        "population-zero",
        r#"tests/fixtures/scenarios/invalid/population-zero.yaml:7:17: personas.pupil.population: a population of 0 means nobody arrives
   7 |     population: 0
     |                 ^
  hint: remove the persona, or give it at least 1 user"#,
    ),
    (
        "rate-per-ms",
        r#"tests/fixtures/scenarios/invalid/rate-per-ms.yaml:7:39: personas.pupil.arrival.rate: `3/ms`: rates per millisecond are not allowed, write them per second (1/ms = 1000/s)
   7 |     arrival: { shape: constant, rate: 3/ms }
     |                                       ^"#,
    ),
    (
        "repeat-zero",
        r#"tests/fixtures/scenarios/invalid/repeat-zero.yaml:12:17: personas.pupil.journey[1].repeat: `repeat: 0` never runs its steps
  12 |       - repeat: 0
     |                 ^
  hint: repeat 1 or more times, or remove the step"#,
    ),
    (
        "scale-zero",
        r#"tests/fixtures/scenarios/invalid/scale-zero.yaml:5:8: scale: scale must be more than 0, not 0
   5 | scale: 0
     |        ^
  hint: `scale: 0.1` runs a tenth of every population and rate; `1` runs them as written"#,
    ),
    (
        "tab-indent",
        r#"tests/fixtures/scenarios/invalid/tab-indent.yaml:3:1: found a tab character that violates indentation, while scanning a plain scalar
   3 |  target: embedded
     | ^
  hint: YAML indentation must use spaces, not tabs"#,
    ),
    (
        "target-typo",
        r#"tests/fixtures/scenarios/invalid/target-typo.yaml:3:9: target: `embeded` is not a target: expected `embedded` or a URL starting with http:// or https://
   3 | target: embeded
     |         ^
  hint: did you mean `embedded`?"#,
    ),
    (
        "think-mixed",
        r#"tests/fixtures/scenarios/invalid/think-mixed.yaml:11:9: personas.pupil.journey[0].think: `think` cannot be mixed with a request (`get`)
  11 |         think: 5s
     |         ^
  hint: a pause is a step of its own: `- think: 5s`"#,
    ),
    (
        "top-level-list",
        r#"tests/fixtures/scenarios/invalid/top-level-list.yaml:2:1: invalid type: a list, expected a scenario: a mapping with `name`, `target`, `duration` and `personas`
   2 | - name: Monday
     | ^"#,
    ),
    (
        "two-bodies",
        r#"tests/fixtures/scenarios/invalid/two-bodies.yaml:12:9: personas.pupil.journey[0].form: a request has one body, but this one has `json` and `form`
  12 |         form: { user: "{{ user.id }}" }
     |         ^
  hint: keep one of `json`, `form` or `body`"#,
    ),
    (
        "two-goals",
        r#"tests/fixtures/scenarios/invalid/two-goals.yaml:15:9: personas.pupil.journey[1].goal: a second goal step: `login` (line 12) is already the goal; a persona has exactly one
  15 |         goal: true
     |         ^
  hint: keep `goal: true` only on the step that means success for this user"#,
    ),
    (
        "two-methods",
        r#"tests/fixtures/scenarios/invalid/two-methods.yaml:11:9: personas.pupil.journey[0].post: a step has one method, but this one has `get` and `post`
  11 |         post: /login
     |         ^
  hint: split it into two steps"#,
    ),
    (
        "unclosed-template",
        r#"tests/fixtures/scenarios/invalid/unclosed-template.yaml:10:21: personas.pupil.journey[0].get: `{{` is not closed by `}}`
  10 |       - get: /users/{{ user.id/homework
     |                     ^
  hint: write placeholders as `{{ name }}`"#,
    ),
    (
        "unknown-field",
        r#"tests/fixtures/scenarios/invalid/unknown-field.yaml:7:5: personas.pupil: unknown field `populaton`
   7 |     populaton: 20000
     |     ^
  hint: did you mean `population`?"#,
    ),
    (
        "unknown-shape",
        r#"tests/fixtures/scenarios/invalid/unknown-shape.yaml:8:23: personas.pupil.arrival.shape: unknown shape `peek`: expected `constant`, `ramp`, `steps`, `points`, `peak` or `burst`
   8 |     arrival: { shape: peek, at: 2m, spread: 1m }
     |                       ^
  hint: did you mean `peak`?"#,
    ),
    (
        "unknown-variable",
        r#"tests/fixtures/scenarios/invalid/unknown-variable.yaml:13:25: personas.pupil.journey[1].bearer: unknown template variable `tokn`: available here: `user.id`, `user.index`, `iteration` and `token`
  13 |         bearer: "Bearer {{ tokn }}"
     |                         ^
  hint: did you mean `token`?"#,
    ),
];

#[test]
fn invalid_fixtures_fail_with_exact_messages() {
    let mut mismatches = Vec::new();
    for (name, expected) in CASES {
        let path = Path::new(INVALID).join(format!("{name}.yaml"));
        match load_file(&path) {
            Ok(_) => mismatches.push(format!("{name}: loaded, expected an error")),
            Err(e) if e.to_string() != *expected => {
                mismatches.push(format!("{name}:\n--- expected\n{expected}\n--- got\n{e}"))
            }
            Err(_) => {}
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn every_invalid_fixture_is_asserted_and_explained() {
    for entry in std::fs::read_dir(INVALID).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        assert!(
            CASES.iter().any(|(name, _)| *name == stem),
            "{stem} has no expected message"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# Wrong: "),
            "{stem} does not say what is wrong"
        );
    }
}

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
    assert_eq!(
        s.description.as_deref(),
        Some("A fixture that exercises the whole journey language.")
    );
    assert!(matches!(&s.target, Target::Url(u) if u.as_str() == "https://ent.example.org/base"));
    assert_eq!(s.duration, secs(600));
    assert_eq!(s.grace, secs(20));
    assert_eq!(s.seed, 2021);
    assert_eq!(s.scale, 0.1);
    assert_eq!(s.http.timeout, secs(10));
    assert_eq!(s.http.connections, ConnectionMode::Shared);
    let headers: Vec<(&str, &[Part])> = s
        .http
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.parts()))
        .collect();
    assert_eq!(
        headers,
        [
            ("user-agent", &lit("schoolday/0.1")[..]),
            ("x-user", &[Part::UserId][..])
        ]
    );
    let names: Vec<&str> = s.personas.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["pupil", "parent", "teacher"],
        "persona order is kept"
    );
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
        UserSource::Csv {
            path,
            columns,
            rows,
        } => {
            assert!(path.ends_with("valid/pupils.csv"));
            assert_eq!(columns, &["id", "password", "class"]);
            assert_eq!(rows[1], ["bob", "p,w2", "3eA"]);
            assert_eq!(rows.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(parent.users, UserSource::Generated));
    assert_eq!(
        parent.arrival.shape,
        Shape::Constant {
            rate: 2.0,
            from: secs(60),
            to: secs(120)
        },
        "rates are scaled"
    );
    assert_eq!(pupil.arrival.spacing, Spacing::Even);
    assert_eq!(
        pupil.arrival.shape,
        Shape::Peak {
            at: secs(240),
            spread: secs(60),
            from: secs(0),
            to: secs(600)
        }
    );
    let Shape::Ramp {
        from_rate,
        to_rate,
        from,
        to,
    } = teacher.arrival.shape.clone()
    else {
        panic!()
    };
    assert!(
        (from_rate - 2.0).abs() < 1e-9,
        "1200/min × 0.1 = 2/s, got {from_rate}"
    );
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
        Request(1), // GET /agenda; explicit think follows: none inserted
        Think(super::Think::Fixed(secs(5))), // explicit
        LoopStart { count: 3, end: 7 },
        Request(2), // GET /files/{{ iteration }}
        t.clone(),  // kept inside a loop: it separates iterations
        LoopEnd { start: 4 },
        Choose {
            branches: vec![(3, 9), (1, 12), (1, 15)],
        },
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
    assert_eq!(
        methods,
        ["POST", "GET", "GET", "GET", "GET", "GET", "DELETE", "PUT"]
    );
    assert!(j.requests[5].goal && j.requests.iter().filter(|r| r.goal).count() == 1);
}

#[test]
fn full_fixture_requests() {
    let s = load_valid("full.yaml");
    let r = &s.personas[0].journey.requests;
    // login: JSON body with templates, numbers, booleans and a list; two captures; a check.
    let Body::Json(JsonTemplate::Object(fields)) = &r[0].body else {
        panic!("{:?}", r[0].body)
    };
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["user", "password", "remember", "tries", "tags"]);
    assert!(matches!(&fields[0].1, JsonTemplate::String(t) if t.parts() == [Part::UserId]));
    assert!(matches!(&fields[1].1, JsonTemplate::String(t) if t.parts() == [Part::UserColumn(1)]));
    assert_eq!(fields[2].1, JsonTemplate::Bool(true));
    assert_eq!(fields[3].1, JsonTemplate::Number(1.into()));
    let JsonTemplate::Array(tags) = &fields[4].1 else {
        panic!()
    };
    assert!(matches!(&tags[1], JsonTemplate::String(t) if t.parts() == [Part::UserIndex]));
    let sources: Vec<(usize, &CaptureSource)> =
        r[0].captures.iter().map(|c| (c.var, &c.source)).collect();
    assert_eq!(
        sources,
        [
            (
                0,
                &CaptureSource::Json(vec![JsonKey::Field("token".into())])
            ),
            (1, &CaptureSource::Cookie("ENTSESSION".into()))
        ]
    );
    assert_eq!(
        r[0].check,
        Check {
            status: Some(vec![
                StatusRange {
                    low: 200,
                    high: 200
                },
                StatusRange {
                    low: 300,
                    high: 399
                }
            ]),
            body_contains: Some("token".into())
        }
    );
    assert!(r[0].needs_body());
    // agenda: bearer, headers, query, timeout; default check.
    assert_eq!(r[1].bearer.as_ref().unwrap().parts(), [Part::Var(0)]);
    assert_eq!(r[1].headers[0].0.as_str(), "accept");
    let query: Vec<(&str, &[Part])> = r[1]
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.parts()))
        .collect();
    assert_eq!(
        query,
        [
            ("week", &[Part::Iteration][..]),
            ("class", &[Part::UserColumn(2)][..])
        ]
    );
    assert_eq!(r[1].timeout, Some(secs(5)));
    assert_eq!(
        r[1].check,
        Check {
            status: None,
            body_contains: None
        }
    );
    assert!(r[1].check.status_ok(302) && !r[1].check.status_ok(404));
    // files: path template and a header capture.
    assert_eq!(
        r[2].path.parts(),
        [Part::Lit("/files/".into()), Part::Iteration]
    );
    assert_eq!(r[2].captures[0].var, 2);
    assert!(matches!(&r[2].captures[0].source, CaptureSource::Header(h) if h.as_str() == "etag"));
    // logout: a form; draft: a raw body with its content type.
    assert!(
        matches!(&r[6].body, Body::Form(f) if f[0].0 == "token" && f[0].1.parts() == [Part::Var(0)])
    );
    let Body::Raw {
        content_type,
        template,
    } = &r[7].body
    else {
        panic!()
    };
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
        [
            Op::Choose {
                branches: vec![(1, 1), (1, 3)]
            },
            Op::Request(0),
            Op::Jump(5),
            Op::Request(1),
            Op::Jump(5)
        ]
    );
    assert_eq!(teacher.goal, 1);
}

#[test]
fn shapes_fixture() {
    let s = load_valid("shapes.yaml");
    let Target::Embedded(config) = &s.target else {
        panic!()
    };
    assert_eq!((config.workers, config.queue, config.threads), (8, 100, 2));
    assert_eq!(config.login_cpu, Duration::from_millis(1));
    assert_eq!(config.file_size, 2 * 1024 * 1024);
    assert_eq!(config.service_time.default, Duration::from_millis(2));
    assert_eq!(config.service_time.login, Some(Duration::from_millis(30)));
    assert_eq!(config.service_time.agenda, Some(Duration::from_millis(3)));
    assert_eq!(
        config.service_time.files,
        Some(Duration::from_millis(10)),
        "unset routes keep their default"
    );
    assert_eq!(config.service_time.homework, None);
    assert_eq!(s.grace, secs(10));
    assert_eq!(s.seed, 1);
    assert_eq!(s.http.timeout, secs(30));
    assert_eq!(s.http.connections, ConnectionMode::PerUser);
    let shapes: Vec<(&str, Option<u64>, &Shape)> = s
        .personas
        .iter()
        .map(|p| (p.name.as_str(), p.population, &p.arrival.shape))
        .collect();
    let expected = [
        (
            "constant",
            None,
            Shape::Constant {
                rate: 5.0,
                from: secs(0),
                to: secs(600),
            },
        ),
        (
            "ramp",
            None,
            Shape::Ramp {
                from_rate: 0.0,
                to_rate: 50.0,
                from: secs(60),
                to: secs(300),
            },
        ),
        (
            "steps",
            None,
            Shape::Steps {
                from: secs(30),
                stages: vec![(10.0, secs(60)), (10.0, secs(90))],
            },
        ),
        (
            "points",
            None,
            Shape::Points {
                points: vec![
                    (secs(0), 0.0),
                    (secs(60), 30.0),
                    (secs(180), 30.0),
                    (secs(240), 0.0),
                ],
            },
        ),
        (
            "peak",
            Some(20000),
            Shape::Peak {
                at: secs(240),
                spread: secs(60),
                from: secs(120),
                to: secs(480),
            },
        ),
        (
            "exam",
            Some(8279),
            Shape::Burst {
                at: secs(300),
                spread: secs(10),
                decay: None,
            },
        ),
        (
            "exam-decay",
            Some(100),
            Shape::Burst {
                at: secs(300),
                spread: secs(0),
                decay: Some(secs(5)),
            },
        ),
    ];
    for ((name, population, shape), (e_name, e_population, e_shape)) in shapes.iter().zip(&expected)
    {
        assert_eq!(
            (*name, *population, *shape),
            (*e_name, *e_population, e_shape)
        );
    }
    assert_eq!(shapes.len(), expected.len());
    assert!(s
        .personas
        .iter()
        .all(|p| p.arrival.spacing == Spacing::Poisson));
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
    assert!(
        err.to_string()
            .contains("users file `somewhere/pupils.csv`"),
        "{err}"
    );
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
