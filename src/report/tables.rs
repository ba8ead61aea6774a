//! The tables that both the terminal summary and `report.html` show — requests per step, users
//! per persona — built once as rows of cells, so that the two formats show the same columns and
//! cannot drift apart. Each format only lays the cells out.

use crate::analysis::Summary;
use crate::format::{count, micros, percent, share};

/// A table: its header, which columns hold text (left-aligned), and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub header: &'static [&'static str],
    /// Per column: text (left-aligned) rather than a number.
    pub text: &'static [bool],
    pub rows: Vec<Vec<Cell>>,
}

/// One cell, and whether it misses the run's objective (the HTML report marks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub bad: bool,
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, bad: false }
    }
}

fn flagged(text: String, bad: bool) -> Cell {
    Cell { text, bad }
}

/// Requests per step: latency from intended start, and errors by kind. A p95 or p99 above the
/// latency objective is bad.
pub fn steps(s: &Summary) -> Grid {
    let slo = s.saturation.as_ref().map(|x| x.slo_p95_us).unwrap_or(u64::MAX);
    let rows = s
        .steps
        .iter()
        .map(|st| {
            let finished = st.ok + st.errors.values().sum::<u64>();
            let errors = st.errors.iter().map(|(k, n)| format!("{k} {}", count(*n))).collect::<Vec<_>>().join(", ");
            let l = &st.latency;
            vec![
                st.persona.clone().into(),
                if st.goal { format!("{} (goal)", st.name) } else { st.name.clone() }.into(),
                count(st.sent).into(),
                share(st.ok, finished).into(),
                micros(l.p50_us).into(),
                micros(l.p90_us).into(),
                flagged(micros(l.p95_us), l.p95_us > slo),
                flagged(micros(l.p99_us), l.p99_us > slo),
                micros(l.p999_us).into(),
                micros(l.max_us).into(),
                if errors.is_empty() { "-".to_string() } else { errors }.into(),
            ]
        })
        .collect();
    Grid {
        header: &["persona", "step", "sent", "ok", "p50", "p90", "p95", "p99", "p99.9", "max", "errors"],
        text: &[true, true, false, false, false, false, false, false, false, false, true],
        rows,
    }
}

/// Users per persona: how their visits ended and how long the goal took. A share of users
/// reaching the goal in time under 95% is bad. Closed-loop personas have their own table
/// (their users all "complete" with their first answer).
pub fn users(s: &Summary) -> Grid {
    let rows = s
        .personas
        .iter()
        .filter(|p| p.closed_loop.is_none())
        .map(|p| {
            let within = |k: &str| match p.goal_within.get(k) {
                Some(f) => flagged(percent(*f), *f < 0.95),
                None => "n/a".to_string().into(),
            };
            let to_goal = |us: u64| if p.time_to_goal.count > 0 { micros(us) } else { "-".into() };
            vec![
                p.name.clone().into(),
                count(p.scheduled).into(),
                count(p.arrived).into(),
                count(p.completed).into(),
                count(p.failed).into(),
                count(p.abandoned).into(),
                count(p.cut_off).into(),
                count(p.not_started).into(),
                within("1m"),
                within("5m"),
                within("15m"),
                to_goal(p.time_to_goal.p50_us).into(),
                to_goal(p.time_to_goal.p95_us).into(),
                p.amplification.map(|a| format!("{a:.2}")).unwrap_or_else(|| "-".into()).into(),
            ]
        })
        .collect();
    Grid {
        header: &[
            "persona",
            "scheduled",
            "arrived",
            "completed",
            "failed",
            "abandoned",
            "cut off",
            "not started",
            "goal ≤1m",
            "≤5m",
            "≤15m",
            "p50 to goal",
            "p95 to goal",
            "requests/goal",
        ],
        text: &[true, false, false, false, false, false, false, false, false, false, false, false, false, false],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn every_row_has_a_cell_per_column_and_misses_are_flagged() {
        let mut s = fixture::saturating();
        s.saturation = Some(crate::analysis::analyze(&s, &Default::default()));
        for grid in [steps(&s), users(&s)] {
            assert_eq!(grid.header.len(), grid.text.len());
            assert!(!grid.rows.is_empty());
            for row in &grid.rows {
                assert_eq!(row.len(), grid.header.len(), "{row:?}");
            }
        }
        let login = steps(&s).rows.into_iter().find(|r| r[1].text == "login").expect("pupil login");
        assert!(login[6].bad, "the saturating morning's login p95 misses the objective: {login:?}");
        assert!(users(&s).rows.iter().flatten().any(|c| c.bad), "some persona misses its goal in time");
        assert!(!users(&fixture::calm()).rows.iter().flatten().any(|c| c.bad && c.text == "100.0%"));
    }
}
