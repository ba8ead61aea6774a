//! Requests → sessions, in one pass and bounded memory: what a scenario needs from a day's
//! log (sessions started per minute, the route mix, the journeys, the pauses) without keeping
//! the log.
//!
//! A session is one client's requests until it has been idle for `gap`. Only open sessions
//! are held (swept as the log's clock passes them), and every table is bounded: minutes by
//! the span of the log, routes and journeys by caps beyond which the rest is counted as
//! "other". Pauses between a session's requests go into an HDR histogram (quantiles, never an
//! average of them); gaps under [`PAGE_LOAD_GAP`] are one page load, not a pause.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use hdrhistogram::Histogram;
use regex::Regex;

use crate::import::log_line::Record;
use crate::import::route;
use crate::import::steps::PAGE_LOAD_GAP;

/// Distinct route patterns kept per persona; more are counted as other routes.
const MAX_ROUTES: usize = 10_000;
/// Distinct journeys kept per persona; more are counted as rare journeys.
const MAX_JOURNEYS: usize = 50_000;
/// Steps of a session that make its journey (the rest of a long session is its tail).
pub const JOURNEY_STEPS: usize = 6;
/// Open sessions are swept every this many requests.
const SWEEP_EVERY: u64 = 50_000;

/// A persona rule: `parent=^/parents/` (matched against the path and the user).
#[derive(Debug, Clone)]
pub struct Rule {
    pub persona: String,
    pub pattern: Regex,
}

/// One route: method and pattern, e.g. `GET /files/{id}`.
pub type Route = (String, String);

/// What the day holds for one persona.
#[derive(Debug, Clone)]
pub struct PersonaDay {
    pub name: String,
    pub sessions: u64,
    /// Sessions started in each minute (minutes since the epoch).
    pub starts: BTreeMap<i64, u64>,
    pub routes: HashMap<Route, u64>,
    pub other_routes: u64,
    pub journeys: HashMap<Vec<u32>, u64>,
    pub rare_journeys: u64,
    /// Pauses between requests of a session, milliseconds.
    pub think: Histogram<u64>,
}

/// The whole day, once every session is closed.
#[derive(Debug)]
pub struct Day {
    pub personas: Vec<PersonaDay>,
    /// Route ids used by journeys: `route_names[id]`.
    pub route_names: Vec<Route>,
    /// The first minute with a request (minutes since the epoch).
    pub first_minute: Option<i64>,
    /// The last minute with a request.
    pub last_minute: Option<i64>,
    pub offset: Option<FixedOffset>,
    pub requests: u64,
}

struct Open {
    persona: Option<usize>,
    started_minute: i64,
    last: DateTime<FixedOffset>,
    journey: Vec<u32>,
}

/// The streaming state.
pub struct Sessions {
    gap: chrono::Duration,
    rules: Vec<Rule>,
    open: HashMap<String, Open>,
    day: Day,
    route_ids: HashMap<Route, u32>,
    seen: u64,
}

impl Sessions {
    /// `rules` may be empty: then everyone is one persona, `default_persona`.
    pub fn new(gap: Duration, rules: Vec<Rule>, default_persona: &str) -> Sessions {
        let mut names: Vec<String> = Vec::new();
        for rule in &rules {
            if !names.contains(&rule.persona) {
                names.push(rule.persona.clone());
            }
        }
        names.push(default_persona.to_string());
        let personas = names
            .into_iter()
            .map(|name| PersonaDay {
                name,
                sessions: 0,
                starts: BTreeMap::new(),
                routes: HashMap::new(),
                other_routes: 0,
                journeys: HashMap::new(),
                rare_journeys: 0,
                // 1 ms to 1 day, 3 significant digits.
                think: Histogram::new_with_bounds(1, 86_400_000, 3).expect("static histogram bounds are valid"),
            })
            .collect();
        Sessions {
            gap: chrono::Duration::from_std(gap).unwrap_or(chrono::Duration::MAX),
            rules,
            open: HashMap::new(),
            day: Day {
                personas,
                route_names: Vec::new(),
                first_minute: None,
                last_minute: None,
                offset: None,
                requests: 0,
            },
            route_ids: HashMap::new(),
            seen: 0,
        }
    }

    /// Adds one request of the application (static assets already left out).
    pub fn add(&mut self, record: &Record) {
        let minute = record.time.timestamp().div_euclid(60);
        self.day.first_minute = Some(self.day.first_minute.map_or(minute, |m| m.min(minute)));
        self.day.last_minute = Some(self.day.last_minute.map_or(minute, |m| m.max(minute)));
        self.day.offset.get_or_insert(*record.time.offset());
        self.day.requests += 1;
        let key = match &record.client {
            Some(client) => client.clone(),
            None => format!("{}\u{1f}{}", record.address, record.user_agent.as_deref().unwrap_or_default()),
        };
        let persona = self.rule_for(record);
        let route = (record.method.clone(), route::pattern(&record.path));
        let route_id = self.route_id(&route);
        let expired = self.open.get(&key).is_some_and(|s| record.time - s.last > self.gap);
        if expired {
            if let Some(done) = self.open.remove(&key) {
                self.close(done);
            }
        }
        let default = self.day.personas.len() - 1;
        let session = self.open.entry(key).or_insert_with(|| Open {
            persona: None,
            started_minute: minute,
            last: record.time,
            journey: Vec::new(),
        });
        let pause = (record.time - session.last).to_std().unwrap_or_default();
        if !session.journey.is_empty() && pause >= PAGE_LOAD_GAP {
            let target = session.persona.unwrap_or(default);
            let _ = self.day.personas[target].think.record((pause.as_millis() as u64).max(1));
        }
        session.last = session.last.max(record.time);
        if session.persona.is_none() {
            session.persona = persona;
        }
        if session.journey.len() < JOURNEY_STEPS && session.journey.last() != Some(&route_id) {
            session.journey.push(route_id);
        }
        let target = session.persona.unwrap_or(default);
        let counts = &mut self.day.personas[target];
        if counts.routes.len() < MAX_ROUTES || counts.routes.contains_key(&route) {
            *counts.routes.entry(route).or_default() += 1;
        } else {
            counts.other_routes += 1;
        }
        self.seen += 1;
        if self.seen % SWEEP_EVERY == 0 {
            self.sweep(record.time);
        }
    }

    fn rule_for(&self, record: &Record) -> Option<usize> {
        let rule = self.rules.iter().find(|r| {
            r.pattern.is_match(&record.path) || record.user.as_deref().is_some_and(|u| r.pattern.is_match(u))
        })?;
        self.day.personas.iter().position(|p| p.name == rule.persona)
    }

    fn route_id(&mut self, route: &Route) -> u32 {
        if let Some(id) = self.route_ids.get(route) {
            return *id;
        }
        // Journeys only refer to the first routes seen; past the cap a route shares one id.
        if self.day.route_names.len() >= MAX_ROUTES {
            return u32::MAX;
        }
        let id = self.day.route_names.len() as u32;
        self.day.route_names.push(route.clone());
        self.route_ids.insert(route.clone(), id);
        id
    }

    /// Closes every session idle for longer than the gap at `now`.
    fn sweep(&mut self, now: DateTime<FixedOffset>) {
        let gap = self.gap;
        let idle: Vec<String> = self.open.iter().filter(|(_, s)| now - s.last > gap).map(|(k, _)| k.clone()).collect();
        for key in idle {
            if let Some(done) = self.open.remove(&key) {
                self.close(done);
            }
        }
    }

    fn close(&mut self, session: Open) {
        let default = self.day.personas.len() - 1;
        let persona = &mut self.day.personas[session.persona.unwrap_or(default)];
        persona.sessions += 1;
        *persona.starts.entry(session.started_minute).or_default() += 1;
        let journey = session.journey;
        if persona.journeys.len() < MAX_JOURNEYS || persona.journeys.contains_key(&journey) {
            *persona.journeys.entry(journey).or_default() += 1;
        } else {
            persona.rare_journeys += 1;
        }
    }

    /// Closes the sessions still open and hands over the day.
    pub fn finish(mut self) -> Day {
        let open: Vec<Open> = self.open.drain().map(|(_, s)| s).collect();
        for session in open {
            self.close(session);
        }
        self.day
    }
}

impl std::ops::Deref for Sessions {
    type Target = Day;
    fn deref(&self) -> &Day {
        &self.day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(secs: i64, address: &str, agent: &str, user: Option<&str>, path: &str) -> Record {
        let base = chrono::DateTime::parse_from_rfc3339("2020-09-07T07:00:00+02:00").unwrap();
        Record {
            time: base + chrono::Duration::seconds(secs),
            address: address.into(),
            user: user.map(Into::into),
            method: "GET".into(),
            path: path.into(),
            status: 200,
            user_agent: Some(agent.into()),
            client: None,
        }
    }

    #[test]
    fn sessions_split_on_idle_gaps_and_clients() {
        let rules = vec![Rule { persona: "parent".into(), pattern: Regex::new(r"^parent\.").unwrap() }];
        let mut sessions = Sessions::new(Duration::from_secs(30 * 60), rules, "other");
        // One client: two requests 20 s apart, then 31 minutes of silence, then a new session.
        sessions.add(&record(0, "10.0.0.1", "Firefox", None, "/login"));
        sessions.add(&record(20, "10.0.0.1", "Firefox", None, "/files/8812"));
        sessions.add(&record(20, "10.0.0.1", "Firefox", None, "/files/8813"));
        sessions.add(&record(20 + 31 * 60, "10.0.0.1", "Firefox", None, "/agenda"));
        // Same address, another browser: another client. A parent, by the user field.
        sessions.add(&record(65, "10.0.0.1", "Safari", Some("parent.7"), "/login"));
        sessions.add(&record(70, "10.0.0.1", "Safari", Some("parent.7"), "/grades"));
        let day = sessions.finish();
        let [parent, other] = &day.personas[..] else { panic!("{:?}", day.personas) };
        assert_eq!((parent.name.as_str(), parent.sessions, other.sessions), ("parent", 1, 2));
        let first = day.first_minute.unwrap();
        assert_eq!(other.starts, BTreeMap::from([(first, 1), (first + 31, 1)]));
        assert_eq!(parent.starts, BTreeMap::from([(first + 1, 1)]));
        assert_eq!(other.routes[&("GET".to_string(), "/files/{id}".to_string())], 2, "ids collapse");
        // Pauses: 20 s (the second file came in the same second: one page load) and 5 s.
        assert!(other.think.len() == 1 && other.think.equivalent(other.think.max(), 20_000), "{}", other.think.max());
        assert!(
            parent.think.len() == 1 && parent.think.equivalent(parent.think.max(), 5_000),
            "{}",
            parent.think.max()
        );
        // Journeys keep consecutive routes once: login, files (twice, one step).
        let journey: Vec<&str> =
            other.journeys.keys().flat_map(|j| j.iter().map(|id| day.route_names[*id as usize].1.as_str())).collect();
        assert!(
            journey.contains(&"/files/{id}") && journey.iter().filter(|r| **r == "/files/{id}").count() == 1,
            "{journey:?}"
        );
        assert_eq!(day.requests, 6);
    }
}
