//! Malformed scenarios and the exact message each one produces.
//!
//! The fixtures live in `tests/fixtures/scenarios/invalid/`, one mistake each, with a comment
//! on top saying what is wrong. The table is what a user sees after `error: `; reading it is
//! the quickest review of how the loader talks to people.

use std::path::Path;

use crate::scenario::load_file;

const INVALID: &str = "tests/fixtures/scenarios/invalid";

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
        r#"tests/fixtures/scenarios/invalid/bad-capture.yaml:11:27: personas.pupil.journey[0].capture.token: cannot capture from `jsn.token`: expected `json.<path>` (e.g. `json.data.items[0].id`), `header.<Name>`, `cookie.<name>` or `input.<name>`
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
        "claim-unknown-persona",
        r#"tests/fixtures/scenarios/invalid/claim-unknown-persona.yaml:15:9: claim: unknown persona `pupl`: the personas are `pupil`
  15 | claim: "pupl 8000 concurrent, p95 < 1s, errors < 0.1%"
     |         ^
  hint: did you mean `pupil`?"#,
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
        r#"tests/fixtures/scenarios/invalid/csv-unknown-column.yaml:11:51: personas.pupil.journey[0].json.password: unknown template variable `user.pasword`: the users file has no column `pasword`; available here: `user.id`, `user.index`, `user.password`, `user.class` and `iteration`
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
        "threshold-amplification",
        r#"tests/fixtures/scenarios/invalid/threshold-amplification.yaml:16:17: thresholds[0]: `amplification` is measured per persona, not per step
  16 |   - pupil.login amplification < 1.5
     |                 ^
  hint: write `pupil amplification` instead"#,
    ),
    (
        "threshold-bare-rate",
        r#"tests/fixtures/scenarios/invalid/threshold-bare-rate.yaml:16:19: thresholds[0]: `1` needs a `%`: this limit is a percentage
  16 |   - "error_rate < 1"
     |                   ^
  hint: e.g. `1%` or `0.1%` (a bare number could mean 1% or 100%)"#,
    ),
    (
        "threshold-goal-per-step",
        r#"tests/fixtures/scenarios/invalid/threshold-goal-per-step.yaml:16:20: thresholds[0]: `goal within 5m` is measured per persona, not per step
  16 |   - pupil.homework goal within 5m >= 99%
     |                    ^
  hint: write `pupil goal within 5m` instead"#,
    ),
    (
        "threshold-mapping",
        r#"tests/fixtures/scenarios/invalid/threshold-mapping.yaml:16:5: thresholds[0]: invalid type: a mapping, expected a rule written on one line, e.g. `pupil.login p95 < 2s` (no `:` in it)
  16 |   - pupil.login p95: 2s
     |     ^"#,
    ),
    (
        "threshold-no-unit",
        r#"tests/fixtures/scenarios/invalid/threshold-no-unit.yaml:16:23: thresholds[0]: `2` needs a unit after `2`: expected a number and a unit (us, ms, s, m, h), e.g. `500ms`, `30s`, `1m30s`, `2h`
  16 |   - pupil.login p95 < 2
     |                       ^
  hint: a latency limit is a duration, e.g. `2s` or `500ms`"#,
    ),
    (
        "threshold-unknown-persona",
        r#"tests/fixtures/scenarios/invalid/threshold-unknown-persona.yaml:17:5: thresholds[1]: `pupils` is neither a persona nor a metric
  17 |   - pupils goal within 5m >= 99%
     |     ^
  hint: did you mean `pupil`? Metrics: `p95`, `error_rate`, `requests`, `errors`, `goal within 5m`, `time_to_goal p95`, `generator lag p99`, `amplification`"#,
    ),
    (
        "threshold-unknown-step",
        r#"tests/fixtures/scenarios/invalid/threshold-unknown-step.yaml:16:11: thresholds[0]: persona `pupil` has no step `logn`: its steps are `login` and `homework`
  16 |   - pupil.logn p95 < 2s
     |           ^
  hint: did you mean `login`?"#,
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
        "deadline-without-rate",
        r#"tests/fixtures/scenarios/invalid/deadline-without-rate.yaml:8:14: personas.pupil.arrival: without a `population`, `shape: deadline` needs `rate`: the arrival rate at the deadline
   8 |     arrival: { shape: deadline, at: 4m, rise: 1m }
     |              ^
  hint: e.g. `{ shape: deadline, at: 9m, rise: 1m, rate: 20/s }`, or give the persona a `population`"#,
    ),
    (
        "arrival-csv-bad-row",
        r#"tests/fixtures/scenarios/invalid/arrival-csv-bad-row.yaml:8:34: personas.pupil.arrival.file: arrival file `tests/fixtures/scenarios/invalid/../data/arrivals-bad.csv`: line 4, `count`: `lots` is not a count of arrivals (0 or more)
   8 |     arrival: { shape: csv, file: ../data/arrivals-bad.csv }
     |                                  ^
  hint: the file has a header row naming `start` and either `count` or `rate` (and optionally `clock`), then one row per interval, e.g. `start,count` / `0s,12` / `1m,30`"#,
    ),
    (
        "unknown-shape",
        r#"tests/fixtures/scenarios/invalid/unknown-shape.yaml:8:23: personas.pupil.arrival.shape: unknown shape `peek`: expected `constant`, `ramp`, `steps`, `points`, `peak`, `burst`, `deadline` or `csv`
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
        assert!(CASES.iter().any(|(name, _)| *name == stem), "{stem} has no expected message");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Wrong: "), "{stem} does not say what is wrong");
    }
}
