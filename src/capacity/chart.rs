//! The capacity claim's chart (capacity.html): each step's latency bound against the claim,
//! coloured by verdict. Drawn with the report's chart look, so it reads like the run charts.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::step::{StepResult, Verdict};
use super::CapacityReport;
use crate::report::charts::font;
use crate::report::charts::look::*;

/// Size of the verdict chart: two panels, latency above, errors below.
pub const CLAIM_SIZE: (u32, u32) = (1000, 640);

/// The verdict chart as an SVG document.
pub fn claim_svg(report: &CapacityReport) -> std::io::Result<String> {
    if !font::ensure_registered() {
        return Err(std::io::Error::other("the bundled chart font could not be loaded"));
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, CLAIM_SIZE).into_drawing_area();
        draw_claim(&root, report).map_err(|e| std::io::Error::other(format!("capacity chart: {e}")))?;
        root.present().map_err(|e| std::io::Error::other(format!("capacity chart: {e}")))?;
    }
    Ok(out)
}

fn verdict_color(v: Verdict) -> RGBColor {
    match v {
        Verdict::Pass => LEAF,
        Verdict::Fail => CRIMSON,
        Verdict::Inconclusive => AMBER,
        Verdict::NotTested => SLATE,
    }
}

/// A step's p_q: the median of its batches' upper bounds, and the range up to the batches'
/// one-sided 95% t bound (or the worst batch when there are too few for one).
fn quantile_of(s: &StepResult) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = s.batches.upper_us.iter().map(|u| *u as f64).filter(|u| *u > 0.0).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let (lo, mid, worst) = (v[0], v[v.len() / 2], v[v.len() - 1]);
    let hi = if s.batches.t_upper_us.is_finite() { s.batches.t_upper_us.max(mid) } else { worst };
    Some((lo, mid, hi))
}

/// Two panels over the load (× the claim): each step's latency quantile and error rate with
/// their bounds, coloured by verdict, against the claim's limits.
pub fn draw_claim<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &CapacityReport) -> Drawn
where
    DB::ErrorType: 'static,
{
    let q = r.claim.quantile * 100.0;
    let area = frame(root, &format!("Each step against the claim: p{q} latency and error rate, with 95% bounds"))?;
    let steps: Vec<&StepResult> = r.runs.iter().flat_map(|run| run.steps.iter()).collect();
    if steps.is_empty() {
        return nothing(&area, "no step ran");
    }
    let (x0, x1) = steps.iter().fold((f64::INFINITY, 0f64), |(a, b), s| (a.min(s.fraction), b.max(s.fraction)));
    let pad = ((x1 - x0) * 0.08).max(0.05);
    let xs = (x0 - pad).max(0.0)..x1 + pad;
    let (upper, lower) = area.split_vertically(area.dim_in_pixel().1 / 2);
    let top = r.largest_pass.as_ref().map(|l| l.fraction);
    let users = r.claim.concurrency.map(crate::format::count);
    let x_desc = match &users {
        Some(n) => format!("load (× the claim; 1.0 = {n} users in session)"),
        None => "load (× the claimed rate)".to_string(),
    };

    let limit_us = r.claim.latency_us as f64;
    let range = latency_range(
        steps
            .iter()
            .filter_map(|s| quantile_of(s))
            .flat_map(|(a, _, c)| [a as u64, c as u64])
            .chain([r.claim.latency_us]),
    );
    let mut chart = ChartBuilder::on(&upper)
        .margin(12)
        .margin_bottom(4)
        .x_label_area_size(24)
        .y_label_area_size(80)
        .build_cartesian_2d(xs.clone(), range.clone().log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .y_desc(format!("p{q} latency (log)"))
        .y_labels(6)
        .x_label_formatter(&|v| format!("{v:.2}×"))
        .y_label_formatter(&latency_label)
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    chart
        .draw_series(DashedLineSeries::new(vec![(xs.start, limit_us), (xs.end, limit_us)], 8, 5, INK.stroke_width(2)))?
        .label(format!("claim: p{q} < {}", latency_label(&limit_us)))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], INK.stroke_width(2)));
    for s in &steps {
        if let Some((lo, mid, hi)) = quantile_of(s) {
            let c = verdict_color(s.verdict);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(s.fraction, lo), (s.fraction, hi)],
                c.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Circle::new((s.fraction, mid), 5, style_of(s, c))))?;
        }
    }
    if let Some(f) = top {
        vertical_marker(&mut chart, f, (range.start, range.end), &format!("largest pass {f:.2}×"), LEAF)?;
    }
    legend_for_verdicts(&mut chart, &steps)?;
    legend(&mut chart, 14)?;

    let max_rate = steps.iter().map(|s| s.errors.k as f64 / s.errors.n.max(1) as f64).fold(0.0, f64::max);
    let y_top = (r.claim.error_rate * 3.0).max(max_rate * 1.5).max(1e-4);
    let mut chart = ChartBuilder::on(&lower)
        .margin(12)
        .margin_top(4)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(xs.clone(), 0f64..y_top)?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .x_desc(x_desc)
        .y_desc("error rate")
        .x_label_formatter(&|v| format!("{v:.2}×"))
        .y_label_formatter(&|v| format!("{:.2}%", v * 100.0))
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    let e = r.claim.error_rate;
    chart
        .draw_series(DashedLineSeries::new(vec![(xs.start, e), (xs.end, e)], 8, 5, INK.stroke_width(2)))?
        .label(format!("claim: errors < {:.2}%", e * 100.0))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], INK.stroke_width(2)));
    for s in &steps {
        let c = verdict_color(s.verdict);
        let rate = s.errors.k as f64 / s.errors.n.max(1) as f64;
        let (lo, hi) = (s.errors.low, s.errors.high.min(y_top));
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(s.fraction, lo), (s.fraction, hi)],
            c.stroke_width(2),
        )))?;
        if s.errors.high > y_top {
            // The bound runs off the chart: an arrow head says so.
            let dx = (xs.end - xs.start) * 0.006;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(s.fraction - dx, y_top * 0.97), (s.fraction, y_top), (s.fraction + dx, y_top * 0.97)],
                c.stroke_width(2),
            )))?;
        }
        chart.draw_series(std::iter::once(Circle::new((s.fraction, rate), 5, style_of(s, c))))?;
    }
    if let Some(f) = top {
        vertical_marker(&mut chart, f, (0.0, y_top), &format!("largest pass {f:.2}×"), LEAF)?;
    }
    legend(&mut chart, 14)?;
    Ok(())
}

/// Filled for a judged step, hollow for one that was not tested.
fn style_of(s: &StepResult, c: RGBColor) -> ShapeStyle {
    if s.verdict == Verdict::NotTested {
        c.stroke_width(2)
    } else {
        c.filled()
    }
}

/// One legend entry per verdict present.
fn legend_for_verdicts<DB, CT>(chart: &mut ChartContext<'_, DB, CT>, steps: &[&StepResult]) -> Drawn
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone + 'static,
{
    for v in [Verdict::Pass, Verdict::Fail, Verdict::Inconclusive, Verdict::NotTested] {
        if steps.iter().any(|s| s.verdict == v) {
            let c = verdict_color(v);
            chart
                .draw_series(std::iter::empty::<Circle<CT::From, i32>>())?
                .label(format!("{} step", v.label().to_lowercase()))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, c.filled()));
        }
    }
    Ok(())
}
