//! Latency-like quantiles second by second: a step's p50/p95/p99 from intended start, and the
//! generator's own lag. Both are the same picture (a few percentile lines on a log time axis)
//! with a reference line: the latency objective for steps, the lag limit for the generator.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::Summary;
use crate::metrics::Quantiles;

/// A horizontal reference line and its label.
pub struct Reference {
    pub value_us: u64,
    pub label: String,
}

/// p50/p95/p99 of `quantiles` per second, on a log latency axis.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    summary: &Summary,
    quantiles: &dyn Fn(usize) -> Quantiles,
    reference: Option<Reference>,
) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, title)?;
    let time = TimeAxis::of(&summary.timeline);
    let (unit, end) = (time.unit, time.end);
    let seconds: Vec<(f64, Quantiles)> = summary
        .timeline
        .iter()
        .enumerate()
        .map(|(i, s)| (time.x(s), quantiles(i)))
        .filter(|(_, q)| q.count > 0)
        .collect();
    if seconds.is_empty() {
        return nothing(&area, "nothing was measured in this run");
    }
    let range = latency_range(
        seconds.iter().flat_map(|(_, q)| [q.p50_us, q.p99_us]).chain(reference.as_ref().map(|r| r.value_us)),
    );
    let (bottom, top) = (range.start, range.end);
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..end, range.log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .x_desc("time since start (m:ss)")
        .y_desc("latency (log scale)")
        .x_label_formatter(&|m| mmss(*m * unit))
        .y_label_formatter(&latency_label)
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    type Pick = fn(&Quantiles) -> u64;
    let lines: [(&str, RGBColor, Pick); 3] =
        [("p50", SKY, |q| q.p50_us), ("p95", AMBER, |q| q.p95_us), ("p99", CRIMSON, |q| q.p99_us)];
    for (label, color, pick) in lines {
        chart
            .draw_series(LineSeries::new(
                seconds.iter().map(|(t, q)| (*t, pick(q).max(1) as f64)),
                color.stroke_width(2),
            ))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
    }
    if let Some(r) = reference {
        let y = r.value_us.max(1) as f64;
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, y), (end, y)], 8, 5, LEAF.stroke_width(2)))?
            .label(r.label)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], LEAF.stroke_width(2)));
    }
    if let Some(p) = summary.saturation.as_ref().and_then(|s| s.point.as_ref()) {
        vertical_marker(&mut chart, p.at_s / unit, (bottom, top), &format!("saturated {}", mmss(p.at_s)), CRIMSON)?;
    }
    legend(&mut chart, 15)?;
    Ok(())
}
