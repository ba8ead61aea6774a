//! `timeline.csv`: the per-second timeline as one row per second with a header row, for
//! spreadsheets and notebooks. Columns are stable: totals first, then every error kind (even
//! those that never happened, so files from different runs line up), then each step.

use std::io;

use crate::analysis::Summary;
use crate::metrics::ErrorKind;

pub fn timeline(summary: &Summary) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["t_s", "arrivals", "started", "ok", "errors"].iter().map(|s| s.to_string()).collect();
    header.extend(ErrorKind::ALL.iter().map(|k| format!("errors_{}", k.name())));
    header.extend(
        [
            "goals",
            "active_users",
            "in_flight",
            "latency_count",
            "latency_p50_us",
            "latency_p95_us",
            "latency_p99_us",
            "latency_max_us",
            "lag_p50_us",
            "lag_p99_us",
            "lag_max_us",
            "behind",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    for step in &summary.steps {
        let id = format!("{}/{}", step.persona, step.name);
        header.extend(["ok", "errors", "p50_us", "p95_us", "p99_us"].iter().map(|c| format!("{id} {c}")));
    }
    w.write_record(&header).map_err(io::Error::other)?;
    for s in &summary.timeline {
        let mut row: Vec<u64> = vec![s.t as u64, s.arrivals, s.started, s.ok, s.error_total()];
        row.extend(ErrorKind::ALL.iter().map(|k| s.errors_of(*k)));
        row.extend([
            s.goals,
            s.active_users,
            s.in_flight,
            s.latency.count,
            s.latency.p50_us,
            s.latency.p95_us,
            s.latency.p99_us,
            s.latency.max_us,
            s.lag.p50_us,
            s.lag.p99_us,
            s.lag.max_us,
            s.behind,
        ]);
        for i in 0..summary.steps.len() {
            // A second recorded before a step existed (or a truncated row) reads as zeros.
            let st = s.steps.get(i).cloned().unwrap_or(crate::metrics::StepSecond {
                ok: 0,
                errors: 0,
                latency: Default::default(),
            });
            row.extend([st.ok, st.errors, st.latency.p50_us, st.latency.p95_us, st.latency.p99_us]);
        }
        w.write_record(row.iter().map(|v| v.to_string())).map_err(io::Error::other)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn one_row_per_second_with_a_header_of_the_same_width() {
        let s = fixture::saturating();
        let text = String::from_utf8(timeline(&s).unwrap()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), s.timeline.len() + 1);
        let width = lines[0].split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == width));
        assert!(lines[0].starts_with("t_s,arrivals,started,ok,errors,errors_connect"));
        assert!(lines[0].contains("pupil/login p95_us"));
        assert!(lines[1].starts_with("1,"));
        let empty = String::from_utf8(timeline(&fixture::empty()).unwrap()).unwrap();
        assert_eq!(empty.lines().count(), 1);
    }
}
