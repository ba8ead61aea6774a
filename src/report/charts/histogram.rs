//! The latency histogram of a step: how many requests took how long, in buckets of equal width
//! on a log latency axis, counted from the step's HDR histogram (latency from the intended
//! start). Percentiles say where the tail is; the histogram shows its shape (two humps are two
//! populations: a cache hit and a miss, a queue and no queue). p50, p95 and p99 are dashed
//! lines, the step's tightest latency threshold a solid green one.
//!
//! `compare` draws the same picture for several runs of one step on one grid, as shares of
//! each run's requests (runs of different sizes compare by shape, not by volume).

use std::ops::Range;

use hdrhistogram::Histogram;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::thresholds::ThresholdResult;
use crate::analysis::{decode_histogram, StepSummary};
use crate::format::{count, micros};
use crate::report::histogram::{bounds, counts, even_bounds, limit_us};

/// About this many bars would fill the latency axis: wide enough to read, narrow enough to
/// show the shape. The data fill some of them; the rest of the axis shows where the marks are.
const SLOTS: f64 = 60.0;

/// Bars are at most this share of the plot's height: the label rows of the marks sit above.
const BARS_HEIGHT: f64 = 0.68;

/// Height of a row of mark labels, pixels.
const ROW: i32 = 19;

/// A vertical line across the chart and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub x_us: f64,
    pub label: String,
    pub color: RGBColor,
    /// Solid for a threshold (a rule), dashed for a measurement.
    pub solid: bool,
}

/// A step's p50, p95 and p99, and its tightest latency threshold (`ceiling`) if it has one.
pub fn marks(step: &StepSummary, ceiling: Option<&ThresholdResult>) -> Vec<Mark> {
    let l = &step.latency;
    let quantile = |name: &str, us: u64, color| Mark {
        x_us: us.max(1) as f64,
        label: format!("{name} {}", micros(us)),
        color,
        solid: false,
    };
    let mut marks =
        vec![quantile("p50", l.p50_us, SKY), quantile("p95", l.p95_us, AMBER), quantile("p99", l.p99_us, CRIMSON)];
    marks.extend(ceiling.map(threshold_mark));
    marks
}

/// The line of a latency threshold, labelled with the rule as written.
pub fn threshold_mark(t: &ThresholdResult) -> Mark {
    Mark { x_us: limit_us(t).max(1) as f64, label: format!("threshold {}", t.name), color: LEAF, solid: true }
}

/// One bar: its edges (µs) and its height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    pub low: f64,
    pub high: f64,
    pub value: f64,
}

/// The latency axis (µs, log scale) showing `histograms` and `marks`, and the bar edges on it:
/// one grid for every histogram, so the bars of several runs line up.
fn axis(histograms: &[&Histogram<u64>], marks: &[Mark]) -> (Range<f64>, Vec<u64>) {
    let (low, high) = histograms.iter().fold((u64::MAX, 0), |(lo, hi), h| (lo.min(h.min()), hi.max(h.max())));
    let range = latency_range([low, high].into_iter().chain(marks.iter().map(|m| m.x_us as u64)));
    let decades = (range.end / range.start).log10().max(1.0);
    let per_decade = (SLOTS / decades).round().clamp(10.0, 100.0) as u32;
    (range, even_bounds(low, high, per_decade))
}

/// The bars of `h` on `edges`: counts, or with `share` each bucket's share of the requests.
fn bars(h: &Histogram<u64>, edges: &[u64], share: bool) -> Vec<Bar> {
    let scale = if share { 100.0 / h.len().max(1) as f64 } else { 1.0 };
    edges
        .iter()
        .zip(counts(h, &edges[1..]))
        .map(|(low, (high, n))| Bar { low: (*low).max(1) as f64, high: high as f64, value: n as f64 * scale })
        .collect()
}

/// A step's histogram, or why there is none.
fn histogram(step: &StepSummary) -> Result<Histogram<u64>, &'static str> {
    match decode_histogram(&step.latency.histogram) {
        None if step.latency.count == 0 => Err("no request of this step finished"),
        None => Err("the step's latency histogram cannot be read"),
        Some(h) if h.is_empty() => Err("no request of this step finished"),
        Some(h) => Ok(h),
    }
}

type LatencyChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, RangedCoordf64>>;

/// A log latency axis over `range` labelled at 1, 2 and 5 of each decade (at the decades alone
/// when those would crowd), with a light grid line at every whole multiple.
fn latency_axis(range: Range<f64>) -> WithKeyPoints<LogCoord<f64>> {
    let (lo, hi) = (range.start.max(1.0) as u64, range.end.max(1.0) as u64);
    let inside = |v: &u64| (lo..=hi).contains(v);
    // A label centred on the plot's right edge would be cut in half.
    let clear = |v: &u64| (*v as f64 / range.start).ln() <= 0.96 * (range.end / range.start).ln();
    let mut labels: Vec<u64> = bounds(lo, hi).into_iter().filter(inside).filter(clear).collect();
    let decade = |v: &u64| *v > 0 && 10u64.pow(v.ilog10()) == *v;
    if labels.len() > 12 {
        labels.retain(decade);
    }
    // Each decade's multiples 1…9 of the one below (1 µs…9 µs come with 10 µs).
    let light: Vec<f64> = bounds(lo, hi)
        .into_iter()
        .filter(|v| decade(v) && *v >= 10)
        .flat_map(|d| (1..10).map(move |m| d / 10 * m))
        .filter(inside)
        .map(|v| v as f64)
        .collect();
    range.log_scale().with_key_points(labels.into_iter().map(|v| v as f64).collect()).with_light_points(light)
}

/// The chart's axes: latency across (log), `y_desc` up to `top`.
fn axes<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    range: Range<f64>,
    top: f64,
    y_desc: &str,
) -> Result<LatencyChart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(latency_axis(range), 0f64..top)?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .y_labels(6)
        .x_desc("latency from the intended start (log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&latency_label)
        .y_label_formatter(&count_label)
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    Ok(chart)
}

/// The y axis's top: the fullest bar at [`BARS_HEIGHT`], leaving the top for the labels.
fn top_of(bars: &[Vec<Bar>]) -> f64 {
    let fullest = bars.iter().flatten().map(|b| b.value).fold(0.0, f64::max);
    if fullest > 0.0 {
        fullest / BARS_HEIGHT
    } else {
        1.0
    }
}

/// A step's histogram with its marks.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    step: &StepSummary,
    ceiling: Option<&ThresholdResult>,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, title)?;
    let h = match histogram(step) {
        Ok(h) => h,
        Err(why) => return nothing(&area, why),
    };
    let marks = marks(step, ceiling);
    let (range, edges) = axis(&[&h], &marks);
    let bars = bars(&h, &edges, false);
    let top = top_of(std::slice::from_ref(&bars));
    let mut chart = axes(&area, range, top, &format!("requests (of {})", count(h.len())))?;
    chart.draw_series(
        bars.iter()
            .filter(|b| b.value > 0.0)
            .map(|b| Rectangle::new([(b.low, 0.0), (b.high, b.value)], SLATE.mix(0.45).filled())),
    )?;
    chart.draw_series(
        bars.iter()
            .filter(|b| b.value > 0.0)
            .map(|b| Rectangle::new([(b.low, 0.0), (b.high, b.value)], SLATE.stroke_width(1))),
    )?;
    draw_marks(&mut chart, &marks, top)
}

/// Colours of the runs in an overlay: the palette without green, which is the threshold's.
fn run_color(i: usize) -> RGBColor {
    let colors: Vec<RGBColor> = PALETTE.into_iter().filter(|c| *c != LEAF).collect();
    colors[i % colors.len()]
}

/// Several runs' histograms of one step on one grid, as shares of each run's requests, with
/// each run's p95 and the (baseline's) threshold marked. `runs` are (label, step); a run that
/// finished no request of the step is named in the legend all the same.
pub fn draw_overlay<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    runs: &[(&str, &StepSummary)],
    ceiling: Option<&ThresholdResult>,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, title)?;
    let measured: Vec<Result<Histogram<u64>, &str>> = runs.iter().map(|(_, step)| histogram(step)).collect();
    let histograms: Vec<&Histogram<u64>> = measured.iter().flatten().collect();
    if histograms.is_empty() {
        return nothing(&area, "no request of this step finished in any run");
    }
    let mut marks = p95_marks(runs, &measured);
    marks.extend(ceiling.map(threshold_mark));
    let (range, edges) = axis(&histograms, &marks);
    let all: Vec<Option<Vec<Bar>>> = measured.iter().map(|h| h.as_ref().ok().map(|h| bars(h, &edges, true))).collect();
    let top = top_of(&all.iter().flatten().cloned().collect::<Vec<_>>());
    let mut chart = axes(&area, range, top, "share of the run's requests (%)")?;
    for (i, ((label, _), (h, bars))) in runs.iter().zip(measured.iter().zip(&all)).enumerate() {
        let color = run_color(i);
        let stairs: Vec<(f64, f64)> =
            bars.iter().flatten().flat_map(|b| [(b.low, b.value), (b.high, b.value)]).collect();
        let what = h.as_ref().map(|h| format!("{} requests", count(h.len()))).unwrap_or_else(|why| why.to_string());
        chart
            .draw_series(AreaSeries::new(stairs, 0.0, color.mix(0.18)).border_style(color.stroke_width(2)))?
            .label(format!("[{}] {label}: {what}", i + 1))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 18, y + 6)], color.mix(0.5).filled()));
    }
    legend_at(&mut chart, SeriesLabelPosition::MiddleRight, 14)?;
    draw_marks(&mut chart, &marks, top)
}

/// Each run's p95, in its colour, for the runs that have one.
fn p95_marks(runs: &[(&str, &StepSummary)], measured: &[Result<Histogram<u64>, &str>]) -> Vec<Mark> {
    runs.iter()
        .zip(measured)
        .enumerate()
        .filter(|(_, (_, h))| h.is_ok())
        .map(|(i, ((_, step), _))| Mark {
            x_us: step.latency.p95_us.max(1) as f64,
            label: format!("[{}] p95 {}", i + 1, micros(step.latency.p95_us)),
            color: run_color(i),
            solid: false,
        })
        .collect()
}

/// Where each mark's label goes: its left edge (pixels) and its row from the top. A label
/// sits right of its line, or left of it where it would leave the plot or cross another
/// mark's line (lines run through every row, so no row avoids them), in the first row where
/// it overlaps no other label. `lines` are (x, label width), `right` the plot's right edge.
pub fn label_places(lines: &[(i32, i32)], right: i32) -> Vec<(i32, usize)> {
    const GAP: i32 = 4;
    let mut taken: Vec<Vec<Range<i32>>> = Vec::new();
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|i| lines[*i].0);
    let mut places = vec![(0, 0); lines.len()];
    for i in order {
        let (x, w) = lines[i];
        let crosses =
            |left: i32| lines.iter().any(|(other, _)| *other != x && (left - GAP..left + w + GAP).contains(other));
        let (right_side, left_side) = (x + GAP, x - GAP - w);
        let left =
            if x + GAP + w > right || (crosses(right_side) && !crosses(left_side)) { left_side } else { right_side };
        let span = left - GAP..left + w + GAP;
        let row = taken
            .iter()
            .position(|row| row.iter().all(|r| r.end <= span.start || span.end <= r.start))
            .unwrap_or(taken.len());
        if row == taken.len() {
            taken.push(Vec::new());
        }
        taken[row].push(span);
        places[i] = (left, row);
    }
    places
}

/// The marks as vertical lines from the axis to `top`, labelled on a light veil at the top.
fn draw_marks<DB: DrawingBackend>(chart: &mut LatencyChart<'_, DB>, marks: &[Mark], top: f64) -> Drawn
where
    DB::ErrorType: 'static,
{
    for m in marks {
        let line = vec![(m.x_us, 0.0), (m.x_us, top)];
        if m.solid {
            chart.draw_series(LineSeries::new(line, m.color.stroke_width(2)))?;
        } else {
            chart.draw_series(DashedLineSeries::new(line, 6, 4, m.color.stroke_width(2)))?;
        }
    }
    let plot = chart.plotting_area();
    let screen = plot.use_screen_coord();
    let (xs, ys) = plot.get_pixel_range();
    let style = font(14);
    let mut lines = Vec::new();
    for m in marks {
        let (w, _) = plot.estimate_text_size(&m.label, &style)?;
        lines.push((chart.backend_coord(&(m.x_us, top)).0, w as i32));
    }
    for ((m, (_, w)), (left, row)) in marks.iter().zip(&lines).zip(label_places(&lines, xs.end)) {
        let y = ys.start + 4 + row as i32 * ROW;
        screen.draw(&Rectangle::new([(left - 2, y - 1), (left + w + 2, y + ROW - 3)], WHITE.mix(0.85).filled()))?;
        screen.draw(&Text::new(m.label.clone(), (left, y), style.color(&m.color)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::probe::{latency_ticks, text_x, verticals, x_of};
    use super::*;
    use crate::analysis::{fixture, thresholds, Summary};
    use crate::scenario::thresholds::{parse, Names};

    /// The saturating fixture with a threshold on pupil.login, and the login step's chart.
    fn login_chart(rule: &str) -> (Summary, super::super::Chart) {
        let mut s = fixture::saturating();
        let names =
            Names { personas: vec![("pupil".into(), vec!["login".into(), "agenda".into(), "homework".into()])] };
        s.thresholds = thresholds::evaluate(&[parse(rule, &names).unwrap()], &s);
        let chart = super::super::plan(&s).into_iter().find(|c| c.name == "histogram-pupil-login").unwrap();
        (s, chart)
    }

    #[test]
    fn the_marks_sit_at_their_latencies_on_the_log_axis() {
        let (s, chart) = login_chart("pupil.login p95 < 2s");
        assert_eq!(chart.title, "pupil / login: how long requests took");
        assert!(chart.caption.contains("`pupil.login p95 < 2s`"), "{}", chart.caption);
        let svg = super::super::svg(&chart, &s).unwrap();
        assert!(svg.contains("pupil / login: how long requests took"));
        let ticks = latency_ticks(&svg)
            .unwrap_or_else(|| panic!("the latency axis is labelled: {:?}", super::super::probe::texts(&svg)));
        let l = &s.steps[0].latency;
        let expected = [
            ("p50", SKY, l.p50_us as f64),
            ("p95", AMBER, l.p95_us as f64),
            ("p99", CRIMSON, l.p99_us as f64),
            ("threshold", LEAF, 2e6),
        ];
        for (name, color, us) in expected {
            let at = verticals(&svg, color);
            assert_eq!(at.len(), 1, "{name}: one line, at {at:?}");
            let want = x_of(ticks, us);
            assert!((at[0] - want).abs() <= 2.0, "{name} drawn at x {}, {us} µs is at {want:.1}", at[0]);
            let label = if name == "threshold" {
                "threshold pupil.login p95 &lt; 2s".to_string()
            } else {
                format!("{name} {}", micros(us as u64))
            };
            let label_x = text_x(&svg, &label).unwrap_or_else(|| panic!("no label {label}"));
            assert!((label_x - at[0]).abs() < 260.0, "{label} is next to its line");
        }
        // The bars: one rectangle (and its outline) per bucket that holds requests.
        let h = decode_histogram(&s.steps[0].latency.histogram).unwrap();
        let (_, edges) = axis(&[&h], &marks(&s.steps[0], None));
        let full = bars(&h, &edges, false).iter().filter(|b| b.value > 0.0).count();
        assert!(full >= 3);
        assert_eq!(svg.matches(&format!("fill=\"{}\"", super::super::probe::hex(SLATE))).count(), full, "{svg}");
    }

    #[test]
    fn a_step_without_a_threshold_has_no_threshold_line() {
        let (s, chart) = login_chart("pupil.agenda p95 < 1s");
        let svg = super::super::svg(&chart, &s).unwrap();
        assert!(verticals(&svg, LEAF).is_empty() && !svg.contains("threshold"));
        assert_eq!(verticals(&svg, AMBER).len(), 1);
        assert!(!chart.caption.contains("threshold"));
    }

    #[test]
    fn an_overlay_names_a_run_that_finished_nothing_and_draws_the_others() {
        let s = fixture::saturating();
        let empty = StepSummary { latency: Default::default(), ..s.steps[0].clone() };
        let svg = super::super::overlay_svg("t", &[("a", &s.steps[0]), ("b", &empty)], None).unwrap();
        let legend = format!("[1] a: {} requests", count(s.steps[0].latency.count));
        assert!(text_x(&svg, &legend).is_some(), "{svg}");
        assert!(text_x(&svg, "[2] b: no request of this step finished").is_some(), "{svg}");
        assert_eq!(verticals(&svg, SKY).len(), 1, "only the run with requests has a p95");
        let none = super::super::overlay_svg("t", &[("b", &empty)], None).unwrap();
        assert!(none.contains("no request of this step finished in any run"));
    }

    #[test]
    fn a_step_that_finished_nothing_or_cannot_be_read_says_so() {
        let (mut s, chart) = login_chart("pupil.login p95 < 2s");
        s.steps[0].latency.histogram = "not base64!".into();
        let svg = super::super::svg(&chart, &s).unwrap();
        assert!(svg.contains("latency histogram cannot be read"), "{svg}");
        s.steps[0].latency = Default::default();
        let svg = super::super::svg(&chart, &s).unwrap();
        assert!(svg.contains("no request of this step finished"), "{svg}");
    }

    #[test]
    fn labels_take_the_first_free_row_and_stay_inside_the_plot() {
        // Two lines 10 px apart: the first label goes left of its line rather than across the
        // second; the third has room on its right.
        let places = label_places(&[(100, 80), (110, 80), (400, 80)], 1000);
        assert_eq!(places, [(16, 0), (114, 0), (404, 0)]);
        // Lines closer than the labels are wide, on both sides: the second row.
        let places = label_places(&[(100, 80), (150, 80), (200, 80)], 1000);
        assert_eq!(places, [(16, 0), (154, 0), (204, 1)]);
        // At the right edge a label goes left of its line.
        assert_eq!(label_places(&[(990, 80)], 1000), [(906, 0)]);
        // Order of the marks does not matter, only their x.
        assert_eq!(label_places(&[(110, 80), (100, 80)], 1000), [(114, 0), (16, 0)]);
    }

    #[test]
    fn the_grid_covers_every_histogram_and_the_bars_count_every_request() {
        let mut a = crate::metrics::new_histogram();
        let mut b = crate::metrics::new_histogram();
        for v in [2_000, 2_500, 3_000, 40_000] {
            a.record_n(v, 10).unwrap();
        }
        b.record_n(300_000, 5).unwrap();
        let (range, edges) = axis(&[&a, &b], &[]);
        assert!(range.start < 2_000.0 && range.end > 300_000.0);
        assert!(edges[0] < 2_000 && *edges.last().unwrap() >= 300_000, "{edges:?}");
        let counted = bars(&a, &edges, false);
        assert_eq!(counted.iter().map(|b| b.value).sum::<f64>(), 40.0);
        let shares = bars(&b, &edges, true);
        assert!((shares.iter().map(|b| b.value).sum::<f64>() - 100.0).abs() < 1e-9);
        assert!(counted.windows(2).all(|w| w[0].high == w[1].low), "bars touch");
    }
}
