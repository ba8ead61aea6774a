//! A persona's journey (a tree of steps, repeats and choices) → a flat [`Journey`] program.
//!
//! Layout of the program, so that a user is a loop over a program counter:
//! - `repeat: n` → `LoopStart { count: n, end }`, the body, `LoopEnd { start }`.
//! - `choose` → `Choose { branches: [(weight, first op)] }`, then each branch followed by a
//!   `Jump` past the last branch (an empty branch is just its `Jump`).
//!
//! The persona's `think` is inserted as a `Think` op after every request, except when the next
//! item at the same level is an explicit `think` (the author said how long to pause there),
//! and except after the last request the user makes at the end of the journey (nobody waits
//! before leaving). Inside a `repeat` the pause after the last request is kept: it separates
//! iterations.

use std::collections::HashMap;

use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::{Journey, Op, RequestSpec, Think};
use crate::scenario::names::Names;
use crate::scenario::raw::{RawStep, METHODS};
use crate::scenario::request::{request, valid_capture_name};
use crate::scenario::suggest;
use crate::scenario::validate::think_at;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Compile the journey at `path` (e.g. `personas.pupil.journey`).
pub fn compile_journey(
    src: &Source,
    path: &str,
    steps: &[RawStep],
    think: Option<Think>,
    columns: Option<&[String]>,
) -> Result<Journey> {
    if steps.is_empty() {
        return Err(src
            .error(path, At::Key, "the journey is empty")
            .with_hint("list what each user does, e.g. `- get: /agenda`"));
    }
    let mut vars = Vec::new();
    collect_captures(src, path, steps, &mut vars)?;
    let names = Names::persona(columns, &vars);
    let mut compiler = Compiler {
        src,
        names,
        think,
        ops: Vec::new(),
        requests: Vec::new(),
        goals: Vec::new(),
        step_names: HashMap::new(),
    };
    compiler.list(path, steps, true)?;
    let Compiler { ops, requests, goals, .. } = compiler;
    let goal = match goals.as_slice() {
        [(_, goal)] => *goal,
        [] => {
            return Err(src
                .error(path, At::Key, "no step is marked as the goal")
                .with_hint("add `goal: true` to the step that means success for this user (e.g. homework fetched)"))
        }
        [(first, first_request), (second, _), ..] => {
            let first_line = src.line_of(first).map(|l| format!(" (line {l})")).unwrap_or_default();
            return Err(src
                .error(
                    second,
                    At::Key,
                    format!(
                        "a second goal step: `{}`{first_line} is already the goal; a persona has exactly one",
                        requests[*first_request].name
                    ),
                )
                .with_hint("keep `goal: true` only on the step that means success for this user"));
        }
    };
    Ok(Journey { ops, requests, vars, goal })
}

/// Every capture name in the journey, in order of first appearance.
fn collect_captures(src: &Source, path: &str, steps: &[RawStep], vars: &mut Vec<String>) -> Result<()> {
    for (i, step) in steps.iter().enumerate() {
        let step_path = format!("{path}[{i}]");
        for name in step.capture.iter().flat_map(|c| c.keys()) {
            if !valid_capture_name(name) {
                return Err(src
                    .error(
                        &join(&join(&step_path, "capture"), name),
                        At::Key,
                        format!("`{name}` cannot be a capture name"),
                    )
                    .with_hint(
                        "use letters, digits and `_` (not starting with a digit); `user` and `iteration` are taken",
                    ));
            }
            if !vars.contains(name) {
                vars.push(name.clone());
            }
        }
        if let Some(inner) = &step.steps {
            collect_captures(src, &join(&step_path, "steps"), inner, vars)?;
        }
        for (b, branch) in step.choose.iter().flatten().enumerate() {
            if let Some(inner) = &branch.steps {
                collect_captures(src, &format!("{step_path}.choose[{b}].steps"), inner, vars)?;
            }
        }
    }
    Ok(())
}

struct Compiler<'a> {
    src: &'a Source<'a>,
    names: Names<'a>,
    think: Option<Think>,
    ops: Vec<Op>,
    requests: Vec<RequestSpec>,
    /// (YAML path of the `goal` key, request index) of every goal step.
    goals: Vec<(String, usize)>,
    /// Step name → YAML path where it was first used.
    step_names: HashMap<String, String>,
}

impl Compiler<'_> {
    /// Compile a list of steps. `at_tail`: nothing runs after this list ends.
    fn list(&mut self, path: &str, steps: &[RawStep], at_tail: bool) -> Result<()> {
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            let next_is_think = steps.get(i + 1).is_some_and(|s| s.think.is_some());
            self.step(&format!("{path}[{i}]"), step, next_is_think, last && at_tail)?;
        }
        Ok(())
    }

    fn step(&mut self, path: &str, step: &RawStep, next_is_think: bool, at_tail: bool) -> Result<()> {
        let src = self.src;
        let methods = step.methods();
        let flow = step.flow_keys();
        if let [(first, _), (second, _), ..] = methods.as_slice() {
            return Err(src
                .error(
                    &join(path, second),
                    At::Key,
                    format!("a step has one method, but this one has `{first}` and `{second}`"),
                )
                .with_hint("split it into two steps"));
        }
        if let [(method, target)] = methods.as_slice() {
            if let Some(key) = flow.first() {
                return Err(src
                    .error(&join(path, key), At::Key, format!("`{key}` cannot be mixed with a request (`{method}`)"))
                    .with_hint(flow_hint(key)));
            }
            return self.request(path, step, method, target, next_is_think, at_tail);
        }
        let request_keys = step.request_keys();
        if flow.is_empty() {
            return Err(if let Some(key) = request_keys.first() {
                src.error(path, At::Value, format!("this step has `{key}` but no method"))
                    .with_hint(format!("a request needs one of {}", suggest::one_of(&METHODS)))
            } else {
                src.error(path, At::Value, "empty step").with_hint(format!(
                    "a step is a request ({}), a `think`, a `repeat` or a `choose`",
                    suggest::one_of(&METHODS)
                ))
            });
        }
        if let Some(key) = request_keys.first() {
            return Err(src
                .error(&join(path, key), At::Key, format!("`{key}` belongs to a request, not to a `{}` step", flow[0]))
                .with_hint(flow_hint(flow[0])));
        }
        match flow.as_slice() {
            ["think"] => {
                if let Some(raw) = &step.think {
                    self.ops.push(Op::Think(think_at(src, &join(path, "think"), raw)?));
                }
                Ok(())
            }
            ["repeat", "steps"] => self.repeat(path, step),
            ["repeat"] => Err(src
                .error(&join(path, "repeat"), At::Key, "`repeat` needs `steps`")
                .with_hint("e.g. `- { repeat: 3, steps: [ { get: \"/files/{{ iteration }}\" } ] }`")),
            ["steps"] => Err(src
                .error(&join(path, "steps"), At::Key, "`steps` goes with `repeat: <count>`")
                .with_hint("to group steps without repeating them, list them directly in the journey")),
            ["choose"] => self.choose(path, step, at_tail),
            [first, second, ..] => Err(src
                .error(
                    &join(path, second),
                    At::Key,
                    format!(
                        "a step is one of `think`, `repeat` or `choose`, but this one has `{first}` and `{second}`"
                    ),
                )
                .with_hint("make them separate steps")),
            _ => Ok(()),
        }
    }

    fn request(
        &mut self,
        path: &str,
        step: &RawStep,
        method: &'static str,
        target: &str,
        next_is_think: bool,
        at_tail: bool,
    ) -> Result<()> {
        let spec = request(self.src, path, step, method, target, &self.names)?;
        let name_path = if step.name.is_some() { join(path, "name") } else { join(path, method) };
        if let Some(first) = self.step_names.get(&spec.name) {
            let line = self.src.line_of(first).map(|l| format!(" (line {l})")).unwrap_or_default();
            let hint = if step.name.is_some() {
                "step names must be unique within a persona, so that reports can tell the steps apart"
            } else {
                "give one of them a `name:` so that reports can tell the steps apart"
            };
            return Err(self
                .src
                .error(&name_path, At::Value, format!("step name `{}` is already used{line}", spec.name))
                .with_hint(hint));
        }
        self.step_names.insert(spec.name.clone(), name_path);
        if spec.goal {
            self.goals.push((join(path, "goal"), self.requests.len()));
        }
        self.ops.push(Op::Request(self.requests.len()));
        self.requests.push(spec);
        if let Some(think) = self.think {
            if !next_is_think && !at_tail {
                self.ops.push(Op::Think(think));
            }
        }
        Ok(())
    }

    fn repeat(&mut self, path: &str, step: &RawStep) -> Result<()> {
        let src = self.src;
        let count = step.repeat.unwrap_or(0);
        let count = match u32::try_from(count) {
            Ok(0) => {
                return Err(src
                    .error(&join(path, "repeat"), At::Value, "`repeat: 0` never runs its steps")
                    .with_hint("repeat 1 or more times, or remove the step"))
            }
            Ok(n) => n,
            Err(_) => {
                return Err(src.error(
                    &join(path, "repeat"),
                    At::Value,
                    format!("`repeat: {count}` is too many (at most {})", u32::MAX),
                ))
            }
        };
        let body = step.steps.as_deref().unwrap_or_default();
        if body.is_empty() {
            return Err(src.error(&join(path, "steps"), At::Key, "`steps` of a repeat is empty"));
        }
        let start = self.ops.len();
        self.ops.push(Op::LoopStart { count, end: 0 });
        self.list(&join(path, "steps"), body, false)?;
        let end = self.ops.len();
        self.ops.push(Op::LoopEnd { start });
        self.ops[start] = Op::LoopStart { count, end };
        Ok(())
    }

    fn choose(&mut self, path: &str, step: &RawStep, at_tail: bool) -> Result<()> {
        let src = self.src;
        let branches = step.choose.as_deref().unwrap_or_default();
        let choose_path = join(path, "choose");
        if branches.is_empty() {
            return Err(src
                .error(&choose_path, At::Key, "`choose` has no branch")
                .with_hint("e.g. `choose: [ { weight: 3, steps: [ { get: /messages } ] }, { weight: 1, steps: [ { get: /grades } ] } ]`"));
        }
        let choose_at = self.ops.len();
        self.ops.push(Op::Choose { branches: Vec::new() });
        let mut table = Vec::with_capacity(branches.len());
        let mut jumps = Vec::with_capacity(branches.len());
        let mut total = 0u64;
        for (b, branch) in branches.iter().enumerate() {
            let branch_path = format!("{choose_path}[{b}]");
            let weight = branch.weight.unwrap_or(1);
            let weight = u32::try_from(weight).map_err(|_| {
                src.error(&join(&branch_path, "weight"), At::Value, format!("weight {weight} is too large"))
            })?;
            total += u64::from(weight);
            let Some(steps) = &branch.steps else {
                return Err(src
                    .error(&branch_path, At::Value, "a branch needs `steps` (an empty list `[]` for \"do nothing\")")
                    .with_hint("e.g. `{ weight: 3, steps: [ { get: /messages } ] }`"));
            };
            table.push((weight, self.ops.len()));
            self.list(&join(&branch_path, "steps"), steps, at_tail)?;
            jumps.push(self.ops.len());
            self.ops.push(Op::Jump(0));
        }
        if total == 0 {
            return Err(src
                .error(&choose_path, At::Key, "every branch of this `choose` has weight 0, so none can be chosen")
                .with_hint("give at least one branch a positive `weight` (the default is 1)"));
        }
        let past = self.ops.len();
        for jump in jumps {
            self.ops[jump] = Op::Jump(past);
        }
        self.ops[choose_at] = Op::Choose { branches: table };
        Ok(())
    }
}

fn flow_hint(key: &str) -> String {
    match key {
        "think" => "a pause is a step of its own: `- think: 5s`".to_string(),
        "repeat" | "steps" => "a loop is a step of its own: `- { repeat: 3, steps: [ ... ] }`".to_string(),
        _ => "a choice is a step of its own: `- choose: [ { weight: 1, steps: [ ... ] } ]`".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::{load_str, Op, Think};
    use std::time::Duration;

    fn ops(journey: &str, think: &str) -> Vec<Op> {
        let text = format!(
            "name: t\ntarget: embedded\nduration: 1m\npersonas:\n  p:\n    arrival: {{ shape: constant, rate: 1 }}\n{think}    journey:\n{journey}"
        );
        let scenario = load_str(&text, std::path::Path::new("t.yaml")).unwrap_or_else(|e| panic!("{e}"));
        scenario.personas[0].journey.ops.clone()
    }

    #[test]
    fn nested_loops_and_choices_point_at_the_right_ops() {
        let journey = "      - repeat: 2\n        steps:\n          - get: /a\n          - choose:\n              - steps:\n                  - repeat: 3\n                    steps: [ { get: /b } ]\n              - steps: [ { get: /c, goal: true } ]\n";
        use Op::*;
        assert_eq!(
            ops(journey, ""),
            [
                LoopStart { count: 2, end: 9 },
                Request(0),
                Choose { branches: vec![(1, 3), (1, 7)] },
                LoopStart { count: 3, end: 5 },
                Request(1),
                LoopEnd { start: 3 },
                Jump(9),
                Request(2),
                Jump(9), // past the last branch: the outer loop's end
                LoopEnd { start: 0 },
            ]
        );
    }

    #[test]
    fn think_goes_between_requests_only() {
        let t = Op::Think(Think::Fixed(Duration::from_secs(3)));
        let journey = "      - get: /a\n      - get: /b\n        goal: true\n";
        assert_eq!(ops(journey, "    think: 3s\n"), [Op::Request(0), t, Op::Request(1)]);
        assert_eq!(ops(journey, ""), [Op::Request(0), Op::Request(1)]);
    }
}
