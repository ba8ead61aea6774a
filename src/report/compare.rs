//! Comparing saved runs side by side: the same morning with immediate retries against
//! backoff, simultaneous against staggered starts, before and after adding capacity. One HTML
//! page and one terminal table with the same rows; every run after the first is compared with
//! the first (the baseline) and the differences that matter are highlighted.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::html::esc;
use super::rundir::slug;
use super::style::Style;
use crate::analysis::thresholds::step_ceiling;
use crate::analysis::verdict::Status;
use crate::analysis::{StepSummary, Summary};
use crate::format::{clock, count, micros, percent};

/// A change smaller than this (relative) is noise between runs, not a difference.
const NOTABLE: f64 = 0.05;

/// Which way is better for a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Context, not a score (e.g. the load that was offered).
    Neither,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Missing,
    /// Requests per second.
    Rate(f64),
    Micros(u64),
    Seconds(f64),
    Share(f64),
    /// Saturation time: `None` = never saturated (the best outcome).
    SaturatedAt(Option<f64>),
    /// A multiplier, e.g. requests per goal.
    Ratio(f64),
    Count(u64),
    /// Time to recover after a storm: `None` = never (the worst outcome).
    RecoveredAfter(Option<f64>),
}

impl Value {
    /// The value as a number, for comparisons and `--output json` (`never` is infinite).
    pub fn number(&self) -> Option<f64> {
        match *self {
            Value::Missing => None,
            Value::Rate(v) | Value::Seconds(v) | Value::Share(v) => Some(v),
            Value::Micros(v) => Some(v as f64),
            Value::SaturatedAt(v) | Value::RecoveredAfter(v) => Some(v.unwrap_or(f64::INFINITY)),
            Value::Ratio(v) => Some(v),
            Value::Count(v) => Some(v as f64),
        }
    }

    pub fn text(&self) -> String {
        match *self {
            Value::Missing => "-".into(),
            Value::Rate(v) => format!("{v:.0}/s"),
            Value::Micros(v) => micros(v),
            Value::Seconds(v) => clock(Duration::from_secs_f64(v.max(0.0))),
            Value::Share(v) => percent(v),
            Value::SaturatedAt(None) => "never".into(),
            Value::SaturatedAt(Some(v)) => clock(Duration::from_secs_f64(v.max(0.0))),
            Value::Ratio(v) => format!("{v:.2}×"),
            Value::Count(v) => count(v),
            Value::RecoveredAfter(None) => "never (metastable)".into(),
            Value::RecoveredAfter(Some(v)) => clock(Duration::from_secs_f64(v.max(0.0))),
        }
    }
}

/// One comparison row: a measure across every run.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub group: String,
    pub label: String,
    pub better: Better,
    pub values: Vec<Value>,
}

impl Row {
    /// +1 better than the baseline, −1 worse, 0 same or not comparable.
    pub fn verdict(&self, i: usize) -> i8 {
        let (Some(base), Some(v)) = (self.values[0].number(), self.values.get(i).and_then(Value::number)) else {
            return 0;
        };
        if self.better == Better::Neither || base == v {
            return 0;
        }
        let notable = if base.is_infinite() || v.is_infinite() {
            true
        } else {
            (v - base).abs() > NOTABLE * base.abs().max(v.abs()) && (v - base).abs() > 1e-9
        };
        if !notable {
            return 0;
        }
        let higher = v > base;
        if higher == (self.better == Better::Higher) {
            1
        } else {
            -1
        }
    }
}

/// Saved runs side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Short label of each run (its directory name) and its summary.
    pub runs: Vec<(String, Summary)>,
    pub rows: Vec<Row>,
}

/// Compare the saved runs in `dirs` (each a run directory or a `summary.json`); the first is
/// the baseline. Writes the HTML page to `out` when it names an `.html` file, else to
/// `out/compare.html` (creating the directory), and returns the comparison, whose
/// [`Comparison::terminal`] prints the table.
pub fn compare(dirs: &[PathBuf], out: &Path) -> Result<(Comparison, PathBuf, Vec<String>), super::Error> {
    if dirs.is_empty() {
        let e = io::Error::new(io::ErrorKind::InvalidInput, "nothing to compare: give at least one run directory");
        return Err(e.into());
    }
    let mut runs = Vec::new();
    let mut warnings = Vec::new();
    for dir in dirs {
        let saved = super::load(dir)?;
        warnings.extend(saved.warnings.iter().map(|w| format!("{}: {w}", dir.display())));
        let label = dir
            .file_name()
            .filter(|n| *n != "summary.json")
            .or_else(|| dir.parent().and_then(|p| p.file_name()))
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        runs.push((label, saved.summary));
    }
    let comparison = Comparison::of(runs);
    let path = page_path(out);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", parent.display())))?;
    }
    super::rundir::write_atomically(&path, comparison.html()?.as_bytes())?;
    Ok((comparison, path, warnings))
}

/// Where the page goes: `out` itself when it names an HTML file, else `compare.html` in the
/// directory `out` (which need not exist yet: the default `reports` often does not).
fn page_path(out: &Path) -> PathBuf {
    let is_page = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    if is_page && !out.is_dir() {
        out.to_path_buf()
    } else {
        out.join("compare.html")
    }
}

/// `persona`'s step `name` in a run, matched by name across runs.
fn step_of<'a>(s: &'a Summary, persona: &str, name: &str) -> Option<&'a StepSummary> {
    s.steps.iter().find(|x| x.persona == persona && x.name == name)
}

impl Comparison {
    /// Build the rows from summaries (the first is the baseline).
    pub fn of(runs: Vec<(String, Summary)>) -> Comparison {
        let summaries: Vec<&Summary> = runs.iter().map(|r| &r.1).collect();
        let mut rows = Vec::new();
        let mut row = |group: &str, label: String, better, f: &dyn Fn(&Summary) -> Value| {
            rows.push(Row { group: group.into(), label, better, values: summaries.iter().map(|s| f(s)).collect() });
        };
        let sat = |s: &Summary| s.saturation.clone();
        row("load", "peak requests offered".into(), Better::Neither, &|s| {
            sat(s).map(|x| Value::Rate(x.peak_offered_rps)).unwrap_or(Value::Missing)
        });
        row("load", "peak served successfully".into(), Better::Higher, &|s| {
            sat(s).map(|x| Value::Rate(x.peak_ok_rps)).unwrap_or(Value::Missing)
        });
        row("load", "saturated after".into(), Better::Higher, &|s| {
            sat(s).map(|x| Value::SaturatedAt(x.point.map(|p| p.at_s))).unwrap_or(Value::Missing)
        });
        row("load", "offered load at saturation".into(), Better::Higher, &|s| {
            sat(s).and_then(|x| x.point).map(|p| Value::Rate(p.offered_rps)).unwrap_or(Value::Missing)
        });
        row("load", "knee (offered load)".into(), Better::Higher, &|s| {
            sat(s).and_then(|x| x.throughput_knee).map(|k| Value::Rate(k.load_rps)).unwrap_or(Value::Missing)
        });
        row("load", "requests failed".into(), Better::Lower, &|s| {
            let errors: u64 = s.requests.errors.values().sum();
            let finished = s.requests.ok + errors;
            if finished == 0 {
                Value::Missing
            } else {
                Value::Share(errors as f64 / finished as f64)
            }
        });
        // Steps and personas in first-seen order across all runs, matched by name.
        let mut steps: Vec<(String, String)> = Vec::new();
        let mut personas: Vec<String> = Vec::new();
        for s in &summaries {
            for st in &s.steps {
                let key = (st.persona.clone(), st.name.clone());
                if !steps.contains(&key) {
                    steps.push(key);
                }
            }
            for p in &s.personas {
                if !personas.contains(&p.name) {
                    personas.push(p.name.clone());
                }
            }
        }
        for p in &personas {
            for (label, key) in [("1 min", "1m"), ("5 min", "5m"), ("15 min", "15m")] {
                row("users", format!("{p}s at goal within {label}"), Better::Higher, &|s| {
                    s.personas
                        .iter()
                        .find(|x| &x.name == p)
                        .and_then(|x| x.goal_within.get(key))
                        .map(|v| Value::Share(*v))
                        .unwrap_or(Value::Missing)
                });
            }
            row("users", format!("{p}: p95 time to goal"), Better::Lower, &|s| {
                s.personas
                    .iter()
                    .find(|x| &x.name == p && x.time_to_goal.count > 0)
                    .map(|x| Value::Micros(x.time_to_goal.p95_us))
                    .unwrap_or(Value::Missing)
            });
            row("retries", format!("{p}: requests per goal (amplification)"), Better::Lower, &|s| {
                s.personas
                    .iter()
                    .find(|x| &x.name == p)
                    .and_then(|x| x.amplification)
                    .map(Value::Ratio)
                    .unwrap_or(Value::Missing)
            });
            row("retries", format!("{p}: app retries + reloads + re-logins"), Better::Lower, &|s| {
                s.personas
                    .iter()
                    .find(|x| &x.name == p)
                    .map(|x| {
                        let extra: u64 = ["app_retry", "reload", "relogin"]
                            .iter()
                            .map(|k| x.attempts.get(*k).copied().unwrap_or(0))
                            .sum();
                        Value::Count(extra)
                    })
                    .unwrap_or(Value::Missing)
            });
        }
        let storms = summaries.iter().map(|s| s.recovery.len()).max().unwrap_or(0);
        for i in 0..storms {
            row("recovery", format!("recovered after storm {}", i + 1), Better::Lower, &|s| {
                s.recovery.get(i).map(|r| Value::RecoveredAfter(r.recovered_after_s)).unwrap_or(Value::Missing)
            });
        }
        for (persona, name) in &steps {
            let find = |s: &Summary| step_of(s, persona, name).cloned();
            row("latency", format!("{persona}/{name} p95"), Better::Lower, &|s| {
                find(s)
                    .filter(|x| x.latency.count > 0)
                    .map(|x| Value::Micros(x.latency.p95_us))
                    .unwrap_or(Value::Missing)
            });
            row("latency", format!("{persona}/{name} p99"), Better::Lower, &|s| {
                find(s)
                    .filter(|x| x.latency.count > 0)
                    .map(|x| Value::Micros(x.latency.p99_us))
                    .unwrap_or(Value::Missing)
            });
        }
        Comparison { runs, rows }
    }

    /// The table for the terminal: one column per run, differences from the baseline in
    /// green (better) or red (worse).
    pub fn terminal(&self, style: &Style, out: &mut dyn Write) -> io::Result<()> {
        let label_width = self.rows.iter().map(|r| r.label.chars().count()).max().unwrap_or(0).max(8);
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                r.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut text = v.text();
                        if i > 0 {
                            if let (Some(b), Some(x)) = (r.values[0].number(), v.number()) {
                                if b.is_finite() && x.is_finite() && b != 0.0 && r.verdict(i) != 0 {
                                    text.push_str(&format!(" ({:+.0}%)", (x - b) / b.abs() * 100.0));
                                }
                            }
                        }
                        text
                    })
                    .collect()
            })
            .collect();
        let widths: Vec<usize> = (0..self.runs.len())
            .map(|i| {
                cells
                    .iter()
                    .map(|c| c[i].chars().count())
                    .chain(std::iter::once(self.runs[i].0.chars().count().min(28)))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        writeln!(out, "{}", style.bold("Runs compared (first = baseline)"))?;
        for (i, (label, s)) in self.runs.iter().enumerate() {
            let status = s.saturation.as_ref().map(|x| x.verdict.headline.as_str()).unwrap_or("");
            writeln!(out, "  {} {label}: {}", style.bold(&format!("[{}]", i + 1)), style.dim(status))?;
        }
        let mut header = format!("{:label_width$}", "");
        for (i, w) in widths.iter().enumerate() {
            header.push_str(&format!("  {:>w$}", format!("[{}]", i + 1)));
        }
        writeln!(out, "{}", style.dim(&header))?;
        let mut group = "";
        for (r, row_cells) in self.rows.iter().zip(&cells) {
            if r.group != group {
                group = &r.group;
                writeln!(out, "{}", style.bold(group))?;
            }
            let mut line = format!("{:label_width$}", r.label);
            for (i, (cell, w)) in row_cells.iter().zip(&widths).enumerate() {
                let padded = format!("{cell:>w$}");
                let painted = match r.verdict(i) {
                    1 => style.green(&padded),
                    -1 => style.red(&padded),
                    _ => padded,
                };
                line.push_str("  ");
                line.push_str(&painted);
            }
            writeln!(out, "{line}")?;
        }
        Ok(())
    }

    /// The steps every run has, in the baseline's order, where at least one run finished a
    /// request: (persona, step).
    pub fn common_steps(&self) -> Vec<(&str, &str)> {
        let Some((_, baseline)) = self.runs.first() else {
            return Vec::new();
        };
        baseline
            .steps
            .iter()
            .filter(|st| {
                let found = || self.runs.iter().map(|(_, s)| step_of(s, &st.persona, &st.name));
                found().all(|x| x.is_some()) && found().flatten().any(|x| x.latency.count > 0)
            })
            .map(|st| (st.persona.as_str(), st.name.as_str()))
            .collect()
    }

    /// The section of the page with each common step's histograms overlaid, one colour per run.
    fn histograms(&self) -> io::Result<String> {
        let mut out = String::new();
        let steps = self.common_steps();
        if steps.is_empty() {
            return Ok(out);
        }
        out.push_str("<section id=\"histograms\"><h2>Latency histograms</h2><div class=\"grid\">");
        for (persona, name) in steps {
            let runs: Vec<(&str, &StepSummary)> = self
                .runs
                .iter()
                .filter_map(|(label, s)| step_of(s, persona, name).map(|x| (label.as_str(), x)))
                .collect();
            let ceiling = step_ceiling(&self.runs[0].1, persona, name);
            let title = format!("{persona} / {name}: how long requests took");
            let svg = super::charts::overlay_svg(&title, &runs, ceiling)?;
            let caption = format!(
                "Each run's requests by latency from the intended start, as shares of its own requests, on one grid of \
                 buckets; the dashed lines are each run's p95{}. A hump that moved right is slower for most users, \
                 not only in the tail.",
                ceiling.map(|t| format!(", the green line the baseline's threshold `{}`", t.name)).unwrap_or_default()
            );
            let id = format!("histogram-{}-{}", slug(persona), slug(name));
            super::html::figure_of(&mut out, &id, &svg, &title, &caption);
        }
        out.push_str("</div></section>\n");
        Ok(out)
    }

    /// The comparison page: verdicts side by side, the table with the differences highlighted,
    /// then each common step's histograms overlaid. Self-contained like report.html.
    pub fn html(&self) -> io::Result<String> {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>schoolday: {} runs compared</title><style>{}</style></head><body><main>\n<header><h1>{} runs compared</h1>\
             <div class=\"meta\">The first run is the baseline; green cells are better than it, red cells worse (changes under {:.0}% are not highlighted).</div></header>\n",
            self.runs.len(),
            include_str!("report.css"),
            self.runs.len(),
            NOTABLE * 100.0
        );
        out.push_str("<section id=\"verdicts\"><div class=\"grid\">");
        for (i, (label, s)) in self.runs.iter().enumerate() {
            let (class, headline, details) = match &s.saturation {
                Some(x) => (
                    match x.verdict.status {
                        Status::Saturated => "saturated",
                        Status::Held => "held",
                        Status::NoData => "no_data",
                        Status::Unreachable => "unreachable",
                        Status::Outage => "outage",
                    },
                    x.verdict.headline.clone(),
                    x.verdict.details.clone(),
                ),
                None => ("no_data", "No analysis".to_string(), Vec::new()),
            };
            let _ = write!(
                out,
                "<div class=\"verdict {class}\"><div class=\"label\">[{}] {}</div><div class=\"meta\">{} · started {}</div>\
                 <div class=\"headline\">{}</div><ul>",
                i + 1,
                esc(label),
                esc(&s.scenario.name),
                esc(&s.run.started_at),
                esc(&headline)
            );
            for d in details {
                let _ = write!(out, "<li>{}</li>", esc(&d));
            }
            out.push_str("</ul></div>");
        }
        out.push_str(
            "</div></section>\n<section id=\"table\"><h2>Side by side</h2><table><tr><th class=\"l\">measure</th>",
        );
        for (i, (label, _)) in self.runs.iter().enumerate() {
            let _ = write!(out, "<th title=\"{}\">[{}]</th>", esc(label), i + 1);
        }
        out.push_str("</tr>");
        let mut group = "";
        for r in &self.rows {
            if r.group != group {
                group = &r.group;
                let _ = write!(out, "<tr><th class=\"l\" colspan=\"{}\">{}</th></tr>", self.runs.len() + 1, esc(group));
            }
            let _ = write!(out, "<tr><td class=\"l\">{}</td>", esc(&r.label));
            for (i, v) in r.values.iter().enumerate() {
                let class = match r.verdict(i) {
                    1 => " class=\"better\"",
                    -1 => " class=\"worse\"",
                    _ => "",
                };
                let _ = write!(out, "<td{class}>{}</td>", esc(&v.text()));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table></section>\n");
        out.push_str(&self.histograms()?);
        out.push_str("</main></body></html>\n");
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    fn analysed(mut s: Summary) -> Summary {
        s.saturation = Some(crate::analysis::analyze(&s, &Default::default()));
        s
    }

    #[test]
    fn a_bigger_target_is_better_on_every_scored_row_that_changed() {
        let c = Comparison::of(vec![
            ("small".into(), analysed(fixture::saturating())),
            ("big".into(), analysed(fixture::morning(120.0, 1200.0, 240))),
        ]);
        let row = |label: &str| c.rows.iter().find(|r| r.label == label).unwrap_or_else(|| panic!("{label}"));
        assert_eq!(row("saturated after").values[1], Value::SaturatedAt(None));
        assert_eq!(row("saturated after").verdict(1), 1);
        assert_eq!(row("pupil/login p95").verdict(1), 1);
        assert_eq!(row("requests failed").verdict(1), 1);
        assert_eq!(row("peak requests offered").verdict(1), 0, "context only");
        assert!(c.rows.iter().all(|r| (0..2).all(|i| r.verdict(i) >= 0)), "nothing got worse");

        let mut text = Vec::new();
        c.terminal(&Style::plain(), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("saturated after") && text.contains("never"), "{text}");
        let html = c.html().unwrap();
        assert!(html.contains("class=\"better\"") && !html.contains("<script"));
    }

    #[test]
    fn the_page_overlays_the_histograms_of_every_common_step_one_colour_per_run() {
        use crate::report::charts::look::{AMBER, LEAF, SKY};
        use crate::report::charts::probe::{hex, latency_ticks, text_x, verticals, x_of};
        let mut slow = analysed(fixture::saturating());
        let names = crate::scenario::thresholds::Names { personas: vec![("pupil".into(), vec!["login".into()])] };
        let rule = crate::scenario::thresholds::parse("pupil.login p95 < 2s", &names).unwrap();
        slow.thresholds = crate::analysis::thresholds::evaluate(&[rule], &slow);
        let mut fast = analysed(fixture::calm());
        // A step only one run has is compared in the table, not overlaid.
        fast.steps.retain(|st| st.persona != "parent" || st.name != "grades");
        let c = Comparison::of(vec![("slow".into(), slow.clone()), ("fast".into(), fast.clone())]);
        let common = c.common_steps();
        assert_eq!(common.len(), 4, "{common:?}");
        assert!(!common.contains(&("parent", "grades")));
        let html = c.html().unwrap();
        let section = &html[html.find("<section id=\"histograms\">").expect("a histograms section")..];
        assert_eq!(section.matches("<figure id=\"chart-histogram-").count(), 4);
        let start = section.find("id=\"chart-histogram-pupil-login\"").unwrap();
        let svg = &section[start..start + section[start..].find("</figure>").unwrap()];
        assert!(svg.contains("pupil / login: how long requests took"));
        assert!(svg.contains("the baseline&#39;s threshold `pupil.login p95 &lt; 2s`"), "{svg}");
        let ticks = latency_ticks(svg).expect("a labelled latency axis");
        let threshold = verticals(svg, LEAF);
        assert!(threshold.len() == 1 && (threshold[0] - x_of(ticks, 2e6)).abs() <= 2.0, "{threshold:?}");
        for (i, (label, run)) in [("slow", &slow), ("fast", &fast)].into_iter().enumerate() {
            let step = &run.steps[0];
            let color = [SKY, AMBER][i];
            let legend = format!("[{}] {label}: {} requests", i + 1, count(step.latency.count));
            assert!(text_x(svg, &legend).is_some(), "the legend names run {legend}");
            assert!(svg.contains(&format!("<polygon opacity=\"0.18\" fill=\"{}\"", hex(color))), "{label}'s bars");
            let want = x_of(ticks, step.latency.p95_us as f64);
            let at = verticals(svg, color);
            assert!(at.iter().any(|x| (x - want).abs() <= 2.0), "{label}'s p95 at {want:.0}, lines at {at:?}");
            assert!(text_x(svg, &format!("[{}] p95 {}", i + 1, micros(step.latency.p95_us))).is_some());
        }
    }

    #[test]
    fn compares_saved_runs_and_reports_missing_ones() {
        let root = std::env::temp_dir().join(format!("schoolday-compare-{}", std::process::id()));
        let (a, b) = (root.join("a"), root.join("b"));
        for (dir, s) in [(&a, fixture::saturating()), (&b, fixture::calm())] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("summary.json"), serde_json::to_vec(&s).unwrap()).unwrap();
        }
        let (c, page, _) = compare(&[a.clone(), b.join("summary.json")], &root).unwrap();
        assert_eq!(page, root.join("compare.html"));
        let (_, page, _) = compare(&[a.clone(), b.clone()], &root.join("new/dir")).unwrap();
        assert_eq!(page, root.join("new/dir/compare.html"), "a directory that does not exist yet");
        let (_, page, _) = compare(&[a.clone(), b.clone()], &root.join("pages/ab.html")).unwrap();
        assert_eq!(page, root.join("pages/ab.html"), "a file named .html is the page itself");
        assert!(page.is_file());
        assert_eq!(c.runs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(std::fs::read_to_string(&page).unwrap().contains("The target held"));
        let err = compare(&[a, root.join("missing")], &root).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
        assert!(compare(&[], &root).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
