//! Fuzzing the input side: every shipped scenario and fixture, mutated the way files really go
//! wrong (lines deleted, duplicated, swapped, re-indented or cut; values of the wrong type,
//! huge numbers, unicode, deep nesting, anchors and aliases), must load or be refused with an
//! error that has a file:line:column and a short message, quickly, and never panic. The
//! threshold and claim parsers and the CSV users file get the same treatment.
//!
//! `cargo test` runs a few hundred cases of each property (seconds); `bench/fuzz` runs the
//! same properties with `SCHOOLDAY_FUZZ_CASES=100000` (figures in bench/RESULTS.md).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config;

use schoolday::scenario::claim::parse_claim;
use schoolday::scenario::thresholds::{self, Names};
use schoolday::scenario::{self, ScenarioError};

/// A loaded machine with a debug build: far above the few milliseconds a load takes, far
/// below the 35 s a 100,000-deep list used to take.
const PER_FILE: Duration = Duration::from_secs(3);

/// The longest error message (with its excerpt and hint) a mutation may produce.
const MESSAGE_CHARS: usize = 2_000;

fn config(default_cases: u32) -> Config {
    let cases = std::env::var("SCHOOLDAY_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default_cases);
    // No regression files written into the source tree; a failure prints its minimal input.
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Every scenario the project ships and every fixture, with their text.
fn corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/fixtures/scenarios/valid", "tests/fixtures/scenarios/invalid"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("corpus dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("read corpus file");
                files.push((path, text));
            }
        }
    }
    files.sort();
    assert!(files.len() >= 60, "the corpus is every shipped scenario and fixture: {}", files.len());
    files
}

/// Values that are wrong somewhere: wrong types, huge and odd numbers, unicode, YAML syntax.
const VALUES: &[&str] = &[
    "[]",
    "{}",
    "~",
    "-1",
    "0",
    "1e400",
    "-0.0",
    "NaN",
    ".inf",
    "18446744073709551616",
    "4294967296",
    "1000000000",
    "1000000000/s",
    "0.000000001",
    "99999999999h",
    "1..",
    "..",
    "\"\"",
    "''",
    "é𝄞 Ω ☃",
    "\u{202e}drow",
    "\"\\u0000\"",
    "[1, [2, [3, [4]]]]",
    "{ a: { b: { c: {} } } }",
    "&x [1, 2, 3]",
    "*x",
    "*undefined",
    "!!binary aGVsbG8=",
    "!custom x",
    "|\n  block",
    "\"{{ nope }}\"",
    "\"{{\"",
    "{{ user.id }}",
    "true",
    "yes",
    "0x1F",
    "2021-04-06",
    "- a",
    ": :",
    "\t",
    "#",
];

/// Lines inserted whole: anchors, aliases and merges, keys in the wrong place, nesting bombs.
fn inserted_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("base: &base { population: 100, arrival: { shape: constant, rate: 1/s } }".to_string()),
        Just("  <<: *base".to_string()),
        Just("x: &a [a, a, a, a, a, a, a, a, a, a]".to_string()),
        Just("y: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]".to_string()),
        Just("z: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]".to_string()),
        Just("---".to_string()),
        Just("...".to_string()),
        Just("%YAML 1.2".to_string()),
        Just("? complex key".to_string()),
        Just("  population: 100".to_string()),
        Just("    - get: /agenda".to_string()),
        (1usize..2_000).prop_map(|n| format!("name: {}{}", "[".repeat(n), "]".repeat(n))),
        (1usize..200).prop_map(|n| format!("deep: {}1{}", "{a: ".repeat(n), "}".repeat(n))),
        "\\PC{0,40}",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    /// Replace what follows the line's first `: ` (or the whole line) by a value.
    Value(usize, &'static str),
    Insert(usize, String),
    /// Add or remove leading spaces.
    Indent(usize, i8),
    /// Cut the file at this share of its length.
    Truncate(f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let line = any::<usize>();
    prop_oneof![
        1 => line.prop_map(Mutation::Delete),
        1 => line.prop_map(Mutation::Duplicate),
        1 => (line, any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        3 => (line, proptest::sample::select(VALUES)).prop_map(|(l, v)| Mutation::Value(l, v)),
        2 => (line, inserted_line()).prop_map(|(l, t)| Mutation::Insert(l, t)),
        1 => (line, -4i8..=4).prop_map(|(l, n)| Mutation::Indent(l, n)),
        1 => (0.0f64..1.0).prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match m {
            Mutation::Delete(i) => {
                lines.remove(i % n);
            }
            Mutation::Duplicate(i) => {
                let copy = lines[i % n].clone();
                lines.insert(i % n, copy);
            }
            Mutation::Swap(a, b) => lines.swap(a % n, b % n),
            Mutation::Value(i, value) => {
                let line = &mut lines[i % n];
                *line = match line.split_once(": ") {
                    Some((key, _)) => format!("{key}: {value}"),
                    None => format!("{}{value}", &line[..line.len() - line.trim_start().len()]),
                };
            }
            Mutation::Insert(i, text) => lines.insert(i % (n + 1), text.clone()),
            Mutation::Indent(i, by) => {
                let line = &mut lines[i % n];
                if *by >= 0 {
                    line.insert_str(0, &" ".repeat(*by as usize));
                } else {
                    let strip = line.len() - line.trim_start_matches(' ').len();
                    line.drain(..strip.min(by.unsigned_abs() as usize));
                }
            }
            Mutation::Truncate(share) => {
                let joined = lines.join("\n");
                let mut cut = (joined.len() as f64 * share) as usize;
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(str::to_string).collect();
            }
        }
    }
    lines.join("\n") + "\n"
}

/// What every refusal must look like.
fn check_error(e: &ScenarioError, text: &str) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    prop_assert!(shown.chars().count() <= MESSAGE_CHARS, "{} chars:\n{shown}", shown.chars().count());
    // An empty file has no line to point at; every other refusal says where.
    let blank = text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---");
    if !blank {
        prop_assert!(e.line.is_some() && e.column.is_some(), "no line:column in\n{shown}\n--- for ---\n{text}");
        let (line, column) = (e.line.unwrap(), e.column.unwrap());
        prop_assert!(line >= 1 && column >= 1, "{shown}");
        prop_assert!(line <= text.lines().count() + 1, "line {line} is past the end:\n{shown}");
        let file = e.file.display().to_string();
        prop_assert!(shown.starts_with(&format!("{file}:{line}:{column}: ")), "{shown}");
    }
    Ok(())
}

fn load_timed(text: &str, path: &Path) -> Result<Result<scenario::Scenario, ScenarioError>, TestCaseError> {
    let started = Instant::now();
    let result = scenario::load_str(text, path);
    let took = started.elapsed();
    prop_assert!(took < PER_FILE, "{took:?} to load:\n{text}");
    Ok(result)
}

#[test]
fn mutated_scenarios_load_or_fail_with_a_position() {
    let files = corpus();
    let strategy = (0..files.len(), proptest::collection::vec(mutation(), 1..4));
    proptest!(config(256), |((index, mutations) in strategy)| {
        let (path, original) = &files[index];
        let text = apply(original, &mutations);
        if let Err(e) = load_timed(&text, path)? {
            check_error(&e, &text)?;
        }
    });
}

#[test]
fn every_shipped_scenario_survives_each_value_on_each_line() {
    // Exhaustive over (line, value) for the shipped scenarios: a few thousand loads.
    for (path, original) in
        corpus().iter().filter(|(p, _)| p.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")))
    {
        for line in 0..original.lines().count() {
            for value in VALUES.iter().step_by(3) {
                let text = apply(original, &[Mutation::Value(line, value)]);
                let result = scenario::load_str(&text, path);
                if let Err(e) = result {
                    check_error(&e, &text).unwrap_or_else(|f| panic!("{}: {f}", path.display()));
                }
            }
        }
    }
}

fn names() -> Names {
    Names {
        personas: vec![
            ("pupil".into(), vec!["login".into(), "agenda".into(), "homework".into()]),
            ("parent".into(), vec!["login".into()]),
        ],
    }
}

/// Threshold and claim lines from the docs and scenarios, to mutate.
const RULES: &[&str] = &[
    "pupil.login p95 < 250ms",
    "pupil.homework p99 < 500ms",
    "error_rate < 1%",
    "pupil goal within 1m >= 99%",
    "requests >= 900",
    "generator lag p99 < 5ms",
    "pupil time_to_goal p95 < 30s",
    "pupil amplification < 1.5x",
    "pupil 8000 concurrent, p95 < 1s, errors < 0.1%",
    "pupil 200/s, p99 < 2s",
];

fn rule_text() -> impl Strategy<Value = String> {
    let edit = (
        any::<usize>(),
        prop_oneof![
            Just(String::new()),
            "\\PC{1,3}",
            Just("%".into()),
            Just("99999999999999999999".into()),
            Just(" ".into()),
            Just(",".into()),
            Just("é".into())
        ],
    );
    prop_oneof![
        3 => (proptest::sample::select(RULES), proptest::collection::vec(edit, 1..4)).prop_map(|(rule, edits)| {
            let mut text = rule.to_string();
            for (at, insert) in edits {
                let mut at = at % (text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                // Replace the character there (when there is one) by the insertion.
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                text.replace_range(at..end, &insert);
            }
            text
        }),
        1 => "\\PC{0,60}",
    ]
}

#[test]
fn mutated_thresholds_and_claims_never_panic() {
    let names = names();
    proptest!(config(512), |(text in rule_text())| {
        let started = Instant::now();
        for result in [thresholds::parse(&text, &names).map(|_| ()), parse_claim(&text, &names).map(|_| ())] {
            if let Err(e) = result {
                // The caret goes at `offset`: it must point into the text (or just past it).
                prop_assert!(e.offset <= text.len(), "offset {} past {:?}", e.offset, text);
                prop_assert!(!e.message.is_empty());
            }
        }
        prop_assert!(started.elapsed() < PER_FILE);
    });
}

fn csv_text() -> impl Strategy<Value = String> {
    let cell = prop_oneof![
        Just("alice".to_string()),
        Just("\"p,w\"".to_string()),
        Just("\"unclosed".to_string()),
        Just(String::new()),
        Just("é𝄞".to_string()),
        "\\PC{0,8}",
    ];
    let row = proptest::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    proptest::collection::vec(row, 0..6).prop_map(|rows| {
        let mut text = String::from("id,password\n");
        for row in rows {
            text.push_str(&row);
            text.push('\n');
        }
        text
    })
}

#[test]
fn mutated_users_files_load_or_fail_with_a_position() {
    let dir = super::temp_dir("fuzz-csv");
    let scenario = "name: csv\ntarget: embedded\nduration: 10s\npersonas:\n  pupil:\n    users: { csv: users.csv }\n    arrival: { shape: constant, rate: 1/s }\n    journey:\n      - { post: /login, json: { user: \"{{ user.id }}\", password: \"{{ user.password }}\" }, goal: true }\n";
    let path = dir.join("scenario.yaml");
    proptest!(config(128), |(csv in csv_text(), raw in proptest::collection::vec(any::<u8>(), 0..40), use_raw in any::<bool>())| {
        let users = dir.join("users.csv");
        if use_raw {
            std::fs::write(&users, &raw).unwrap();
        } else {
            std::fs::write(&users, &csv).unwrap();
        }
        if let Err(e) = load_timed(scenario, &path)? {
            check_error(&e, scenario)?;
            prop_assert!(e.to_string().contains("users file"), "{e}");
        }
    });
}
