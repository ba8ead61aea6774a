//! One persona: its name, population (scaled), users, arrival, think time and journey.

use std::time::Duration;

use crate::scenario::arrival::arrival;
use crate::scenario::behaviour;
use crate::scenario::compile::compile_journey;
use crate::scenario::error::{At, ScenarioError, Source};
use crate::scenario::locate::join;
use crate::scenario::model::{Behaviour, Journey, Op, Persona, UserSource};
use crate::scenario::raw::RawPersona;
use crate::scenario::users::load_csv;
use crate::scenario::validate::think_at;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Validate the persona `name` of a run lasting `duration`, applying `scale`.
pub fn persona(src: &Source, name: &str, raw: &RawPersona, duration: Duration, scale: f64) -> Result<Persona> {
    let path = join("personas", name);
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        let fixed: String =
            name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        return Err(src
            .error(&path, At::Key, format!("`{name}` is not a valid persona name"))
            .with_hint(format!("persona names use lowercase letters, digits, `_` and `-` (they appear in reports and metric names), e.g. `{fixed}`")));
    }
    if raw.population == Some(0) {
        return Err(src
            .error(&join(&path, "population"), At::Value, "a population of 0 means nobody arrives")
            .with_hint("remove the persona, or give it at least 1 user"));
    }
    let users = match &raw.users {
        Some(users) => load_csv(src, &join(&path, "users.csv"), &users.csv)?,
        None => UserSource::Generated,
    };
    let population = match (&users, raw.population) {
        (UserSource::Csv { rows, .. }, Some(p)) if p > rows.len() as u64 => {
            return Err(src
                .error(
                    &join(&path, "population"),
                    At::Value,
                    format!("population {p} is more than the {} users in the CSV file", rows.len()),
                )
                .with_hint("add rows to the file, lower `population`, or remove it to use every row"))
        }
        (UserSource::Csv { rows, .. }, None) => Some(rows.len() as u64),
        (_, given) => given,
    };
    let Some(raw_arrival) = &raw.arrival else {
        return Err(src.error(&path, At::Key, "missing `arrival`: when do these users show up?").with_hint(
            "e.g. `arrival: { shape: peak, at: 4m, spread: 1m }` or `arrival: { shape: constant, rate: 5/s }`",
        ));
    };
    let arrival = arrival(src, &join(&path, "arrival"), raw_arrival, population.is_some(), duration, scale)?;
    let think = match &raw.think {
        Some(t) => Some(think_at(src, &join(&path, "think"), t)?),
        None => None,
    };
    let Some(steps) = &raw.journey else {
        return Err(src
            .error(&path, At::Key, "missing `journey`: what does each user do?")
            .with_hint("e.g. `journey: [ { post: /login }, { get: /homework, goal: true } ]`"));
    };
    let columns = match &users {
        UserSource::Csv { columns, .. } => Some(columns.as_slice()),
        UserSource::Generated => None,
    };
    let journey = compile_journey(src, &join(&path, "journey"), steps, think, columns)?;
    let population = match population {
        Some(p) => Some(scale_population(src, &join(&path, "population"), p, scale)?),
        None => None,
    };
    let mut behaviour = Behaviour { login_end: login_end(&journey), ..Behaviour::default() };
    if let Some(retry) = &raw.retry {
        behaviour.retry = behaviour::retry_policy(src, &join(&path, "retry"), retry)?;
    }
    if let Some(patience) = &raw.patience {
        (behaviour.page_patience, behaviour.goal_patience) =
            behaviour::patience(src, &join(&path, "patience"), patience)?;
    }
    behaviour.relogin = raw.relogin.unwrap_or(true);
    if let Some(room) = &raw.waiting_room {
        behaviour.waiting_room = Some(behaviour::waiting_room(src, &join(&path, "waiting_room"), room)?);
    }
    let blocked = match &raw.blocked {
        Some(windows) => behaviour::windows(src, &join(&path, "blocked"), windows, duration)?,
        None => Vec::new(),
    };
    Ok(Persona { name: name.to_string(), population, users, arrival, journey, behaviour, blocked, closed_loop: false })
}

/// End of the login sub-journey: just after the request marked `login: true`, else the first
/// request named like a login, else the first POST; 0 when there is none.
fn login_end(journey: &Journey) -> usize {
    let requests = || {
        journey.ops.iter().enumerate().filter_map(|(i, op)| match op {
            Op::Request(r) => Some((i, &journey.requests[*r])),
            _ => None,
        })
    };
    requests()
        .find(|(_, r)| r.login)
        .or_else(|| requests().find(|(_, r)| r.name.to_lowercase().contains("login")))
        .or_else(|| requests().find(|(_, r)| r.method == http::Method::POST))
        .map(|(i, _)| i + 1)
        .unwrap_or(0)
}

/// Round to the nearest user, keeping at least one: scaling a rehearsal down should not make
/// a small persona vanish.
fn scale_population(src: &Source, path: &str, population: u64, scale: f64) -> Result<u64> {
    let scaled = (population as f64 * scale).round();
    // 2^53: beyond it an f64 no longer counts users exactly.
    if scaled > 9_007_199_254_740_992.0 {
        return Err(src.error(path, At::Value, format!("population {population} × scale {scale} is too large")));
    }
    Ok((scaled as u64).max(1))
}
