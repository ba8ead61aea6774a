//! JUnit XML, the format every CI system displays: one test case per threshold, with the
//! measured value against the limit in the failure message.
//!
//! One more test case, `run is valid`, says whether the generator kept to its schedule: a CI
//! page that shows every threshold green while the job failed with exit code 3 would
//! mislead whoever reads it.

use std::fmt::Write as _;

use super::escape::markup;
use crate::analysis::thresholds::show;
use crate::analysis::Summary;
use crate::scenario::thresholds::Unit;

/// The JUnit XML document for a finished run.
pub fn render(summary: &Summary) -> String {
    let s = summary;
    let generator_ok = s.generator.healthy;
    let failures = s.thresholds.iter().filter(|t| !t.pass).count() + usize::from(!generator_ok);
    let tests = s.thresholds.len() + 1;
    let time = format!("{:.3}", s.run.elapsed_s);
    let suite = format!("schoolday: {}", s.scenario.name);
    let mut xml = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(xml, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        xml,
        r#"<testsuites name="schoolday" tests="{tests}" failures="{failures}" errors="0" time="{time}">"#
    );
    let _ = writeln!(
        xml,
        r#"  <testsuite name="{}" tests="{tests}" failures="{failures}" errors="0" skipped="0" time="{time}" timestamp="{}">"#,
        markup(&suite),
        markup(&s.run.started_at)
    );
    let _ = writeln!(xml, "    <properties>");
    for (name, value) in [
        ("scenario.file", s.scenario.file.clone()),
        ("seed", s.scenario.seed.to_string()),
        ("target", s.target.url.clone()),
        ("requests.sent", s.requests.sent.to_string()),
        ("interrupted", s.run.interrupted.to_string()),
    ] {
        let _ = writeln!(xml, r#"      <property name="{name}" value="{}"/>"#, markup(&value));
    }
    let _ = writeln!(xml, "    </properties>");
    for t in &s.thresholds {
        let failure = (!t.pass).then(|| t.explain());
        case(&mut xml, "schoolday.thresholds", &t.name, failure.as_deref());
    }
    let lag = &s.generator.lag;
    let limit = show(s.generator.lag_p99_limit_us as f64, Unit::Duration);
    let failure = (!generator_ok).then(|| {
        format!(
            "generator lag p99 {} exceeds {limit}: the load generator fell behind its schedule, so the target \
             received less load than planned and this run does not measure it (exit code 3)",
            show(lag.p99_us as f64, Unit::Duration)
        )
    });
    case(&mut xml, "schoolday.run", &format!("run is valid: generator lag p99 <= {limit}"), failure.as_deref());
    let _ = writeln!(xml, "  </testsuite>");
    let _ = writeln!(xml, "</testsuites>");
    xml
}

fn case(xml: &mut String, class: &str, name: &str, failure: Option<&str>) {
    let head = format!(r#"    <testcase classname="{class}" name="{}" time="0""#, markup(name));
    match failure {
        None => {
            let _ = writeln!(xml, "{head}/>");
        }
        Some(message) => {
            let _ = writeln!(xml, "{head}>");
            let _ =
                writeln!(xml, r#"      <failure message="{m}" type="threshold">{m}</failure>"#, m = markup(message));
            let _ = writeln!(xml, "    </testcase>");
        }
    }
}
